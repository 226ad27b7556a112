"""Discord messages built from codes: embeds, redeem buttons and mentions, within Discord's limits.

Pure functions of plain data: no client, no network. Text that came from the web (rewards,
item names) is escaped for Markdown and can never mention anyone. Every function takes the
reader's `Words` (English when none is given): the catalogs' words, the glossary's game and
item names, and the locale's numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.core.domain import (
    MAX_CODE_LENGTH,
    PLAYERS,
    Announcement,
    AnnouncementKind,
    CodeStatus,
    CodeView,
    Game,
    Platform,
    Verification,
)
from bot.core.glossary import game_name, game_note
from bot.core.language import Words, english
from bot.core.redeem import NotACode, RedeemTarget
from bot.core.rewards import rewards_text
from bot.core.text import clip
from notifiers import report_words
from notifiers.report_words import Markup

# Discord's limits for one message (documented under "Embed Limits" and "Message Components").
MAX_CONTENT_CHARS = 2000
MAX_EMBEDS_PER_MESSAGE = 10
MAX_EMBED_CHARS_PER_MESSAGE = 6000  # title, description, field names and values, footer, author
MAX_FIELDS_PER_EMBED = 25
MAX_TITLE_CHARS = 256
MAX_DESCRIPTION_CHARS = 4096
MAX_FIELD_NAME_CHARS = 256
MAX_FIELD_VALUE_CHARS = 1024
MAX_FOOTER_CHARS = 2048
MAX_BUTTONS_PER_ROW = 5
MAX_ROWS_PER_MESSAGE = 5
MAX_BUTTONS_PER_MESSAGE = MAX_BUTTONS_PER_ROW * MAX_ROWS_PER_MESSAGE
MAX_BUTTON_LABEL_CHARS = 80
MAX_BUTTON_URL_CHARS = 512

# Component type and button style numbers of the API (action row, button, link style).
COMPONENT_ACTION_ROW = discord.ComponentType.action_row.value
COMPONENT_BUTTON = discord.ComponentType.button.value
BUTTON_STYLE_LINK = discord.ButtonStyle.link.value

FOOTER = "codecast"

# `<@id>`, `<@!id>`, `<@&id>`, `<#id>` and `</command:id>` render as mentions even in embeds,
# whatever their id; a zero-width space after `<` keeps them plain text.
_MENTION_OPENERS = re.compile(r"<(?=[@#/])")
# Anything but letters, digits, `-` and `_` has no place in a code shown in a code span.
_NOT_CODE = re.compile(r"[^0-9A-Za-z_-]")

# The slash commands, by the names Discord knows them by (each has a name per language).
COMMAND_NAMES = (
    "codes",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "redeem",
    "board",
    "language",
    "submit",
    "moderation",
)
# A /command in the catalogs' words (never inside a word, a path or a mention).
_COMMAND = re.compile(r"(?<![\w/<])/(" + "|".join(COMMAND_NAMES) + r")\b")


# --- text ------------------------------------------------------------------------------


def inert(text: str) -> str:
    """Web text made safe to show: Markdown escaped, mentions and pings defused."""
    text = escape_markdown(text, ignore_links=False)
    text = escape_mentions(text)
    return _MENTION_OPENERS.sub("<\u200b", text)


def code_span(code: str) -> str:
    """A code shown as inline code; characters a code never has are dropped, not escaped."""
    return f"`{_NOT_CODE.sub('', code)[:MAX_CODE_LENGTH]}`"


def bold(text: str) -> str:
    return f"**{text}**"


# How the words both bots share (notifiers/report_words.py) are written on Discord.
MARKUP = Markup(Platform.DISCORD, code=code_span, bold=bold, text=inert)


def timestamp(moment: datetime, style: str = "R") -> str:
    """Discord renders `<t:unix:R>` in each reader's own time zone and language."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def source_list(code: CodeView, source_names: Mapping[str, str], words: Words) -> str:
    """The sources listing a code; a player's report is said apart (`credit_text`)."""
    separator = words.pgettext("list separator", ", ")
    return separator.join(inert(source_names.get(s, s)) for s in code.sources if s != PLAYERS.id)


