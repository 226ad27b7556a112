"""Verification in the database: the queue of codes to check, the accounts, the held codes.

The queue is the codes table itself: a code is queued while `verify_next_at` is set, and due
once it has passed. Codes still waiting for their announcement come first, then rechecks.
Only one process verifies (the holder of the schedule lock), so the queue needs no claim;
every process may read it for status and metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.diff import Diff, confirmed
from bot.core.domain import CodeStatus, DeliveryOrder, SourceConfig, Verification
from bot.core.verification import Gate, Policy, Step, gate
from bot.store.models import CodeRow, CodeSourceRow, VerifyAccountRow, VerifyFamilyRow
from bot.store.repository import create_wave

ACCOUNT_OK = "ok"
ACCOUNT_OUT = "out"


@dataclass(frozen=True)
class QueuedCode:
    id: int
    game: str
    code: str
    key: str
    status: CodeStatus
    verification: Verification
    verified_at: datetime | None
    attempts: int
    not_active_since: datetime | None
    first_seen: datetime
    announced: bool


@dataclass(frozen=True)
class AccountStatus:
    name: str
    games: tuple[str, ...]
    state: str
    out_reason: str | None
    last_answer: str | None
    last_answer_at: datetime | None
    checks: int


@dataclass(frozen=True)
class QueueStats:
    length: int
    due: int
    oldest_due: datetime | None


# -- accounts --------------------------------------------------------------------------------


async def sync_accounts(session: AsyncSession, accounts: Mapping[str, Sequence[str]]) -> None:
    """The accounts of this start (name → games): all usable again, the removed forgotten."""
    existing = {
        row.name: row for row in (await session.execute(select(VerifyAccountRow))).scalars()
    }
    for name, games in accounts.items():
        row = existing.get(name)
        if row is None:
            session.add(
                VerifyAccountRow(name=name, games=" ".join(sorted(games)), state=ACCOUNT_OK)
            )
        else:
            # A restart is when an operator puts in a fresh cookie: try the account again.
            row.games = " ".join(sorted(games))
            row.state = ACCOUNT_OK
            row.out_reason = None
    gone = set(existing) - set(accounts)
    if gone:
        await session.execute(delete(VerifyAccountRow).where(VerifyAccountRow.name.in_(gone)))
        await session.execute(delete(VerifyFamilyRow).where(VerifyFamilyRow.account.in_(gone)))
    await session.flush()


async def verifying_games(session: AsyncSession) -> frozenset[str]:
    """The games some usable account can check."""
    rows = await session.execute(
        select(VerifyAccountRow.games).where(VerifyAccountRow.state == ACCOUNT_OK)
    )
    return frozenset(game for (games,) in rows for game in games.split())


async def record_account_answer(
    session: AsyncSession, name: str, answer: str, now: datetime, out_reason: str | None
) -> None:
    values: dict[str, object] = {
        "last_answer": answer,
        "last_answer_at": now,
        "last_redeem_at": now,
        "checks": VerifyAccountRow.checks + 1,
    }
    if out_reason is not None:
        values["state"] = ACCOUNT_OUT
        values["out_reason"] = out_reason
    await session.execute(
        update(VerifyAccountRow).where(VerifyAccountRow.name == name).values(**values)
    )


def out_note(name: str, reason: str | None) -> str:
    """The line status and the sources page show for an account HoYoverse refuses."""
    return f"verification account {name}: {reason or 'login refused'}"


async def account_statuses(session: AsyncSession) -> list[AccountStatus]:
    rows = (
        await session.execute(select(VerifyAccountRow).order_by(VerifyAccountRow.name))
    ).scalars()
    return [
        AccountStatus(
            name=row.name,
            games=tuple(row.games.split()),
            state=row.state,
            out_reason=row.out_reason,
            last_answer=row.last_answer,
            last_answer_at=row.last_answer_at,
            checks=row.checks,
        )
        for row in rows
    ]


async def last_redemptions(session: AsyncSession) -> dict[str, datetime]:
    """When each account last redeemed (so a restart keeps the pacing)."""
    rows = await session.execute(
        select(VerifyAccountRow.name, VerifyAccountRow.last_redeem_at).where(
            VerifyAccountRow.last_redeem_at.is_not(None)
        )
    )
    return {name: at for name, at in rows if at is not None}


async def families(session: AsyncSession) -> dict[tuple[str, str, str], str]:
    """(account, game, family) → the code that used the family on that account."""
    rows = await session.execute(select(VerifyFamilyRow))
    return {(r.account, r.game, r.family): r.code_key for r in rows.scalars()}


async def record_family(
    session: AsyncSession, account: str, game: str, family: str, code_key: str
) -> None:
    exists = await session.get(VerifyFamilyRow, (account, game, family))
    if exists is None:
        session.add(VerifyFamilyRow(account=account, game=game, family=family, code_key=code_key))
        await session.flush()


# -- the queue -------------------------------------------------------------------------------


def hold_for_verification(changes: Diff, games: frozenset[str]) -> Diff:
    """The diff without announcements of games being verified: those wait for release_held."""
    if not games:
        return changes
    return Diff(
        new=changes.new,
        seen=changes.seen,
        newly_expired=changes.newly_expired,
        announce=tuple(ident for ident in changes.announce if ident[0] not in games),
        settle_silently=changes.settle_silently,
    )


async def enqueue(session: AsyncSession, idents: Iterable[tuple[str, str]], now: datetime) -> int:
    """Queue codes for their first check, due now; returns how many."""
    count = 0
    by_game: dict[str, list[str]] = {}
    for game, key in idents:
        by_game.setdefault(game, []).append(key)
    for game, keys in by_game.items():
        result = await session.execute(
            update(CodeRow)
            .where(
                CodeRow.game == game,
                CodeRow.code_key.in_(keys),
                CodeRow.status != str(CodeStatus.EXPIRED),
            )
            .values(
                verification=str(Verification.PENDING),
                verify_next_at=now,
                verify_attempts=0,
            )
        )
        count += _rowcount(result)
    return count


async def enqueue_unchecked(session: AsyncSession, games: Iterable[str], now: datetime) -> int:
    """Queue the live codes of `games` never checked (verification turned on later)."""
    result = await session.execute(
        update(CodeRow)
        .where(
            CodeRow.game.in_(list(games)),
            CodeRow.status != str(CodeStatus.EXPIRED),
            CodeRow.verification == str(Verification.UNVERIFIED),
            CodeRow.verified_at.is_(None),
            CodeRow.verify_next_at.is_(None),
            CodeRow.verify_attempts == 0,
        )
        .values(verify_next_at=now)
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def due_codes(session: AsyncSession, now: datetime, limit: int = 50) -> list[QueuedCode]:
    """Codes due for a check: those waiting for their announcement first, then rechecks."""
    waiting_first = case((CodeRow.announced_at.is_(None), 0), else_=1)
    rows = (
        await session.execute(
            select(CodeRow)
            .where(
                CodeRow.verify_next_at.is_not(None),
                CodeRow.verify_next_at <= now,
            )
            .order_by(waiting_first, CodeRow.verify_next_at, CodeRow.id)
            .limit(limit)
        )
    ).scalars()
    return [
        QueuedCode(
            id=row.id,
            game=row.game,
            code=row.code,
            key=row.code_key,
            status=CodeStatus(row.status),
            verification=Verification(row.verification),
            verified_at=row.verified_at,
            attempts=row.verify_attempts,
            not_active_since=row.verify_not_active_since,
            first_seen=row.first_seen,
            announced=row.announced_at is not None,
        )
        for row in rows
    ]


async def record_step(
    session: AsyncSession,
    code: QueuedCode,
    step: Step,
    *,
    answer: str,
    account: str | None,
    now: datetime,
) -> None:
    """Write what one answer changed; a verdict of expired (or invalid, once announced)
    expires the code, so the messages already sent are edited as for any expiry."""
    values: dict[str, object] = {
        "verification": str(step.verification),
        "verify_next_at": step.next_check,
        "verify_attempts": step.attempts,
        "verify_not_active_since": step.not_active_since,
        "verify_answer": answer,
        "verify_account": account,
    }
    if step.verified:
        values["verified_at"] = now
    ends = step.verification is Verification.EXPIRED or (
        step.verification is Verification.INVALID and code.announced
    )
    if step.verified and ends and code.status is not CodeStatus.EXPIRED:
        values["status"] = str(CodeStatus.EXPIRED)
        values["expired_at"] = now
    await session.execute(update(CodeRow).where(CodeRow.id == code.id).values(**values))


async def postpone(session: AsyncSession, code_id: int, until: datetime | None) -> None:
    """Leave a code in the queue for later (no account may ask now), or out of it (None)."""
    await session.execute(
        update(CodeRow).where(CodeRow.id == code_id).values(verify_next_at=until)
    )


async def leave_unverified(session: AsyncSession, code_id: int, answer: str) -> None:
    """No account can give a verdict (the family rule): today's trust rules decide."""
    await session.execute(
        update(CodeRow)
        .where(CodeRow.id == code_id, CodeRow.verified_at.is_(None))
        .values(
            verification=str(Verification.UNVERIFIED),
            verify_next_at=None,
            verify_answer=answer,
        )
    )
    await session.execute(
        update(CodeRow)
        .where(CodeRow.id == code_id, CodeRow.verified_at.is_not(None))
        .values(verify_next_at=None)
    )


