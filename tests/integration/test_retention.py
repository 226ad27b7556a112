"""Finished delivery rows are pruned after the retention, a batch at a time; a sent row waits
for its codes to expire (its message may still be edited); pending rows are never touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.housekeeping import prune_deliveries
from bot.core.domain import Platform
from bot.store import repository, retention
from bot.store.models import CodeRow, DeliveryRow, DeliveryState, SubscriptionRow
from tests.conftest import FakeClock
from tests.seed import add_code

Sessions = async_sessionmaker[AsyncSession]
KEEP = timedelta(days=30)


async def announce(sessions: Sessions, clock: FakeClock, code: str, chats: list[str]) -> int:
    """An announcement of `code` to `chats` (all subscribed to genshin) made now."""
    async with sessions.begin() as session:
        for chat in chats:
            await repository.subscribe(session, Platform.TELEGRAM, chat, "genshin", now=clock())
        row = await add_code(session, game="genshin", code=code, now=clock())
        announcement, _ = await repository.create_announcement(
            session, "genshin", [row.id], clock()
        )
    return announcement


async def end_as(sessions: Sessions, announcement: int, states: dict[str, str]) -> None:
    async with sessions.begin() as session:
        for chat, state in states.items():
            subscription = select(SubscriptionRow.id).where(SubscriptionRow.chat_id == chat)
            await session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.announcement_id == announcement,
                    DeliveryRow.subscription_id.in_(subscription),
                )
                .values(state=state)
            )


async def expire(sessions: Sessions, code: str, clock: FakeClock) -> None:
    async with sessions.begin() as session:
        expired = update(CodeRow).where(CodeRow.code == code)
        await session.execute(expired.values(status="expired", expired_at=clock()))


async def left(sessions: Sessions) -> set[tuple[int, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(DeliveryRow.announcement_id, SubscriptionRow.chat_id, DeliveryRow.state).join(
                SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id
            )
        )
        return {(a, chat, state) for a, chat, state in rows}


async def test_finished_rows_go_after_the_retention_and_sent_ones_once_their_codes_expired(
    sessions: Sessions, clock: FakeClock
) -> None:
    chats = ["sent", "gone", "failed", "pending"]
    expired = await announce(sessions, clock, "OLDEXPIRED1", chats)
    lasting = await announce(sessions, clock, "OLDLASTING1", chats)
    for announcement in (expired, lasting):
        await end_as(
            sessions,
            announcement,
            {"sent": DeliveryState.SENT, "gone": DeliveryState.GONE, "failed": "failed"},
        )
    clock.advance(days=20)
    await expire(sessions, "OLDEXPIRED1", clock)
    recent = await announce(sessions, clock, "NEWCODE123", chats)
    await end_as(sessions, recent, {"sent": DeliveryState.SENT, "gone": DeliveryState.GONE})
    clock.advance(days=15)

    assert await prune_deliveries(sessions, clock, KEEP, batch=2, pause=0) == 5

    assert await left(sessions) == {
        (expired, "pending", "pending"),
        # Its code still works: the message may yet be edited when it expires.
        (lasting, "sent", "sent"),
        (lasting, "pending", "pending"),
        (recent, "sent", "sent"),
        (recent, "gone", "gone"),
        (recent, "failed", "pending"),
        (recent, "pending", "pending"),
    }
    # A code that has just expired leaves its sent rows a day for the edit.
    await expire(sessions, "OLDLASTING1", clock)
    assert await prune_deliveries(sessions, clock, KEEP, pause=0) == 0
    clock.advance(days=2)
    assert await prune_deliveries(sessions, clock, KEEP, pause=0) == 1
    assert (lasting, "sent", "sent") not in await left(sessions)


async def test_one_batch_deletes_at_most_its_limit_and_says_where_it_stopped(
    sessions: Sessions, clock: FakeClock
) -> None:
    chats = [str(n) for n in range(7)]
    announcement = await announce(sessions, clock, "GONECODE12", chats)
    await end_as(sessions, announcement, dict.fromkeys(chats, DeliveryState.GONE))
    clock.advance(days=31)
    after = 0
    batches = []
    while True:
        async with sessions.begin() as session:
            deleted, last = await retention.prune_deliveries(
                session,
                older_than=clock() - KEEP,
                edited_before=clock(),
                after_id=after,
                limit=3,
            )
        if last is None:
            break
        batches.append(deleted)
        after = last
    assert batches == [3, 3, 1]
    assert await left(sessions) == set()
