"""Telegram messages as plain data: announcements, code lists, help and keyboards, in HTML.

Everything here is pure: it takes games, codes and the reader's `Words` (English when none
is given) and returns `Message` values that the bot and the sender turn into API calls. Every
piece of text that came from the web (codes, rewards) or from a user-editable catalog (game
names, notes) goes through `html.escape`; the catalogs' own words are trusted HTML.
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

from bot.core.domain import AnnouncementKind, CodeStatus, CodeView, Game, Platform, Verification
from bot.core.glossary import game_name, game_note
from bot.core.language import LANGUAGES, Words, english
from bot.core.rewards import rewards_text
from bot.core.text import clip as cut
from bot.core.text import one_line
from notifiers.report_words import Markup

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
# What a player typed as a code (perhaps no code at all) is cut to this many characters.
MAX_TYPED_CODE_LENGTH = 40
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


def inert(text: str) -> str:
    """Text from a player or a page, escaped, and unable to mention anyone: Telegram links
    `@name` by itself, so a word joiner after each `@` breaks the mention."""
    return escape(text).replace("@", "@\u2060")


def credit_text(credit: str, words: Words | None = None) -> str:
    """Who reported a code, as announcements say it: a name only if the player asked."""
    w = words or english()
    if credit:
        return w._("reported by %(name)s", name=inert(clip(credit, 32)))
    return w._("reported by a player")


def stale_button(words: Words | None = None) -> str:
    """A tap on a button whose message is too old for it to mean anything now."""
    return (words or english())._("This button no longer works. Send the command again.")


def clip(text: str, limit: int) -> str:
    """Web text on one line, cut to at most `limit` characters."""
    return cut(one_line(text), limit)


def name_of(game: Game, words: Words) -> str:
    """The game's name in the reader's language, escaped and bounded."""
    return escape(clip(game_name(words, game.name), MAX_NAME_LENGTH))


def code_html(code: str) -> str:
    """A code from a player as inline code, escaped and bounded."""
    return f"<code>{escape(clip(code, MAX_TYPED_CODE_LENGTH))}</code>"


def bold(text: str) -> str:
    return f"<b>{text}</b>"


# How the words both bots share (notifiers/report_words.py) are written on Telegram.
MARKUP = Markup(Platform.TELEGRAM, code=code_html, bold=bold, text=inert)


def note_of(game: Game, words: Words) -> str:
    return escape(clip(game_note(words, game.note), MAX_NOTE_LENGTH)) if game.note else ""


# --- codes ------------------------------------------------------------------------------


def checked_text(verified_at: datetime, now: datetime | None, words: Words) -> str:
    """ "✓ checked 2 minutes ago" counted from `now`, or the time of the check when there is
    no `now` (a message edited later stays true)."""
    if now is None:
        return words._("✓ checked %(time)s UTC", time=f"{verified_at:%H:%M}")
    return words._("✓ checked %(when)s", when=words.relative(verified_at, now))


def code_block(
    code: CodeView,
    now: datetime | None = None,
    words: Words | None = None,
    *,
    until: bool = True,
) -> str:
    """One code as HTML: tappable (copyable) code, then its rewards and expiry.

    A code HoYoverse accepted says so: "✓ checked 2 minutes ago" counted from `now`, or the
    time of the check when no `now` is given.
    """
    w = words or english()
    line = f"<code>{escape(code.code)}</code>"
    if code.status is CodeStatus.EXPIRED:
        line += " <i>" + w._("(expired)") + "</i>"
    elif code.verification is Verification.VALID and code.verified_at is not None:
        line += f" <i>{checked_text(code.verified_at, now, w)}</i>"
    lines = [line]
    if rewards := rewards_text(code, w):
        lines.append(inert(rewards))
    if code.credit is not None:
        lines.append(f"<i>{credit_text(code.credit, w)}</i>")
    if until and code.expires_at is not None and code.status is not CodeStatus.EXPIRED:
        lines.append(w._("<i>valid until %(date)s</i>", date=w.date(code.expires_at)))
    return "\n".join(lines)


# --- boards -----------------------------------------------------------------------------


def board_message(game: Game, codes: Sequence[CodeView], words: Words | None = None) -> Message:
    """A live board: the codes that work (redeem buttons), then those that expired within a
    day, struck through. No time of its own, so that it changes only when the codes do."""
    w = words or english()
    title = w._("📌 <b>%(game)s</b>: codes that work now", game=name_of(game, w))
    footer = w._("Kept up to date by codecast; expired codes leave after a day.")
    live = [c for c in codes if c.status is not CodeStatus.EXPIRED]
    if not live and not codes:
        body = [
            w._("No active codes right now. This message updates itself when new ones appear.")
        ]
    else:
        body = [
            code_block(c, None, w)
            if c.status is not CodeStatus.EXPIRED
            else f"<s>{code_block(c, None, w)}</s>"
            for c in codes
        ]
    reserve = utf16_length(title) + utf16_length(footer) + 60
    shown = _pack(body, MAX_MESSAGE_LENGTH - reserve)[0]
    footer_lines = []
    if len(shown) < len(body):
        footer_lines.append(
            w.ngettext(
                "…and %(count)s more: /codes %(id)s",
                "…and %(count)s more: /codes %(id)s",
                len(body) - len(shown),
                id=escape(game.id),
            )
        )
    footer_lines.append(f"<i>{footer}</i>")
    text = _join(title, (body[i] for i in shown), "\n".join(footer_lines))
    listed = [codes[i] for i in shown] if codes else []
    return Message(text, redeem_buttons(game, listed, w))


def board_usage(words: Words | None = None) -> str:
    return (words or english())._(
        "Which game? <code>/board genshin</code> posts a message with its codes that I keep "
        "up to date, here."
    )


def board_not_pinned(words: Words | None = None) -> str:
    return (words or english())._(
        "I could not pin it: give me the right to pin messages, or pin it yourself."
    )


# --- reminders --------------------------------------------------------------------------


def reminders_text(
    subscribed: Sequence[Game], reminded: Iterable[str], where: str, words: Words | None = None
) -> str:
    """The answer to a bare /remind: which games remind, and how to change it."""
    w = words or english()
    subject = chat_subject(where, w, capital=True)
    if not subscribed:
        return w._("%(chat)s gets no codes yet. Send /subscribe to pick games.", chat=subject)
    on = set(reminded)
    chosen = [g for g in subscribed if g.id in on]
    state = (
        w._(
            "%(chat)s is reminded of codes about to expire for %(games)s.",
            chat=subject,
            games=bold_names(chosen, w),
        )
        if chosen
        else w._("%(chat)s gets no reminders yet.", chat=subject)
    )
    return (
        state
        + "\n"
        + w._(
            "A reminder comes once per code, when it expires within 24 hours. "
            "<code>/remind on</code> or <code>/remind off</code> for every game here, or "
            "<code>/remind on genshin</code> for some."
        )
    )


def reminders_changed_text(
    on: bool, games: Sequence[Game], where: str, words: Words | None = None
) -> str:
    w = words or english()
    if not games:
        return w._("None of those games is subscribed here. Send /subscribe to pick games.")
    subject, names = chat_subject(where, w, capital=False), bold_names(games, w)
    if on:
        return w._(
            "Done: %(chat)s will be reminded when codes of %(games)s expire within 24 hours.",
            chat=subject,
            games=names,
        )
    return w._("Done: no more reminders for %(games)s in %(chat)s.", games=names, chat=subject)


def redeem_buttons(game: Game, codes: Sequence[CodeView], words: Words | None = None) -> Keyboard:
    """A "Redeem" URL button per usable code, or one for the page when there are many."""
    w = words or english()
    usable = [c for c in codes if c.status is not CodeStatus.EXPIRED]
    if game.redeem_url is None or not usable:
        return ()
    if len(usable) > MAX_CODE_BUTTONS:
        page = game.redeem_link("")
        return ((Button(w._("Redeem"), url=page),),) if page else ()
    rows: list[tuple[Button, ...]] = []
    for code in usable:
        link = game.redeem_link(code.code)
        if link is not None:
            label = w._("Redeem %(code)s", code=clip(code.code, MAX_BUTTON_CODE_LENGTH))
            rows.append((Button(label, url=link),))
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


def expiry_line(code: CodeView, words: Words) -> str:
    """When a code stops working, to the minute: a reminder's reader plans by it."""
    if code.expires_at is None:
        return ""
    return words._(
        "<i>expires %(date)s, %(time)s UTC</i>",
        date=words.date(code.expires_at),
        time=f"{code.expires_at:%H:%M}",
    )


