"""A report of a game HoYoverse's redeem endpoint checks is decided without a moderator: the
real Telegram bot and the verifier against the fake Bot API and the fake redeem endpoint, on
SQLite and PostgreSQL. The valid code is announced once; the invalid one is rejected, the
reporter's record counts it, and the same report is answered at once next time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.verifier import Verifier
from bot.core.submission import Moderators
from bot.core.verification import Policy
from bot.store import repository
from bot.store.models import SubmissionRow
from bot.store.repository import submissions
from notifiers.reports import ReportRules
from notifiers.telegram.wiring import build_service
from scrapers.verify import RedeemClient, build_http
from tests.e2e.telegram_helpers import (
    TEST_LIMITS,
    ask_one,
    subscribe,
    telegram_settings,
    utc_now,
    worker,
)
from tests.fakes.redeem import FakeRedeem
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.test_verification import account_of, catalog_for

Sessions = async_sessionmaker[AsyncSession]
UID = "700000001"
POLICY = Policy(pace=timedelta(seconds=0.05), wait=timedelta(seconds=30))


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@contextlib.asynccontextmanager
async def running_verifier(verifier: Verifier) -> AsyncIterator[None]:
    task = asyncio.create_task(verifier.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def states(sessions: Sessions) -> dict[str, str]:
    async with sessions() as session:
        rows = (await session.execute(select(SubmissionRow.code, SubmissionRow.state))).all()
    return {code: state for code, state in rows}  # noqa: C416 - Row, not tuple


async def test_a_verifiable_report_is_decided_by_the_redeem_endpoint_alone(
    sessions: Sessions,
) -> None:
    async with FakeTelegram() as tg, FakeRedeem(pace=0.0) as redeem:
        redeem.answer("hk4e_global", "PLAYERVALID1", 0)
        redeem.answer("hk4e_global", "PLAYERFAKE01", -2003)
        catalog = catalog_for(redeem)
        mod, player = tg.add_user("Ada"), tg.add_user("Pat")
        group = tg.add_group("Moderators", supergroup=True, creator=mod)
        chat, subscriber = tg.private_chat(player), tg.private_chat(tg.add_user("Sam"))
        await subscribe(sessions, [subscriber.id], "genshin")
        async with build_http(5.0) as http:
            verifier = Verifier(
                sessions=sessions,
                catalog=catalog,
                accounts=[account_of(redeem.add_account("alt-1", {"hk4e_global": UID}))],
                client=RedeemClient(http),
                policy=POLICY,
                clock=utc_now,
            )
            await verifier.start()
            service = build_service(
                telegram_settings(tg, telegram_moderation_chat=str(group.id)),
                catalog,
                sessions,
                utc_now,
                limits=TEST_LIMITS,
                reports=ReportRules(
                    moderators=Moderators(telegram=frozenset({str(mod.id)})),
                    verification=True,
                    verify_wait=POLICY.wait,
                ),
                moderation_check=0.1,
            )
            await service.start()
            try:
                async with running_verifier(verifier):
                    valid = await ask_one(tg, chat, player, "/submit genshin PLAYERVALID1 Primos")
                    fake = await ask_one(tg, chat, player, "/submit genshin PLAYERFAKE01")
                    for answer in (valid, fake):
                        assert "being checked with HoYoverse" in answer

                    async def decided() -> bool:
                        found = await states(sessions)
                        return found == {"PLAYERVALID1": "accepted", "PLAYERFAKE01": "rejected"}

                    for _ in range(200):
                        if await decided():
                            break
                        await asyncio.sleep(0.05)
                    assert await states(sessions) == {
                        "PLAYERVALID1": "accepted",
                        "PLAYERFAKE01": "rejected",
                    }
                    await worker(sessions, service).drain()
                    again = await ask_one(tg, chat, player, "/submit genshin PLAYERFAKE01")
                    assert "was reported before and rejected" in again
            finally:
                await service.stop()
    # The valid code reached the subscriber once, credited to a player; the fake never did.
    [announced] = tg.sent_messages(subscriber.id)
    assert "PLAYERVALID1" in announced.plain_text
    assert "reported by a player" in announced.plain_text
    assert "PLAYERFAKE01" not in announced.plain_text
    # No moderator was asked.
    assert tg.sent_messages(group.id) == []
    assert [s.params["cdkey"] for s in redeem.seen] == ["PLAYERVALID1", "PLAYERFAKE01"]
    async with sessions() as session:
        record = await submissions.history(session, "telegram", str(player.id))
        shown = [c.code for c in await repository.public_codes(session)]
    assert (record.accepted, record.rejected) == (1, 1)
    assert shown == ["PLAYERVALID1"]