def credit_text(credit: str, words: Words | None = None) -> str:
    """Who reported a code: a name only if the player asked to be named."""
    w = words or english()
    if credit:
        return w._("reported by %(name)s", name=inert(clip(credit, 32)))
    return w._("reported by a player")


def name_of(game: Game, words: Words) -> str:
    """The game's name in the reader's language (the glossary's, else the catalog's)."""
    return game_name(words, game.name)


def command_name(name: str, words: Words) -> str:
    """A slash command's name as the reader's Discord shows it ("codes" is "コード" in
    Japanese): the names the command tree registers for each language."""
    return words.pgettext("command name", name)


def with_commands(text: str, words: Words, ids: Mapping[str, int] | None = None) -> str:
    """The /commands of a message as the reader can use them: a command mention (Discord
    shows it in each reader's language, and a tap runs it) where the command's id is known,
    else its name in the reader's language. Embed titles and footers show no mentions: they
    get names (`ids` None)."""

    def shown(match: re.Match[str]) -> str:
        name = match.group(1)
        command_id = (ids or {}).get(name)
        if command_id is not None:
            return f"</{name}:{int(command_id)}>"
        return "/" + command_name(name, words)

    return _COMMAND.sub(shown, text)


# --- one code --------------------------------------------------------------------------


def code_field(
    code: CodeView,
    game: Game,
    *,
    source_names: Mapping[str, str],
    redeem_in_text: bool,
    words: Words | None = None,
) -> tuple[str, str]:
    """The (name, value) of the embed field that shows one code."""
    w = words or english()
    name = code_span(code.code)
    if code.status is CodeStatus.EXPIRED:
        name = f"~~{name}~~ " + w._("(expired)")
    lines: list[str] = []
    # Discord writes the <t:…:R> times ("2 minutes ago") in each reader's language and keeps
    # them current.
    facts = [w._("First seen %(when)s", when=timestamp(code.first_seen))]
    if (
        code.verification is Verification.VALID
        and code.verified_at is not None
        and code.status is not CodeStatus.EXPIRED
    ):
        facts.insert(0, w._("✓ checked %(when)s", when=timestamp(code.verified_at)))
    if code.expires_at is not None:
        facts.append(w._("expires %(when)s", when=timestamp(code.expires_at)))
    if listed := source_list(code, source_names, w):
        facts.append(w._("sources: %(sources)s", sources=listed))
    if code.credit is not None:
        facts.append(credit_text(code.credit, w))
    tail = " · ".join(facts)
    link = game.redeem_link(code.code) if redeem_in_text else None
    if link is not None:
        tail += f"\n[{w._('Redeem')}]({link})"
    rewards = rewards_text(code, w)
    # The rewards give way when the field is full: dates, sources and the link are short.
    room = MAX_FIELD_VALUE_CHARS - len(tail) - 1
    lines.append(clip(inert(rewards), room) if rewards else w._("Rewards not listed"))
    lines.append(tail)
    return name, clip("\n".join(lines), MAX_FIELD_VALUE_CHARS)


@dataclass(frozen=True)
class RedeemButton:
    label: str
    url: str


def redeem_buttons(
    codes: Iterable[CodeView], game: Game, words: Words | None = None
) -> list[RedeemButton]:
    """A "Redeem CODE" link button per code that can be redeemed on the web, at most 25."""
    w = words or english()
    buttons: list[RedeemButton] = []
    for code in codes:
        if code.status is CodeStatus.EXPIRED:
            continue
        link = game.redeem_link(code.code)
        if link is None or len(link) > MAX_BUTTON_URL_CHARS:
            continue
        label = clip(
            w._("Redeem %(code)s", code=_NOT_CODE.sub("", code.code)), MAX_BUTTON_LABEL_CHARS
        )
        buttons.append(RedeemButton(label, link))
        if len(buttons) == MAX_BUTTONS_PER_MESSAGE:
            break
    return buttons


