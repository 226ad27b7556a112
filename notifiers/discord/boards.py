"""Discord's boards: a message of embeds kept up to date in place, and its post and pin.

The board is built like an announcement (notifiers/discord/format.py: one field per code,
expired ones struck through, link buttons to redeem) and never mentions anyone. The post
and the pin answer a member's /board through discord.py's REST buckets; the keeper's edits
go through the sender's limits like the expiry edits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route

from bot.core.domain import CodeStatus, CodeView, Game, Platform
from bot.core.language import Words, english
from bot.store import repository
from notifiers.boards import BoardEdit, BoardView, digest
from notifiers.discord.format import (
    FOOTER,
    MAX_EMBED_CHARS_PER_MESSAGE,
    MAX_EMBEDS_PER_MESSAGE,
    MAX_FOOTER_CHARS,
    action_rows,
    allowed_mentions,
    fill_embeds,
    in_game_note,
    name_of,
    redeem_buttons,
    with_commands,
)
from notifiers.discord.languages import server_locale, subscription_words
from notifiers.discord.sender import DiscordSender

log = logging.getLogger(__name__)


def board_payload(
    game: Game,
    codes: Sequence[CodeView],
    source_names: Mapping[str, str],
    words: Words | None = None,
) -> dict[str, Any]:
    """The JSON body of the board's message (and of each edit): no content, so no pings. In
    its server's language (English when none is given)."""
    w = words or english()
    note = w._("This message keeps itself up to date: new codes appear, expired ones leave.")
    plan = fill_embeds(
        list(codes),
        game,
        title=w._("%(game)s: codes that work now", game=name_of(game, w)),
        source_names=source_names,
        redeem_in_text=False,
        budget=MAX_EMBED_CHARS_PER_MESSAGE - 200,
        max_embeds=MAX_EMBEDS_PER_MESSAGE,
        description=in_game_note(game, w) or note,
        words=w,
    )
    if not codes:
        plan.embeds[0].description = (
            w._("No active codes right now. New ones are announced here first.") + " " + note
        )
    footer = f"{FOOTER} · " + w._("expired codes leave after a day")
    if plan.omitted:
        more = w.ngettext(
            "…and %(count)s more: see /codes", "…and %(count)s more: see /codes", plan.omitted
        )
        footer = f"{with_commands(more, w)} · {footer}"
    plan.embeds[-1].set_footer(text=footer[:MAX_FOOTER_CHARS])
    live = [c for c in plan.shown if c.status is not CodeStatus.EXPIRED]
    return {
        "content": "",
        "embeds": [e.to_dict() for e in plan.embeds],
        "components": action_rows(redeem_buttons(live, game, w)),
        "allowed_mentions": allowed_mentions(None),
    }


def view_of(payload: dict[str, Any]) -> BoardView:
    return BoardView(payload, digest(json.dumps(payload, sort_keys=True, default=str)))


async def post_board(
    http: HTTPClient, channel_id: int, payload: dict[str, Any]
) -> tuple[str, bool]:
    """Send the board and pin it; its message id and whether it is pinned."""
    data = await http.request(
        Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id), json=payload
    )
    message_id = str(data["id"])
    try:
        await http.request(
            Route(
                "PUT",
                "/channels/{channel_id}/pins/{message_id}",
                channel_id=channel_id,
                message_id=message_id,
            )
        )
    except discord.HTTPException as exc:
        # No right to pin there, or the channel's pins are full: the board works anyway.
        log.info("discord: board in %s not pinned: %s", channel_id, exc.text[:100])
        return message_id, False
    return message_id, True


async def delete_board(http: HTTPClient, channel_id: int, message_id: str) -> None:
    """A replaced board's message goes (best effort)."""
    try:
        await http.request(
            Route(
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}",
                channel_id=channel_id,
                message_id=message_id,
            )
        )
    except (discord.HTTPException, aiohttp.ClientError) as exc:
        log.debug("discord: old board %s stays: %s", message_id, exc)


class DiscordBoards:
    """The `BoardEditor` for Discord: edits through the sender's limits."""

    platform = Platform.DISCORD

    def __init__(self, sender: DiscordSender) -> None:
        self.sender = sender
        # The last rendering per game and language: every board of a game in one language
        # shows the same message.
        self._rendered: dict[tuple[str, str], tuple[tuple[CodeView, ...], BoardView]] = {}

    async def render(
        self, board: repository.Board, game: Game, codes: Sequence[CodeView]
    ) -> BoardView:
        # The server's language as the gateway's cache has it (the keeper runs beside it).
        w = subscription_words({}, server_locale(self.sender.client, board.space_id))
        shown = tuple(codes)
        cached = self._rendered.get((game.id, w.tag))
        if cached is not None and cached[0] == shown:
            return cached[1]
        view = view_of(board_payload(game, shown, self.sender.source_names, w))
        self._rendered[(game.id, w.tag)] = (shown, view)
        return view

    async def edit(self, board: repository.Board, view: BoardView) -> BoardEdit:
        if not self.sender.ready:
            return BoardEdit.FAILED
        assert isinstance(view.payload, dict)
        return await self.sender.edit_board(board.chat_id, board.message_id, view.payload)
