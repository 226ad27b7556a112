"""The delivery contract every registered platform keeps, run through one harness.

Each platform is built the way the daemon builds it (through notifiers/registry.py, from
settings pointing at its fake server) and goes through the same cases: an announcement is
sent, a 429 is waited out and the message still arrives once, a chat that is gone ends its
subscription, and a sent announcement is edited when its code expires.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.settings import Settings
from bot.core.catalog import load_catalog
from bot.core.domain import Platform
from bot.store import repository
from bot.store.models import CodeRow, DeliveryRow, DeliveryState, SubscriptionRow
from notifiers.delivery import DeliveryWorker, RetryPolicy
from notifiers.registry import PLATFORMS, PlatformKind, PlatformParts
from notifiers.service import ChatService
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram

Sessions = async_sessionmaker[AsyncSession]
CATALOG = load_catalog()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Harness(Protocol):
    """One platform's fake server, as the contract needs it."""

    def settings(self) -> dict[str, str]:
        """The environment an operator would set to point codecast at the fake."""
        ...

    def new_chat(self) -> tuple[str, dict[str, Any]]:
        """A chat codecast may post in: its id and the platform's subscription fields."""
        ...

    def texts(self, chat_id: str) -> list[str]:
        """What each message in the chat shows now (after edits), in order."""
        ...

    def throttle_next_send(self) -> None:
        """The next send is answered 429 with a short retry_after."""
        ...

    async def make_gone(self, chat_id: str) -> None:
        """The chat can no longer be posted to (blocked, deleted)."""
        ...


@dataclass
class TelegramHarness:
    fake: FakeTelegram
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(70_001))

    def settings(self) -> dict[str, str]:
        return {"TELEGRAM_TOKEN": self.fake.token, "CODECAST_TELEGRAM_API_URL": self.fake.base_url}

    def new_chat(self) -> tuple[str, dict[str, Any]]:
        return str(next(self.ids)), {}

    def texts(self, chat_id: str) -> list[str]:
        shown = []
        for sent in self.fake.sent_messages(int(chat_id)):
            now = self.fake.message(sent.chat_id, sent.message_id) or sent
            shown.append(now.plain_text)
        return shown

    def throttle_next_send(self) -> None:
        self.fake.fail_next("sendMessage", 429, retry_after=1)

    async def make_gone(self, chat_id: str) -> None:
        self.fake.block(int(chat_id))


@dataclass
class DiscordHarness:
    fake: FakeDiscord
    guild_id: int = 0

    def __post_init__(self) -> None:
        self.guild_id = self.fake.add_guild(channels=()).id

    def settings(self) -> dict[str, str]:
        return {"DISCORD_TOKEN": self.fake.token, "CODECAST_DISCORD_API_URL": self.fake.api_url}

    def new_chat(self) -> tuple[str, dict[str, Any]]:
        return str(self.fake.add_channel(self.guild_id).id), {"space_id": str(self.guild_id)}

    def texts(self, chat_id: str) -> list[str]:
        return [
            json.dumps([m.payload.get("content"), m.payload.get("embeds")], ensure_ascii=False)
            for m in self.fake.messages(int(chat_id))
        ]

    def throttle_next_send(self) -> None:
        self.fake.fail_next("POST /channels/*/messages", 429, retry_after=0.3)

    async def make_gone(self, chat_id: str) -> None:
        await self.fake.delete_channel(int(chat_id))


@contextlib.asynccontextmanager
async def harness_for(platform: Platform) -> AsyncIterator[Harness]:
    if platform is Platform.TELEGRAM:
        async with FakeTelegram() as tg:
            yield TelegramHarness(tg)
    else:
        async with FakeDiscord() as dc:
            yield DiscordHarness(dc)