def action_rows(buttons: Sequence[RedeemButton]) -> list[dict[str, Any]]:
    """Buttons as the API's component payload: rows of at most five."""
    rows: list[dict[str, Any]] = []
    for start in range(0, min(len(buttons), MAX_BUTTONS_PER_MESSAGE), MAX_BUTTONS_PER_ROW):
        rows.append(
            {
                "type": COMPONENT_ACTION_ROW,
                "components": [
                    {
                        "type": COMPONENT_BUTTON,
                        "style": BUTTON_STYLE_LINK,
                        "label": b.label,
                        "url": b.url,
                    }
                    for b in buttons[start : start + MAX_BUTTONS_PER_ROW]
                ],
            }
        )
    return rows


# --- embeds within the per-message budget ------------------------------------------------


def message_chars(embeds: Iterable[discord.Embed]) -> int:
    """What Discord counts against the 6,000-character budget of one message."""
    return sum(len(e) for e in embeds)


@dataclass(frozen=True)
class EmbedPlan:
    embeds: list[discord.Embed]
    shown: list[CodeView]
    omitted: int


def fill_embeds(
    codes: Sequence[CodeView],
    game: Game,
    *,
    title: str,
    source_names: Mapping[str, str],
    redeem_in_text: bool,
    budget: int,
    max_embeds: int,
    description: str | None = None,
    words: Words | None = None,
) -> EmbedPlan:
    """Codes as fields over as many embeds as the limits allow; what does not fit is counted."""
    w = words or english()
    first = _game_embed(game, title)
    if description:
        first.description = clip(inert(description), MAX_DESCRIPTION_CHARS)
    embeds = [first]
    used = len(embeds[0])
    shown: list[CodeView] = []
    for code in codes:
        name, value = code_field(
            code, game, source_names=source_names, redeem_in_text=redeem_in_text, words=w
        )
        current = embeds[-1]
        cost = len(name) + len(value)
        if len(current.fields) == MAX_FIELDS_PER_EMBED:
            if len(embeds) == max_embeds:
                break
            current = _game_embed(game, continued(title, w))
            cost += len(current)
            if used + cost > budget:
                break
            embeds.append(current)
        elif used + cost > budget:
            break
        current.add_field(name=name, value=value, inline=False)
        used += cost
        shown.append(code)
    return EmbedPlan(embeds, shown, len(codes) - len(shown))


def _game_embed(game: Game, title: str) -> discord.Embed:
    return discord.Embed(title=clip(inert(title), MAX_TITLE_CHARS), colour=game.color)


def continued(title: str, words: Words) -> str:
    """The title of an embed that goes on with the codes of the one before."""
    return words._("%(title)s (continued)", title=title)


def in_game_note(game: Game, words: Words | None = None) -> str | None:
    """How to redeem a game's codes when there is no web page for it."""
    if game.redeem_url is not None or not game.note:
        return None
    return game_note(words or english(), game.note)


# Room kept for the "…and N more" note when an announcement does not fit one message.
_MORE_NOTE_RESERVE = 120


@dataclass(frozen=True)
class AnnouncementMessage:
    """One announcement for one channel, as the JSON body of a message create."""

    content: str | None
    embeds: list[discord.Embed]
    buttons: list[RedeemButton]
    allowed_mentions: dict[str, Any]
    omitted: int

    def edit_payload(self) -> dict[str, Any]:
        """The body of an edit: embeds and buttons only, so the content (the role mention)
        stays as it was and nobody is pinged again."""
        return {
            "embeds": [e.to_dict() for e in self.embeds],
            "components": action_rows(self.buttons),
            "allowed_mentions": allowed_mentions(None),
        }

    def payload(self, *, nonce: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "embeds": [e.to_dict() for e in self.embeds],
            "components": action_rows(self.buttons),
            "allowed_mentions": self.allowed_mentions,
        }
        if self.content:
            body["content"] = self.content
        if nonce is not None:
            # Discord returns the message already created with this nonce instead of a new one.
            body["nonce"] = nonce
            body["enforce_nonce"] = True
        return body


