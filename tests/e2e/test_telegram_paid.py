"""Telegram's paid broadcasts end to end: used beyond the free rate only, within the budget,
counted in the database and shown by `codecast status`.

The fake Bot API runs Telegram's limits ten times faster (300 free messages a second, 10,000
paid ones) and counts what the paid ones cost in Stars.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.fanout import collect_paid, fan_out_lines
from bot.store import spend
from notifiers.telegram.limits import PAID_RATE, TelegramLimits
from tests.e2e.telegram_helpers import (
    SPEED_UP,
    add_codes,
    running_bot,
    subscribe_many,
    telegram_settings,
    utc_now,
    worker,
)
from tests.fakes.telegram_api import FakeTelegram, RateLimits

Sessions = async_sessionmaker[AsyncSession]
PAID_LIMITS = TelegramLimits(paid=PAID_RATE).scaled(SPEED_UP)


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(rate_limits=RateLimits().scaled(SPEED_UP), record=False) as fake:
        yield fake


async def fan_out(tg: FakeTelegram, sessions: Sessions, chats: int, **settings: object) -> int:
    await subscribe_many(sessions, list(range(20_001, 20_001 + chats)))
    await add_codes(sessions, [("PAIDGIFT2026", "Primogems ×60")])
    async with running_bot(tg, sessions, commands=False, limits=PAID_LIMITS, **settings) as bot:
        stats = await worker(sessions, bot, concurrency=32).drain()
    return stats.sent


async def spent_today(sessions: Sessions) -> spend.Spend:
    async with sessions() as session:
        [today] = await spend.spend(session, "telegram", [spend.day_scope(utc_now().date())])
    return today


async def test_paid_broadcasts_stop_at_the_budget_and_the_rest_goes_free(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    sent = await fan_out(
        tg,
        sessions,
        400,
        telegram_paid_broadcast=True,
        telegram_paid_per_announcement=120,
        telegram_paid_min_chats=100,
    )
    assert sent == 400 == tg.sent_count
    assert tg.violations == []
    # Far beyond what 300 a second carry while paying: the budget is used whole, not more.
    assert tg.paid_count == 120
    assert tg.stars_spent == 12.0
    today = await spent_today(sessions)
    assert (today.sent, today.reserved) == (120, 120)
    settings = telegram_settings(
        tg, telegram_paid_broadcast=True, telegram_paid_per_announcement=120
    )
    async with sessions() as session:
        paid = await collect_paid(session, settings, utc_now())
    assert (paid["sent_today"], paid["stars_today"]) == (120, 12.0)
    assert "120 paid messages sent, 12 Stars spent" in "\n".join(fan_out_lines([], paid))


async def test_a_small_announcement_never_pays(tg: FakeTelegram, sessions: Sessions) -> None:
    sent = await fan_out(
        tg,
        sessions,
        60,
        telegram_paid_broadcast=True,
        telegram_paid_stars_per_day=100,
        telegram_paid_min_chats=61,
    )
    assert sent == 60
    assert tg.paid_count == 0
    assert tg.violations == []


async def test_a_fan_out_pays_only_beyond_the_free_rate_within_the_daily_stars(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    sent = await fan_out(
        tg,
        sessions,
        600,
        telegram_paid_broadcast=True,
        telegram_paid_stars_per_day=100,
        telegram_paid_min_chats=0,
    )
    assert sent == 600
    assert tg.violations == []
    # Some went free (the free rate is used in full), the rest paid, each paid one counted.
    assert 0 < tg.paid_count < 600
    today = await spent_today(sessions)
    assert today.sent == tg.paid_count
    # Whatever was reserved and not used went back at the stop.
    assert today.reserved == today.sent


def test_paid_broadcasts_need_a_budget(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="needs a budget"):
        telegram_settings(tg, telegram_paid_broadcast=True)