def announcement_messages(
    game: Game,
    codes: Sequence[CodeView],
    now: datetime | None = None,
    words: Words | None = None,
    kind: AnnouncementKind = AnnouncementKind.NEW,
) -> list[Message]:
    """An announcement as one message, or several when it would pass Telegram's bound.

    Each part carries the redeem buttons of its own codes; the game's note ends the last.
    Beyond MAX_PARTS parts, the last says how many codes more /codes lists. A reminder says
    how many codes expire soon, each with the minute it expires.
    """
    w = words or english()
    count = len(codes)
    if kind is AnnouncementKind.REMINDER:
        title = w.ngettext(
            "⏰ <b>%(game)s</b>: %(count)s code expires within 24 hours",
            "⏰ <b>%(game)s</b>: %(count)s codes expire within 24 hours",
            count,
            game=name_of(game, w),
        )
    else:
        title = w.ngettext(
            "🎁 <b>%(game)s</b>: %(count)s new code",
            "🎁 <b>%(game)s</b>: %(count)s new codes",
            count,
            game=name_of(game, w),
        )
    note = note_of(game, w)

    def more(left: int) -> str:
        return w.ngettext(
            "…and %(count)s more: /codes %(id)s",
            "…and %(count)s more: /codes %(id)s",
            left,
            id=escape(game.id),
        )

    # Room for the widest header (" (9/9)") and footer any part could get.
    reserve = utf16_length(title) + len(" (9/9)") + utf16_length(note) + utf16_length(more(count))
    if kind is AnnouncementKind.REMINDER:
        blocks = [code_block(code, now, w, until=False) for code in codes]
        blocks = [f"{b}\n{expiry_line(c, w)}" for b, c in zip(blocks, codes, strict=True)]
    else:
        blocks = [code_block(code, now, w) for code in codes]
    groups = _pack(blocks, MAX_MESSAGE_LENGTH - reserve - 8)
    shown, left_out = groups[:MAX_PARTS], sum(len(g) for g in groups[MAX_PARTS:])
    messages: list[Message] = []
    for number, group in enumerate(shown, start=1):
        header = title if len(shown) == 1 else f"{title} ({number}/{len(shown)})"
        footer_lines: list[str] = []
        if number == len(shown):
            if left_out:
                footer_lines.append(more(left_out))
            if note:
                footer_lines.append(note)
        text = _join(header, (blocks[i] for i in group), "\n".join(footer_lines))
        messages.append(Message(text, redeem_buttons(game, [codes[i] for i in group], w)))
    return messages


