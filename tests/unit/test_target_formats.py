"""The targets named by a URL, pure parts: their message formats, signatures and answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import Announcement, AnnouncementKind, CodeStatus, CodeView
from notifiers.apprise.format import escape, notification
from notifiers.delivery import Failed, Gone, RateLimited, Retry, Sent
from notifiers.discord_webhook.sender import classify_answer as discord_answer
from notifiers.webhook.format import signature, signature_matches, webhook_body
from notifiers.webhook.sender import classify_answer as webhook_answer

CATALOG = load_catalog()
GENSHIN = CATALOG.games["genshin"]
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def view(code: str, rewards: str = "Primogem ×60", **extra: object) -> CodeView:
    values: dict[str, object] = {
        "game": "genshin",
        "code": code,
        "status": CodeStatus.ACTIVE,
        "rewards": rewards,
        "items": (),
        "first_seen": NOW,
        "last_seen": NOW,
        "expires_at": None,
        "sources": ("hoyolab",),
        **extra,
    }
    return CodeView(**values)  # type: ignore[arg-type]


def announcement(*codes: CodeView, kind: AnnouncementKind = AnnouncementKind.NEW) -> Announcement:
    return Announcement(7, "genshin", NOW, codes, kind)


def test_a_reminder_is_a_codes_expiring_event_with_each_expiry() -> None:
    soon = view("SOONGONE1", expires_at=NOW + timedelta(hours=5))
    document = json.loads(
        webhook_body(
            announcement(soon, kind=AnnouncementKind.REMINDER),
            GENSHIN,
            delivery_id=3,
            sent_at=NOW,
        )
    )
    assert document["event"] == "codes.expiring"
    assert document["delivery"] == 3
    [code] = document["codes"]
    assert code["expires_at"] == "2026-12-05T17:00:00Z"
    assert code["redeem_link"] == "https://genshin.hoyoverse.com/en/gift?code=SOONGONE1"


def test_a_signature_covers_the_timestamp_and_every_byte() -> None:
    body = b'{"event":"codes.new"}'
    signed = signature("k", 1_700_000_000, body)
    assert signed.startswith("sha256=")
    assert signature_matches("k", "1700000000", body, signed)
    assert not signature_matches("k", "1700000001", body, signed)
    assert not signature_matches("other", "1700000000", body, signed)
    assert not signature_matches("k", "1700000000", body + b" ", signed)
    assert not signature_matches("k", "not a time", body, signed)


def test_apprise_text_from_the_web_cannot_become_markdown() -> None:
    hostile = view("SAFE1234", "**free** [click](https://evil.example) # heading")
    message = notification(announcement(hostile), GENSHIN)
    assert "**free**" not in message.body
    assert "[click](" not in message.body
    assert r"\*\*free\*\*" in message.body
    assert escape("a_b") == r"a\_b"


def test_apprise_titles_say_new_or_expiring() -> None:
    assert notification(announcement(view("A1B2C3D4")), GENSHIN).title == (
        "New Genshin Impact code"
    )
    reminder = announcement(view("A1B2C3D4"), view("E5F6G7H8"), kind=AnnouncementKind.REMINDER)
    assert notification(reminder, GENSHIN).title == ("Genshin Impact: 2 codes expire within a day")


def answer(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "headers", "outcome"),
    [
        (200, None, Sent(None)),
        (204, None, Sent(None)),
        (410, None, Gone("the receiver answered 410 Gone")),
        (429, {"Retry-After": "7"}, RateLimited(7.0, scope="chat")),
        (503, None, Retry("HTTP 503")),
        (408, None, Retry("HTTP 408")),
        (404, None, Failed("HTTP 404")),
        (301, None, Failed("HTTP 301: redirects are not followed")),
    ],
)
def test_a_webhook_answer_means_one_outcome(
    status: int, headers: dict[str, str] | None, outcome: object
) -> None:
    assert webhook_answer(answer(status, headers=headers)) == outcome


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"id": "123"}, Sent("123")),
        (404, {"code": 10015, "message": "Unknown Webhook"}, Gone("unknown webhook (deleted)")),
        (401, {"code": 50027, "message": "Invalid Webhook Token"}, Gone("invalid webhook token")),
        (429, {"retry_after": 1.5, "global": False}, RateLimited(1.5, scope="chat")),
        (429, {"retry_after": 9, "global": True}, RateLimited(9.0, scope="global")),
        (502, None, Retry("Discord 502")),
        (
            400,
            {"code": 50035, "message": "Invalid Form Body"},
            Failed("400 (code 50035): Invalid Form Body"),
        ),
    ],
)
def test_a_discord_webhook_answer_means_one_outcome(
    status: int, body: object, outcome: object
) -> None:
    assert discord_answer(answer(status, body)) == outcome