def allowed_mentions(role_id: str | None) -> dict[str, Any]:
    """Only the subscription's role may be pinged; never @everyone, @here or users."""
    return {"parse": [], "roles": [role_id] if role_id else [], "replied_user": False}


def announcement_title(
    game: Game,
    count: int,
    *,
    expired: bool = False,
    kind: AnnouncementKind = AnnouncementKind.NEW,
    words: Words | None = None,
) -> str:
    w = words or english()
    if kind is AnnouncementKind.REMINDER:
        return w.ngettext(
            "%(count)s code expires within 24 hours: %(game)s",
            "%(count)s codes expire within 24 hours: %(game)s",
            count,
            game=name_of(game, w),
        )
    title = w.ngettext(
        "%(count)s new %(game)s code", "%(count)s new %(game)s codes", count, game=name_of(game, w)
    )
    return w._("%(title)s (expired)", title=title) if expired else title


def announcement_message(
    announcement: Announcement,
    game: Game,
    *,
    role_id: str | None = None,
    source_names: Mapping[str, str] | None = None,
    words: Words | None = None,
) -> AnnouncementMessage:
    """The message a subscribed channel gets: embeds per game, redeem buttons, the role."""
    w = words or english()
    codes = list(announcement.codes)
    plan = fill_embeds(
        codes,
        game,
        title=announcement_title(
            game,
            len(codes),
            expired=all(c.status is CodeStatus.EXPIRED for c in codes),
            kind=announcement.kind,
            words=w,
        ),
        source_names=source_names or {},
        redeem_in_text=False,
        budget=MAX_EMBED_CHARS_PER_MESSAGE - _MORE_NOTE_RESERVE,
        max_embeds=MAX_EMBEDS_PER_MESSAGE,
        description=in_game_note(game, w),
        words=w,
    )
    last = plan.embeds[-1]
    footer = FOOTER
    if plan.omitted:
        more = w.ngettext(
            "…and %(count)s more: see /codes", "…and %(count)s more: see /codes", plan.omitted
        )
        # A footer shows no command mention: the command's name in the reader's language.
        footer = f"{with_commands(more, w)} · {FOOTER}"
    last.set_footer(text=clip(footer, MAX_FOOTER_CHARS))
    last.timestamp = announcement.created_at
    content = f"<@&{int(role_id)}>" if role_id else None
    return AnnouncementMessage(
        content=content,
        embeds=plan.embeds,
        buttons=redeem_buttons(plan.shown, game, w),
        allowed_mentions=allowed_mentions(role_id),
        omitted=plan.omitted,
    )


# --- /codes ------------------------------------------------------------------------------


def codes_messages(
    games: Sequence[tuple[Game, Sequence[CodeView]]],
    *,
    source_names: Mapping[str, str] | None = None,
    words: Words | None = None,
) -> list[list[discord.Embed]]:
    """The answer to /codes as messages of embeds, each message within Discord's limits.

    Every code is listed: a long list is split over several messages (the first is the
    reply, the others follow-ups) rather than cut.
    """
    embeds: list[discord.Embed] = []
    for game, codes in games:
        embeds.extend(_game_code_embeds(game, codes, source_names or {}, words or english()))
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    for embed in embeds:
        if current and (
            len(current) == MAX_EMBEDS_PER_MESSAGE
            or message_chars(current) + len(embed) > MAX_EMBED_CHARS_PER_MESSAGE
        ):
            messages.append(current)
            current = []
        current.append(embed)
    if current:
        messages.append(current)
    return messages


def _game_code_embeds(
    game: Game, codes: Sequence[CodeView], source_names: Mapping[str, str], words: Words
) -> list[discord.Embed]:
    w = words
    name = name_of(game, w)
    title = w.ngettext(
        "%(game)s: %(count)s active code",
        "%(game)s: %(count)s active codes",
        len(codes),
        game=name,
    )
    if not codes:
        embed = _game_embed(game, w._("%(game)s: no active codes", game=name))
        embed.description = w._("No active codes right now. New ones are announced here first.")
        return [embed]
    result: list[discord.Embed] = []
    rest = list(codes)
    while rest:
        plan = fill_embeds(
            rest,
            game,
            title=title if not result else continued(title, w),
            source_names=source_names,
            redeem_in_text=True,
            # One embed of this game must always fit a message of its own.
            budget=MAX_EMBED_CHARS_PER_MESSAGE,
            max_embeds=1,
            description=None if result else in_game_note(game, w),
            words=w,
        )
        if not plan.shown:  # cannot happen with Discord's limits; never loop forever
            break
        result.extend(plan.embeds)
        rest = rest[len(plan.shown) :]
    return result