def codes_message(
    game: Game, codes: Sequence[CodeView], now: datetime | None = None, words: Words | None = None
) -> Message:
    """The reply to /codes: the active codes of one game in one message."""
    w = words or english()
    name = name_of(game, w)
    if not codes:
        return Message(
            w._(
                "No active codes for <b>%(game)s</b> right now.\n"
                "Send /subscribe %(id)s to get new ones the moment they appear.",
                game=name,
                id=escape(game.id),
            )
        )
    title = w.ngettext(
        "🎮 <b>%(game)s</b>: %(count)s active code",
        "🎮 <b>%(game)s</b>: %(count)s active codes",
        len(codes),
        game=name,
    )
    note = note_of(game, w)
    blocks = [code_block(code, now, w) for code in codes]
    reserve = utf16_length(title) + utf16_length(note) + 60
    shown = _pack(blocks, MAX_MESSAGE_LENGTH - reserve)[0]
    footer = []
    if len(shown) < len(codes):
        left = len(codes) - len(shown)
        footer.append(w.ngettext("…and %(count)s more.", "…and %(count)s more.", left))
    if note:
        footer.append(note)
    text = _join(title, (blocks[i] for i in shown), "\n".join(footer))
    return Message(text, redeem_buttons(game, [codes[i] for i in shown], w))


