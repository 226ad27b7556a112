"""Telegram messages as plain data: announcements, code lists, help and keyboards, in HTML.

Everything here is pure: it takes games and codes and returns `Message` values that the bot
and the sender turn into API calls. Every piece of text that came from the web (codes,
rewards) or from a user-editable catalog (game names, notes) goes through `html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from telegram.constants import (
    InlineKeyboardButtonLimit,
    InlineKeyboardMarkupLimit,
    MessageLimit,
)

from bot.core.domain import CodeStatus, CodeView, Game, Verification
from bot.core.rewards import rewards_text
from bot.core.text import clip as cut
from bot.core.text import one_line
from bot.core.verification import checked_text

# Telegram rejects a longer text. The bound is checked on the HTML as sent, tags and entities
# included, in UTF-16 code units: never less than what Telegram counts after parsing.
MAX_MESSAGE_LENGTH = int(MessageLimit.MAX_TEXT_LENGTH)
MAX_BUTTONS = int(InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER)
MAX_CALLBACK_DATA_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
# With more codes than this in one message, a single "Redeem" button replaces one per code.
MAX_CODE_BUTTONS = 6
# An announcement longer than this many messages ends with a pointer to /codes instead.
MAX_PARTS = 4
# Codes shown in a button's label are cut to this many characters.
MAX_BUTTON_CODE_LENGTH = 24
MAX_BUTTON_NAME_LENGTH = 40
GAME_BUTTONS_PER_ROW = 2
# Catalog text (game names, notes) is bounded like web text: a catalog can be user-made.
MAX_NAME_LENGTH = 100
MAX_NOTE_LENGTH = 300


@dataclass(frozen=True)
class Button:
    """An inline keyboard button: opens `url`, or sends `callback_data` back to the bot."""

    text: str
    url: str | None = None
    callback_data: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Message:
    """One Telegram message: HTML text and an inline keyboard (possibly empty)."""

    text: str
    keyboard: Keyboard = ()


def utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def clip(text: str, limit: int) -> str:
    """Web text on one line, cut to at most `limit` characters."""
    return cut(one_line(text), limit)


# --- codes ------------------------------------------------------------------------------


def _date(moment: datetime) -> str:
    return f"{moment:%d %b %Y}".lstrip("0")


def code_block(code: CodeView, now: datetime | None = None) -> str:
    """One code as HTML: tappable (copyable) code, then its rewards and expiry.

    A code HoYoverse accepted says so: "✓ checked 2 min ago" counted from `now`, or the
    time of the check when no `now` is given (a message edited later stays true).
    """
    line = f"<code>{escape(code.code)}</code>"
    if code.status is CodeStatus.EXPIRED:
        line += " <i>(expired)</i>"
    elif code.verification is Verification.VALID and code.verified_at is not None:
        checked = (
            checked_text(code.verified_at, now)
            if now is not None
            else f"✓ checked {code.verified_at:%H:%M} UTC"
        )
        line += f" <i>{checked}</i>"
    lines = [line]
    if rewards := rewards_text(code):
        lines.append(escape(rewards))
    if code.expires_at is not None and code.status is not CodeStatus.EXPIRED:
        lines.append(f"<i>valid until {_date(code.expires_at)}</i>")
    return "\n".join(lines)


def redeem_buttons(game: Game, codes: Sequence[CodeView]) -> Keyboard:
    """A "Redeem" URL button per usable code, or one for the page when there are many."""
    usable = [c for c in codes if c.status is not CodeStatus.EXPIRED]
    if game.redeem_url is None or not usable:
        return ()
    if len(usable) > MAX_CODE_BUTTONS:
        page = game.redeem_link("")
        return ((Button("Redeem", url=page),),) if page else ()
    rows: list[tuple[Button, ...]] = []
    for code in usable:
        link = game.redeem_link(code.code)
        if link is not None:
            rows.append((Button(f"Redeem {clip(code.code, MAX_BUTTON_CODE_LENGTH)}", url=link),))
    return tuple(rows)


def _pack(blocks: Sequence[str], budget: int) -> list[list[int]]:
    """Indexes of `blocks` grouped greedily so each group's text fits in `budget`."""
    groups: list[list[int]] = []
    size = budget + 1
    for index, block in enumerate(blocks):
        length = utf16_length(block) + 2  # the blank line before it
        if size + length > budget or not groups:
            groups.append([])
            size = 0
        groups[-1].append(index)
        size += length
    return groups