@dataclass
class Contract:
    kind: PlatformKind
    harness: Harness
    service: ChatService
    sessions: Sessions
    clock: Callable[[], datetime]

    async def subscribe(self) -> str:
        chat_id, fields = self.harness.new_chat()
        async with self.sessions.begin() as session:
            await repository.subscribe(
                session, self.kind.platform, chat_id, "genshin", now=self.clock(), **fields
            )
        return chat_id

    async def announce(self, code: str) -> int:
        async with self.sessions.begin() as session:
            row = CodeRow(
                game="genshin",
                code=code,
                code_key=code.upper(),
                rewards="Primogem ×60",
                items=[],
                status="active",
                first_seen=self.clock(),
                last_seen=self.clock(),
                announced_at=self.clock(),
            )
            session.add(row)
            await session.flush()
            await repository.create_announcement(session, "genshin", [row.id], self.clock())
            return row.id

    async def deliver(self) -> None:
        worker = DeliveryWorker(
            self.sessions,
            self.service.sender,
            clock=self.clock,
            retry=RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=0.5),
        )
        await worker.drain()

    async def states(self) -> dict[str, str]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(SubscriptionRow.chat_id, DeliveryRow.state).join(
                    SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id
                )
            )
            return {chat: str(state) for chat, state in rows.all()}

    async def active(self, chat_id: str) -> bool:
        async with self.sessions() as session:
            found = await repository.chat_subscriptions(session, self.kind.platform, chat_id)
        return bool(found)


@pytest.fixture(params=[pytest.param(kind, id=str(kind.platform)) for kind in PLATFORMS])
async def contract(request: pytest.FixtureRequest, sessions: Sessions) -> AsyncIterator[Contract]:
    kind: PlatformKind = request.param
    async with harness_for(kind.platform) as harness:
        settings = Settings(_env_file=None, **harness.settings())  # type: ignore[arg-type]
        assert kind.off(settings) is None
        parts = PlatformParts(CATALOG, sessions, utc_now, expiry_check=3600.0)
        service = kind.service(settings, parts)
        await service.start(commands=False)
        try:
            yield Contract(kind, harness, service, sessions, utc_now)
        finally:
            await service.stop()


async def test_an_announcement_is_sent_once_with_its_code(contract: Contract) -> None:
    chat = await contract.subscribe()
    await contract.announce("GENSHINGIFT")
    await contract.deliver()
    [text] = contract.harness.texts(chat)
    assert "GENSHINGIFT" in text
    assert "Primogem ×60" in text
    assert await contract.states() == {chat: str(DeliveryState.SENT)}


async def test_a_429_is_waited_out_and_the_message_arrives_once(contract: Contract) -> None:
    chat = await contract.subscribe()
    await contract.announce("GENSHINGIFT")
    contract.harness.throttle_next_send()
    await contract.deliver()
    assert len(contract.harness.texts(chat)) == 1
    assert await contract.states() == {chat: str(DeliveryState.SENT)}


async def test_a_chat_that_is_gone_ends_its_subscription_not_the_others(
    contract: Contract,
) -> None:
    gone, kept = await contract.subscribe(), await contract.subscribe()
    await contract.harness.make_gone(gone)
    await contract.announce("GENSHINGIFT")
    await contract.deliver()
    assert not await contract.active(gone)
    assert await contract.active(kept)
    assert len(contract.harness.texts(kept)) == 1


async def test_a_sent_announcement_is_edited_when_its_code_expires(contract: Contract) -> None:
    chat = await contract.subscribe()
    code_id = await contract.announce("GENSHINGIFT")
    await contract.deliver()
    [before] = contract.harness.texts(chat)
    assert "expired" not in before.lower()
    async with contract.sessions.begin() as session:
        await session.execute(
            update(CodeRow)
            .where(CodeRow.id == code_id)
            .values(status="expired", expired_at=contract.clock())
        )
    expiry = contract.service.expiry
    assert expiry is not None
    assert await expiry.check() == 1
    [after] = contract.harness.texts(chat)
    assert "GENSHINGIFT" in after
    assert "expired" in after.lower()
