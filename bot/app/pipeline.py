"""Polling sources: fetch, parse, normalise, merge with what the others said, diff, store.

`poll_source` does it for one source (the daemon's schedule calls it for each source at the
source's own cadence); `scrape_cycle` does it for every source at once (`codecast run
--once`). Either way the merge takes in each other source's latest stored listing, so what
a source brings is judged with what all of them say, and one transaction stores it all.
Commits are taken one at a time, so two sources bringing the same new code a second apart
make one code, announced once, listed by both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.parsing import PageParser, ParsingStopped, ThreadParser
from bot.core.catalog import Catalog
from bot.core.diff import Diff, diff, first_listings
from bot.core.domain import DeliveryOrder, ScrapedCode, SourceConfig
from bot.core.merge import SourceCodes, merge_with_stored
from bot.core.normalize import normalize
from bot.core.verification import Policy
from bot.store import repository, verify_queue
from scrapers.base import (
    Fetched,
    Fetcher,
    Scraper,
    SourceChanged,
    SourceError,
    SourceThrottled,
    SourceUnavailable,
    Traffic,
    Validators,
)
from scrapers.politeness import HostGate

log = logging.getLogger(__name__)

# Failures in a row after which a source is flagged "probably broken".
BROKEN_AFTER_FAILURES = 3


@dataclass(frozen=True)
class SourceOutcome:
    """What happened to one source in one poll or cycle."""

    source: SourceConfig
    # The normalised codes, or None when nothing new was read (304, same revision, failure).
    codes: tuple[ScrapedCode, ...] | None
    fetched: Fetched | None = None
    error: SourceError | None = None
    parse_seconds: float = 0.0
    traffic: Traffic = field(default_factory=Traffic)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class CycleReport:
    """What one commit did: of one source's poll, or of a cycle over all of them."""

    started_at: datetime
    outcomes: tuple[SourceOutcome, ...]
    new_codes: int = 0
    newly_expired: int = 0
    announcements: Mapping[int, int] = field(default_factory=dict)
    parse_seconds: float = 0.0
    # New codes queued for verification (the verifier is woken for them).
    queued_for_verification: int = 0
    # Source id -> codes (not expired) it lists for the first time; a baseline counts none.
    first_listed: Mapping[str, int] = field(default_factory=dict)
    # Reminder announcements of codes about to expire (among `announcements`).
    reminders: int = 0

    @property
    def failed(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def read(self) -> bool:
        """Whether some source's content was read (not 304, not the same revision)."""
        return any(o.codes is not None for o in self.outcomes)

    @property
    def deliveries(self) -> int:
        return sum(self.announcements.values())


@dataclass(frozen=True)
class Pipeline:
    """What a poll needs, built once by the composition root."""

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
    # Politeness per host (the composition root builds it from the settings); by default
    # one request at a time per host and nothing more.
    hosts: HostGate = field(default_factory=lambda: HostGate(backoff_start=0, backoff_max=0))
    # Who hears first: the order each wave's deliveries are queued in.
    delivery_order: DeliveryOrder = DeliveryOrder.REACH
    _commits: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False, repr=False)

    async def poll_source(self, source: SourceConfig) -> CycleReport:
        """One source: fetch, parse, merge with the others' last word, diff, commit."""
        started = self.clock()
        async with self.sessions.begin() as session:
            state = await repository.source_state(session, source.id)
        if state is None:
            # A source new to the database: the catalog's other new ones join it, one poll
            # at a time (the first polls of a fresh database come together).
            async with self._commits, self.sessions.begin() as session:
                await repository.sync_sources(session, self.catalog.sources)
                state = await repository.source_state(session, source.id)
        outcome = await self.read_source(source, state)
        report = await self._commit(started, (outcome,), {source.id: state} if state else {})
        _log_report(f"poll {source.id}", report)
        return report

    async def scrape_cycle(self) -> CycleReport:
        """Every source at once, committed together."""
        started = self.clock()
        async with self.sessions.begin() as session:
            await repository.sync_sources(session, self.catalog.sources)
            states = await repository.source_states(session)
        outcomes = await asyncio.gather(
            *(self.read_source(source, states.get(source.id)) for source in self.catalog.sources)
        )
        report = await self._commit(started, tuple(outcomes), states)
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

    async def _commit(
        self,
        started: datetime,
        outcomes: tuple[SourceOutcome, ...],
        states: Mapping[str, repository.SourceState],
    ) -> CycleReport:
        for outcome in outcomes:
            if outcome.error is not None:
                # One line per unreachable or broken source per poll, without a traceback:
                # a site being down is expected, not exceptional.
                log.warning(
                    "source %s failed (%s): %s",
                    outcome.source.id,
                    outcome.error.status,
                    outcome.error,
                )
        fresh = [
            SourceCodes(
                source=o.source,
                codes=o.codes,
                first_success=_first_success(states.get(o.source.id)),
            )
            for o in outcomes
            if o.codes is not None
        ]
        games = {listing.source.game for listing in fresh}
        sources = {s.id: s for s in self.catalog.sources}
        # One commit at a time: each sees what the one before it stored.
        async with self._commits, self.sessions.begin() as session:
            now = self.clock()
            await self._record_health(session, outcomes, states, now)
            others = await repository.last_listings(
                session, games, besides={listing.source.id for listing in fresh}
            )
            merged = merge_with_stored(
                fresh,
                [SourceCodes(sources[i], codes) for i, codes in others.items() if i in sources],
            )
            stored = await repository.stored_codes(session, merged)
            changes = diff(merged, stored, sources)
            verifying = await self._verifying(session)
            held = verify_queue.hold_for_verification(changes, verifying)
            applied = await repository.apply_diff(
                session,
                held,
                merged,
                now,
                listed_by={listing.source.id for listing in fresh},
                order=self.delivery_order,
            )
            queued, released = await self._queue_for_verification(session, changes, verifying, now)
        # Codes about to expire: one reminder per game, once, to whoever asked for them (in
        # the commits' turn, so that two polls never queue the same reminder).
        async with self._commits, self.sessions.begin() as session:
            reminders = await repository.remind_expiring(
                session, self.clock(), order=self.delivery_order
            )
        return CycleReport(
            started_at=started,
            outcomes=outcomes,
            new_codes=applied.new_codes,
            newly_expired=applied.newly_expired,
            announcements={**applied.announcements, **released, **reminders},
            parse_seconds=sum(o.parse_seconds for o in outcomes),
            queued_for_verification=queued,
            first_listed=first_listings(fresh, stored),
            reminders=len(reminders),
        )

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
            order=self.delivery_order,
        )
        return queued, released

    async def read_source(
        self, source: SourceConfig, state: repository.SourceState | None
    ) -> SourceOutcome:
        """Fetch (taking the host's turn) and parse one source; nothing is stored."""
        scraper = self.scrapers.get(source.kind)
        if scraper is None:
            return SourceOutcome(
                source, None, error=SourceChanged(f"no scraper for kind {source.kind!r}")
            )
        game = self.catalog.game(source.game)
        validators = Validators(
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            revision=state.revision if state else None,
        )
        traffic = Traffic()
        try:
            fetched = await self._fetch(scraper, source, validators, traffic)
        except SourceError as error:
            return SourceOutcome(source, None, error=error, traffic=traffic)
        if fetched.body is None:
            return SourceOutcome(source, None, fetched=fetched, traffic=traffic)
        parser = self.parser or ThreadParser(self.scrapers)
        try:
            parsed, spent = await parser.parse(source, fetched.body, game)
        except SourceError as error:
            return SourceOutcome(source, None, fetched=fetched, error=error, traffic=traffic)
        except ParsingStopped:
            raise  # codecast is stopping: the poll ends here, before it stores anything
        except Exception as exc:
            # A parser must raise only SourceChanged; anything else is a parser bug, and
            # it must still not stop the other sources.
            log.exception("parser for %s crashed", source.id)
            return SourceOutcome(
                source,
                None,
                fetched=fetched,
                error=SourceChanged(f"parser crashed: {exc!r}"),
                traffic=traffic,
            )
        codes = tuple(normalize(parsed, game, self.clock()))
        return SourceOutcome(source, codes, fetched=fetched, parse_seconds=spent, traffic=traffic)

    async def _fetch(
        self, scraper: Scraper, source: SourceConfig, validators: Validators, traffic: Traffic
    ) -> Fetched:
        """The scraper's fetch in its host's turn; a host in trouble is told so."""
        async with self.hosts.turn(source.url) as turn:
            try:
                return await scraper.fetch(self.fetcher.metered(traffic), source, validators)
            except SourceUnavailable as error:
                turn.failure(
                    retry_after=error.retry_after, throttled=isinstance(error, SourceThrottled)
                )
                raise

    async def _record_health(
        self,
        session: AsyncSession,
        outcomes: Sequence[SourceOutcome],
        states: Mapping[str, repository.SourceState],
        now: datetime,
    ) -> None:
        for outcome in outcomes:
            source = outcome.source
            cost = repository.PollCost(outcome.traffic.requests, outcome.traffic.bytes)
            if outcome.error is not None:
                await repository.record_source_failure(
                    session,
                    source.id,
                    now=now,
                    error=f"{outcome.error.status}: {outcome.error}",
                    broken_after=BROKEN_AFTER_FAILURES,
                    cost=cost,
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
                revision=validators.revision,
                cost=cost,
                probably_broken=went_empty
                if count is not None
                else (state is not None and state.probably_broken),
                note="listed no codes, though it did before" if went_empty else None,
            )


def _first_success(state: repository.SourceState | None) -> bool:
    return state is None or state.last_success is None


def _log_report(label: str, report: CycleReport) -> None:
    """A poll that read something is worth a line; one that found nothing new is not."""
    level = logging.INFO if report.read or report.announcements else logging.DEBUG
    listed = sum(len(o.codes) for o in report.outcomes if o.codes is not None)
    log.log(
        level,
        "%s: %s, %d codes listed, %d new, %d expired, %d announcements, %d deliveries queued",
        label,
        "read" if report.read else ("failed" if report.failed else "unchanged"),
        listed,
        report.new_codes,
        report.newly_expired,
        len(report.announcements),
        report.deliveries,
    )
