"""Who hears first: the order a wave's deliveries are claimed in, on SQLite and PostgreSQL.

The rows of a wave are inserted in the order they are to be sent and claimed by id; these
tests claim them as the delivery workers do (a few at a time) and look at the order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import DeliveryOrder, Platform
from bot.store import outbox, repository
from bot.store.models import SubscriptionRow
from tests.conftest import FakeClock
from tests.seed import add_code

Sessions = async_sessionmaker[AsyncSession]


async def subscribe(
    sessions: Sessions,
    clock: FakeClock,
    chats: Sequence[tuple[str, Sequence[str], int | None]],
    *,
    platform: Platform = Platform.TELEGRAM,
    remind: bool = False,
) -> None:
    """(chat id, its games, its audience) each, subscribed in this order."""
    async with sessions.begin() as session:
        for chat, games, audience in chats:
            for game in games:
                await repository.subscribe(
                    session,
                    platform,
                    chat,
                    game,
                    now=clock(),
                    audience=audience,
                    options={repository.REMIND_OPTION: True} if remind else None,
                )


async def wave(
    sessions: Sessions, clock: FakeClock, games: Sequence[str], order: DeliveryOrder
) -> dict[int, int]:
    """One new code per game, announced together as the scrape cycle does."""
    async with sessions.begin() as session:
        codes = {
            game: [(await add_code(session, game=game, code=f"{game}CODE1", now=clock())).id]
            for game in games
        }
        return await repository.create_wave(session, codes, clock(), order=order)


async def claimed(
    sessions: Sessions,
    clock: FakeClock,
    platform: Platform = Platform.TELEGRAM,
    *,
    batch: int = 3,
) -> list[tuple[str, str]]:
    """(chat id, game) of every due row, in the order workers claim them, `batch` at a time."""
    order: list[tuple[str, str]] = []
    while True:
        async with sessions.begin() as session:
            rows = await outbox.claim_due(
                session,
                platform,
                worker="w",
                limit=batch,
                lease=timedelta(minutes=5),
                now=clock(),
            )
        if not rows:
            return order
        order.extend((d.chat_id, d.game) for d in rows)


def first_before_any_second(order: Sequence[tuple[str, str]]) -> bool:
    seen: set[str] = set()
    last_first, first_second = -1, len(order)
    for position, (chat, _) in enumerate(order):
        if chat in seen:
            first_second = min(first_second, position)
        else:
            seen.add(chat)
            last_first = position
    return last_first < first_second


# Private chats (an audience of one) subscribed in an order where, announcement after
# announcement, the chats of the second game only would hear after the others' second message.
CHATS: list[tuple[str, Sequence[str], int | None]] = [
    ("1", ["genshin", "hsr"], 1),
    ("2", ["genshin"], 1),
    ("3", ["genshin", "hsr"], 1),
    ("4", ["hsr"], 1),
    ("5", ["genshin", "hsr"], 1),
    ("6", ["hsr"], 1),
]


async def test_in_a_wave_of_two_games_every_chats_first_delivery_is_claimed_before_any_second(
    sessions: Sessions, clock: FakeClock
) -> None:
    await subscribe(sessions, clock, CHATS)
    # The same chat ids on another platform are other chats, with their own first messages.
    await subscribe(sessions, clock, [("1", ["hsr"], None), ("9", ["genshin", "hsr"], None)],
                    platform=Platform.DISCORD)  # fmt: skip
    made = await wave(sessions, clock, ["genshin", "hsr"], DeliveryOrder.REACH)
    assert sorted(made.values()) == [5, 7]

    order = await claimed(sessions, clock)
    assert sorted(order) == sorted((chat, g) for chat, games, _ in CHATS for g in games)
    assert first_before_any_second(order)
    # The first round: every chat once, its first game first, the oldest subscription first.
    assert order[:6] == [
        ("1", "genshin"),
        ("2", "genshin"),
        ("3", "genshin"),
        ("4", "hsr"),
        ("5", "genshin"),
        ("6", "hsr"),
    ]
    assert await claimed(sessions, clock, Platform.DISCORD) == [
        ("1", "hsr"),
        ("9", "genshin"),
        ("9", "hsr"),
    ]


async def test_the_subscribed_order_is_announcement_after_announcement_oldest_first(
    sessions: Sessions, clock: FakeClock
) -> None:
    await subscribe(sessions, clock, CHATS)
    # Sizes do not count in this order.
    await subscribe(sessions, clock, [("-1001", ["hsr"], 50_000)])
    await wave(sessions, clock, ["genshin", "hsr"], DeliveryOrder.SUBSCRIBED)

    order = await claimed(sessions, clock)
    assert order == [
        ("1", "genshin"),
        ("2", "genshin"),
        ("3", "genshin"),
        ("5", "genshin"),
        ("1", "hsr"),
        ("3", "hsr"),
        ("4", "hsr"),
        ("5", "hsr"),
        ("6", "hsr"),
        ("-1001", "hsr"),
    ]
    assert not first_before_any_second(order)


async def test_channels_and_big_groups_hear_before_groups_of_unknown_size_and_private_chats(
    sessions: Sessions, clock: FakeClock
) -> None:
    await subscribe(
        sessions,
        clock,
        [
            ("11", ["genshin"], 1),
            ("-5", ["genshin"], 40),
            ("-7", ["genshin"], None),
            ("-1001", ["genshin"], 90_000),
            ("12", ["genshin"], 1),
            ("-6", ["genshin"], 3_000),
            ("-8", ["genshin"], None),
        ],
    )
    await wave(sessions, clock, ["genshin"], DeliveryOrder.REACH)
    assert [chat for chat, _ in await claimed(sessions, clock)] == [
        "-1001",
        "-6",
        "-5",
        "-7",
        "-8",
        "11",
        "12",
    ]


async def test_size_orders_each_round_and_never_goes_before_a_chats_first_message(
    sessions: Sessions, clock: FakeClock
) -> None:
    await subscribe(
        sessions,
        clock,
        [
            ("21", ["genshin"], 1),
            ("-100777", ["genshin", "hsr"], 90_000),
            ("22", ["hsr"], 1),
            ("-9", ["genshin", "hsr"], 30),
        ],
    )
    await wave(sessions, clock, ["genshin", "hsr"], DeliveryOrder.REACH)
    assert await claimed(sessions, clock) == [
        ("-100777", "genshin"),
        ("-9", "genshin"),
        ("21", "genshin"),
        ("22", "hsr"),
        ("-100777", "hsr"),
        ("-9", "hsr"),
    ]


async def test_reminders_of_two_games_are_one_wave(sessions: Sessions, clock: FakeClock) -> None:
    await subscribe(
        sessions,
        clock,
        [("31", ["genshin", "hsr"], 1), ("32", ["hsr"], 1), ("-33", ["hsr"], 500)],
        remind=True,
    )
    await subscribe(sessions, clock, [("34", ["hsr"], 1)])  # asked for no reminders
    async with sessions.begin() as session:
        for game in ("genshin", "hsr"):
            code = await add_code(session, game=game, code=f"{game}SOON1", now=clock())
            code.expires_at = clock() + timedelta(hours=3)
        await session.flush()
        made = await repository.remind_expiring(session, clock(), order=DeliveryOrder.REACH)
    assert sorted(made.values()) == [1, 3]
    assert await claimed(sessions, clock) == [
        ("-33", "hsr"),
        ("31", "genshin"),
        ("32", "hsr"),
        ("31", "hsr"),
    ]


async def test_a_large_wave_is_claimed_exactly_in_the_order_of_the_rule(
    sessions: Sessions, clock: FakeClock
) -> None:
    """Hundreds of chats of mixed sizes and games, against the rule computed here: the
    databases number the rows in the order of the SELECT, whatever plan they choose."""
    rng = random.Random(7)
    games = ["genshin", "hsr", "zzz"]
    chats = [
        (
            str(-(10**12) - i if rng.random() < 0.3 else 10_000 + i),
            rng.sample(games, rng.randint(1, 3)),
            rng.choice([None, 1, 1, 1, rng.randint(2, 100_000)]),
        )
        for i in range(400)
    ]
    async with sessions.begin() as session:
        await session.execute(
            insert(SubscriptionRow),
            [
                {
                    "platform": str(Platform.TELEGRAM),
                    "chat_id": chat,
                    "game": game,
                    "options": {},
                    "active": True,
                    "created_at": clock(),
                    "updated_at": clock(),
                    "audience": size,
                }
                for chat, chat_games, size in chats
                for game in chat_games
            ],
        )
    await wave(sessions, clock, games, DeliveryOrder.REACH)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(SubscriptionRow.id, SubscriptionRow.chat_id, SubscriptionRow.game)
            )
        ).all()
    audience = {chat: size for chat, _, size in chats}
    nth: dict[str, int] = {}
    expected = []
    for sub_id, chat, game in sorted(rows, key=lambda r: (r.chat_id, games.index(r.game))):
        nth[chat] = nth.get(chat, 0) + 1
        size = audience[chat]
        expected.append((nth[chat], -(size if size is not None else 2), sub_id, chat, game))
    assert await claimed(sessions, clock, batch=50) == [
        (chat, game) for *_, chat, game in sorted(expected)
    ]
