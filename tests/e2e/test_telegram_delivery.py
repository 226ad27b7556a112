"""Announcements reaching Telegram chats through the delivery worker, end to end.

The fake Bot API enforces Telegram's limits ten times faster than the real ones (300 messages
per second overall, 10 per second per chat, 20 per 6 s per group), and codecast's sender is
configured with the same speed-up, so the limits are exercised without slow tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.daemon import run_once
from bot.app.logs import configure_logging
from bot.core.domain import DeliveryOrder
from bot.store import database
from bot.store.models import CodeRow, DeliveryState
from notifiers.delivery import RetryPolicy
from notifiers.telegram.format import MAX_MESSAGE_LENGTH, utf16_length
from notifiers.telegram.limits import spaced
from tests.e2e.telegram_helpers import (
    SPEED_UP,
    TEST_LIMITS,
    active_chats,
    add_codes,
    add_wave,
    ask_one,
    deliveries,
    running_bot,
    subscribe,
    subscribe_many,
    telegram_settings,
    utc_now,
    worker,
)
from tests.fakes.source_site import FixtureSite, Page
from tests.fakes.telegram_api import FakeTelegram, RateLimits

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every int time period unless told to use timedelta already."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(rate_limits=RateLimits().scaled(SPEED_UP)) as fake:
        yield fake


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[Sessions]:
    engine = database.create_engine(sqlite_url)
    yield database.session_factory(engine)
    await engine.dispose()


async def test_announcement_reaches_1000_subscribers_within_the_limits(
    tg: FakeTelegram, sqlite_sessions: Sessions
) -> None:
    # SQLite only: the database is not what this measures, and PostgreSQL runs the same
    # outbox queries in the shorter tests below.
    sessions = sqlite_sessions
    chats = list(range(10_001, 11_001))
    await subscribe_many(sessions, chats)
    await add_codes(sessions, [("GENSHINGIFT", "Primogems ×60")])
    async with running_bot(tg, sessions, commands=False) as service:
        started = time.monotonic()
        stats = await worker(sessions, service).drain()
        elapsed = time.monotonic() - started
    assert stats.sent == 1000
    assert tg.violations == []
    assert {m.chat_id for m in tg.sent_messages()} == set(chats)
    rows = await deliveries(sessions)
    assert {state for state, _, _ in rows.values()} == {DeliveryState.SENT}
    assert all(message_id == "1" for _, message_id, _ in rows.values())
    # 1,000 messages at 300/s take 3.3 s; a busy machine (the fake shares this process and
    # its CPU) may take longer, but never shorter: the limit held.
    assert elapsed >= 1000 / 300


async def test_429_waits_retry_after_and_the_row_is_not_lost(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    await subscribe(sessions, [501, 502, 503])
    await add_codes(sessions, [("WAIT1234", "Mora")])
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=502)
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert stats.sent == 3
    assert stats.rate_limited == 1
    refused, accepted = [r for r in tg.calls("sendMessage") if r.params["chat_id"] == 502]
    assert refused.status == 429
    assert accepted.status == 200
    assert accepted.at - refused.at >= 1.0
    assert (await deliveries(sessions))["502"][0] == DeliveryState.SENT


async def test_blocked_deactivated_and_missing_chats_end_their_subscriptions(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    await subscribe(sessions, [601, 602, 603, 604, -605])
    await add_codes(sessions, [("GONE1234", "Mora")])
    tg.block(601)
    tg.deactivate(602)
    tg.chat_not_found(603)
    tg.kick(-605)
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert stats.gone == 4
    assert stats.sent == 1
    assert await active_chats(sessions) == {"604"}
    rows = await deliveries(sessions)
    assert rows["601"][0] == DeliveryState.GONE
    assert "blocked" in (rows["601"][2] or "")
    assert "chat not found" in (rows["603"][2] or "").lower()


async def test_migrated_group_gets_the_message_at_its_new_id_and_keeps_subscriptions(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    group = tg.add_group("Growing")
    await subscribe(sessions, [group.id])
    await add_codes(sessions, [("MOVE1234", "Mora")])
    supergroup = tg.migrate(group.id)
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert stats.sent == 1
    assert [m.plain_text.count("MOVE1234") for m in tg.sent_messages(supergroup.id)] == [1]
    assert await active_chats(sessions) == {str(supergroup.id)}


async def test_html_in_rewards_arrives_escaped(tg: FakeTelegram, sessions: Sessions) -> None:
    evil = '<b>60</b> Primogems <a href="https://evil.example">&amp;</a> <script>x</script>'
    await subscribe(sessions, [701])
    await add_codes(sessions, [("SAFE1234", evil)])
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert stats.sent == 1
    [message] = tg.sent_messages(701)
    # Shown as text, less the address (reward text keeps no links).
    assert evil.replace("https://evil.example", " ") in message.plain_text
    assert "evil.example" not in message.text
    assert "<script>" not in message.text
    assert "<code>SAFE1234</code>" in message.text
    assert [b["url"] for b in message.buttons] == [
        "https://genshin.hoyoverse.com/en/gift?code=SAFE1234"
    ]


async def test_long_announcement_is_split_and_all_message_ids_are_kept(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    codes = [(f"LONGCODE{i:03d}", "Primogems ×60 and plenty more besides " * 7) for i in range(30)]
    await subscribe(sessions, [801])
    await add_codes(sessions, codes)
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert stats.sent == 1
    parts = tg.sent_messages(801)
    assert len(parts) > 1
    assert all(utf16_length(m.text) <= MAX_MESSAGE_LENGTH for m in parts)
    shown = "".join(m.plain_text for m in parts)
    assert all(code in shown for code, _ in codes)
    state, message_ids, _ = (await deliveries(sessions))["801"]
    assert state == DeliveryState.SENT
    assert message_ids == ",".join(str(m.message_id) for m in parts)
    assert tg.violations == []  # the parts to one chat were spaced too


async def test_network_errors_retry_then_fail_visibly_after_the_cap(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    await subscribe(sessions, [901, 902])
    await add_codes(sessions, [("FLAKY123", "Mora")])
    tg.fail_next("sendMessage", "drop", chat_id=901)
    tg.fail_next("sendMessage", 500, chat_id=901)
    tg.fail_next("sendMessage", 502, times=5, chat_id=902)
    async with running_bot(tg, sessions, commands=False) as service:
        run = worker(
            sessions, service, retry=RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=0.2)
        )
        stats = await run.drain()
    rows = await deliveries(sessions)
    assert rows["901"][0] == DeliveryState.SENT  # third attempt went through
    assert rows["902"][0] == DeliveryState.FAILED
    assert "gave up after 3" in (rows["902"][2] or "")
    assert stats.retried == 4


async def test_a_bad_request_fails_that_message_only(tg: FakeTelegram, sessions: Sessions) -> None:
    await subscribe(sessions, [1001, 1002])
    await add_codes(sessions, [("ODD12345", "Mora")])
    tg.fail_next("sendMessage", 400, description="Bad Request: something odd", chat_id=1001)
    async with running_bot(tg, sessions, commands=False) as service:
        stats = await worker(sessions, service).drain()
    assert (stats.sent, stats.failed) == (1, 1)
    rows = await deliveries(sessions)
    assert rows["1001"][0] == DeliveryState.FAILED
    assert await active_chats(sessions) == {"1001", "1002"}  # a bad request is not "gone"


@pytest.fixture
def codecast_logging() -> Iterator[None]:
    """codecast's own logging set-up for one test; the previous one is put back after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = [name for name in logging.root.manager.loggerDict if "." not in name]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_the_token_never_reaches_the_logs(
    tg: FakeTelegram,
    sqlite_sessions: Sessions,
    capsys: pytest.CaptureFixture[str],
    codecast_logging: None,
) -> None:
    configure_logging("DEBUG", secrets=(tg.token,))
    # Even with python-telegram-bot's own DEBUG lines on, which carry the API URL.
    logging.getLogger("telegram").setLevel(logging.DEBUG)
    sessions = sqlite_sessions
    await subscribe(sessions, [1101, 1102])
    await add_codes(sessions, [("QUIET123", "Mora")])
    tg.fail_next("sendMessage", "drop", chat_id=1101)
    tg.fail_next("sendMessage", 500, chat_id=1102)
    async with running_bot(tg, sessions) as service:
        await worker(sessions, service).drain()
    logged = capsys.readouterr().err
    assert "Set Bot API URL" in logged  # PTB did log the URL ...
    assert "telegram delivery" in logged  # ... and the worker its retries ...
    assert tg.token not in logged  # ... without the token
    assert tg.token.split(":", 1)[1] not in logged
    rows = await deliveries(sessions)
    assert all(tg.token not in (error or "") for _, _, error in rows.values())