async def waiting_count(session: AsyncSession) -> int:
    """Codes queued for their first verdict and not announced yet."""
    count = await session.scalar(
        select(func.count(CodeRow.id)).where(
            CodeRow.announced_at.is_(None), CodeRow.verify_next_at.is_not(None)
        )
    )
    return int(count or 0)


async def queue_stats(session: AsyncSession, now: datetime) -> QueueStats:
    queued = CodeRow.verify_next_at.is_not(None)
    length, due, oldest = (
        await session.execute(
            select(
                func.count(CodeRow.id),
                func.count(case((CodeRow.verify_next_at <= now, 1))),
                func.min(case((CodeRow.verify_next_at <= now, CodeRow.verify_next_at))),
            ).where(queued)
        )
    ).one()
    if isinstance(oldest, str):  # SQLite returns MIN() over a CASE as text, naive UTC
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return QueueStats(length=int(length), due=int(due), oldest_due=oldest)


# -- announcing what verification decided ------------------------------------------------------


async def release_held(
    session: AsyncSession,
    *,
    verifiable: frozenset[str],
    verifying: frozenset[str],
    sources: Mapping[str, SourceConfig],
    now: datetime,
    policy: Policy,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> dict[int, int]:
    """Announce the waiting codes that may go now (one wave, queued in `order`), settle
    those that never will.

    `verifiable`: games with a redeem endpoint; `verifying`: those some usable account checks
    now (a code of a game no account checks any more is not held for it). Returns
    announcement id → deliveries queued.
    """
    if not verifiable:
        return {}
    rows = (
        await session.execute(
            select(
                CodeRow.id,
                CodeRow.game,
                CodeRow.status,
                CodeRow.verification,
                CodeRow.first_seen,
                CodeRow.verify_not_active_since,
            ).where(CodeRow.announced_at.is_(None), CodeRow.game.in_(verifiable))
        )
    ).all()
    if not rows:
        return {}
    announce: dict[str, list[int]] = {}
    settle: list[int] = []
    undecided: list[tuple[int, str]] = []
    for code_id, game, status, verification, first_seen, not_active_since in rows:
        if status == str(CodeStatus.EXPIRED):
            settle.append(code_id)
            continue
        state = Verification(verification)
        decision = gate(state, first_seen, not_active_since, now, policy)
        if decision is Gate.HOLD and game not in verifying:
            decision = Gate.TRUST_RULES
        if decision is Gate.ANNOUNCE:
            announce.setdefault(game, []).append(code_id)
        elif decision is Gate.DROP:
            settle.append(code_id)
        elif decision is Gate.TRUST_RULES:
            undecided.append((code_id, game))
    if undecided:
        listed: dict[int, set[str]] = {}
        links = await session.execute(
            select(CodeSourceRow.code_id, CodeSourceRow.source_id).where(
                CodeSourceRow.code_id.in_([code_id for code_id, _ in undecided])
            )
        )
        for code_id, source_id in links:
            listed.setdefault(code_id, set()).add(source_id)
        for code_id, game in undecided:
            if confirmed(listed.get(code_id, set()), sources):
                announce.setdefault(game, []).append(code_id)
    if settle:
        await session.execute(
            update(CodeRow)
            .where(CodeRow.id.in_(settle), CodeRow.announced_at.is_(None))
            .values(announced_at=now)
        )
    released: dict[str, list[int]] = {}
    for game, code_ids in sorted(announce.items()):
        # Claimed with a condition: the cycle and the verifier may both look at once, and
        # only the one whose UPDATE still finds the code unsettled announces it.
        claimed = (
            (
                await session.execute(
                    update(CodeRow)
                    .where(CodeRow.id.in_(code_ids), CodeRow.announced_at.is_(None))
                    .values(announced_at=now)
                    .returning(CodeRow.id)
                )
            )
            .scalars()
            .all()
        )
        if claimed:
            released[game] = sorted(claimed)
    return await create_wave(session, released, now, order=order)
