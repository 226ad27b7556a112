"""The verifier: asks HoYoverse's redeem endpoint about queued codes, one account at a time.

It runs in the process that holds the schedule lock (the only one on SQLite). Each step takes
the most urgent due code (codes waiting for their announcement first, then rechecks), picks
an account that may speak for it (has a uid for the game, is not out, is paced, and has not
used the code's Zenless family on another code), asks once, writes what the answer changed,
and announces what may now go out (bot/store/verify_queue.release_held). Between steps it waits
for the next due time or an account's pace, or for `wake()` from a cycle that found codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.settings import Settings
from bot.core.catalog import Catalog
from bot.core.domain import CodeStatus, DeliveryOrder, Game
from bot.core.verification import (
    VERDICTS,
    CodeCheck,
    Outcome,
    Pacer,
    Policy,
    account_may_speak,
    after_answer,
    family_of,
    uses_family,
)
from bot.core.waiting import wait_set
from bot.store import verify_queue
from bot.store.repository import submissions
from scrapers.verify import (
    Account,
    Answer,
    RedeemClient,
    RedeemUnavailable,
    build_http,
    load_accounts,
    out_reason,
)

log = logging.getLogger(__name__)

# The longest the verifier sleeps without looking at the queue (waits expire meanwhile).
IDLE_SECONDS = 1.0
# After a database error, the wait before the next step.
DATABASE_RETRY_SECONDS = 5.0


def policy_from(settings: Settings) -> Policy:
    return Policy(
        pace=timedelta(seconds=settings.verify_pace),
        wait=timedelta(seconds=settings.verify_wait),
        recheck=timedelta(seconds=settings.verify_recheck),
        not_active_every=timedelta(seconds=settings.verify_not_active_every),
        not_active_for=timedelta(seconds=settings.verify_not_active_for),
        retry_base=timedelta(seconds=settings.verify_retry_base),
        retry_max=timedelta(seconds=max(settings.verify_retry_base, 900.0)),
        cooldown=timedelta(seconds=settings.verify_cooldown),
    )


@dataclass(frozen=True)
class Checked:
    """One ask and what it gave (for callers: the CLI, tests, metrics)."""

    game: str
    code: str
    account: str
    answer: Answer


Released = Callable[[Mapping[int, int]], Awaitable[None]]


@dataclass
class Verifier:
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    accounts: Sequence[Account]
    client: RedeemClient
    policy: Policy
    clock: Callable[[], datetime]
    # Called with the announcements a verdict (or a wait running out) released, and after a
    # verdict that released none (the site shows verdicts too): the mapping is then empty.
    on_released: Released | None = None
    # Called with each outcome (metrics).
    on_checked: Callable[[Checked], None] | None = None
    # Who hears released codes first (CODECAST_DELIVERY_ORDER).
    delivery_order: DeliveryOrder = DeliveryOrder.REACH
    pacer: Pacer = field(init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _out: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.policy)

    @property
    def verifiable(self) -> frozenset[str]:
        """Games with a redeem endpoint in the catalog."""
        return frozenset(g.id for g in self.catalog.games.values() if g.verify is not None)

    def games_of(self, account: Account) -> list[str]:
        return sorted(g for g in self.verifiable if account.uid_for(g) is not None)

    async def start(self) -> None:
        """Record the accounts of this start and queue live codes never checked."""
        now = self.clock()
        async with self.sessions.begin() as session:
            await verify_queue.sync_accounts(
                session, {a.name: self.games_of(a) for a in self.accounts}
            )
            for name, at in (await verify_queue.last_redemptions(session)).items():
                self.pacer.redeemed(name, at)
            games = await verify_queue.verifying_games(session)
            queued = await verify_queue.enqueue_unchecked(session, games, now)
        self._out.clear()
        log.info(
            "verification on: %d account(s) for %s; %d unchecked live code(s) queued",
            len(self.accounts),
            ", ".join(sorted(games)) or "no game",
            queued,
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Forever: a step, then a wait until there may be work (cancel to stop)."""
        await self.start()
        while True:
            # Cleared before the step: a wake() during it means look again at once.
            self._wake.clear()
            try:
                delay = await self.step()
            except (DBAPIError, OSError) as exc:
                log.warning("verification: database unavailable (%s)", type(exc).__name__)
                delay = DATABASE_RETRY_SECONDS
            if delay > 0:
                await wait_set(self._wake, min(delay, IDLE_SECONDS))

    async def step(self) -> float:
        """Release what may go, then ask about one due code; seconds until worth looking again."""
        now = self.clock()
        async with self.sessions.begin() as session:
            released = await self._release(session, now)
            due = await verify_queue.due_codes(session, now)
            used = await verify_queue.families(session)
        await self._announce(released)
        soonest: datetime | None = None
        for code in due:
            game = self.catalog.games.get(code.game)
            if game is None or game.verify is None or code.status is CodeStatus.EXPIRED:
                async with self.sessions.begin() as session:
                    await verify_queue.postpone(session, code.id, None)
                continue
            family = family_of(game.family, code.code)
            usable = [a for a in self.accounts if a.name not in self._out and a.uid_for(game.id)]
            speakers = [
                a
                for a in usable
                if account_may_speak(
                    family,
                    used.get((a.name, game.id, family)) if family else None,
                    code.key,
                )
            ]
            if usable and not speakers:
                # Every account has redeemed a sibling: none can say anything of this one.
                async with self.sessions.begin() as session:
                    await verify_queue.leave_unverified(
                        session, code.id, f"every account has used the {family} family"
                    )
                    released = await self._release(session, self.clock())
                await self._announce(released)
                continue
            if not speakers:
                # No usable account for the game: release_held lets a waiting code go by the
                # trust rules; the code steps aside so it does not keep other games waiting.
                async with self.sessions.begin() as session:
                    await verify_queue.postpone(session, code.id, now + self.policy.recheck)
                continue
            ready = [a for a in speakers if self.pacer.is_ready(a.name, now)]
            if not ready:
                at = min(self.pacer.ready_at(a.name) or now for a in speakers)
                soonest = at if soonest is None else min(soonest, at)
                continue
            # The account idle longest goes first, spreading the asks.
            account = min(ready, key=lambda a: self.pacer.ready_at(a.name) or now)
            await self.check(code, game, account, family)
            return 0.0
        if soonest is not None:
            return max((soonest - self.clock()).total_seconds(), 0.05)
        return IDLE_SECONDS

    async def check(
        self, code: verify_queue.QueuedCode, game: Game, account: Account, family: str | None
    ) -> Checked:
        """Ask once about `code` on `account`, and write what the answer changed."""
        assert game.verify is not None
        uid = account.uid_for(game.id)
        assert uid is not None
        self.pacer.redeemed(account.name, self.clock())
        try:
            answer = await self.client.redeem(game.verify, account, uid, code.code)
        except RedeemUnavailable as exc:
            answer = Answer(Outcome.NO_VERDICT, None, str(exc), 0)
        now = self.clock()
        self.pacer.answered(account.name, answer.outcome, now)
        reason = None
        if answer.outcome is Outcome.ACCOUNT_OUT:
            reason = out_reason(answer)
            self._out.add(account.name)
            log.warning(
                "verification account %s: %s (%s)", account.name, reason, answer.describe()
            )
        step = after_answer(
            CodeCheck(code.verification, code.verified_at, code.attempts, code.not_active_since),
            answer.outcome,
            now,
            self.policy,
        )
        async with self.sessions.begin() as session:
            await verify_queue.record_account_answer(
                session, account.name, answer.describe(), now, reason
            )
            await verify_queue.record_step(
                session, code, step, answer=answer.describe(), account=account.name, now=now
            )
            if family is not None and uses_family(answer.outcome):
                await verify_queue.record_family(session, account.name, game.id, family, code.key)
            released = await self._release(session, now)
        log.info(
            "verification: %s %s on %s: %s → %s",
            game.id,
            code.code,
            account.name,
            answer.describe(),
            step.verification,
        )
        checked = Checked(game.id, code.code, account.name, answer)
        if self.on_checked is not None:
            self.on_checked(checked)
        await self._announce(released, changed=step.verified)
        return checked

    async def _release(self, session: AsyncSession, now: datetime) -> dict[int, int]:
        verifying = await verify_queue.verifying_games(session)
        released = await verify_queue.release_held(
            session,
            verifiable=self.verifiable,
            verifying=verifying - self._games_out(),
            sources={s.id: s for s in self.catalog.sources},
            now=now,
            policy=self.policy,
            order=self.delivery_order,
        )
        # Players' reports follow their code's verdict at once (the reporter's record too).
        await submissions.follow_verification(session, now, now - self.policy.wait)
        return released

    def _games_out(self) -> frozenset[str]:
        """Games no account in this process can check any more."""
        live = {g for a in self.accounts if a.name not in self._out for g in self.games_of(a)}
        return self.verifiable - live

    async def _announce(self, released: Mapping[int, int], *, changed: bool = False) -> None:
        if (released or changed) and self.on_released is not None:
            await self.on_released(released)