async def test_codecast_run_once_announces_a_new_code_on_telegram(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """The composition root end to end: scrape a local source, store, and send on Telegram."""

    def livestream(*codes: str) -> Page:
        bonuses = [{"exchange_code": c, "code_status": "ON"} for c in codes]
        modules = [{"exchange_group": {"bonuses": bonuses}}] if bonuses else []
        body = {"retcode": 0, "message": "OK", "data": {"modules": modules}}
        return Page(json.dumps(body).encode(), "application/json")

    async with FixtureSite() as site:
        site.pages["livestream"] = livestream()
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(
            '[games.genshin]\nname = "Genshin Impact"\npattern = "[A-Za-z0-9]{6,20}"\n'
            'redeem_url = "https://genshin.hoyoverse.com/en/gift?code={code}"\n\n'
            '[[sources]]\nid = "live"\nkind = "hoyolab"\ngame = "genshin"\n'
            f'trust = "official"\nurl = "{site.url("livestream")}"\n',
            encoding="utf-8",
        )
        settings = telegram_settings(
            tg,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}",
            site_dir=tmp_path / "public",
            catalog=catalog,
        )
        assert await run_once(settings) == 0  # first sight of the source: a baseline
        engine = database.create_engine(settings.database_url)
        try:
            await subscribe(database.session_factory(engine), [4242])
        finally:
            await engine.dispose()
        site.pages["livestream"] = livestream("NEWCODE2026")
        assert await run_once(settings) == 0
    [message] = tg.sent_messages(4242)
    assert "NEWCODE2026" in message.plain_text
    assert [b["url"] for b in message.buttons] == [
        "https://genshin.hoyoverse.com/en/gift?code=NEWCODE2026"
    ]


