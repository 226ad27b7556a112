"""Targets named by a URL end to end: signed webhooks, Apprise to ntfy and e-mail, streaks
that disable a failing target, and the URL never shown."""

from __future__ import annotations

import asyncio
import email
import json
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from bot.app.settings import Settings
from bot.app.status import collect_status, format_status
from bot.core.domain import Platform
from bot.store import repository
from notifiers.addresses import parse_address, subscribe_address
from notifiers.webhook.format import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_matches
from tests.e2e.target_helpers import Sessions, announce, deliver, url_kinds, utc_now
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.webhook_receiver import FakeNtfy, Receiver


async def add(sessions: Sessions, url: str, **extra: Any) -> repository.Target:
    async with sessions.begin() as session:
        return await subscribe_address(
            session,
            parse_address(url),
            ["genshin"],
            origin=repository.ORIGIN_CLI,
            now=utc_now(),
            **extra,
        )


async def test_a_webhook_receiver_verifies_the_signature_of_each_delivery(
    sessions: Sessions,
) -> None:
    async with Receiver() as receiver:
        target = await add(sessions, receiver.url("/codes"))
        assert target.signing_key  # made up when none was given
        receiver.keys["/codes"] = target.signing_key
        async with url_kinds(sessions) as services:
            await announce(sessions)
            stats = await deliver(sessions, services[Platform.WEBHOOK])
        assert stats.sent == 1
        assert receiver.forged == 0
        [received] = receiver.got("/codes")
        assert signature_matches(
            target.signing_key,
            received.headers[TIMESTAMP_HEADER],
            received.body,
            received.headers[SIGNATURE_HEADER],
        )
        assert abs(int(received.headers[TIMESTAMP_HEADER]) - time.time()) < 60
        document = received.json
        assert document["event"] == "codes.new"
        assert document["game"]["id"] == "genshin"
        [code] = document["codes"]
        assert code["code"] == "GENSHINGIFT"
        assert code["rewards"] == "Primogem ×60"
        assert code["redeem_link"].endswith("code=GENSHINGIFT")
        # A body changed on the way no longer matches its signature.
        tampered = received.body.replace(b"GENSHINGIFT", b"GENSHINGIFX")
        assert not signature_matches(
            target.signing_key,
            received.headers[TIMESTAMP_HEADER],
            tampered,
            received.headers[SIGNATURE_HEADER],
        )


async def test_a_receiver_with_another_key_refuses_and_that_message_fails(
    sessions: Sessions,
) -> None:
    async with Receiver() as receiver:
        await add(sessions, receiver.url("/codes"), signing_key="the-key-codecast-has")
        receiver.keys["/codes"] = "another-key"
        async with url_kinds(sessions, max_failures=10) as services:
            await announce(sessions)
            stats = await deliver(sessions, services[Platform.WEBHOOK], attempts=2)
        # A 401 is a refusal of this message, not an outage: not retried, counted.
        assert receiver.forged == 1
        assert stats.failed == 1
        assert stats.sent == 0


async def test_a_webhook_answering_410_ends_its_subscription(sessions: Sessions) -> None:
    async with Receiver() as receiver:
        target = await add(sessions, receiver.url("/gone"))
        receiver.answer("/gone", 410, times=0)
        async with url_kinds(sessions) as services:
            await announce(sessions)
            stats = await deliver(sessions, services[Platform.WEBHOOK])
        assert stats.gone == 1
        async with sessions() as session:
            assert not await repository.chat_subscriptions(session, Platform.WEBHOOK, target.key)
            stored = await repository.get_target(session, target.key)
        assert stored is not None
        assert stored.disabled_reason == "the receiver answered 410 Gone"


async def test_a_discord_webhook_answering_401_ends_its_subscription(sessions: Sessions) -> None:
    async with FakeDiscord() as dc:
        channel = dc.add_channel(dc.add_guild(channels=()).id)
        hook = dc.add_webhook(channel.id)
        url = dc.webhook_url(hook)
        wrong = url[: -len(hook.token)] + "x" * len(hook.token)
        target = await add(sessions, wrong)
        async with url_kinds(sessions) as services:
            await announce(sessions)
            stats = await deliver(sessions, services[Platform.DISCORD_WEBHOOK])
        assert stats.gone == 1
        assert dc.messages(channel.id) == []
        async with sessions() as session:
            assert not await repository.chat_subscriptions(
                session, Platform.DISCORD_WEBHOOK, target.key
            )


async def test_a_discord_webhook_gets_the_embeds_and_link_buttons_without_pings(
    sessions: Sessions,
) -> None:
    async with FakeDiscord() as dc:
        channel = dc.add_channel(dc.add_guild(channels=()).id)
        await add(sessions, dc.webhook_url(dc.add_webhook(channel.id)))
        async with url_kinds(sessions) as services:
            await announce(sessions)
            await deliver(sessions, services[Platform.DISCORD_WEBHOOK])
        [message] = dc.messages(channel.id)
        assert message.kind == "webhook"
        assert "GENSHINGIFT" in json.dumps(message.embeds)
        [row] = message.components
        assert row["components"][0]["url"].endswith("code=GENSHINGIFT")
        assert not message.pinged_everyone
        assert message.pinged_role_ids == []