class VerifierTask:
    """Runs the verifier while this process holds the schedule lock, and stops it after."""

    def __init__(self, verifier: Verifier | None) -> None:
        self.verifier = verifier
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.verifier is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run(self.verifier), name="verifier")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _run(verifier: Verifier) -> None:
        try:
            await verifier.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Verification must never silence codecast: without it, the trust rules decide.
            log.exception("verification stopped; codes follow the trust rules meanwhile")


async def verify_new_codes(verifier: Verifier, wait: float) -> None:
    """For `codecast run --once`: check new codes until none waits, or for `wait` at most."""
    await verifier.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        delay = await verifier.step()
        async with verifier.sessions() as session:
            waiting = await verify_queue.waiting_count(session)
        left = deadline - loop.time()
        if not waiting or left <= 0:
            return
        if delay > 0:
            await asyncio.sleep(min(delay, IDLE_SECONDS, left))


async def check_by_hand(
    settings: Settings, catalog: Catalog, game_id: str, code: str, account_name: str | None
) -> dict[str, object]:
    """`codecast verify`: one ask on one account, the verdict as a dict (no database)."""
    game = catalog.game(game_id)
    if game.verify is None:
        raise LookupError(f"{game_id} has no redeem endpoint: its codes cannot be checked")
    if settings.verify_accounts_file is None:
        raise LookupError("CODECAST_VERIFY_ACCOUNTS_FILE is not set")
    accounts = load_accounts(settings.verify_accounts_file)
    usable = [
        a for a in accounts if a.uid_for(game.id) is not None and account_name in (None, a.name)
    ]
    if not usable:
        raise LookupError(
            f"no account {account_name!r} with a {game.id} uid"
            if account_name
            else f"no account has a uid for {game.id}"
        )
    account = usable[0]
    uid = account.uid_for(game.id)
    assert uid is not None
    async with build_http(settings.verify_timeout) as http:
        try:
            answer = await RedeemClient(http).redeem(game.verify, account, uid, code)
        except RedeemUnavailable as exc:
            answer = Answer(Outcome.NO_VERDICT, None, str(exc), 0)
    verdict = VERDICTS.get(answer.outcome)
    return {
        "game": game.id,
        "code": code.strip(),
        "account": account.name,
        "retcode": answer.retcode,
        "message": answer.message,
        "outcome": str(answer.outcome),
        "verification": str(verdict) if verdict is not None else None,
    }
