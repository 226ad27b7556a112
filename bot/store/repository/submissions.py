"""Reports from players in the database: what is known when one comes, recording it, the
decisions on it (a moderator's, or HoYoverse's verdict followed), and reporters' records.

Callers own the transaction; functions here never commit. A decision is a conditional
UPDATE of an open report: of two moderators tapping at once, or a tap and a verdict, one
decides and the other learns who did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import PLAYERS, CodeStatus, DeliveryOrder, Verification, code_key
from bot.core.submission import (
    OPEN_STATES,
    Decider,
    History,
    KnownCode,
    ReportCounts,
    Reporter,
    Situation,
    SubmissionState,
    SubmissionView,
)
from bot.store.dialects import upsert
from bot.store.models import CodeRow, CodeSourceRow, ReporterRow, SubmissionRow
from bot.store.repository.announcements import create_announcement

_OPEN = [str(s) for s in OPEN_STATES]


@dataclass(frozen=True)
class Decided:
    """What a decision did: the report as it is now, and whether this call decided it."""

    submission: SubmissionView
    # False when the report had been decided already (by someone else, or a verdict).
    changed: bool
    # The announcement an approval made, and its deliveries (None when none was needed).
    announcement_id: int | None = None
    deliveries: int = 0


# -- what is known when a report comes ---------------------------------------------------------


async def situation(
    session: AsyncSession, reporter: Reporter, game: str, code: str, since: datetime
) -> Situation:
    key = code_key(code)
    row = (
        await session.execute(
            select(CodeRow.status, CodeRow.announced_at, CodeRow.verification).where(
                CodeRow.game == game, CodeRow.code_key == key
            )
        )
    ).first()
    known = (
        KnownCode(CodeStatus(row[0]), row[1] is not None, Verification(row[2]))
        if row is not None
        else None
    )
    states = set(
        (
            await session.scalars(
                select(SubmissionRow.state).where(
                    SubmissionRow.game == game, SubmissionRow.code_key == key
                )
            )
        ).all()
    )
    earlier = None
    if str(SubmissionState.REJECTED) in states:
        earlier = SubmissionState.REJECTED
    elif states & set(_OPEN):
        earlier = next(SubmissionState(s) for s in _OPEN if s in states)
    by_user = await session.scalar(
        select(func.count(SubmissionRow.id)).where(
            SubmissionRow.platform == reporter.platform,
            SubmissionRow.reporter_id == reporter.user_id,
            SubmissionRow.created_at >= since,
        )
    )
    in_chat = 0
    if reporter.place is not None:
        in_chat = int(
            await session.scalar(
                select(func.count(SubmissionRow.id)).where(
                    SubmissionRow.platform == reporter.platform,
                    _place_is(reporter.place),
                    SubmissionRow.created_at >= since,
                )
            )
            or 0
        )
    return Situation(
        known=known,
        earlier=earlier,
        history=await history(session, reporter.platform, reporter.user_id),
        by_user=int(by_user or 0),
        in_chat=in_chat,
    )


def _place_is(place: str) -> Any:
    return or_(
        SubmissionRow.space_id == place,
        and_(SubmissionRow.space_id.is_(None), SubmissionRow.chat_id == place),
    )


async def history(session: AsyncSession, platform: str, user_id: str) -> History:
    counts = dict(
        (
            await session.execute(
                select(SubmissionRow.state, func.count(SubmissionRow.id))
                .where(SubmissionRow.platform == platform, SubmissionRow.reporter_id == user_id)
                .group_by(SubmissionRow.state)
            )
        ).all()
    )
    blocked = await session.scalar(
        select(ReporterRow.blocked).where(
            ReporterRow.platform == platform, ReporterRow.user_id == user_id
        )
    )
    return History(
        accepted=int(counts.get(str(SubmissionState.ACCEPTED), 0)),
        rejected=int(counts.get(str(SubmissionState.REJECTED), 0)),
        blocked=bool(blocked),
    )


# -- recording ------------------------------------------------------------------------------------


async def record(
    session: AsyncSession,
    reporter: Reporter,
    *,
    game: str,
    code: str,
    rewards: str,
    credit: str | None,
    state: SubmissionState,
    now: datetime,
) -> int:
    """A new report; returns its id."""
    row = SubmissionRow(
        game=game,
        code=code,
        code_key=code_key(code),
        rewards=rewards,
        platform=reporter.platform,
        reporter_id=reporter.user_id,
        chat_id=reporter.chat_id,
        space_id=reporter.space_id,
        credit=credit,
        state=str(state),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def attach_code(
    session: AsyncSession, submission_id: int, *, status: CodeStatus, now: datetime
) -> tuple[int, bool]:
    """The report's code row, made when missing (unannounced, listed by the players' source);
    returns its id and whether it was made. Never touches what a source said of a known code."""
    report = await _row(session, submission_id)
    existing = await session.scalar(
        select(CodeRow.id).where(CodeRow.game == report.game, CodeRow.code_key == report.code_key)
    )
    made = existing is None
    if existing is None:
        row = CodeRow(
            game=report.game,
            code=report.code,
            code_key=report.code_key,
            rewards="",
            items=[],
            status=str(status),
            first_seen=now,
            last_seen=now,
        )
        session.add(row)
        await session.flush()
        existing = row.id
    await _link_players(session, existing, now)
    report.code_id = existing
    return existing, made


async def _link_players(session: AsyncSession, code_id: int, now: datetime) -> None:
    statement = upsert(session, CodeSourceRow).values(
        code_id=code_id,
        source_id=PLAYERS.id,
        status=str(CodeStatus.UNKNOWN),
        first_seen=now,
        last_seen=now,
    )
    await session.execute(statement.on_conflict_do_nothing())


# -- decisions --------------------------------------------------------------------------------


async def _row(session: AsyncSession, submission_id: int) -> SubmissionRow:
    row = await session.get(SubmissionRow, submission_id)
    if row is None:
        raise LookupError(f"no report {submission_id}")
    return row


async def _close(
    session: AsyncSession,
    submission_id: int,
    state: SubmissionState,
    by: Decider,
    now: datetime,
    reason: str | None,
) -> bool:
    """Decide an open report; False when it was decided already."""
    result = await session.execute(
        update(SubmissionRow)
        .where(SubmissionRow.id == submission_id, SubmissionRow.state.in_(_OPEN))
        .values(
            state=str(state),
            decided_by=by.key,
            decided_name=by.name[:100],
            decided_at=now,
            reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def approve(
    session: AsyncSession,
    submission_id: int,
    by: Decider,
    now: datetime,
    reason: str | None = None,
    *,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> Decided:
    """Accept a report: its code becomes one from a trusted source and is announced once
    (unless it already was; its deliveries queued in `order`); other open reports of the
    code are accepted with it."""
    if not await _close(session, submission_id, SubmissionState.ACCEPTED, by, now, reason):
        return Decided(await view(session, submission_id), changed=False)
    report = await _row(session, submission_id)
    await session.refresh(report)
    code_id, _made = await attach_code(session, submission_id, status=CodeStatus.ACTIVE, now=now)
    code = await session.get(CodeRow, code_id)
    assert code is not None
    if not code.rewards and report.rewards:
        code.rewards = report.rewards
    if code.status == str(CodeStatus.UNKNOWN):
        code.status = str(CodeStatus.ACTIVE)
    await session.flush()
    await _close_siblings(session, report, SubmissionState.ACCEPTED, by, now, code_id)
    announcement_id, deliveries = None, 0
    claimed = (
        await session.execute(
            update(CodeRow)
            .where(
                CodeRow.id == code_id,
                CodeRow.announced_at.is_(None),
                CodeRow.status != str(CodeStatus.EXPIRED),
            )
            .values(announced_at=now)
            .returning(CodeRow.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if claimed is not None:
        announcement_id, deliveries = await create_announcement(
            session, report.game, [code_id], now, order=order
        )
    return Decided(await view(session, submission_id), True, announcement_id, deliveries)


async def reject(
    session: AsyncSession,
    submission_id: int,
    by: Decider,
    now: datetime,
    reason: str | None = None,
) -> Decided:
    """Reject a report (and the other open reports of its code): kept, so the same report is
    answered at once next time. A code a source lists is not touched."""
    if not await _close(session, submission_id, SubmissionState.REJECTED, by, now, reason):
        return Decided(await view(session, submission_id), changed=False)
    report = await _row(session, submission_id)
    await session.refresh(report)
    await _close_siblings(session, report, SubmissionState.REJECTED, by, now, report.code_id)
    return Decided(await view(session, submission_id), True)


async def _close_siblings(
    session: AsyncSession,
    report: SubmissionRow,
    state: SubmissionState,
    by: Decider,
    now: datetime,
    code_id: int | None,
) -> None:
    await session.execute(
        update(SubmissionRow)
        .where(
            SubmissionRow.game == report.game,
            SubmissionRow.code_key == report.code_key,
            SubmissionRow.state.in_(_OPEN),
        )
        .values(
            state=str(state),
            decided_by=by.key,
            decided_name=by.name[:100],
            decided_at=now,
            reason=report.reason,
            code_id=code_id,
        )
        .execution_options(synchronize_session=False)
    )


async def block(
    session: AsyncSession, platform: str, user_id: str, by: Decider, now: datetime
) -> None:
    """Take no more reports from this reporter."""
    row = await session.get(ReporterRow, (platform, user_id))
    if row is None:
        session.add(
            ReporterRow(
                platform=platform, user_id=user_id, blocked=True, blocked_by=by.key, blocked_at=now
            )
        )
    else:
        row.blocked, row.blocked_by, row.blocked_at = True, by.key, now
    await session.flush()


async def reporter_of(session: AsyncSession, submission_id: int) -> tuple[str, str]:
    """(platform, user id) of a report's reporter."""
    report = await _row(session, submission_id)
    return report.platform, report.reporter_id


