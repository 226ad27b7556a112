"""Discord messages built from codes: embeds, redeem buttons and mentions, within Discord's limits.

Pure functions of plain data: no client, no network. Text that came from the web (rewards,
item names) is escaped for Markdown and can never mention anyone.
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
    Verification,
)
from bot.core.redeem import NotACode, RedeemTarget, Unreadable
from bot.core.rewards import rewards_text
from bot.core.text import clip

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


# --- text ------------------------------------------------------------------------------


def inert(text: str) -> str:
    """Web text made safe to show: Markdown escaped, mentions and pings defused."""
    text = escape_markdown(text, ignore_links=False)
    text = escape_mentions(text)
    return _MENTION_OPENERS.sub("<\u200b", text)


def code_span(code: str) -> str:
    """A code shown as inline code; characters a code never has are dropped, not escaped."""
    return f"`{_NOT_CODE.sub('', code)[:MAX_CODE_LENGTH]}`"


def timestamp(moment: datetime, style: str = "R") -> str:
    """Discord renders `<t:unix:R>` in each reader's own time zone and language."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def source_list(code: CodeView, source_names: Mapping[str, str]) -> str:
    """The sources listing a code; a player's report is said apart (`credit_text`)."""
    return ", ".join(inert(source_names.get(s, s)) for s in code.sources if s != PLAYERS.id)


def credit_text(credit: str) -> str:
    """Who reported a code: a name only if the player asked to be named."""
    return f"reported by {inert(clip(credit, 32))}" if credit else "reported by a player"


# --- one code --------------------------------------------------------------------------


def code_field(
    code: CodeView,
    game: Game,
    *,
    source_names: Mapping[str, str],
    redeem_in_text: bool,
) -> tuple[str, str]:
    """The (name, value) of the embed field that shows one code."""
    name = code_span(code.code)
    if code.status is CodeStatus.EXPIRED:
        name = f"~~{name}~~ (expired)"
    lines: list[str] = []
    facts = [f"First seen {timestamp(code.first_seen)}"]
    if (
        code.verification is Verification.VALID
        and code.verified_at is not None
        and code.status is not CodeStatus.EXPIRED
    ):
        # Discord writes "2 minutes ago" in each reader's language and keeps it current.
        facts.insert(0, f"✓ checked {timestamp(code.verified_at)}")
    if code.expires_at is not None:
        facts.append(f"expires {timestamp(code.expires_at)}")
    if listed := source_list(code, source_names):
        facts.append(f"sources: {listed}")
    if code.credit is not None:
        facts.append(credit_text(code.credit))
    tail = " · ".join(facts)
    link = game.redeem_link(code.code) if redeem_in_text else None
    if link is not None:
        tail += f"\n[Redeem]({link})"
    rewards = rewards_text(code)
    # The rewards give way when the field is full: dates, sources and the link are short.
    room = MAX_FIELD_VALUE_CHARS - len(tail) - 1
    lines.append(clip(inert(rewards), room) if rewards else "Rewards not listed")
    lines.append(tail)
    return name, clip("\n".join(lines), MAX_FIELD_VALUE_CHARS)


@dataclass(frozen=True)
class RedeemButton:
    label: str
    url: str


def redeem_buttons(codes: Iterable[CodeView], game: Game) -> list[RedeemButton]:
    """A "Redeem CODE" link button per code that can be redeemed on the web, at most 25."""
    buttons: list[RedeemButton] = []
    for code in codes:
        if code.status is CodeStatus.EXPIRED:
            continue
        link = game.redeem_link(code.code)
        if link is None or len(link) > MAX_BUTTON_URL_CHARS:
            continue
        label = clip(f"Redeem {_NOT_CODE.sub('', code.code)}", MAX_BUTTON_LABEL_CHARS)
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
) -> EmbedPlan:
    """Codes as fields over as many embeds as the limits allow; what does not fit is counted."""
    first = _game_embed(game, title)
    if description:
        first.description = clip(inert(description), MAX_DESCRIPTION_CHARS)
    embeds = [first]
    used = len(embeds[0])
    shown: list[CodeView] = []
    for code in codes:
        name, value = code_field(
            code, game, source_names=source_names, redeem_in_text=redeem_in_text
        )
        current = embeds[-1]
        cost = len(name) + len(value)
        if len(current.fields) == MAX_FIELDS_PER_EMBED:
            if len(embeds) == max_embeds:
                break
            current = _game_embed(game, f"{title} (continued)")
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


def in_game_note(game: Game) -> str | None:
    """How to redeem a game's codes when there is no web page for it."""
    return game.note if game.redeem_url is None else None


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
) -> str:
    if kind is AnnouncementKind.REMINDER:
        what = "A code expires" if count == 1 else f"{count} codes expire"
        return f"{what} within 24 hours: {game.name}"
    title = f"New {game.name} code" if count == 1 else f"{count} new {game.name} codes"
    return f"{title} (expired)" if expired else title


