"""Names from the games themselves, marked for translation: game names, notes, reward items.

They are data rather than code literals, so they are listed here for `pybabel extract`
(keyword `term`) and translated in the same catalogs as every message, each language using
the names the games' own localisations use ("Primogem" is 原石 in Chinese and Japanese).
A name codecast has no entry for (a game a user added, an item a source spells its own way)
is shown as the source wrote it.
"""

from __future__ import annotations

from bot.core.language import Words

GAME = "game"
NOTE = "game note"
REWARD = "reward"


def term(context: str, name: str) -> tuple[str, str]:
    """Marks a name for extraction; translated at use by `Words.term`. pybabel reads only
    literal strings, so the contexts below are written out rather than named."""
    return context, name


TERMS: tuple[tuple[str, str], ...] = (
    # The built-in catalog's games (bot/core/catalog.toml; a test keeps both in step).
    term("game", "Genshin Impact"),
    term("game", "Honkai: Star Rail"),
    term("game", "Zenless Zone Zero"),
    term("game", "Honkai Impact 3rd"),
    term("game", "Wuthering Waves"),
    term(
        "game note",
        "Codes that start with ZZZ and two digits form families: one code per family per account.",
    ),
    term("game note", "Redeem in game: Menu → Exchange."),
    term("game note", "Redeem in game: Settings → Other Settings → Redemption Code."),
    # Genshin Impact
    term("reward", "Primogem"),
    term("reward", "Mora"),
    term("reward", "Hero's Wit"),
    term("reward", "Adventurer's Experience"),
    term("reward", "Mystic Enhancement Ore"),
    term("reward", "Fine Enhancement Ore"),
    # Honkai: Star Rail
    term("reward", "Stellar Jade"),
    term("reward", "Credit"),
    term("reward", "Traveler's Guide"),
    term("reward", "Refined Aether"),
    # Zenless Zone Zero
    term("reward", "Polychrome"),
    term("reward", "Dennies"),
    # Honkai Impact 3rd
    term("reward", "Crystal"),
    term("reward", "Asterite"),
    # Wuthering Waves
    term("reward", "Astrite"),
    term("reward", "Shell Credit"),
)


def game_name(words: Words, name: str) -> str:
    return words.term("game", name)


def game_note(words: Words, note: str) -> str:
    return words.term(NOTE, note)


def reward_name(words: Words, name: str) -> str:
    """An item's name in `words`' language: the glossary's entry for it, or for its singular
    when a source wrote the plural ("Primogems"), else the name as written."""
    found = words.term("reward", name)
    if found == name and name.endswith("s"):
        singular = name[:-1]
        translated = words.term("reward", singular)
        if translated != singular:
            return translated
    return found