def _join(header: str, blocks: Iterable[str], footer: str) -> str:
    body = "\n\n".join(blocks)
    text = f"{header}\n\n{body}" if body else header
    return f"{text}\n\n{footer}" if footer else text


def announcement_messages(
    game: Game, codes: Sequence[CodeView], now: datetime | None = None
) -> list[Message]:
    """An announcement as one message, or several when it would pass Telegram's bound.

    Each part carries the redeem buttons of its own codes; the game's note ends the last.
    Beyond MAX_PARTS parts, the last says how many codes more /codes lists.
    """
    name = escape(clip(game.name, MAX_NAME_LENGTH))
    count = len(codes)
    title = f"🎁 <b>{name}</b>: {'new code' if count == 1 else f'{count} new codes'}"
    note = escape(clip(game.note, MAX_NOTE_LENGTH)) if game.note else ""
    more_line = f"…and {count} more: /codes {escape(game.id)}"
    # Room for the widest header (" (9/9)") and footer any part could get.
    reserve = utf16_length(title) + len(" (9/9)") + utf16_length(note) + utf16_length(more_line)
    blocks = [code_block(code, now) for code in codes]
    groups = _pack(blocks, MAX_MESSAGE_LENGTH - reserve - 8)
    shown, left_out = groups[:MAX_PARTS], sum(len(g) for g in groups[MAX_PARTS:])
    messages: list[Message] = []
    for number, group in enumerate(shown, start=1):
        header = title if len(shown) == 1 else f"{title} ({number}/{len(shown)})"
        footer_lines: list[str] = []
        if number == len(shown):
            if left_out:
                footer_lines.append(f"…and {left_out} more: /codes {escape(game.id)}")
            if note:
                footer_lines.append(note)
        text = _join(header, (blocks[i] for i in group), "\n".join(footer_lines))
        messages.append(Message(text, redeem_buttons(game, [codes[i] for i in group])))
    return messages


def codes_message(game: Game, codes: Sequence[CodeView], now: datetime | None = None) -> Message:
    """The reply to /codes: the active codes of one game in one message."""
    name = escape(clip(game.name, MAX_NAME_LENGTH))
    if not codes:
        return Message(
            f"No active codes for <b>{name}</b> right now.\n"
            f"Send /subscribe {escape(game.id)} to get new ones the moment they appear."
        )
    title = f"🎮 <b>{name}</b>: {len(codes)} active {'code' if len(codes) == 1 else 'codes'}"
    note = escape(clip(game.note, MAX_NOTE_LENGTH)) if game.note else ""
    blocks = [code_block(code, now) for code in codes]
    reserve = utf16_length(title) + utf16_length(note) + 40
    shown = _pack(blocks, MAX_MESSAGE_LENGTH - reserve)[0]
    footer = [f"…and {len(codes) - len(shown)} more."] if len(shown) < len(codes) else []
    if note:
        footer.append(note)
    text = _join(title, (blocks[i] for i in shown), "\n".join(footer))
    return Message(text, redeem_buttons(game, [codes[i] for i in shown]))


# --- help, subscriptions, keyboards -----------------------------------------------------

# What Telegram shows in the command menu (setMyCommands), in this order.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "What this bot does and how to use it"),
    ("codes", "Active codes now: /codes [game]"),
    ("subscribe", "Get new codes: /subscribe [game…|all]"),
    ("unsubscribe", "Stop codes: /unsubscribe [game…|all]"),
    ("subscriptions", "What this chat gets"),
)


def game_list(games: Iterable[Game]) -> str:
    return ", ".join(
        f"{escape(clip(g.name, MAX_NAME_LENGTH))} (<code>{escape(g.id)}</code>)" for g in games
    )