async def follow_verification(
    session: AsyncSession, now: datetime, wait_until: datetime
) -> list[int]:
    """Decide open reports whose code HoYoverse has judged (valid: accepted; invalid or
    expired: rejected), accept those whose code a source confirmed meanwhile, and hand to
    moderators the reports still being checked that can get no verdict or that have waited
    since before `wait_until`. Returns the ids of the reports that changed."""
    rows = (
        await session.execute(
            select(
                SubmissionRow.id,
                SubmissionRow.state,
                SubmissionRow.created_at,
                CodeRow.verification,
                CodeRow.verified_at,
                CodeRow.verify_next_at,
                CodeRow.announced_at,
            )
            .join(
                CodeRow,
                and_(
                    CodeRow.game == SubmissionRow.game, CodeRow.code_key == SubmissionRow.code_key
                ),
            )
            .where(SubmissionRow.state.in_(_OPEN))
        )
    ).all()
    changed: list[int] = []
    for sid, state, created_at, verification, verified_at, next_at, announced_at in rows:
        verdict = Verification(verification) if verified_at is not None else None
        if verdict is Verification.VALID:
            if await _close(session, sid, SubmissionState.ACCEPTED, _VERDICT, now, "valid"):
                changed.append(sid)
        elif verdict in (Verification.INVALID, Verification.EXPIRED):
            if await _close(session, sid, SubmissionState.REJECTED, _VERDICT, now, str(verdict)):
                changed.append(sid)
        elif announced_at is not None:
            # A source listed it and the trust rules announced it: the report was right.
            if await _close(session, sid, SubmissionState.ACCEPTED, _SOURCES, now, "listed"):
                changed.append(sid)
        elif state == str(SubmissionState.CHECKING) and (
            (verification == str(Verification.UNVERIFIED) and next_at is None)
            or created_at < wait_until
        ):
            await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id == sid, SubmissionRow.state == state)
                .values(state=str(SubmissionState.PENDING))
            )
            changed.append(sid)
    return changed