async def test_apprise_delivers_to_an_ntfy_server(sessions: Sessions) -> None:
    async with FakeNtfy() as ntfy:
        await add(sessions, f"ntfy://127.0.0.1:{ntfy.port}/genshin-codes")
        async with url_kinds(sessions) as services:
            await announce(sessions, expires_in=timedelta(days=3))
            stats = await deliver(sessions, services[Platform.APPRISE])
        assert stats.sent == 1
        [message] = ntfy.messages("genshin-codes")
        assert message["title"] == "New Genshin Impact code"
        assert "GENSHINGIFT" in message["message"]
        assert "Primogem ×60" in message["message"]
        assert "https://genshin.hoyoverse.com/" in message["message"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(email.message_from_bytes(content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


async def test_apprise_delivers_by_email_to_an_smtp_server(sessions: Sessions) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    # Started in its own thread; its start-up check connects to the port, so not port 0.
    await asyncio.to_thread(controller.start)
    try:
        await add(
            sessions,
            f"mailto://127.0.0.1:{port}?from=codecast@example.org&to=players@example.org",
        )
        async with url_kinds(sessions) as services:
            await announce(sessions)
            stats = await deliver(sessions, services[Platform.APPRISE])
        for _ in range(50):
            if inbox.messages:
                break
            await asyncio.sleep(0.05)
    finally:
        await asyncio.to_thread(controller.stop)
    assert stats.sent == 1
    [message] = inbox.messages
    assert inbox.recipients == [["players@example.org"]]
    assert message["Subject"] == "New Genshin Impact code"
    parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
    assert any(b"GENSHINGIFT" in (part or b"") for part in parts)


async def test_a_failing_target_is_disabled_after_its_streak_and_status_says_so(
    sessions: Sessions, db_url: str
) -> None:
    async with Receiver() as receiver:
        # The path, where services keep their tokens, is never shown.
        target = await add(sessions, receiver.url("/in/s3cr3t-token"))
        receiver.answer("/in/s3cr3t-token", 500, times=0)
        async with url_kinds(sessions, max_failures=4) as services:
            for number in range(3):
                await announce(sessions, f"GENSHINCODE{number}")
            stats = await deliver(sessions, services[Platform.WEBHOOK], attempts=3)
        # Sends in flight together may each reach the limit: each then ends the target.
        assert stats.gone >= 1
        assert stats.sent == 0
        tried = receiver.hits["/in/s3cr3t-token"]
        assert tried >= 4
    async with sessions() as session:
        assert not await repository.chat_subscriptions(session, Platform.WEBHOOK, target.key)
    settings = Settings(_env_file=None, CODECAST_DATABASE_URL=db_url)  # type: ignore[call-arg]
    status = await collect_status(settings)
    [shown] = status["targets"]
    assert shown["state"] == "disabled"
    # Every attempt counted, and none made once the target was disabled.
    assert shown["failures"] == tried
    assert shown["last_error"] == "HTTP 500"
    assert shown["ended"] == ["genshin"]
    text = format_status(status) + json.dumps(status, default=str)
    assert "disabled" in text
    assert "s3cr3t" not in text
    assert target.signing_key not in text
    assert target.key not in text


async def test_subscribing_again_takes_a_disabled_target_back(sessions: Sessions) -> None:
    async with Receiver() as receiver:
        url = receiver.url("/back")
        target = await add(sessions, url)
        async with sessions.begin() as session:
            await repository.disable_target(
                session, target.key, reason="the receiver answered 410 Gone", now=utc_now()
            )
            await repository.deactivate_chat(
                session, Platform.WEBHOOK, target.key, reason="gone", now=utc_now()
            )
        again = await add(sessions, url)
        assert again.key == target.key
        assert again.disabled_at is None
        assert again.signing_key == target.signing_key  # the receiver's key still works
        async with sessions() as session:
            assert await repository.chat_subscriptions(session, Platform.WEBHOOK, target.key)


@pytest.mark.parametrize(
    ("url", "kind", "label"),
    [
        (
            "https://discord.com/api/webhooks/123456789012345678/" + "T" * 68,
            Platform.DISCORD_WEBHOOK,
            "discord.com webhook 123456789012345678",
        ),
        (
            "https://hooks.example.org/in/s3cr3t-path",
            Platform.WEBHOOK,
            "https://hooks.example.org/…",
        ),
        ("ntfy://reader:hunter2pass@ntfy.example.org/codes", Platform.APPRISE, None),
    ],
)
def test_a_url_names_its_kind_and_its_label_hides_the_secret(
    url: str, kind: Platform, label: str | None
) -> None:
    address = parse_address(url)
    assert address.platform is kind
    if label is not None:
        assert address.label == label
    assert "s3cr3t" not in address.label
    assert "T" * 20 not in address.label
    assert "hunter2pass" not in address.label
