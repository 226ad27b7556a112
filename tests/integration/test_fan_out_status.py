"""`codecast status` on running fan-outs: each one's progress and expected end, on a real
database, when the announcements of one wave are interleaved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.fanout import collect_fan_outs, fan_out_lines
from bot.core.domain import DeliveryOrder, Platform
from bot.store import outbox, repository
from tests.conftest import FakeClock
from tests.seed import add_code

Sessions = async_sessionmaker[AsyncSession]
NO_PAID = {"on": False, "sent_today": 0}


async def interleaved_wave(sessions: Sessions, clock: FakeClock) -> dict[str, int]:
    """Three big groups for hsr and three private chats for genshin: the hsr rows go first,
    though genshin's announcement is the older one. Returns the announcement ids by game."""
    async with sessions.begin() as session:
        for chat in ("-101", "-102", "-103"):
            await repository.subscribe(
                session, Platform.TELEGRAM, chat, "hsr", now=clock(), audience=1_000
            )
        for chat in ("11", "12", "13"):
            await repository.subscribe(
                session, Platform.TELEGRAM, chat, "genshin", now=clock(), audience=1
            )
        codes = {
            game: [(await add_code(session, game=game, code=f"{game}WAVE1", now=clock())).id]
            for game in ("genshin", "hsr")
        }
        made = await repository.create_wave(session, codes, clock(), order=DeliveryOrder.REACH)
    [genshin, hsr] = sorted(made)
    return {"genshin": genshin, "hsr": hsr}


async def send_first(sessions: Sessions, clock: FakeClock, count: int) -> list[str]:
    """Claim and send the first `count` rows ten seconds ago; the chats they went to."""
    async with sessions.begin() as session:
        claimed = await outbox.claim_due(
            session,
            Platform.TELEGRAM,
            worker="w",
            limit=count,
            lease=timedelta(minutes=1),
            now=clock(),
        )
        await outbox.mark_sent_many(
            session, [(d.id, "1") for d in claimed], now=clock() - timedelta(seconds=10)
        )
    return [d.chat_id for d in claimed]


def seconds_to(end: str | None, now: datetime) -> float | None:
    return None if end is None else (datetime.fromisoformat(end) - now).total_seconds()


async def test_each_fan_out_of_a_wave_ends_when_its_last_row_is_reached(
    sessions: Sessions, clock: FakeClock
) -> None:
    ids = await interleaved_wave(sessions, clock)
    assert await send_first(sessions, clock, 1) == ["-101"]
    async with sessions() as session:
        shown = {f["game"]: f for f in await collect_fan_outs(session, clock())}

    # One message in the last minute: 1/60 a second on Telegram.
    assert {f["rate_per_second"] for f in shown.values()} == {round(1 / 60, 1)}
    hsr, genshin = shown["hsr"], shown["genshin"]
    assert (hsr["announcement_id"], hsr["total"], hsr["sent"], hsr["pending"]) == (
        ids["hsr"],
        3,
        1,
        2,
    )
    assert (genshin["total"], genshin["sent"], genshin["pending"]) == (3, 0, 3)
    assert hsr["done"] == round(1 / 3, 4)
    # hsr's two rows left go first: two sends; genshin's come after them: five.
    assert seconds_to(hsr["expected_end"], clock()) == 2 * 60
    assert seconds_to(genshin["expected_end"], clock()) == 5 * 60

    lines = "\n".join(fan_out_lines(list(shown.values()), NO_PAID))
    assert f"announcement {ids['hsr']:<6} hsr      telegram         1 of 3" in lines
    assert f"expected end {genshin['expected_end']}" in lines


async def test_a_fan_out_not_moving_has_no_expected_end(
    sessions: Sessions, clock: FakeClock
) -> None:
    await interleaved_wave(sessions, clock)
    async with sessions() as session:
        shown = await collect_fan_outs(session, clock())
    assert [(f["game"], f["pending"], f["expected_end"]) for f in shown] == [
        ("genshin", 3, None),
        ("hsr", 3, None),
    ]
    assert "not moving now" in "\n".join(fan_out_lines(shown, NO_PAID))
