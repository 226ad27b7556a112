"""Pure rules of verification: what one redeem answer means for a code, and when to ask again.

The redeem endpoint is asked by scrapers/verify; this module decides, from plain data, what
its answer changes: the code's verification, when it is checked next, whether an account
may speak for a Zenless family, and whether a code waiting for its verdict may be announced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.domain import Verification


class Outcome(StrEnum):
    """What one answer of the redeem endpoint says (the retcode table maps onto these)."""

    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"
    # "Redemption code not activated": published before it works; asked again later.
    NOT_ACTIVE = "not-active"
    # The account redeems too fast: wait and ask again; no verdict.
    COOLDOWN = "cooldown"
    # The account cannot redeem (cookie expired, no game account): another account asks.
    ACCOUNT_OUT = "account-out"
    # Anything else, including network errors: no verdict, asked again with backoff.
    NO_VERDICT = "no-verdict"


# The verdicts a code can take from one answer; other outcomes leave it as it was.
VERDICTS: dict[Outcome, Verification] = {
    Outcome.VALID: Verification.VALID,
    Outcome.EXPIRED: Verification.EXPIRED,
    Outcome.INVALID: Verification.INVALID,
}


@dataclass(frozen=True)
class Policy:
    """The timings of verification (settings; tests shorten them)."""

    # At most one redemption per account this often.
    pace: timedelta = timedelta(seconds=6)
    # A new code waits this long for a verdict before today's trust rules decide.
    wait: timedelta = timedelta(seconds=90)
    # Codes that are valid are asked again this often, so an expiry shows without a page.
    recheck: timedelta = timedelta(minutes=30)
    # "Not activated yet" is asked again this often, for this long.
    not_active_every: timedelta = timedelta(minutes=5)
    not_active_for: timedelta = timedelta(days=2)
    # Backoff after an answer that is no verdict (network error, unknown retcode).
    retry_base: timedelta = timedelta(seconds=15)
    retry_max: timedelta = timedelta(minutes=15)
    # A new code with this many answers that were no verdict is left unverified.
    max_attempts: int = 6
    # How long an account rests after a cooldown answer or an HTTP 429 (doubled each time).
    cooldown: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class CodeCheck:
    """A code's verification as stored, as much as the rules need."""

    verification: Verification
    verified_at: datetime | None
    attempts: int
    not_active_since: datetime | None


@dataclass(frozen=True)
class Step:
    """What one answer changes: the new state and when to ask next (None: no more)."""

    verification: Verification
    verified: bool
    next_check: datetime | None
    attempts: int
    not_active_since: datetime | None


def after_answer(check: CodeCheck, outcome: Outcome, now: datetime, policy: Policy) -> Step:
    """The code's state after one answer (the family rule already applied by the caller)."""
    verdict = VERDICTS.get(outcome)
    if verdict is Verification.VALID:
        return Step(verdict, True, now + policy.recheck, 0, None)
    if verdict is not None:
        # Expired and invalid are final: HoYoverse does not bring a code back.
        return Step(verdict, True, None, 0, None)
    if outcome is Outcome.NOT_ACTIVE:
        since = check.not_active_since or now
        if now - since >= policy.not_active_for:
            # Two days without going live: no verdict, today's trust rules decide.
            return Step(Verification.UNVERIFIED, False, None, 0, since)
        return Step(Verification.PENDING, False, now + policy.not_active_every, 0, since)
    if outcome in (Outcome.COOLDOWN, Outcome.ACCOUNT_OUT):
        # Not the code's fault: ask again as soon as an account may (the queue paces it).
        return Step(check.verification, False, now, check.attempts, check.not_active_since)
    attempts = check.attempts + 1
    if check.verified_at is None and check.not_active_since is None:
        if attempts >= policy.max_attempts:
            return Step(Verification.UNVERIFIED, False, None, attempts, None)
    elif check.verification is Verification.VALID and attempts >= policy.max_attempts:
        # A valid code whose rechecks keep failing stays valid and waits for the next round.
        return Step(check.verification, False, now + policy.recheck, 0, check.not_active_since)
    return Step(
        check.verification,
        False,
        now + backoff(attempts, policy),
        attempts,
        check.not_active_since,
    )


