"""The expiry watcher both platforms share: which sent announcements it has edited, and when."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement, CodeStatus, Platform
from bot.store import outbox, repository
from bot.store.models import CodeRow, DeliveryRow
from notifiers.expiry import EXPIRY_OVERLAP, ExpiryWatcher
from tests.conftest import FakeClock
from tests.seed import add_code, add_subscriptions

Sessions = async_sessionmaker[AsyncSession]


class RecordingEditor:
    """Stands in for a platform: records each edit it is asked for, with what it showed."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.edits: list[tuple[str, str, frozenset[str]]] = []

    async def edit_sent(self, sent: repository.SentMessage, announcement: Announcement) -> int:
        expired = frozenset(c.code for c in announcement.codes if c.status is CodeStatus.EXPIRED)
        self.edits.append((sent.chat_id, sent.message_id, expired))
        return 1


async def announce_and_send(sessions: Sessions, clock: FakeClock, chats: list[str]) -> None:
    """Two codes announced to `chats` (and one Discord channel) and sent to all of them."""
    async with sessions.begin() as session:
        rows = [("telegram", chat, None) for chat in chats] + [("discord", "77", "1")]
        await add_subscriptions(session, rows, game="genshin", now=clock())
        first = await add_code(session, game="genshin", code="FIRSTCODE1", now=clock())
        second = await add_code(session, game="genshin", code="SECONDCODE2", now=clock())
        await repository.create_announcement(session, "genshin", [first.id, second.id], clock())
        ids = (await session.scalars(select(DeliveryRow.id))).all()
        await outbox.mark_sent_many(session, [(i, f"{i}00") for i in ids], now=clock())


async def expire(sessions: Sessions, code: str, at: object) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(CodeRow).where(CodeRow.code == code).values(status="expired", expired_at=at)
        )


async def test_each_message_is_edited_once_per_change_of_its_expired_codes(
    sessions: Sessions, clock: FakeClock
) -> None:
    await announce_and_send(sessions, clock, ["1", "2"])
    editor = RecordingEditor()
    watcher = ExpiryWatcher(editor, sessions, clock=clock, interval=60)
    assert await watcher.check() == 0
    clock.advance(seconds=60)
    await expire(sessions, "FIRSTCODE1", clock())
    clock.advance(seconds=60)
    assert await watcher.check() == 2
    assert {(chat, shown) for chat, _, shown in editor.edits} == {
        ("1", frozenset({"FIRSTCODE1"})),
        ("2", frozenset({"FIRSTCODE1"})),
    }
    # Later looks: nothing new, nothing edited again (the Discord channel is not Telegram's).
    for _ in range(3):
        clock.advance(seconds=60)
        assert await watcher.check() == 0
    await expire(sessions, "SECONDCODE2", clock())
    clock.advance(seconds=60)
    assert await watcher.check() == 2
    assert editor.edits[-1][2] == frozenset({"FIRSTCODE1", "SECONDCODE2"})
    assert watcher.edited == 4


async def test_an_expiry_committed_after_a_look_is_still_found(
    sessions: Sessions, clock: FakeClock
) -> None:
    await announce_and_send(sessions, clock, ["1"])
    editor = RecordingEditor()
    watcher = ExpiryWatcher(editor, sessions, clock=clock, interval=60)
    stamped = clock()  # a cycle stamps the code expired as it starts ...
    clock.advance(seconds=30)
    assert await watcher.check() == 0  # ... a look runs before its transaction commits ...
    await expire(sessions, "FIRSTCODE1", stamped)  # ... and the commit comes after.
    clock.advance(seconds=60)
    assert await watcher.check() == 1
    assert editor.edits == [("1", editor.edits[0][1], frozenset({"FIRSTCODE1"}))]


async def test_expiries_older_than_the_lookback_are_left_alone(
    sessions: Sessions, clock: FakeClock
) -> None:
    await announce_and_send(sessions, clock, ["1"])
    await expire(sessions, "FIRSTCODE1", clock() - timedelta(days=1))
    editor = RecordingEditor()
    watcher = ExpiryWatcher(editor, sessions, clock=clock, interval=60)
    assert await watcher.check() == 0
    assert editor.edits == []


async def test_what_was_shown_is_forgotten_once_it_cannot_come_up_again(
    sessions: Sessions, clock: FakeClock
) -> None:
    await announce_and_send(sessions, clock, ["1"])
    watcher = ExpiryWatcher(RecordingEditor(), sessions, clock=clock, interval=60)
    await expire(sessions, "FIRSTCODE1", clock())
    assert await watcher.check() == 1
    assert len(watcher._edited) == 1
    for _ in range(int(EXPIRY_OVERLAP / timedelta(seconds=60)) + 2):
        clock.advance(seconds=60)
        assert await watcher.check() == 0
    assert watcher._edited == {}
