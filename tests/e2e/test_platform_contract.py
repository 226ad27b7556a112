"""The delivery contract every registered target kind keeps, run through one harness.

Each kind is built the way the daemon builds it (through notifiers/registry.py, from
settings pointing at its fake server or receiver) and goes through the same cases: an
announcement is sent, a 429 is waited out and the message still arrives once, a chat that
is gone ends its subscription, and a sent announcement is edited when its code expires —
by the kinds that say they can edit (a JSON POST or an Apprise notification cannot).
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
from tests.fakes.webhook_receiver import FakeNtfy, Receiver

Sessions = async_sessionmaker[AsyncSession]
CATALOG = load_catalog()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Harness(Protocol):
    """One platform's fake server, as the contract needs it."""

    def settings(self) -> dict[str, str]:
        """The environment an operator would set to point codecast at the fake."""
        ...

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
        """A chat codecast may post in: its id and the platform's subscription fields (a
        target named by a URL is saved in `session` first)."""
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

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
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

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
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


async def save_target(session: AsyncSession, platform: Platform, url: str, **extra: Any) -> str:
    target = await repository.save_target(
        session,
        platform,
        url,
        label=platform,
        origin=repository.ORIGIN_CLI,
        now=utc_now(),
        **extra,
    )
    return target.key


@dataclass
class DiscordWebhookHarness:
    fake: FakeDiscord
    guild_id: int = 0
    # target key -> (channel id, webhook id)
    hooks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.guild_id = self.fake.add_guild(channels=()).id

    def settings(self) -> dict[str, str]:
        return {}  # no bot: the URL is all a webhook needs

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
        channel = self.fake.add_channel(self.guild_id)
        hook = self.fake.add_webhook(channel.id)
        key = await save_target(session, Platform.DISCORD_WEBHOOK, self.fake.webhook_url(hook))
        self.hooks[key] = (channel.id, hook.id)
        return key, {"space_id": str(self.guild_id)}

    def texts(self, chat_id: str) -> list[str]:
        channel_id, _ = self.hooks[chat_id]
        return [
            json.dumps([m.payload.get("content"), m.payload.get("embeds")], ensure_ascii=False)
            for m in self.fake.messages(channel_id)
        ]

    def throttle_next_send(self) -> None:
        self.fake.fail_next("POST /webhooks/*", 429, retry_after=0.3)

    async def make_gone(self, chat_id: str) -> None:
        self.fake.delete_webhook(self.hooks[chat_id][1])


@dataclass
class WebhookHarness:
    receiver: Receiver
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    paths: dict[str, str] = field(default_factory=dict)

    def settings(self) -> dict[str, str]:
        return {}

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
        number = next(self.ids)
        path, key = f"/hooks/{number}", f"signing-key-{number}"
        # The receiver checks every signature: an unsigned or forged POST is refused.
        self.receiver.keys[path] = key
        url = self.receiver.url(path)
        chat = await save_target(session, Platform.WEBHOOK, url, signing_key=key)
        self.paths[chat] = path
        return chat, {}

    def texts(self, chat_id: str) -> list[str]:
        return [r.body.decode() for r in self.receiver.got(self.paths[chat_id])]

    def throttle_next_send(self) -> None:
        for path in self.paths.values():
            self.receiver.answer(path, 429, headers={"Retry-After": "1"})

    async def make_gone(self, chat_id: str) -> None:
        self.receiver.answer(self.paths[chat_id], 410, times=0)


@dataclass
class AppriseHarness:
    ntfy: FakeNtfy
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    topics: dict[str, str] = field(default_factory=dict)

    def settings(self) -> dict[str, str]:
        return {}

    async def new_chat(self, session: AsyncSession) -> tuple[str, dict[str, Any]]:
        topic = f"codes-{next(self.ids)}"
        url = f"ntfy://127.0.0.1:{self.ntfy.port}/{topic}"
        chat = await save_target(session, Platform.APPRISE, url)
        self.topics[chat] = topic
        return chat, {}

    def texts(self, chat_id: str) -> list[str]:
        return [
            f"{m.get('title', '')}\n{m.get('message', '')}"
            for m in self.ntfy.messages(self.topics[chat_id])
        ]

    def throttle_next_send(self) -> None:
        for topic in self.topics.values():
            self.ntfy.answer(topic, 429)

    async def make_gone(self, chat_id: str) -> None:
        # Apprise cannot say "gone": a service refusing every time is disabled after its
        # streak (CONTRACT_MAX_FAILURES), which ends its subscriptions the same way.
        self.ntfy.answer(self.topics[chat_id], 404, times=0)


@contextlib.asynccontextmanager
async def harness_for(platform: Platform) -> AsyncIterator[Harness]:
    match platform:
        case Platform.TELEGRAM:
            async with FakeTelegram() as tg:
                yield TelegramHarness(tg)
        case Platform.DISCORD:
            async with FakeDiscord() as dc:
                yield DiscordHarness(dc)
        case Platform.DISCORD_WEBHOOK:
            async with FakeDiscord() as dc:
                yield DiscordWebhookHarness(dc)
        case Platform.WEBHOOK:
            async with Receiver() as receiver:
                yield WebhookHarness(receiver)
        case Platform.APPRISE:
            async with FakeNtfy() as ntfy:
                yield AppriseHarness(ntfy)


# Whether each kind's messages can be edited in place; the edit case holds those that can.
CAN_EDIT = {
    Platform.TELEGRAM: True,
    Platform.DISCORD: True,
    Platform.DISCORD_WEBHOOK: True,
    Platform.WEBHOOK: False,
    Platform.APPRISE: False,
}
# The contract's failure streak before a target named by a URL is disabled: fewer than the
# worker's attempts, so one undeliverable announcement disables it. (Two, not more: Apprise
# keeps 5.5 s between two requests to one service, failed or not.)
CONTRACT_MAX_FAILURES = 2


@dataclass
class Contract:
    kind: PlatformKind
    harness: Harness
    service: ChatService
    sessions: Sessions
    clock: Callable[[], datetime]

    async def subscribe(self) -> str:
        async with self.sessions.begin() as session:
            chat_id, fields = await self.harness.new_chat(session)
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
        parts = PlatformParts(
            CATALOG,
            sessions,
            utc_now,
            expiry_check=3600.0,
            target_max_failures=CONTRACT_MAX_FAILURES,
        )
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


def test_every_kind_says_whether_it_can_edit(contract: Contract) -> None:
    assert contract.service.can_edit is CAN_EDIT[contract.kind.platform]
    # A kind that can edit brings its expiry editor; one that cannot has none.
    assert (contract.service.expiry is not None) is contract.service.can_edit


async def test_a_sent_announcement_is_edited_when_its_code_expires(contract: Contract) -> None:
    if not contract.service.can_edit:
        pytest.skip(f"{contract.kind.platform} cannot edit a message once sent")
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