def announcement_message(
    announcement: Announcement,
    game: Game,
    *,
    role_id: str | None = None,
    source_names: Mapping[str, str] | None = None,
) -> AnnouncementMessage:
    """The message a subscribed channel gets: embeds per game, redeem buttons, the role."""
    codes = list(announcement.codes)
    plan = fill_embeds(
        codes,
        game,
        title=announcement_title(
            game,
            len(codes),
            expired=all(c.status is CodeStatus.EXPIRED for c in codes),
            kind=announcement.kind,
        ),
        source_names=source_names or {},
        redeem_in_text=False,
        budget=MAX_EMBED_CHARS_PER_MESSAGE - _MORE_NOTE_RESERVE,
        max_embeds=MAX_EMBEDS_PER_MESSAGE,
        description=in_game_note(game),
    )
    last = plan.embeds[-1]
    footer = FOOTER
    if plan.omitted:
        footer = f"…and {plan.omitted} more: see /codes · {FOOTER}"
    last.set_footer(text=clip(footer, MAX_FOOTER_CHARS))
    last.timestamp = announcement.created_at
    content = f"<@&{int(role_id)}>" if role_id else None
    return AnnouncementMessage(
        content=content,
        embeds=plan.embeds,
        buttons=redeem_buttons(plan.shown, game),
        allowed_mentions=allowed_mentions(role_id),
        omitted=plan.omitted,
    )


# --- /codes ------------------------------------------------------------------------------


def codes_messages(
    games: Sequence[tuple[Game, Sequence[CodeView]]],
    *,
    source_names: Mapping[str, str] | None = None,
) -> list[list[discord.Embed]]:
    """The answer to /codes as messages of embeds, each message within Discord's limits.

    Every code is listed: a long list is split over several messages (the first is the
    reply, the others follow-ups) rather than cut.
    """
    embeds: list[discord.Embed] = []
    for game, codes in games:
        embeds.extend(_game_code_embeds(game, codes, source_names or {}))
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
    game: Game, codes: Sequence[CodeView], source_names: Mapping[str, str]
) -> list[discord.Embed]:
    title = f"{game.name}: {len(codes)} active code{'s' if len(codes) != 1 else ''}"
    if not codes:
        embed = _game_embed(game, f"{game.name}: no active codes")
        embed.description = "No active codes right now. New ones are announced here first."
        return [embed]
    result: list[discord.Embed] = []
    rest = list(codes)
    while rest:
        plan = fill_embeds(
            rest,
            game,
            title=title if not result else f"{title} (continued)",
            source_names=source_names,
            redeem_in_text=True,
            # One embed of this game must always fit a message of its own.
            budget=MAX_EMBED_CHARS_PER_MESSAGE,
            max_embeds=1,
            description=None if result else in_game_note(game),
        )
        if not plan.shown:  # cannot happen with Discord's limits; never loop forever
            break
        result.extend(plan.embeds)
        rest = rest[len(plan.shown) :]
    return result


# --- /subscriptions ----------------------------------------------------------------------


# The subscription option that names the role an announcement mentions.
ROLE_OPTION = "role_id"


def role_to_ping(options: Mapping[str, Any]) -> str | None:
    """The role a subscription's announcements mention, if it names one."""
    role = options.get(ROLE_OPTION)
    return str(role) if isinstance(role, str | int) and str(role).isdigit() else None


@dataclass(frozen=True)
class SubscriptionLine:
    channel_id: str
    game_name: str
    role_id: str | None


def subscriptions_text(lines: Sequence[SubscriptionLine]) -> list[str]:
    """The server's subscriptions as lines of text, split into messages of at most 2,000."""
    if not lines:
        return ["This server has no subscriptions. Add one with `/subscribe`."]
    rows = [
        f"<#{int(line.channel_id)}> · {inert(line.game_name)}"
        + (f" · pings <@&{int(line.role_id)}>" if line.role_id else "")
        for line in lines
    ]
    messages: list[str] = []
    current = f"**Subscriptions ({len(lines)})**"
    for row in rows:
        if len(current) + 1 + len(row) > MAX_CONTENT_CHARS:
            messages.append(current)
            current = row
        else:
            current += "\n" + row
    messages.append(current)
    return messages


# --- /redeem -----------------------------------------------------------------------------


def not_a_code_text(error: NotACode) -> str:
    """Why a pasted text is no code, in Discord's Markdown."""
    if error.reason is Unreadable.LINK_WITHOUT_CODE:
        return "That link has no `?code=` in it."
    if error.reason is Unreadable.NOT_THE_GAMES_PATTERN and error.game is not None:
        return f"`{error.code}` does not look like a {inert(error.game.name)} code."
    return error.plain()


def redeem_text(targets: Sequence[RedeemTarget]) -> str:
    lines = []
    for target in targets:
        shown = code_span(target.code)
        if target.url is not None:
            lines.append(f"**{inert(target.game.name)}**: redeem {shown} with the button below.")
        else:
            note = f" {inert(target.game.note)}" if target.game.note else ""
            lines.append(f"**{inert(target.game.name)}**: {shown} is redeemed in game.{note}")
    return clip("\n".join(lines), MAX_CONTENT_CHARS)


def redeem_target_buttons(targets: Sequence[RedeemTarget]) -> list[RedeemButton]:
    buttons = []
    for target in targets:
        if target.url is None or len(target.url) > MAX_BUTTON_URL_CHARS:
            continue
        label = f"Redeem {_NOT_CODE.sub('', target.code)}"
        if len(targets) > 1:
            label += f" ({target.game.name})"
        buttons.append(RedeemButton(clip(label, MAX_BUTTON_LABEL_CHARS), target.url))
    return buttons[:MAX_BUTTONS_PER_MESSAGE]
