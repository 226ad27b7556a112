"""`codecast status`: source health, the delivery queue and subscriptions, for people and tools."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app.fanout import collect_fan_outs, collect_paid, fan_out_lines, paid_per_announcement
from bot.app.settings import Settings
from bot.app.targets import target_lines, target_status
from bot.core.domain import SourceHealth
from bot.store import database, outbox, repository, verify_queue


async def collect_status(settings: Settings) -> dict[str, Any]:
    engine = database.create_engine(settings.database_url)
    sessions = database.session_factory(engine)
    try:
        async with sessions() as session:
            sources = await repository.source_health(session)
            queue = await outbox.queue_depth(session)
            subscriptions = await repository.count_subscriptions(session)
            now = datetime.now(UTC)
            accounts = await verify_queue.account_statuses(session)
            verify = await verify_queue.queue_stats(session, now)
            targets = await repository.target_statuses(session)
            fan_outs = await collect_fan_outs(session, now)
            paid = await collect_paid(session, settings, now)
            spent = await paid_per_announcement(session, [f["announcement_id"] for f in fan_outs])
    finally:
        await engine.dispose()
    pending = [q for q in queue if q.state == "pending" and q.oldest is not None]
    oldest = min((q.oldest for q in pending if q.oldest), default=None)
    return {
        "checked_at": now.isoformat(),
        "sources": [
            {
                "id": s.id,
                "game": s.game,
                "kind": s.kind,
                "last_success": s.last_success.isoformat() if s.last_success else None,
                "last_attempt": s.last_attempt.isoformat() if s.last_attempt else None,
                "consecutive_failures": s.consecutive_failures,
                "last_count": s.last_count,
                "last_error": s.last_error,
                "probably_broken": s.probably_broken,
                **_traffic(s, now),
            }
            for s in sources
        ],
        "queue": [
            {
                "platform": q.platform,
                "state": q.state,
                "count": q.count,
                "oldest": q.oldest.isoformat() if q.oldest else None,
            }
            for q in queue
        ],
        "oldest_pending_age_seconds": (now - oldest).total_seconds() if oldest else None,
        "fan_outs": [
            {**f, "paid": spent.get(f["announcement_id"], 0) if f["platform"] == "telegram" else 0}
            for f in fan_outs
        ],
        "paid_broadcasts": paid,
        "subscriptions": [
            {"platform": platform, "active": active, "count": count}
            for (platform, active), count in sorted(subscriptions.items())
        ],
        # Webhooks and Apprise URLs by their labels: never a URL, a token or a key.
        "targets": target_status(targets),
        # The accounts as the database knows them: names, never cookies.
        "verification": {
            "on": settings.verify_accounts_file is not None,
            "accounts": [
                {
                    "name": a.name,
                    "games": list(a.games),
                    "state": a.state,
                    "out_reason": a.out_reason,
                    "last_answer": a.last_answer,
                    "last_answer_at": a.last_answer_at.isoformat() if a.last_answer_at else None,
                    "checks": a.checks,
                }
                for a in accounts
            ],
            "notes": [
                verify_queue.out_note(a.name, a.out_reason)
                for a in accounts
                if a.state == verify_queue.ACCOUNT_OUT
            ],
            "queue_length": verify.length,
            "queue_due": verify.due,
            "oldest_due_age_seconds": (
                (now - verify.oldest_due).total_seconds() if verify.oldest_due else None
            ),
        },
    }


def _traffic(source: SourceHealth, now: datetime) -> dict[str, Any]:
    """What polling a source costs: totals, and per hour and per poll since counting began."""
    hours = (now - source.counted_since).total_seconds() / 3600 if source.counted_since else 0.0
    return {
        "polls": source.polls,
        "requests": source.requests,
        "bytes_received": source.bytes_received,
        "last_poll_bytes": source.last_poll_bytes,
        "counted_since": source.counted_since.isoformat() if source.counted_since else None,
        # Over less than a minute, a rate says little.
        "requests_per_hour": round(source.requests / hours, 1) if hours >= 1 / 60 else None,
        "bytes_per_poll": round(source.bytes_received / source.polls) if source.polls else None,
    }


def format_status(status: dict[str, Any]) -> str:
    lines = ["Sources:"]
    for s in status["sources"]:
        flag = "  PROBABLY BROKEN" if s["probably_broken"] else ""
        error = f"  last error: {s['last_error']}" if s["last_error"] else ""
        # A source never read has no count yet: "-", never Python's "None".
        count = "-" if s["last_count"] is None else s["last_count"]
        lines.append(
            f"  {s['id']:<28} {s['game']:<8} last success {s['last_success'] or 'never'}"
            f"  failures {s['consecutive_failures']}  codes {count}{flag}{error}"
        )
        rate = s["requests_per_hour"]
        lines.append(
            f"  {'':<28} {'':<8} {s['polls']} polls, {s['requests']} requests"
            f" ({'-' if rate is None else rate}/h), {s['bytes_received']} bytes"
            f" ({s['bytes_per_poll'] if s['bytes_per_poll'] is not None else '-'} per poll,"
            f" last {s['last_poll_bytes'] if s['last_poll_bytes'] is not None else '-'})"
        )
    if not status["sources"]:
        lines.append("  (none checked yet)")
    lines.append("Delivery queue:")
    for q in status["queue"]:
        lines.append(f"  {q['platform']:<9} {q['state']:<8} {q['count']:>8}")
    if not status["queue"]:
        lines.append("  (empty)")
    age = status["oldest_pending_age_seconds"]
    lines.append(f"Oldest pending delivery: {'none' if age is None else f'{age:.0f}s old'}")
    if "fan_outs" in status:
        lines.extend(fan_out_lines(status["fan_outs"], status["paid_broadcasts"]))
    lines.append("Subscriptions:")
    for sub in status["subscriptions"]:
        state = "active" if sub["active"] else "ended"
        lines.append(f"  {sub['platform']:<9} {state:<7} {sub['count']:>8}")
    if not status["subscriptions"]:
        lines.append("  (none)")
    lines.extend(target_lines(status.get("targets", [])))
    lines.extend(_verification_lines(status["verification"]))
    return "\n".join(lines) + "\n"


def _verification_lines(v: dict[str, Any]) -> list[str]:
    if not v["on"] and not v["accounts"]:
        return ["Verification: off (CODECAST_VERIFY_ACCOUNTS_FILE is not set)"]
    lines = ["Verification:"]
    for a in v["accounts"]:
        answer = (
            f"  last answer {a['last_answer_at']}: {a['last_answer']}" if a["last_answer"] else ""
        )
        lines.append(
            f"  {a['name']:<16} {a['state']:<4} {','.join(a['games']) or '-':<16}"
            f" checks {a['checks']}{answer}"
        )
    lines.extend(f"  {note}" for note in v["notes"])
    age = v["oldest_due_age_seconds"]
    lines.append(
        f"  queue: {v['queue_length']} queued, {v['queue_due']} due"
        + (f", oldest due {age:.0f}s ago" if age is not None else "")
    )
    return lines
