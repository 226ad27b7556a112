"""The shared delivery worker and the outbox protocol on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement, Platform
from bot.store import outbox, repository
from bot.store.models import CodeRow, DeliveryRow, DeliveryState, SubscriptionRow
from bot.store.outbox import Delivery
from notifiers.delivery import (
    DeliveryWorker,
    Failed,
    Gone,
    Outcome,
    RateLimited,
    Retry,
    RetryPolicy,
    Sent,
)
from tests.conftest import FakeClock


class ScriptedSender:
    """A platform stand-in: answers each chat as the test scripted, records what it sent.

    The worker's logic is under test here; the real clients are exercised end to end in the
    Telegram and Discord tests.
    """

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.script: dict[str, list[Outcome]] = {}
        self.sent: list[tuple[str, int]] = []

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        queue = self.script.get(delivery.chat_id)
        outcome = queue.pop(0) if queue else Sent(f"m{len(self.sent) + 1}")
        if isinstance(outcome, Sent):
            self.sent.append((delivery.chat_id, announcement.id))
        return outcome


async def setup(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, chats: list[str]
) -> int:
    async with sessions.begin() as session:
        for chat in chats:
            await repository.subscribe(session, Platform.TELEGRAM, chat, "genshin", now=clock())
        code = CodeRow(
            game="genshin",
            code="ABCDEF1234",
            code_key="ABCDEF1234",
            rewards="60 Primogems",
            items=[],
            status="active",
            first_seen=clock(),
            last_seen=clock(),
            announced_at=clock(),
        )
        session.add(code)
        await session.flush()
        announcement_id, count = await repository.create_announcement(
            session, "genshin", [code.id], clock()
        )
    assert count == len(chats)
    return announcement_id


def worker_for(
    sessions: async_sessionmaker[AsyncSession],
    sender: ScriptedSender,
    clock: Callable[..., object],
    **kwargs: object,
) -> DeliveryWorker:
    return DeliveryWorker(sessions, sender, clock=clock, **kwargs)  # type: ignore[arg-type]


async def states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(SubscriptionRow.chat_id, DeliveryRow.state).join(
                    SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id
                )
            )
        ).all()
    return dict(rows)


async def test_each_row_is_sent_once_and_keeps_its_message_id(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, [str(i) for i in range(30)])
    sender = ScriptedSender()
    worker = worker_for(sessions, sender, clock, batch_size=7)
    while await worker.deliver_batch():
        pass
    assert sorted(chat for chat, _ in sender.sent) == sorted(str(i) for i in range(30))
    assert set((await states(sessions)).values()) == {DeliveryState.SENT}
    async with sessions() as session:
        ids = (await session.scalars(select(DeliveryRow.message_id))).all()
    assert all(ids)


async def test_rate_limited_row_waits_and_is_not_lost(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["a"])
    sender = ScriptedSender()
    sender.script["a"] = [RateLimited(retry_after=3)]
    worker = worker_for(sessions, sender, clock)
    assert await worker.deliver_batch() == 1
    assert await worker.deliver_batch() == 0  # not due yet
    clock.advance(seconds=3)
    assert await worker.deliver_batch() == 1
    assert [c for c, _ in sender.sent] == ["a"]
    async with sessions() as session:
        row = (await session.scalars(select(DeliveryRow))).one()
    assert row.state == DeliveryState.SENT
    assert row.attempts == 1  # the rate limit did not count as a failed attempt


async def test_transient_errors_back_off_then_fail_visibly_after_the_cap(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["a"])
    sender = ScriptedSender()
    sender.script["a"] = [Retry("HTTP 502")] * 10
    worker = worker_for(
        sessions, sender, clock, retry=RetryPolicy(max_attempts=3, base_delay=1, max_delay=1)
    )
    for _ in range(3):
        assert await worker.deliver_batch() == 1
        clock.advance(seconds=2)
    async with sessions() as session:
        row = (await session.scalars(select(DeliveryRow))).one()
    assert row.state == DeliveryState.FAILED
    assert row.attempts == 3
    assert "HTTP 502" in (row.last_error or "")


async def test_gone_chat_ends_its_subscriptions_and_pending_rows(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["blocked", "fine"])
    sender = ScriptedSender()
    sender.script["blocked"] = [Gone("Forbidden: bot was blocked by the user")]
    worker = worker_for(sessions, sender, clock)
    await worker.deliver_batch()
    assert await states(sessions) == {"blocked": DeliveryState.GONE, "fine": DeliveryState.SENT}
    async with sessions() as session:
        subs = {
            s.chat_id: s.active for s in (await session.scalars(select(SubscriptionRow))).all()
        }
    assert subs == {"blocked": False, "fine": True}


async def test_permanent_error_fails_the_row_only(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["a"])
    sender = ScriptedSender()
    sender.script["a"] = [Failed("Bad Request: message is too long")]
    await worker_for(sessions, sender, clock).deliver_batch()
    assert await states(sessions) == {"a": DeliveryState.FAILED}


async def test_expired_lease_of_a_crashed_worker_is_picked_up_by_another(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["a", "b"])
    async with sessions.begin() as session:
        claimed = await outbox.claim_due(
            session,
            Platform.TELEGRAM,
            worker="crashed",
            limit=10,
            lease=timedelta(minutes=2),
            now=clock(),
        )
    assert len(claimed) == 2
    sender = ScriptedSender()
    survivor = worker_for(sessions, sender, clock, lease=timedelta(minutes=2))
    assert await survivor.deliver_batch() == 0  # still leased by the crashed worker
    clock.advance(minutes=2, seconds=1)
    assert await survivor.deliver_batch() == 2
    assert sorted(c for c, _ in sender.sent) == ["a", "b"]


async def test_unsubscribed_before_delivery_is_not_sent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, ["a", "b"])
    async with sessions.begin() as session:
        await repository.unsubscribe(session, Platform.TELEGRAM, "a", "genshin", now=clock())
    sender = ScriptedSender()
    await worker_for(sessions, sender, clock).deliver_batch()
    assert [c for c, _ in sender.sent] == ["b"]
    assert (await states(sessions))["a"] == DeliveryState.GONE


@pytest.mark.parametrize("crash_at", [1, 5])
async def test_sender_crash_is_retried_not_lost(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, crash_at: int
) -> None:
    await setup(sessions, clock, ["a"])

    class Crashing(ScriptedSender):
        calls = 0

        async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
            self.calls += 1
            if self.calls <= crash_at:
                raise RuntimeError("bug")
            return await super().send(delivery, announcement)

    sender = Crashing()
    worker = worker_for(sessions, sender, clock, retry=RetryPolicy(max_attempts=10, base_delay=1))
    for _ in range(crash_at + 1):
        await worker.deliver_batch()
        clock.advance(hours=1)
    assert [c for c, _ in sender.sent] == ["a"]


async def test_a_slow_batch_keeps_its_lease_and_is_not_taken_over(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    import asyncio
    from datetime import UTC, datetime

    await setup(sessions, clock, ["a", "b"])

    class Slow(ScriptedSender):
        async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
            await asyncio.sleep(1.5)
            return await super().send(delivery, announcement)

    def now() -> datetime:
        return datetime.now(UTC)

    lease = timedelta(seconds=0.6)
    slow_sender, other_sender = Slow(), ScriptedSender()
    slow = worker_for(sessions, slow_sender, now, lease=lease, flush_interval=0.05)
    other = worker_for(sessions, other_sender, now, lease=lease)
    busy = asyncio.create_task(slow.deliver_batch())
    await asyncio.sleep(1.0)  # past the first lease: renewed meanwhile
    assert await other.deliver_batch() == 0
    assert await busy == 2
    assert other_sender.sent == []
    assert sorted(c for c, _ in slow_sender.sent) == ["a", "b"]


async def claim(
    session: AsyncSession,
    clock: FakeClock,
    worker: str,
    limit: int,
    exclude: frozenset[int] = frozenset(),
) -> list[Delivery]:
    return await outbox.claim_due(
        session,
        Platform.TELEGRAM,
        worker=worker,
        limit=limit,
        lease=timedelta(minutes=2),
        now=clock(),
        exclude=exclude,
    )


async def test_claims_come_oldest_first_with_their_chats_and_leave_out_the_held_rows(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    announcement = await setup(sessions, clock, ["a", "b", "c", "d"])
    async with sessions.begin() as session:
        first = await claim(session, clock, "w1", 2)
    assert [d.chat_id for d in first] == ["a", "b"]
    assert all(d.announcement_id == announcement and d.attempts == 1 for d in first)
    # The lease of a and b ran out, but w1 still holds them (sending): only c and d.
    clock.advance(minutes=3)
    async with sessions.begin() as session:
        second = await claim(session, clock, "w1", 10, exclude=frozenset(d.id for d in first))
    assert [d.chat_id for d in second] == ["c", "d"]


# SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time.
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_claims_at_once_on_postgresql_never_share_a_row(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await setup(sessions, clock, [f"chat{i}" for i in range(10)])
    async with sessions.begin() as one, sessions.begin() as two:
        # The first claim's transaction is still open (its rows locked) when the second runs.
        mine = await claim(one, clock, "w1", 6)
        theirs = await claim(two, clock, "w2", 6)
    assert len(mine) == 6
    assert len(theirs) == 4
    assert not {d.id for d in mine} & {d.id for d in theirs}
