"""`codecast status` on deliveries under way: each fan-out's progress and expected end, and
what Telegram's paid broadcasts cost."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.settings import Settings
from bot.core.domain import Platform
from bot.store import outbox, spend
from notifiers.telegram.paid import stars_for_messages

# The rate a fan-out goes at is measured over this window.
RATE_WINDOW = timedelta(seconds=60)


async def collect_fan_outs(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """Each running fan-out; a platform's rate is shared by its fan-outs, so each one's
    expected end counts the platform's pending rows up to its own last one: rows go in id
    order, and the announcements of one wave are interleaved (every chat's first message
    before any second), so a fan-out ends when the last of its rows is reached."""
    fan_outs = await outbox.running_fan_outs(session, now=now, window=RATE_WINDOW)
    rates: dict[str, float] = {}
    for f in fan_outs:
        rates[f.platform] = rates.get(f.platform, 0.0) + f.recent / RATE_WINDOW.total_seconds()
    shown = []
    for f in fan_outs:
        rate = rates[f.platform]
        ahead = await outbox.pending_up_to(session, f.platform, f.last_pending_id)
        ends = now + timedelta(seconds=ahead / rate) if rate > 0 else None
        shown.append(
            {
                "announcement_id": f.announcement_id,
                "game": f.game,
                "platform": f.platform,
                "total": f.total,
                "sent": f.sent,
                "pending": f.pending,
                "done": round((f.total - f.pending) / f.total, 4) if f.total else 1.0,
                "rate_per_second": round(rate, 1),
                "expected_end": ends.isoformat() if ends is not None else None,
            }
        )
    return shown


async def collect_paid(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, Any]:
    today = spend.day_scope(now.date())
    rows = {s.scope: s for s in await spend.spend(session, str(Platform.TELEGRAM), [today])}
    day = rows.get(today)
    sent = day.sent if day else 0
    return {
        "on": settings.telegram_paid_broadcast,
        "day": now.date().isoformat(),
        "sent_today": sent,
        "stars_today": stars_for_messages(sent),
        "reserved_today": day.reserved if day else 0,
        "stars_per_day": settings.telegram_paid_stars_per_day or None,
        "per_announcement": settings.telegram_paid_per_announcement or None,
    }


async def paid_per_announcement(
    session: AsyncSession, announcement_ids: list[int]
) -> dict[int, int]:
    scopes = {spend.announcement_scope(a): a for a in announcement_ids}
    rows = await spend.spend(session, str(Platform.TELEGRAM), list(scopes))
    return {scopes[r.scope]: r.sent for r in rows}


def fan_out_lines(fan_outs: list[dict[str, Any]], paid: dict[str, Any]) -> list[str]:
    lines = ["Fan-outs under way:"]
    for f in fan_outs:
        rate = f["rate_per_second"]
        end = f"expected end {f['expected_end']}" if f["expected_end"] else "not moving now"
        cost = f", {f['paid']} paid" if f.get("paid") else ""
        lines.append(
            f"  announcement {f['announcement_id']:<6} {f['game']:<8} {f['platform']:<9}"
            f" {f['total'] - f['pending']:>8} of {f['total']:<8} ({f['done']:.0%})"
            f"  {rate:g}/s  {end}{cost}"
        )
    if not fan_outs:
        lines.append("  (none)")
    if not paid["on"] and not paid["sent_today"]:
        lines.append("Telegram paid broadcasts: off (CODECAST_TELEGRAM_PAID_BROADCAST)")
        return lines
    budget = []
    if paid["stars_per_day"]:
        budget.append(f"{paid['stars_per_day']:g} Stars a day")
    if paid["per_announcement"]:
        budget.append(f"{paid['per_announcement']} messages per announcement")
    lines.append(
        f"Telegram paid broadcasts: {'on' if paid['on'] else 'off'}"
        + (f", budget {' and '.join(budget)}" if budget else "")
    )
    lines.append(
        f"  {paid['day']}: {paid['sent_today']} paid messages sent, "
        f"{paid['stars_today']:g} Stars spent ({paid['reserved_today']} reserved)"
    )
    return lines