# --- /subscriptions ---------------------------------------------------------------------


# The subscription options that name the role an announcement mentions, and the language
# chosen for its announcements with /language (a tag of bot/core/language.py).
ROLE_OPTION = "role_id"
LANGUAGE_OPTION = "language"


def role_to_ping(options: Mapping[str, Any]) -> str | None:
    """The role a subscription's announcements mention, if it names one."""
    role = options.get(ROLE_OPTION)
    return str(role) if isinstance(role, str | int) and str(role).isdigit() else None


@dataclass(frozen=True)
class SubscriptionLine:
    channel_id: str
    game_name: str
    role_id: str | None
    # The language chosen for its announcements, as its speakers write it; None: the
    # server's.
    language: str | None = None
    # Where a webhook target posts, by its label (its channel is not known to the bot).
    label: str | None = None
    remind: bool = False


def subscriptions_text(lines: Sequence[SubscriptionLine], words: Words | None = None) -> list[str]:
    """The server's subscriptions as lines of text, split into messages of at most 2,000."""
    w = words or english()
    if not lines:
        return [w._("This server has no subscriptions. Add one with /subscribe.")]
    rows = []
    for line in lines:
        where = inert(line.label) if line.label else f"<#{int(line.channel_id)}>"
        row = f"{where} · {inert(game_name(w, line.game_name))}"
        if line.role_id:
            row += " · " + w._("pings %(role)s", role=f"<@&{int(line.role_id)}>")
        if line.language:
            row += f" · {inert(line.language)}"
        if line.remind:
            row += " · " + w._("reminders")
        rows.append(row)
    messages: list[str] = []
    current = w._("**Subscriptions (%(count)s)**", count=w.number(len(lines)))
    for row in rows:
        if len(current) + 1 + len(row) > MAX_CONTENT_CHARS:
            messages.append(current)
            current = row
        else:
            current += "\n" + row
    messages.append(current)
    return messages


# --- /redeem -----------------------------------------------------------------------------


def not_a_code_text(error: NotACode, words: Words | None = None) -> str:
    """Why a pasted text is no code, in Discord's Markdown."""
    return report_words.not_a_code_text(error, words or english(), MARKUP)


def redeem_text(targets: Sequence[RedeemTarget], words: Words | None = None) -> str:
    w = words or english()
    lines = []
    for target in targets:
        shown = code_span(target.code)
        name = inert(name_of(target.game, w))
        if target.url is not None:
            lines.append(
                w._("**%(game)s**: redeem %(code)s with the button below.", game=name, code=shown)
            )
        else:
            line = w._("**%(game)s**: %(code)s is redeemed in game.", game=name, code=shown)
            if target.game.note:
                line += " " + inert(game_note(w, target.game.note))
            lines.append(line)
    return clip("\n".join(lines), MAX_CONTENT_CHARS)


def redeem_target_buttons(
    targets: Sequence[RedeemTarget], words: Words | None = None
) -> list[RedeemButton]:
    w = words or english()
    buttons = []
    for target in targets:
        if target.url is None or len(target.url) > MAX_BUTTON_URL_CHARS:
            continue
        code = _NOT_CODE.sub("", target.code)
        if len(targets) > 1:
            label = w._("Redeem %(code)s (%(game)s)", code=code, game=name_of(target.game, w))
        else:
            label = w._("Redeem %(code)s", code=code)
        buttons.append(RedeemButton(clip(label, MAX_BUTTON_LABEL_CHARS), target.url))
    return buttons[:MAX_BUTTONS_PER_MESSAGE]