# --- help, subscriptions, keyboards -----------------------------------------------------


def commands(words: Words | None = None) -> tuple[tuple[str, str], ...]:
    """What Telegram shows in the command menu (setMyCommands), in this order."""
    w = words or english()
    return (
        ("start", w._("What this bot does and how to use it")),
        ("codes", w._("Active codes now: /codes [game]")),
        ("subscribe", w._("Get new codes: /subscribe [game…|all]")),
        ("unsubscribe", w._("Stop codes: /unsubscribe [game…|all]")),
        ("subscriptions", w._("What this chat gets")),
        ("language", w._("The language I speak in this chat")),
        ("submit", w._("Report a code you found: /submit game code [rewards]")),
        ("remind", w._("Reminders before codes expire: /remind on|off")),
        ("board", w._("A message with a game's codes, kept up to date: /board game")),
    )


def game_list(games: Iterable[Game], words: Words) -> str:
    return words.pgettext("list separator", ", ").join(
        words._("%(game)s (<code>%(id)s</code>)", game=name_of(g, words), id=escape(g.id))
        for g in games
    )


def start_message(games: Sequence[Game], words: Words | None = None) -> Message:
    w = words or english()
    return Message(
        w._(
            "👋 <b>codecast</b> sends new redemption codes for your games the moment they "
            "appear: each code copyable with a tap, its rewards, and a button to redeem it."
        )
        + "\n\n"
        + w._("<b>Games:</b> %(games)s", games=game_list(games, w))
        + "\n\n"
        + w._(
            "/subscribe — pick games (or <code>/subscribe genshin hsr</code>, "
            "<code>/subscribe all</code>)\n"
            "/codes — the active codes now (<code>/codes genshin</code>)\n"
            "/subscriptions — what this chat gets\n"
            "/unsubscribe — stop codes for a game\n"
            "/language — the language I speak here"
        )
        + "\n"
        + w._("/submit — report a code you found (<code>/submit genshin CODE</code>)")
        + "\n"
        + w._(
            "/remind on — a reminder when codes expire within 24 hours\n"
            "/board genshin — one message with the codes that work, kept up to date"
        )
        + "\n\n"
        + w._(
            "In groups only administrators can change what the group gets. For a channel, "
            "make me an administrator who can post, then post /subscribe in the channel, or "
            "send me <code>/subscribe @yourchannel</code> here."
        )
    )


def help_hint(words: Words | None = None) -> str:
    return (words or english())._("Send /start to see what I can do.")


def bold_names(games: Iterable[Game], words: Words | None = None) -> str:
    w = words or english()
    return w.pgettext("list separator", ", ").join(f"<b>{name_of(g, w)}</b>" for g in games)


# How a chat is named in replies: the chat itself by its kind, or a channel by its @username.
CHAT, GROUP, CHANNEL = "chat", "group", "channel"


def chat_subject(where: str, words: Words, *, capital: bool) -> str:
    """The chat as the subject of a sentence: "This group" (`capital`) or "this group";
    a @username as it is. HTML."""
    if where == CHAT:
        return words._("This chat") if capital else words._("this chat")
    if where == GROUP:
        return words._("This group") if capital else words._("this group")
    if where == CHANNEL:
        return words._("This channel") if capital else words._("this channel")
    return escape(where)


def subscriptions_text(
    games: Sequence[Game], where: str = CHAT, words: Words | None = None
) -> str:
    w = words or english()
    subject = chat_subject(where, w, capital=True)
    if not games:
        return w._("%(chat)s gets no codes yet. Send /subscribe to pick games.", chat=subject)
    return w._("%(chat)s gets new codes for: %(games)s.", chat=subject, games=bold_names(games, w))


