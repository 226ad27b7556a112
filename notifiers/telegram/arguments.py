"""What users typed, understood: game names in command arguments and channel targets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.catalog import Catalog
from bot.core.domain import Game
from bot.core.language import Words, english
from bot.core.submission import CREDIT_WORD
from notifiers.telegram.format import clip

ALL_WORDS = frozenset({"all", "*", "every", "everything"})
# Words a user typed are repeated back cut to this length.
MAX_WORD_SHOWN = 40
# A public chat's username as Telegram allows it: 5–32 letters, digits and underscores.
_CHAT_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


def _folded(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _initials(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w[0] if not w.isdigit() else w for w in words).casefold()


@dataclass(frozen=True)
class GameChoice:
    """Games named by a command's arguments, and the words that named none."""

    games: tuple[Game, ...]
    unknown: tuple[str, ...]
    everything: bool = False


def find_game(catalog: Catalog, word: str) -> Game | None:
    """The game a word names: its id, its name (spaces and case ignored), or a unique prefix."""
    key = _folded(word)
    if not key:
        return None
    for game in catalog.games.values():
        if key in (_folded(game.id), _folded(game.name), _initials(game.name)):
            return game
    matches = [g for g in catalog.games.values() if _folded(g.name).startswith(key)]
    return matches[0] if len(matches) == 1 else None


def choose_games(catalog: Catalog, args: Sequence[str]) -> GameChoice:
    """Read `/subscribe genshin hsr`, `/subscribe all`, `/codes Genshin Impact`.

    Several words may name one game ("Honkai Star Rail"): the longest run of words naming a
    game wins, so names with spaces work without quotes.
    """
    words = [w.strip(",;") for w in args if w.strip(",;")]
    if any(w.casefold() in ALL_WORDS for w in words):
        return GameChoice(tuple(catalog.games.values()), (), everything=True)
    found: list[Game] = []
    unknown: list[str] = []
    start = 0
    while start < len(words):
        for end in range(len(words), start, -1):
            game = find_game(catalog, " ".join(words[start:end]))
            if game is not None:
                if game not in found:
                    found.append(game)
                start = end
                break
        else:
            unknown.append(words[start])
            start += 1
    return GameChoice(tuple(found), tuple(unknown))


@dataclass(frozen=True)
class Target:
    """A command's arguments split into the chat named with @username (if any) and the rest."""

    username: str | None
    rest: tuple[str, ...]


def split_target(args: Sequence[str]) -> Target:
    """`/subscribe @mychannel genshin` → Target("@mychannel", ("genshin",))."""
    if args and _CHAT_USERNAME.fullmatch(args[0]):
        return Target(args[0], tuple(args[1:]))
    return Target(None, tuple(args))


def unknown_games_text(
    catalog: Catalog, unknown: Sequence[str], words: Words | None = None
) -> str:
    """A helpful answer to game names that match nothing (plain text, to be escaped)."""
    w = words or english()
    separator = w.pgettext("list separator", ", ")
    quoted = separator.join(f'"{clip(word, MAX_WORD_SHOWN)}"' for word in unknown[:5])
    return w._(
        "I don't know %(words)s. Games I know: %(ids)s (or all).",
        words=quoted,
        ids=separator.join(catalog.games),
    )


@dataclass(frozen=True)
class SubmitArguments:
    """`/submit GAME CODE [rewards…] [credit]`, read: the game (None when not named, as with a
    bare redeem link), the code or link, the rewards, whether the reporter wants credit."""

    game: Game | None
    text: str
    rewards: str = ""
    credit: bool = False
    # The words that should have named a game and did not.
    unknown: str | None = None


def read_submission(catalog: Catalog, args: Sequence[str]) -> SubmitArguments | None:
    """None without arguments (the usage is the answer)."""
    words = [w for w in args if w]
    if not words:
        return None
    credit = len(words) > 1 and words[-1].casefold() == CREDIT_WORD
    if credit:
        words = words[:-1]
    if len(words) == 1 or words[0].lower().startswith(("http://", "https://")):
        return SubmitArguments(None, words[0], " ".join(words[1:]), credit)
    # The longest run of leading words naming a game ("Honkai Star Rail CODE") wins.
    for end in range(len(words) - 1, 0, -1):
        game = find_game(catalog, " ".join(words[:end]))
        if game is not None:
            return SubmitArguments(game, words[end], " ".join(words[end + 1 :]), credit)
    return SubmitArguments(None, words[1], " ".join(words[2:]), credit, unknown=words[0])