_VERDICT = Decider("verification", "HoYoverse's redeem check")
_SOURCES = Decider("sources", "a source listing it")


# -- reading --------------------------------------------------------------------------------


async def view(session: AsyncSession, submission_id: int) -> SubmissionView:
    row = await _row(session, submission_id)
    await session.refresh(row)
    return (await _views(session, [row]))[0]


async def open_reports(
    session: AsyncSession, *, limit: int = 50, state: SubmissionState | None = None
) -> list[SubmissionView]:
    """Reports still open (or in `state`), oldest first."""
    states = [str(state)] if state is not None else _OPEN
    rows = (
        await session.scalars(
            select(SubmissionRow)
            .where(SubmissionRow.state.in_(states))
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
            .limit(limit)
        )
    ).all()
    return await _views(session, rows)


async def views(session: AsyncSession, ids: Sequence[int]) -> list[SubmissionView]:
    if not ids:
        return []
    rows = (
        await session.scalars(
            select(SubmissionRow).where(SubmissionRow.id.in_(list(ids))).order_by(SubmissionRow.id)
        )
    ).all()
    return await _views(session, rows)


async def _views(session: AsyncSession, rows: Sequence[SubmissionRow]) -> list[SubmissionView]:
    records: dict[tuple[str, str], History] = {}
    result = []
    for row in rows:
        who = (row.platform, row.reporter_id)
        if who not in records:
            records[who] = await history(session, *who)
        result.append(
            SubmissionView(
                id=row.id,
                game=row.game,
                code=row.code,
                rewards=row.rewards,
                platform=row.platform,
                state=SubmissionState(row.state),
                created_at=row.created_at,
                history=records[who],
                credit=row.credit,
                decided_by=row.decided_name,
                decided_at=row.decided_at,
                reason=row.reason,
            )
        )
    return result


async def counts(session: AsyncSession) -> ReportCounts:
    found = dict(
        (
            await session.execute(
                select(SubmissionRow.state, func.count(SubmissionRow.id)).group_by(
                    SubmissionRow.state
                )
            )
        ).all()
    )
    return ReportCounts(
        accepted=int(found.get(str(SubmissionState.ACCEPTED), 0)),
        rejected=int(found.get(str(SubmissionState.REJECTED), 0)),
        waiting=sum(int(found.get(s, 0)) for s in _OPEN),
    )


async def credits(session: AsyncSession, code_ids: Sequence[int]) -> dict[int, str]:
    """code id → how announcements credit the player who reported it ("" for "a player")."""
    if not code_ids:
        return {}
    rows = (
        await session.execute(
            select(SubmissionRow.code_id, SubmissionRow.credit)
            .where(
                SubmissionRow.code_id.in_(list(code_ids)),
                SubmissionRow.state != str(SubmissionState.REJECTED),
            )
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
        )
    ).all()
    found: dict[int, str] = {}
    for code_id, credit in rows:
        if code_id is not None and code_id not in found:
            found[code_id] = credit or ""
    return found
