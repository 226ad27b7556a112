"""`codecast subscribe` / `unsubscribe` for targets named by a URL, and what status shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.app.settings import Settings
from bot.core.domain import Platform
from bot.store import database, repository
from notifiers.addresses import Address, subscribe_address


async def change_target(
    settings: Settings,
    address: Address,
    games: Sequence[str],
    *,
    on: bool,
    secret: str | None = None,
    remind: bool = False,
) -> str:
    """Subscribe or unsubscribe; returns what to tell the operator (never the URL)."""
    await database.require_schema(settings.database_url)
    engine = database.create_engine(settings.database_url)
    sessions = database.session_factory(engine)
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            if on:
                key = repository.target_key(address.platform, address.url)
                had_key = (await repository.get_target(session, key)) is not None
                target = await subscribe_address(
                    session,
                    address,
                    games,
                    origin=repository.ORIGIN_CLI,
                    now=now,
                    signing_key=secret,
                    remind=remind,
                )
                lines = [f"{address.label} ({address.platform}) gets: {', '.join(games)}"]
                if remind:
                    lines.append("It is also reminded of codes that expire within a day.")
                if address.platform is Platform.WEBHOOK and secret is None and not had_key:
                    # Shown once, here: the receiver needs it to check signatures.
                    lines.append(
                        f"Signing key (HMAC-SHA256, header X-Codecast-Signature): "
                        f"{target.signing_key}\nKeep it; codecast does not show it again."
                    )
                return "\n".join(lines) + "\n"
            ended = 0
            key = repository.target_key(address.platform, address.url)
            for game in games:
                ended += await repository.unsubscribe(
                    session, address.platform, key, game, now=now
                )
            return f"{address.label} ({address.platform}): {ended} subscriptions ended\n"
    finally:
        await engine.dispose()


def target_status(statuses: Sequence[repository.TargetStatus]) -> list[dict[str, Any]]:
    """Targets as `codecast status --json` shows them: labels, never URLs or keys."""
    return [
        {
            "kind": str(s.target.platform),
            "label": s.target.label,
            "origin": s.target.origin,
            "games": list(s.games),
            "ended": list(s.ended),
            "state": "disabled" if s.target.disabled_at else ("active" if s.games else "idle"),
            "failures": s.target.failures,
            "last_error": s.target.last_error,
            "last_success": s.target.last_success_at.isoformat()
            if s.target.last_success_at
            else None,
            "disabled_at": s.target.disabled_at.isoformat() if s.target.disabled_at else None,
            "disabled_reason": s.target.disabled_reason,
        }
        for s in statuses
    ]


def target_lines(targets: Sequence[dict[str, Any]]) -> list[str]:
    if not targets:
        return ["Targets: none (add one with codecast subscribe)"]
    lines = ["Targets:"]
    for t in targets:
        games = ",".join(t["games"]) or "-"
        lines.append(
            f"  {t['kind']:<15} {t['state']:<8} {t['label']}  games {games}"
            f"  failures {t['failures']}"
            + (f"  last error: {t['last_error']}" if t["last_error"] else "")
        )
        if t["disabled_reason"]:
            lines.append(f"    disabled {t['disabled_at']}: {t['disabled_reason']}")
    return lines
