"""Telegram boards and reminders with the real bot against the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import repository
from bot.store.models import BoardRow, CodeRow
from tests.e2e.telegram_helpers import (
    add_codes,
    ask,
    ask_one,
    eventually,
    quiet,
    running_bot,
    subscribe,
    utc_now,
    worker,
)
from tests.fakes.telegram_api import FakeTelegram

Sessions = async_sessionmaker[AsyncSession]


async def expire(sessions: Sessions, code: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(CodeRow)
            .where(CodeRow.code == code)
            .values(status="expired", expired_at=utc_now())
        )


async def boards(sessions: Sessions) -> list[BoardRow]:
    async with sessions() as session:
        return list((await session.scalars(select(BoardRow).order_by(BoardRow.id))).all())


async def recorded(sessions: Sessions) -> None:
    """Wait for the /board handler to record its board (it does so after the post)."""

    async def count() -> int:
        return len(await boards(sessions))

    await eventually(count, 1)


async def test_a_board_is_posted_pinned_silently_and_edited_as_codes_come_and_go(
    sessions: Sessions,
) -> None:
    async with FakeTelegram() as tg:
        admin = tg.add_user("Ada")
        group = tg.add_group(supergroup=True, creator=admin, bot_status="administrator")
        await add_codes(sessions, [("GENSHINGIFT", "Primogem ×60")], announce=False)
        async with running_bot(tg, sessions) as service:
            [board] = await ask(tg, group, admin, "/board genshin")
            assert "GENSHINGIFT" in board.plain_text
            assert "codes that work now" in board.plain_text
            assert board.params.get("disable_notification") is True
            await tg.wait_for(lambda: bool(tg.pins))  # pinned after it was sent
            await recorded(sessions)
            assert tg.pins == [(group.id, board.message_id, True)]
            keeper = service.boards
            assert keeper is not None
            # Nothing changed: no edit.
            assert await keeper.check() == 0
            await add_codes(sessions, [("NEWCODE2026", "Mora ×10,000")], announce=False)
            assert await keeper.check() == 1
            now = tg.message(group.id, board.message_id)
            assert now is not None
            assert "NEWCODE2026" in now.plain_text
            assert "GENSHINGIFT" in now.plain_text
            await expire(sessions, "GENSHINGIFT")
            assert await keeper.check() == 1
            now = tg.message(group.id, board.message_id)
            assert now is not None
            # Struck through and without its Redeem button, the new code still redeemable.
            assert "<s><code>GENSHINGIFT</code>" in now.text
            urls = [b.get("url", "") for b in now.buttons]
            assert any(u.endswith("NEWCODE2026") for u in urls)
            assert not any(u.endswith("GENSHINGIFT") for u in urls)
            # A day later the expired code has left the board.
            async with sessions.begin() as session:
                await session.execute(
                    update(CodeRow)
                    .where(CodeRow.code == "GENSHINGIFT")
                    .values(expired_at=utc_now() - timedelta(days=1, minutes=1))
                )
            assert await keeper.check() == 1
            now = tg.message(group.id, board.message_id)
            assert now is not None
            assert "GENSHINGIFT" not in now.plain_text
            # Every change was an edit of the one message: nothing new was sent.
            assert len(tg.sent_messages(group.id)) == 1
            assert len(tg.calls("editMessageText")) == 3


async def test_a_deleted_board_ends_quietly(sessions: Sessions) -> None:
    async with FakeTelegram() as tg:
        admin = tg.add_user("Ada")
        group = tg.add_group(supergroup=True, creator=admin, bot_status="administrator")
        await add_codes(sessions, [("GENSHINGIFT", "Primogem ×60")], announce=False)
        async with running_bot(tg, sessions) as service:
            [board] = await ask(tg, group, admin, "/board genshin")
            await recorded(sessions)
            tg.delete_by_user(group.id, board.message_id)
            await add_codes(sessions, [("NEWCODE2026", "Mora ×10,000")], announce=False)
            assert service.boards is not None
            assert await service.boards.check() == 0
            [row] = await boards(sessions)
            assert not row.active
            assert row.ended_reason == "message or chat gone"
            await quiet(tg, group)
            # Ended: later looks leave it alone.
            edits = len(tg.calls("editMessageText"))
            await service.boards.check()
            assert len(tg.calls("editMessageText")) == edits


async def test_only_administrators_post_boards_and_a_bot_that_cannot_pin_says_so(
    sessions: Sessions,
) -> None:
    async with FakeTelegram() as tg:
        admin, member = tg.add_user("Ada"), tg.add_user("Bob")
        group = tg.add_group(supergroup=True, creator=admin)  # the bot is a plain member
        tg.set_member(group, member, "member")
        async with running_bot(tg, sessions):
            refused = await ask_one(tg, group, member, "/board genshin")
            assert "administrators" in refused
            answers = await ask(tg, group, admin, "/board genshin", answers=2)
            assert "No active codes right now" in answers[0].plain_text
            assert "could not pin" in answers[1].plain_text
            assert tg.pins == []
            assert "Which game?" in await ask_one(tg, group, admin, "/board")


async def test_reminders_come_once_to_chats_that_asked_for_them(sessions: Sessions) -> None:
    async with FakeTelegram() as tg:
        asked, other = tg.add_user("Ada"), tg.add_user("Bob")
        chat_asked, chat_other = tg.private_chat(asked), tg.private_chat(other)
        await subscribe(sessions, [chat_asked.id, chat_other.id])
        async with running_bot(tg, sessions) as service:
            answer = await ask_one(tg, chat_asked, asked, "/remind on")
            assert "will be reminded" in answer
            assert "reminded of codes about to expire for Genshin Impact" in await ask_one(
                tg, chat_asked, asked, "/remind"
            )
            await add_codes(sessions, [("SOONGONE1", "Primogem ×30")], announce=False)
            async with sessions.begin() as session:
                await session.execute(
                    update(CodeRow)
                    .where(CodeRow.code == "SOONGONE1")
                    .values(expires_at=utc_now() + timedelta(hours=5))
                )
                made = await repository.remind_expiring(session, utc_now())
            assert list(made.values()) == [1]
            before = len(tg.sent_messages(chat_asked.id))
            await worker(sessions, service).drain()
            [reminder] = tg.sent_messages(chat_asked.id)[before:]
            assert "1 code expires within 24 hours" in reminder.plain_text
            assert "SOONGONE1" in reminder.plain_text
            assert "UTC" in reminder.plain_text
            # Never twice for one code, and never to the chat that did not ask.
            async with sessions.begin() as session:
                assert await repository.remind_expiring(session, utc_now()) == {}
            await worker(sessions, service).drain()
            assert len(tg.sent_messages(chat_asked.id)) == before + 1
            assert all("SOONGONE1" not in m.plain_text for m in tg.sent_messages(chat_other.id))
            assert "no more reminders" in await ask_one(tg, chat_asked, asked, "/remind off")
