"""An announcement as the JSON a webhook receives, and the signature that proves it is ours.

Pure: plain data in, bytes and header values out. Each code has the fields of a code in the
site's codes.json (the JSON API), so one parser reads both.

    {"version": 1, "event": "codes.new" | "codes.expiring", "delivery": 123,
     "announcement": 45, "sent_at": "2026-12-05T21:00:00Z",
     "game": {"id", "name", "redeem_url" (with {code}, or null), "note" (or null)},
     "codes": [{"code", "status", "rewards", "items": [{"name", "amount", "icon_url"}],
                "first_seen", "last_seen", "expires_at" (or null), "sources",
                "redeem_link" (or null), "verification", "verified_at" (or null)}]}

The signature: `X-Codecast-Signature: sha256=<hex>`, the HMAC-SHA256 with the target's key
of `<X-Codecast-Timestamp>.` followed by the body's bytes. A receiver recomputes it, compares
in constant time, and refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from bot.core.domain import Announcement, AnnouncementKind, CodeView, Game

VERSION = 1
EVENTS = {AnnouncementKind.NEW: "codes.new", AnnouncementKind.REMINDER: "codes.expiring"}

SIGNATURE_HEADER = "X-Codecast-Signature"
TIMESTAMP_HEADER = "X-Codecast-Timestamp"
EVENT_HEADER = "X-Codecast-Event"
# The delivery's id: the same on every retry, so a receiver can drop a repeat.
DELIVERY_HEADER = "X-Codecast-Delivery"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second, as in codes.json ("2024-05-01T12:34:56Z")."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat()[:19] + "Z"


def code_json(code: CodeView, game: Game) -> dict[str, Any]:
    return {
        "code": code.code,
        "status": str(code.status),
        "rewards": code.rewards,
        "items": [
            {"name": i.name, "amount": i.amount, "icon_url": i.icon_url} for i in code.items
        ],
        "first_seen": iso(code.first_seen),
        "last_seen": iso(code.last_seen.replace(minute=0, second=0, microsecond=0)),
        "expires_at": iso(code.expires_at),
        "sources": list(code.sources),
        "redeem_link": game.redeem_link(code.code),
        "verification": str(code.verification),
        "verified_at": iso(code.verified_at),
    }


def webhook_body(
    announcement: Announcement, game: Game, *, delivery_id: int, sent_at: datetime
) -> bytes:
    document = {
        "version": VERSION,
        "event": EVENTS[announcement.kind],
        "delivery": delivery_id,
        "announcement": announcement.id,
        "sent_at": iso(sent_at),
        "game": {
            "id": game.id,
            "name": game.name,
            "redeem_url": game.redeem_url,
            "note": game.note,
        },
        "codes": [code_json(c, game) for c in announcement.codes],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature(key: str, timestamp: int, body: bytes) -> str:
    """The value of X-Codecast-Signature for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signature_matches(key: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(key, int(timestamp), body), given)
