"""Running codecast's real Telegram bot against the fake Bot API, and talking to it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.settings import Settings
from bot.core.catalog import Catalog, load_catalog
from bot.core.domain import DeliveryOrder, Platform
from bot.store import repository
from bot.store.models import CodeRow, DeliveryRow, SubscriptionRow
from notifiers.delivery import DeliveryWorker, RetryPolicy
from notifiers.telegram.limits import TelegramLimits
from notifiers.telegram.service import TelegramService
from notifiers.telegram.updates import FloodRule
from notifiers.telegram.wiring import build_service
from tests.fakes.telegram_api import CallbackAnswer, FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.seed import add_code

CATALOG = load_catalog()
# Tests run Telegram's limits ten times faster, on the fake and in the sender alike.
SPEED_UP = 10.0
TEST_LIMITS = TelegramLimits().scaled(SPEED_UP)


def utc_now() -> datetime:
    return datetime.now(UTC)


def telegram_settings(tg: FakeTelegram, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": tg.token,
        "telegram_api_url": tg.base_url,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running_bot(
    tg: FakeTelegram,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime] = utc_now,
    limits: TelegramLimits | None = None,
    commands: bool = True,
    catalog: Catalog = CATALOG,
    expiry_check: float = 60.0,
    flood: FloodRule | None = None,
    **settings: Any,
) -> AsyncIterator[TelegramService]:
    """codecast's Telegram service as the composition root builds it, started and stopped."""
    service = build_service(
        telegram_settings(tg, **settings),
        catalog,
        sessions,
        clock,
        limits=limits or TEST_LIMITS,
        expiry_check=expiry_check,
        flood=flood,
    )
    await service.start(commands=commands)
    try:
        yield service
    finally:
        await service.stop()


def worker(
    sessions: async_sessionmaker[AsyncSession], service: TelegramService, **options: Any
) -> DeliveryWorker:
    options.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=0.5))
    return DeliveryWorker(sessions, service.sender, clock=utc_now, **options)


async def ask(
    tg: FakeTelegram,
    chat: FakeChat,
    user: FakeUser | int | None,
    text: str,
    *,
    answers: int = 1,
) -> list[SentMessage]:
    """Send a command (a channel post when `user` is None); wait for the bot's answers."""
    before = len(tg.sent_messages(chat.id))
    if user is None:
        tg.channel_post(chat, text)
    else:
        tg.send_command(chat, user, text)
    await tg.wait_for(lambda: len(tg.sent_messages(chat.id)) >= before + answers)
    return tg.sent_messages(chat.id)[before:]


async def ask_one(tg: FakeTelegram, chat: FakeChat, user: FakeUser | int | None, text: str) -> str:
    """The visible text of the bot's one answer."""
    [answer] = await ask(tg, chat, user, text)
    return answer.plain_text


async def press(
    tg: FakeTelegram,
    chat: FakeChat,
    user: FakeUser | int,
    message: SentMessage,
    text: str,
    *,
    edits: bool = True,
) -> tuple[CallbackAnswer, SentMessage]:
    """Tap the button labelled `text` under `message`: the bot's answer and the message now.

    With `edits`, also wait for the bot to edit the message (it answers the tap first).
    """
    current = tg.message(chat.id, message.message_id) or message
    [data] = [b["callback_data"] for b in current.buttons if b["text"] == text]
    answers, edited = len(tg.callback_answers), len(tg.edits)
    tg.press_button(chat, user, message.message_id, data)
    await tg.wait_for(lambda: len(tg.callback_answers) > answers)
    if edits:
        await tg.wait_for(lambda: len(tg.edits) > edited)
    after = tg.message(chat.id, message.message_id)
    assert after is not None
    return tg.callback_answers[answers], after