async def test_sent_announcements_are_edited_when_a_code_expires(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    await subscribe(sessions, [1201, 1202])
    await add_codes(sessions, [("STILLGOOD1", "Mora"), ("SOONGONE22", "Primogems ×60")])
    async with running_bot(tg, sessions, expiry_check=0.05) as service:
        await worker(sessions, service).drain()
        async with sessions.begin() as session:
            await session.execute(
                update(CodeRow)
                .where(CodeRow.code == "SOONGONE22")
                .values(status="expired", expired_at=utc_now())
            )
        await tg.wait_for(lambda: len(tg.edits) == 2)
        await asyncio.sleep(0.2)  # later looks do not edit again
    assert len(tg.edits) == 2
    for chat in (1201, 1202):
        [sent] = tg.sent_messages(chat)
        now = tg.message(chat, sent.message_id)
        assert now is not None
        assert "SOONGONE22 (expired)" in now.plain_text
        assert "STILLGOOD1" in now.plain_text
        assert [b["text"] for b in now.buttons] == ["Redeem STILLGOOD1"]


def first_before_any_second(chats: list[int]) -> bool:
    """Whether every chat's first message came before any chat's second."""
    seen: set[int] = set()
    for position, chat in enumerate(chats):
        if chat in seen:
            return all(c in seen for c in chats[position:])
        seen.add(chat)
    return True


@pytest.mark.parametrize("order", list(DeliveryOrder))
async def test_a_rate_limited_wave_reaches_the_big_group_first_and_every_chat_before_any_twice(
    tg: FakeTelegram, sessions: Sessions, order: DeliveryOrder
) -> None:
    both, hsr_only = list(range(1301, 1341)), list(range(1401, 1421))
    await subscribe(sessions, both, "genshin", audience=1)
    await subscribe(sessions, both, "hsr", audience=1)
    await subscribe(sessions, hsr_only, "hsr", audience=1)
    admin = tg.add_user("Ada")
    group = tg.add_group("Codes fans", supergroup=True, creator=admin)
    tg.set_member_count(group, 2_000)
    async with running_bot(tg, sessions) as service:
        # The newest subscription, made with the bot, which asks Telegram the group's size.
        assert "this group gets new codes" in await ask_one(
            tg, group, admin, "/subscribe genshin hsr"
        )
        # The bot's answer was a message to the group: the group's limit would hold the next
        # one back for a while, whatever the order.
        await asyncio.sleep(spaced(TEST_LIMITS.per_group, TEST_LIMITS.margin).seconds)
        await add_wave(
            sessions,
            {"genshin": [("GENSHINWAVE1", "Primogems")], "hsr": [("HSRWAVE2", "Jade")]},
            order,
        )
        started = time.monotonic()
        drainer = worker(sessions, service)
        stats = await drainer.drain()
        elapsed = time.monotonic() - started
    chats = [m.chat_id for m in tg.sent_messages() if "WAVE" in m.plain_text]
    assert stats.sent == len(chats) == 2 * 40 + 20 + 2
    assert tg.violations == []
    assert elapsed >= len(chats) / 300  # the limit (300/s on the sped-up fake) held
    privates = [position for position, chat in enumerate(chats) if chat > 0]
    if order is DeliveryOrder.REACH:
        assert chats.index(group.id) < min(privates)
        assert first_before_any_second(chats)
    else:
        # The old order: genshin to its 40 private chats first, the group last of them; the
        # chats of hsr only hear after the others' second message. The queue holds the group
        # 41st; with sends in flight side by side, arrivals may swap within a lane's width.
        assert abs(chats.index(group.id) - 40) < drainer.concurrency
        assert chats.index(group.id) > min(privates)
        assert not first_before_any_second(chats)
