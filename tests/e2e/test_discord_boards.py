"""Discord boards, reminders and webhook subscriptions through the real discord.py client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Platform
from bot.store import repository
from bot.store.models import BoardRow, CodeRow
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import add_codes, running_bot
from tests.fakes.discord_api import DEFAULT_BOT_PERMISSIONS, FakeDiscord, Guild, Member, Perm

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def server(dc: FakeDiscord, *, bot_permissions: int) -> tuple[Guild, int, Member, Member]:
    guild = dc.add_guild(bot_permissions=bot_permissions)
    channel_id = next(iter(guild.channels))
    admins = dc.add_role(guild.id, "admins", permissions=Perm.MANAGE_GUILD)
    admin = dc.add_member(guild.id, "admin", roles=(admins.id,))
    player = dc.add_member(guild.id, "player")
    return guild, channel_id, admin, player


def shown(dc: FakeDiscord, channel_id: int, message_id: int) -> str:
    [message] = [m for m in dc.messages(channel_id) if m.id == message_id]
    return json.dumps([message.embeds, message.components], ensure_ascii=False)


async def test_a_board_is_pinned_and_edited_on_a_new_code_and_on_expiry_never_pinging(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(
        dc, bot_permissions=DEFAULT_BOT_PERMISSIONS | Perm.PIN_MESSAGES
    )
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")], announce=False)
    async with running_bot(dc, sessions, clock) as service:
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "board", {"game": "genshin"}
        )
        await handle.response()
        [reply] = await handle.wait_followups(1)
        assert "board" in reply.content
        assert "pinned" in reply.content
        [board] = [m for m in dc.messages(channel_id) if m.kind == "channel"]
        assert board.payload["pinned"]
        assert "GENSHINGIFT" in shown(dc, channel_id, board.id)
        keeper = service.boards
        assert keeper is not None
        assert await keeper.check() == 0
        await add_codes(sessions, clock, [("NEWCODE2026", "Mora x10000")], announce=False)
        assert await keeper.check() == 1
        assert "NEWCODE2026" in shown(dc, channel_id, board.id)
        async with sessions.begin() as session:
            await session.execute(
                update(CodeRow)
                .where(CodeRow.code == "GENSHINGIFT")
                .values(status="expired", expired_at=clock())
            )
        assert await keeper.check() == 1
        now = shown(dc, channel_id, board.id)
        assert "~~`GENSHINGIFT`~~ (expired)" in now
        assert "code=GENSHINGIFT" not in now  # its button is gone
        assert "code=NEWCODE2026" in now
        clock.advance(hours=25)
        assert await keeper.check() == 1
        assert "GENSHINGIFT" not in shown(dc, channel_id, board.id)
        # Never a ping, and never a second message: the board is edited in place.
        assert not board.pinged_everyone
        assert board.pinged_role_ids == []
        assert board.pinged_user_ids == []
        assert all(e.get("allowed_mentions") == {"parse": [], "roles": [], "replied_user": False}
                   for e in board.edits)  # fmt: skip
        assert len([m for m in dc.messages(channel_id) if m.kind == "channel"]) == 1


async def test_a_deleted_board_ends_quietly_and_a_board_without_pin_rights_says_so(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, admin, player = server(dc, bot_permissions=DEFAULT_BOT_PERMISSIONS)
    async with running_bot(dc, sessions, clock) as service:
        refused = await dc.dispatch_interaction(
            guild.id,
            channel_id,
            player.user.id,
            "board",
            {"game": "genshin"},
            enforce_default_permissions=False,
        )
        answer = await refused.response()
        assert "Manage Server" in answer.data["content"]
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "board", {"game": "genshin"}
        )
        await handle.response()
        [reply] = await handle.wait_followups(1)
        assert "could not pin" in reply.content
        [board] = [m for m in dc.messages(channel_id) if m.kind == "channel"]
        assert "No active codes right now" in shown(dc, channel_id, board.id)
        dc.store.messages.pop(board.id)
        dc.store.by_channel[channel_id].remove(board)
        await add_codes(sessions, clock, [("NEWCODE2026", "Mora x10000")], announce=False)
        assert service.boards is not None
        assert await service.boards.check() == 0
        async with sessions() as session:
            [row] = (await session.scalars(select(BoardRow))).all()
        assert not row.active
        assert row.ended_reason == "message or chat gone"
        assert [m for m in dc.messages(channel_id) if m.kind == "channel"] == []


async def test_subscribe_with_reminders_and_through_a_webhook(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc, bot_permissions=DEFAULT_BOT_PERMISSIONS)
    hook = dc.add_webhook(channel_id)
    url = dc.webhook_url(hook)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "genshin", "remind": True}
        )
        await handle.response()
        [reply] = await handle.wait_followups(1)
        assert "announced once more" in reply.content
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "hsr", "webhook": url}
        )
        await handle.response()
        [reply] = await handle.wait_followups(1)
        assert f"webhook {hook.id}" in reply.content
        assert hook.token not in reply.content
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "hsr", "webhook": "x"}
        )
        answer = await handle.response()
        assert "not a Discord webhook URL" in answer.data["content"]
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscriptions"
        )
        await handle.response()
        [listing] = await handle.wait_followups(1)
        assert f"<#{channel_id}> · Genshin Impact · reminders" in listing.content
        assert f"webhook {hook.id} · Honkai: Star Rail" in listing.content
        assert hook.token not in listing.content
    async with sessions() as session:
        [channel_sub] = await repository.chat_subscriptions(
            session, Platform.DISCORD, str(channel_id)
        )
        key = repository.target_key(Platform.DISCORD_WEBHOOK, url)
        [hook_sub] = await repository.chat_subscriptions(session, Platform.DISCORD_WEBHOOK, key)
    assert channel_sub.options == {"remind": True}
    assert hook_sub.game == "hsr"
    assert hook_sub.space_id == str(guild.id)