async def quiet(tg: FakeTelegram, chat: FakeChat, seconds: float = 0.3) -> None:
    """Wait a moment and check the bot said nothing more in `chat` meanwhile."""
    before = len(tg.sent_messages(chat.id))
    with contextlib.suppress(TimeoutError):
        await tg.wait_for(lambda: len(tg.sent_messages(chat.id)) > before, within=seconds)
    assert len(tg.sent_messages(chat.id)) == before, tg.sent_messages(chat.id)[before:]


async def eventually(
    probe: Callable[[], Awaitable[object]], expected: object, within: float = 5.0
) -> None:
    """Wait until `await probe()` equals `expected` (the bot works on its own schedule)."""
    deadline = time.monotonic() + within
    while (found := await probe()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"still {found!r}, expected {expected!r}")
        await asyncio.sleep(0.02)


async def subscribed(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> list[str]:
    async with sessions() as session:
        found = await repository.chat_subscriptions(session, Platform.TELEGRAM, str(chat_id))
    return [s.game for s in found]


async def subscribe(
    sessions: async_sessionmaker[AsyncSession],
    chats: Sequence[int],
    game: str = "genshin",
    *,
    now: datetime | None = None,
    audience: int | None = None,
) -> None:
    async with sessions.begin() as session:
        for chat in chats:
            await repository.subscribe(
                session,
                Platform.TELEGRAM,
                str(chat),
                game,
                now=now or utc_now(),
                audience=audience,
            )


async def subscribe_many(
    sessions: async_sessionmaker[AsyncSession], chats: Sequence[int], game: str = "genshin"
) -> None:
    """Many subscriptions in one statement (repository.subscribe goes row by row)."""
    now = utc_now()
    rows = [
        {
            "platform": str(Platform.TELEGRAM),
            "chat_id": str(chat),
            "game": game,
            "options": {},
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for chat in chats
    ]
    async with sessions.begin() as session:
        await session.execute(insert(SubscriptionRow), rows)


async def add_codes(
    sessions: async_sessionmaker[AsyncSession],
    codes: Sequence[tuple[str, str]],
    game: str = "genshin",
    *,
    announce: bool = True,
) -> int | None:
    """Store announced codes `(code, rewards)`; with `announce`, queue their announcement."""
    now = utc_now()
    async with sessions.begin() as session:
        rows = [
            CodeRow(
                game=game,
                code=code,
                code_key=code.upper(),
                rewards=rewards,
                items=[],
                status="active",
                first_seen=now,
                last_seen=now,
                announced_at=now,
            )
            for code, rewards in codes
        ]
        session.add_all(rows)
        await session.flush()
        if not announce:
            return None
        announcement_id, _ = await repository.create_announcement(
            session, game, [r.id for r in rows], now
        )
    return announcement_id


async def add_wave(
    sessions: async_sessionmaker[AsyncSession],
    codes: Mapping[str, Sequence[tuple[str, str]]],
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> dict[int, int]:
    """Store announced codes of several games (game -> `(code, rewards)`) and queue them as
    one wave, as a scrape cycle that finds them together does."""
    now = utc_now()
    async with sessions.begin() as session:
        ids: dict[str, list[int]] = {}
        for game, listed in codes.items():
            for code, rewards in listed:
                row = await add_code(session, game=game, code=code, now=now, rewards=rewards)
                ids.setdefault(game, []).append(row.id)
        return await repository.create_wave(session, ids, now, order=order)


async def deliveries(
    sessions: async_sessionmaker[AsyncSession],
) -> dict[str, tuple[str, str | None, str | None]]:
    """chat id → (state, message id, last error) of its (one) delivery row."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    SubscriptionRow.chat_id,
                    DeliveryRow.state,
                    DeliveryRow.message_id,
                    DeliveryRow.last_error,
                ).join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            )
        ).all()
    return {chat: (str(state), message_id, error) for chat, state, message_id, error in rows}


async def active_chats(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(SubscriptionRow.chat_id).where(SubscriptionRow.active.is_(True))
        )
        return set(rows.all())
