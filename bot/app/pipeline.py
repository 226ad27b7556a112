"""One scrape cycle: fetch every source, parse, normalise, merge, diff, and store in one go."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.parsing import PageParser, ParsingStopped, ThreadParser
from bot.core.catalog import Catalog
from bot.core.diff import Diff, diff
from bot.core.domain import ScrapedCode, SourceConfig
from bot.core.merge import SourceCodes, merge
from bot.core.normalize import normalize
from bot.core.verification import Policy
from bot.store import repository, verify_queue
from scrapers.base import Fetched, Fetcher, Scraper, SourceChanged, SourceError, Validators

log = logging.getLogger(__name__)

# Failures in a row after which a source is flagged "probably broken".
BROKEN_AFTER_FAILURES = 3


@dataclass(frozen=True)
class SourceOutcome:
    """What happened to one source in one cycle."""

    source: SourceConfig
    # The normalised codes, or None when nothing new was read (304 or a failure).
    codes: tuple[ScrapedCode, ...] | None
    fetched: Fetched | None = None
    error: SourceError | None = None
    parse_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class CycleReport:
    started_at: datetime
    outcomes: tuple[SourceOutcome, ...]
    new_codes: int = 0
    newly_expired: int = 0
    announcements: Mapping[int, int] = field(default_factory=dict)
    parse_seconds: float = 0.0
    # New codes queued for verification (the verifier is woken for them).
    queued_for_verification: int = 0

    @property
    def failed(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def deliveries(self) -> int:
        return sum(self.announcements.values())


@dataclass(frozen=True)
class Pipeline:
    """What a cycle needs, built once by the composition root."""

    catalog: Catalog
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    scrapers: Mapping[str, Scraper]
    clock: Callable[[], datetime]
    # Set when verification is on: new codes of the games some account checks wait for
    # their verdict (bot/verification.py) instead of being announced by this cycle.
    verify_policy: Policy | None = None
    # Where pages are parsed: the daemon's worker processes (ParserPool); unset, a thread of
    # this process with `scrapers` (tools and tests that bring scrapers of their own).
    parser: PageParser | None = None

    async def scrape_cycle(self) -> CycleReport:
        started = self.clock()
        async with self.sessions.begin() as session:
            await repository.sync_sources(session, self.catalog.sources)
            states = await repository.source_states(session)
        outcomes = await asyncio.gather(
            *(self._scrape(source, states.get(source.id)) for source in self.catalog.sources)
        )
        now = self.clock()
        for outcome in outcomes:
            if outcome.error is not None:
                # One line per unreachable or broken source per cycle, without a traceback:
                # a site being down is expected, not exceptional.
                log.warning(
                    "source %s failed (%s): %s",
                    outcome.source.id,
                    outcome.error.status,
                    outcome.error,
                )
        listings = [
            SourceCodes(
                source=o.source,
                codes=o.codes,
                first_success=_first_success(states.get(o.source.id)),
            )
            for o in outcomes
            if o.codes is not None
        ]
        merged = merge(listings)
        async with self.sessions.begin() as session:
            await self._record_health(session, outcomes, states, now)
            stored = await repository.stored_codes(session, {game for game, _ in merged})
            changes = diff(merged, stored, {s.id: s for s in self.catalog.sources})
            verifying = await self._verifying(session)
            held = verify_queue.hold_for_verification(changes, verifying)
            applied = await repository.apply_diff(session, held, merged, now)
            queued, released = await self._queue_for_verification(session, changes, verifying, now)
        report = CycleReport(
            started_at=started,
            outcomes=tuple(outcomes),
            new_codes=applied.new_codes,
            newly_expired=applied.newly_expired,
            announcements={**applied.announcements, **released},
            parse_seconds=sum(o.parse_seconds for o in outcomes),
            queued_for_verification=queued,
        )
        log.info(
            "cycle done: %d sources ok, %d failed, %d new codes, %d expired, "
            "%d announcements, %d deliveries queued",
            len(outcomes) - len(report.failed),
            len(report.failed),
            report.new_codes,
            report.newly_expired,
            len(report.announcements),
            report.deliveries,
        )
        return report

    async def _verifying(self, session: AsyncSession) -> frozenset[str]:
        if self.verify_policy is None:
            return frozenset()
        verifiable = {g.id for g in self.catalog.games.values() if g.verify is not None}
        return await verify_queue.verifying_games(session) & verifiable

    async def _queue_for_verification(
        self, session: AsyncSession, changes: Diff, verifying: frozenset[str], now: datetime
    ) -> tuple[int, dict[int, int]]:
        """Queue this cycle's new codes of verified games; release held codes whose wait ended."""
        if self.verify_policy is None:
            return 0, {}
        baseline = set(changes.settle_silently)
        fresh = [
            (code.game, code.key)
            for code in changes.new
            if code.game in verifying and (code.game, code.key) not in baseline
        ]
        queued = await verify_queue.enqueue(session, fresh, now) if fresh else 0
        released = await verify_queue.release_held(
            session,
            verifiable=frozenset(g.id for g in self.catalog.games.values() if g.verify),
            verifying=verifying,
            sources={s.id: s for s in self.catalog.sources},
            now=now,
            policy=self.verify_policy,
        )
        return queued, released

    async def _scrape(
        self, source: SourceConfig, state: repository.SourceState | None
    ) -> SourceOutcome:
        scraper = self.scrapers.get(source.kind)
        if scraper is None:
            return SourceOutcome(
                source, None, error=SourceChanged(f"no scraper for kind {source.kind!r}")
            )
        game = self.catalog.game(source.game)
        validators = Validators(
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
        )
        try:
            fetched = await scraper.fetch(self.fetcher, source, validators)
        except SourceError as error:
            return SourceOutcome(source, None, error=error)
        if fetched.body is None:
            return SourceOutcome(source, None, fetched=fetched)
        parser = self.parser or ThreadParser(self.scrapers)
        try:
            parsed, spent = await parser.parse(source, fetched.body, game)
        except SourceError as error:
            return SourceOutcome(source, None, fetched=fetched, error=error)
        except ParsingStopped:
            raise  # codecast is stopping: the cycle ends here, before it stores anything
        except Exception as exc:
            # A parser must raise only SourceChanged; anything else is a parser bug, and
            # it must still not stop the other sources.
            log.exception("parser for %s crashed", source.id)
            return SourceOutcome(
                source, None, fetched=fetched, error=SourceChanged(f"parser crashed: {exc!r}")
            )
        codes = tuple(normalize(parsed, game, self.clock()))
        return SourceOutcome(source, codes, fetched=fetched, parse_seconds=spent)

    async def _record_health(
        self,
        session: AsyncSession,
        outcomes: Sequence[SourceOutcome],
        states: Mapping[str, repository.SourceState],
        now: datetime,
    ) -> None:
        for outcome in outcomes:
            source = outcome.source
            if outcome.error is not None:
                await repository.record_source_failure(
                    session,
                    source.id,
                    now=now,
                    error=f"{outcome.error.status}: {outcome.error}",
                    broken_after=BROKEN_AFTER_FAILURES,
                )
                continue
            assert outcome.fetched is not None
            validators = outcome.fetched.validators
            state = states.get(source.id)
            count = None if outcome.codes is None else len(outcome.codes)
            # A source that listed codes and suddenly lists none has most likely changed
            # its layout; its codes are not taken as gone, and it stays flagged until it
            # lists codes again.
            had_codes = state is not None and (
                (state.last_count or 0) > 0 or state.probably_broken
            )
            went_empty = count == 0 and had_codes and not source.options.get("may_be_empty", False)
            if went_empty and state is not None and not state.probably_broken:
                log.warning(
                    "source %s listed %d codes last time and none now: probably broken",
                    source.id,
                    state.last_count or 0,
                )
            await repository.record_source_success(
                session,
                source.id,
                now=now,
                count=count,
                etag=validators.etag,
                last_modified=validators.last_modified,
                probably_broken=went_empty
                if count is not None
                else (state is not None and state.probably_broken),
                note="listed no codes, though it did before" if went_empty else None,
            )


def _first_success(state: repository.SourceState | None) -> bool:
    return state is None or state.last_success is None
