"""The report desk both bots share: a player's /submit taken in, a moderator's tap carried out.

A report is read (a code or a redeem link, checked against the game's pattern), judged by
the rules of bot/core/submission.py against what the store knows, and recorded: a code of
a game HoYoverse's redeem endpoint checks is queued for its verdict; any other waits for a
moderator; a moderator's own report is approved at once. What the reporter is told is a
`Receipt`, which notifiers/report_words.py words for both bots.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import CodeStatus, DeliveryOrder, Game
from bot.core.redeem import NotACode, redeem_targets
from bot.core.submission import (
    Action,
    Decider,
    Limits,
    Moderators,
    Refusal,
    Reporter,
    Route,
    SubmissionState,
    SubmissionView,
    clean_credit,
    clean_rewards,
    route,
)
from bot.store import verify_queue
from bot.store.repository import moderation, submissions
from bot.store.repository.submissions import Decided

log = logging.getLogger(__name__)

# Reports /moderation lists at most.
MAX_LISTED = 20


@dataclass(frozen=True)
class ReportRules:
    """How reports are handled in this deployment (from the settings)."""

    moderators: Moderators = field(default_factory=Moderators)
    limits: Limits = field(default_factory=Limits)
    # Verification is on (an accounts file is set): reports of verifiable games wait for it.
    verification: bool = False
    # How long a report waits for a verdict before moderators are asked instead.
    verify_wait: timedelta = timedelta(seconds=90)
    # Who hears an approved code first (CODECAST_DELIVERY_ORDER).
    delivery_order: DeliveryOrder = DeliveryOrder.REACH


@dataclass(frozen=True)
class Receipt:
    """What the reporter is told: where the report went, or why it was not taken."""

    code: str = ""
    game: Game | None = None
    route: Route | None = None
    refusal: Refusal | None = None
    # Set when the text was no code (why, for the platforms to word it).
    not_a_code: NotACode | None = None
    submission_id: int | None = None
    # A moderator's own report: what the approval did.
    decided: Decided | None = None


Listener = Callable[[], None]
Announced = Callable[[int], Awaitable[None]]


class ReportDesk:
    """Takes reports and decisions; tells listeners when a report waits or was decided."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        rules: ReportRules,
        on_announced: Announced | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.clock = clock
        self.rules = rules
        # Called with the deliveries an approval queued (the site is written, workers woken).
        self.on_announced = on_announced
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """`listener` is called when a report starts waiting or is decided (a watcher wakes)."""
        self._listeners.append(listener)

    def is_moderator(self, reporter: Reporter) -> bool:
        return reporter.moderator or self.rules.moderators.is_moderator(
            reporter.platform, reporter.user_id, reporter.roles
        )

    async def submit(
        self,
        reporter: Reporter,
        game: Game | None,
        text: str,
        *,
        rewards: str = "",
        credit: bool = False,
    ) -> Receipt:
        """Take a report of `text` (a code or a redeem link) for `game` (None: from the link)."""
        try:
            targets = redeem_targets(
                text, list(self.catalog.games.values()), game_id=game.id if game else None
            )
        except NotACode as error:
            return Receipt(
                code=error.code, game=game, refusal=Refusal.NOT_A_CODE, not_a_code=error
            )
        if len(targets) != 1:
            # A bare code fits several games' patterns: the reporter must name the game.
            return Receipt(code=targets[0].code, refusal=Refusal.UNKNOWN_GAME)
        target = targets[0]
        chosen, code = target.game, target.code
        now = self.clock()
        async with self.sessions.begin() as session:
            situation = await submissions.situation(
                session, reporter, chosen.id, code, now - self.rules.limits.window
            )
            decision = route(
                situation,
                self.rules.limits,
                moderator=self.is_moderator(reporter),
                verifiable=await self._verifiable(session, chosen),
            )
            if isinstance(decision, Refusal):
                return Receipt(code=code, game=chosen, refusal=decision)
            submission_id = await submissions.record(
                session,
                reporter,
                game=chosen.id,
                code=code,
                rewards=clean_rewards(rewards),
                credit=clean_credit(reporter.name) if credit and reporter.name else None,
                state=SubmissionState.CHECKING
                if decision is Route.VERIFY
                else SubmissionState.PENDING,
                now=now,
            )
            decided = None
            if decision is Route.VERIFY:
                _, made = await submissions.attach_code(
                    session, submission_id, status=CodeStatus.UNKNOWN, now=now
                )
                if made:
                    await verify_queue.enqueue(session, [(chosen.id, code.upper())], now)
            elif decision is Route.APPROVE:
                moderator = Decider(f"{reporter.platform}:{reporter.user_id}", reporter.name)
                decided = await submissions.approve(
                    session, submission_id, moderator, now, order=self.rules.delivery_order
                )
        log.info(
            "report #%d: %s %s from %s → %s",
            submission_id,
            chosen.id,
            code,
            reporter.platform,
            decision,
        )
        await self._after(decided, waiting=decision is Route.MODERATE)
        return Receipt(
            code=code, game=chosen, route=decision, submission_id=submission_id, decided=decided
        )

    async def decide(
        self,
        submission_id: int,
        action: Action,
        moderator: Decider,
        *,
        shown_on: str | None = None,
    ) -> Decided:
        """Carry out a moderator's tap; `Decided.changed` is False when it was decided before.

        `shown_on`: the platform whose moderation post the tap came from, edited by the
        handler itself (the watcher then leaves it be).
        """
        now = self.clock()
        async with self.sessions.begin() as session:
            if action is Action.APPROVE:
                decided = await submissions.approve(
                    session, submission_id, moderator, now, order=self.rules.delivery_order
                )
            elif action is Action.REJECT:
                decided = await submissions.reject(session, submission_id, moderator, now)
            else:
                decided = await submissions.reject(
                    session, submission_id, moderator, now, reason="reporter blocked"
                )
                platform, user_id = await submissions.reporter_of(session, submission_id)
                await submissions.block(session, platform, user_id, moderator, now)
            if shown_on is not None:
                await moderation.shown(
                    session, submission_id, shown_on, str(decided.submission.state)
                )
        log.info(
            "report #%d: %s by %s (%s)",
            submission_id,
            action,
            moderator.key,
            "done" if decided.changed else f"already {decided.submission.state}",
        )
        await self._after(decided if decided.changed else None, waiting=False)
        return decided

    async def waiting(self, limit: int = MAX_LISTED) -> list[SubmissionView]:
        async with self.sessions() as session:
            return await submissions.open_reports(session, limit=limit)

    async def _verifiable(self, session: AsyncSession, game: Game) -> bool:
        if not self.rules.verification or game.verify is None:
            return False
        return game.id in await verify_queue.verifying_games(session)

    async def _after(self, decided: Decided | None, *, waiting: bool) -> None:
        if waiting or decided is not None:
            for listener in self._listeners:
                listener()
        if decided is not None and decided.announcement_id is not None and self.on_announced:
            await self.on_announced(decided.deliveries)