def start_message(games: Sequence[Game]) -> Message:
    return Message(
        "👋 <b>codecast</b> sends new redemption codes for your games the moment they "
        "appear: each code copyable with a tap, its rewards, and a button to redeem it.\n\n"
        f"<b>Games:</b> {game_list(games)}\n\n"
        "/subscribe — pick games (or <code>/subscribe genshin hsr</code>, "
        "<code>/subscribe all</code>)\n"
        "/codes — the active codes now (<code>/codes genshin</code>)\n"
        "/subscriptions — what this chat gets\n"
        "/unsubscribe — stop codes for a game\n\n"
        "In groups only administrators can change what the group gets. For a channel, "
        "make me an administrator who can post, then post /subscribe in the channel, or "
        "send me <code>/subscribe @yourchannel</code> here."
    )


def help_hint() -> str:
    return "Send /start to see what I can do."


def bold_names(games: Iterable[Game]) -> str:
    return ", ".join(f"<b>{escape(clip(g.name, MAX_NAME_LENGTH))}</b>" for g in games)


def subscriptions_text(games: Sequence[Game], where: str = "This chat") -> str:
    if not games:
        return f"{escape(where)} gets no codes yet. Send /subscribe to pick games."
    return f"{escape(where)} gets new codes for: {bold_names(games)}."


def subscription_keyboard(
    games: Sequence[Game], subscribed: Iterable[str], target: str = ""
) -> Keyboard:
    """Game buttons with ✓ on those subscribed, then "All" and "None"; taps toggle.

    `target` names the chat the buttons change when it is not the chat showing them (a
    channel managed from a private chat).
    """
    on = set(subscribed)
    buttons = [
        Button(
            f"✓ {clip(g.name, MAX_BUTTON_NAME_LENGTH)}"
            if g.id in on
            else clip(g.name, MAX_BUTTON_NAME_LENGTH),
            callback_data=encode_callback(TOGGLE, target, g.id),
        )
        for g in games
    ]
    rows = [
        tuple(buttons[i : i + GAME_BUTTONS_PER_ROW])
        for i in range(0, len(buttons), GAME_BUTTONS_PER_ROW)
    ]
    rows.append(
        (
            Button("All", callback_data=encode_callback(ALL_ON, target, "")),
            Button("None", callback_data=encode_callback(ALL_OFF, target, "")),
        )
    )
    return tuple(rows)


def subscription_prompt(games: Sequence[Game], subscribed: Iterable[str], where: str) -> str:
    chosen = [g for g in games if g.id in set(subscribed)]
    return (
        f"Tap a game to turn its codes on or off for {escape(where)} (✓ = on).\n"
        + subscriptions_text(chosen, "It")
    )


def pick_game_keyboard(games: Sequence[Game]) -> Keyboard:
    buttons = [
        Button(
            clip(g.name, MAX_BUTTON_NAME_LENGTH),
            callback_data=encode_callback(SHOW_CODES, "", g.id),
        )
        for g in games
    ]
    return tuple(
        tuple(buttons[i : i + GAME_BUTTONS_PER_ROW])
        for i in range(0, len(buttons), GAME_BUTTONS_PER_ROW)
    )


# --- callback data ----------------------------------------------------------------------

TOGGLE = "t"
ALL_ON = "a"
ALL_OFF = "n"
SHOW_CODES = "c"
_ACTIONS = frozenset({TOGGLE, ALL_ON, ALL_OFF, SHOW_CODES})


@dataclass(frozen=True)
class Callback:
    """What a keyboard button asks for: an action, the chat it acts on ("" = this one), a game."""

    action: str
    target: str
    game: str


def encode_callback(action: str, target: str, game: str) -> str:
    # The game goes last so that a separator inside a catalog id cannot shift fields.
    data = f"{action}|{target}|{game}"
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_DATA_BYTES} bytes: {data!r}")
    return data


def decode_callback(data: str | None) -> Callback | None:
    """The button's request, or None for data this bot did not make."""
    if not data:
        return None
    parts = data.split("|", 2)
    if len(parts) != 3 or parts[0] not in _ACTIONS:
        return None
    action, target, game = parts
    if target and not target.lstrip("-").isdigit():
        return None
    return Callback(action, target, game)