def backoff(attempts: int, policy: Policy) -> timedelta:
    """Exponential backoff after `attempts` answers that were no verdict."""
    # The exponent is capped: past a few doublings the cap applies anyway.
    delay: timedelta = policy.retry_base * int(2 ** min(max(attempts - 1, 0), 20))
    return min(delay, policy.retry_max)


def account_rest(strikes: int, policy: Policy) -> timedelta:
    """How long an account rests after its `strikes`-th cooldown or 429 in a row."""
    rest: timedelta = policy.cooldown * int(2 ** min(max(strikes - 1, 0), 20))
    return min(rest, timedelta(minutes=30))


def family_of(pattern: str | None, code: str) -> str | None:
    """The family a code belongs to (the start `pattern` matches, upper-cased), if any."""
    if pattern is None:
        return None
    found = re.match(pattern, code.strip(), re.IGNORECASE)
    return found.group(0).upper() if found else None


def account_may_speak(family: str | None, used_by: str | None, code_key: str) -> bool:
    """Whether an account's answer on a code is a verdict, by the family rule.

    An account that redeemed one code of a family cannot redeem a sibling, so its answer on
    the sibling says nothing of the sibling: `used_by` is the code that used the family on
    this account (None when unused), `code_key` the code being asked.
    """
    return family is None or used_by is None or used_by == code_key


def uses_family(outcome: Outcome) -> bool:
    """Whether an answer shows the account has now used the code's family."""
    return outcome is Outcome.VALID


class Gate(StrEnum):
    """Whether a code waiting for announcement may go out now."""

    ANNOUNCE = "announce"
    HOLD = "hold"
    # Never announced: HoYoverse rejects it, or says it expired.
    DROP = "drop"
    # No verdict: today's trust rules decide.
    TRUST_RULES = "trust-rules"


def gate(
    verification: Verification,
    first_seen: datetime,
    not_active_since: datetime | None,
    now: datetime,
    policy: Policy,
) -> Gate:
    """The announcement rule for a code of a verifiable game (DESIGN.md, rules of the domain).

    Valid goes out at once, even from a page source alone; invalid and expired never do; a
    code waiting for its first answer waits `policy.wait` at most, then the trust rules
    decide; a code that is "not activated yet" waits until it goes live (or gives up).
    """
    if verification is Verification.VALID:
        return Gate.ANNOUNCE
    if verification in (Verification.INVALID, Verification.EXPIRED):
        return Gate.DROP
    if verification is Verification.PENDING:
        if not_active_since is not None:
            return Gate.HOLD
        if now - first_seen < policy.wait:
            return Gate.HOLD
    return Gate.TRUST_RULES


@dataclass
class _Pace:
    next_at: datetime
    strikes: int = 0


class Pacer:
    """One redemption per account per `policy.pace`; a cooldown or 429 rests the account.

    The clock is passed in, so the rule is testable without waiting. One verifier process
    owns a Pacer (on PostgreSQL only the scheduler lock's holder verifies).
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._accounts: dict[str, _Pace] = {}

    def ready_at(self, account: str) -> datetime | None:
        pace = self._accounts.get(account)
        return None if pace is None else pace.next_at

    def is_ready(self, account: str, now: datetime) -> bool:
        pace = self._accounts.get(account)
        return pace is None or pace.next_at <= now

    def redeemed(self, account: str, at: datetime) -> None:
        """A redemption was sent at `at`: the next may go `policy.pace` later."""
        pace = self._accounts.setdefault(account, _Pace(at))
        pace.next_at = max(pace.next_at, at + self.policy.pace)

    def answered(self, account: str, outcome: Outcome, at: datetime) -> None:
        """An answer came: a cooldown rests the account, longer each time in a row."""
        pace = self._accounts.setdefault(account, _Pace(at + self.policy.pace))
        if outcome is Outcome.COOLDOWN:
            pace.strikes += 1
            pace.next_at = max(pace.next_at, at + account_rest(pace.strikes, self.policy))
        elif outcome is not Outcome.NO_VERDICT:
            pace.strikes = 0
