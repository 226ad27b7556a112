"""`codecast status` as text: what a person reads, with no Python None in it."""

from __future__ import annotations

from typing import Any

from bot.app.status import format_status


def status(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "checked_at": "2026-11-01T12:00:00+00:00",
        "sources": [
            {
                "id": "hoyolab-genshin",
                "game": "genshin",
                "kind": "hoyolab",
                "last_success": None,
                "last_attempt": None,
                "consecutive_failures": 0,
                "last_count": None,
                "last_error": None,
                "probably_broken": False,
                "polls": 0,
                "requests": 0,
                "bytes_received": 0,
                "last_poll_bytes": None,
                "counted_since": None,
                "requests_per_hour": None,
                "bytes_per_poll": None,
            }
        ],
        "queue": [],
        "oldest_pending_age_seconds": None,
        "subscriptions": [],
        "verification": {
            "on": True,
            "accounts": [
                {
                    "name": "main",
                    "games": [],
                    "state": "ok",
                    "out_reason": None,
                    "last_answer": None,
                    "last_answer_at": None,
                    "checks": 0,
                }
            ],
            "notes": [],
            "queue_length": 0,
            "queue_due": 0,
            "oldest_due_age_seconds": None,
        },
    }
    base.update(overrides)
    return base


def test_a_source_never_read_shows_no_none() -> None:
    text = format_status(status())
    assert "None" not in text
    assert "last success never" in text
    assert "codes -" in text


def test_a_source_read_shows_its_count() -> None:
    read = status()
    read["sources"][0].update(last_success="2026-11-01T11:00:00+00:00", last_count=7)
    text = format_status(read)
    assert "codes 7" in text
    assert "None" not in text


def test_a_polled_source_shows_what_polling_it_costs() -> None:
    polled = status()
    polled["sources"][0].update(
        polls=120, requests=121, bytes_received=61_000, last_poll_bytes=480,
        requests_per_hour=60.5, bytes_per_poll=508,
    )  # fmt: skip
    text = format_status(polled)
    assert "120 polls, 121 requests (60.5/h), 61000 bytes (508 per poll, last 480)" in text
    assert "None" not in text