def changed_text(
    where: str, games: Sequence[Game], *, on: bool, words: Words | None = None
) -> str:
    """The answer to /subscribe or /unsubscribe with games named."""
    w = words or english()
    subject, names = chat_subject(where, w, capital=False), bold_names(games, w)
    if on:
        text = w._("Done: %(chat)s gets new codes for %(games)s.", chat=subject, games=names)
    else:
        text = w._("Done: %(chat)s no longer gets codes for %(games)s.", chat=subject, games=names)
    return text + "\n" + w._("See everything with /subscriptions.")


def subscription_keyboard(
    games: Sequence[Game],
    subscribed: Iterable[str],
    target: str = "",
    words: Words | None = None,
) -> Keyboard:
    """Game buttons with ✓ on those subscribed, then "All" and "None"; taps toggle.

    `target` names the chat the buttons change when it is not the chat showing them (a
    channel managed from a private chat).
    """
    w = words or english()
    on = set(subscribed)
    buttons = []
    for g in games:
        name = clip(game_name(w, g.name), MAX_BUTTON_NAME_LENGTH)
        label = f"✓ {name}" if g.id in on else name
        buttons.append(Button(label, callback_data=encode_callback(TOGGLE, target, g.id)))
    rows = _rows(buttons)
    rows.append(
        (
            Button(w._("All"), callback_data=encode_callback(ALL_ON, target, "")),
            Button(w._("None"), callback_data=encode_callback(ALL_OFF, target, "")),
        )
    )
    return tuple(rows)


def subscription_prompt(
    games: Sequence[Game], subscribed: Iterable[str], where: str, words: Words | None = None
) -> str:
    w = words or english()
    chosen = [g for g in games if g.id in set(subscribed)]
    return (
        w._("Tap a game to turn its codes on or off (✓ = on).")
        + "\n"
        + subscriptions_text(chosen, where, w)
    )


def pick_game_keyboard(games: Sequence[Game], words: Words | None = None) -> Keyboard:
    w = words or english()
    buttons = [
        Button(
            clip(game_name(w, g.name), MAX_BUTTON_NAME_LENGTH),
            callback_data=encode_callback(SHOW_CODES, "", g.id),
        )
        for g in games
    ]
    return tuple(_rows(buttons))


def language_keyboard(
    current: str | None, *, automatic: bool, target: str = "", words: Words | None = None
) -> Keyboard:
    """One button per language, named in itself, ✓ on the chat's; in a private chat, an
    "automatic" button (follow the Telegram app's language) first."""
    w = words or english()
    buttons = []
    if automatic:
        label = "🌐 " + w._("Like my Telegram app")
        buttons.append(
            Button(
                f"✓ {label}" if current is None else label,
                callback_data=encode_callback(LANGUAGE, target, ""),
            )
        )
    for language in LANGUAGES:
        label = language.name
        buttons.append(
            Button(
                f"✓ {label}" if language.tag == current else label,
                callback_data=encode_callback(LANGUAGE, target, language.tag),
            )
        )
    return tuple(_rows(buttons))


def language_prompt(words: Words | None = None) -> str:
    return (words or english())._("Which language should I speak here?")


def language_set_text(language_name: str | None, words: Words | None = None) -> str:
    """The answer once a chat's language is set (`None`: it follows the app's language)."""
    w = words or english()
    if language_name is None:
        return w._("Done: I speak the language of your Telegram app here.")
    return w._("Done: I speak %(language)s here.", language=escape(language_name))


def _rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    return [
        tuple(buttons[i : i + GAME_BUTTONS_PER_ROW])
        for i in range(0, len(buttons), GAME_BUTTONS_PER_ROW)
    ]


# --- callback data ----------------------------------------------------------------------

TOGGLE = "t"
ALL_ON = "a"
ALL_OFF = "n"
SHOW_CODES = "c"
LANGUAGE = "l"
# A moderator's tap on a report (the target is the report's id; the game field says where:
# "" a moderation post, "l" the /moderation list).
MOD_APPROVE = "ma"
MOD_REJECT = "mr"
MOD_BLOCK = "mb"
MOD_ACTIONS = frozenset({MOD_APPROVE, MOD_REJECT, MOD_BLOCK})
_ACTIONS = frozenset({TOGGLE, ALL_ON, ALL_OFF, SHOW_CODES, LANGUAGE}) | MOD_ACTIONS


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
