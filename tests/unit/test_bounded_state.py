"""State kept per chat, channel or request stays bounded once they go idle (soak: the daemon's
memory must not grow with the number of chats it has ever seen)."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.app.settings import Settings
from notifiers.limits import AnsweredWindow, KeyedLimiter, Rate
from notifiers.telegram.limits import SendLimits, TelegramLimits
from notifiers.telegram.transport import AiohttpRequest
from notifiers.telegram.wiring import build_application
from tests.fakes.telegram_api import FakeTelegram


async def test_a_keyed_limiter_forgets_100_000_idle_chats() -> None:
    limiters = KeyedLimiter(Rate(1, 0.05))
    for chat in range(100_000):
        await limiters.limiter(str(chat)).acquire()
    await asyncio.sleep(0.06)  # every bucket has drained
    await limiters.limiter("one more").acquire()
    assert len(limiters) == 1


async def test_a_keyed_limiter_keeps_a_chat_whose_bucket_still_drains() -> None:
    limiters = KeyedLimiter(Rate(1, 10.0))
    busy = limiters.limiter("busy")
    await busy.acquire()
    limiters.limiter("another")
    assert len(limiters) == 2
    assert limiters.limiter("busy") is busy  # its next send still waits for its turn
    assert not busy.has_capacity()


async def test_a_keyed_limiter_keeps_a_chat_handed_out_but_not_yet_acquired() -> None:
    limiters = KeyedLimiter(Rate(1, 10.0))
    first = limiters.limiter("chat")  # its caller takes its turn a moment later
    limiters.limiter("another")
    await first.acquire()
    assert limiters.limiter("chat") is first
    assert not first.has_capacity()


async def test_answered_slots_of_a_window_hold_next_to_nothing() -> None:
    """A window keeps as many slots as its limit counts (1,000 a second when paying for
    broadcasts); once answered, a slot is a time stamp, not an Event each."""
    window = AnsweredWindow(1000, 0.001)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5000):
            async with window.slot():
                pass
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert window.occupied() <= 1000
    assert held < 150_000, f"{held} bytes for 1,000 answered slots"


async def test_a_waiter_on_a_slot_in_flight_is_still_woken_when_it_is_answered() -> None:
    window = AnsweredWindow(1, 0.001)
    first = await window.acquire()
    waiter = asyncio.create_task(window.acquire())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    first.answered()
    second = await asyncio.wait_for(waiter, 1.0)
    second.answered()


def update_from(chat_id: int, update_id: int) -> Update:
    user = User(chat_id, f"Player {chat_id}", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="hello")
    return Update(update_id, message=message)


async def test_the_telegram_application_remembers_no_chat_that_wrote_to_it() -> None:
    """Without a persistence, PTB's Application would note every chat and user an update
    came from, for a persistence run that never comes (a set growing with every chat)."""
    async with FakeTelegram() as tg:
        settings = Settings(TELEGRAM_TOKEN=tg.token, CODECAST_TELEGRAM_API_URL=tg.base_url)
        limits = SendLimits(TelegramLimits())
        application = build_application(settings, AiohttpRequest(), None, limits)
        handled = 0

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            nonlocal handled
            handled += 1

        application.add_handler(MessageHandler(filters.ALL, handle))
        async with application:
            for n in range(10_000):
                await application.process_update(update_from(1_000_000 + n, n))
    assert handled == 10_000
    assert not application._chat_ids_to_be_updated_in_persistence
    assert not application._user_ids_to_be_updated_in_persistence
