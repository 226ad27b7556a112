"""The redeem endpoint's answers: retcode → outcome, one table, read by a pure function.

The endpoint answers HTTP 200 with `{"data": …, "message": "…", "retcode": N}` (recorded in
shared/fixtures/redeem). The meanings below are the ones published code checkers rely on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.verification import Outcome

# retcode: (outcome, what it means). Anything not listed is no verdict.
RETCODES: dict[int, tuple[Outcome, str]] = {
    0: (Outcome.VALID, "redeemed"),
    -2017: (Outcome.VALID, "already redeemed by this account"),
    -2018: (Outcome.VALID, "already redeemed by this account (or one of its kind)"),
    -2011: (Outcome.VALID, "game level too low to redeem; the code works"),
    -2021: (Outcome.VALID, "adventure or trailblaze level too low; the code works"),
    -2001: (Outcome.EXPIRED, "redemption code expired"),
    -1065: (Outcome.INVALID, "invalid redemption code"),
    -2003: (Outcome.INVALID, "redemption code incorrectly formatted"),
    -2004: (Outcome.INVALID, "invalid redemption code"),
    -2006: (Outcome.INVALID, "redemption code reached its usage limit"),
    -2014: (Outcome.NOT_ACTIVE, "redemption code not activated yet"),
    -2016: (Outcome.COOLDOWN, "redemption in cooldown"),
    -1071: (Outcome.ACCOUNT_OUT, "cookie expired: log in again"),
    -1073: (Outcome.ACCOUNT_OUT, "no game account bound to this login"),
    -1075: (Outcome.ACCOUNT_OUT, "login problem: log in again"),
}

# Why an account is out, in the words status shows ("verification account alt-1: …").
OUT_REASONS: dict[int, str] = {
    -1071: "cookie expired",
    -1073: "no game account for its uid",
    -1075: "login refused",
}

MAX_MESSAGE = 200


@dataclass(frozen=True)
class Answer:
    """One answer of the redeem endpoint, read."""

    outcome: Outcome
    retcode: int | None
    message: str
    http_status: int = 200

    def describe(self) -> str:
        """A short line for logs, status and the database (never holds a secret)."""
        if self.retcode is None:
            return f"HTTP {self.http_status}: {self.message}"
        return f"retcode {self.retcode}: {self.message}"


def out_reason(answer: Answer) -> str:
    """The reason an account is out, from an answer whose outcome says so."""
    if answer.retcode is None:
        return "login refused"
    return OUT_REASONS.get(answer.retcode, f"login refused (retcode {answer.retcode})")


def classify(retcode: int) -> Outcome:
    """The outcome of a retcode (the table above; anything else is no verdict)."""
    entry = RETCODES.get(retcode)
    return Outcome.NO_VERDICT if entry is None else entry[0]


def read_answer(status: int, body: bytes) -> Answer:
    """An HTTP answer of the redeem endpoint as an Answer (pure: status and bytes in)."""
    if status == 429:
        return Answer(Outcome.COOLDOWN, None, "too many requests", status)
    if status != 200:
        return Answer(Outcome.NO_VERDICT, None, "unexpected HTTP status", status)
    try:
        envelope: Any = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return Answer(Outcome.NO_VERDICT, None, "the answer is not JSON", status)
    if not isinstance(envelope, dict):
        return Answer(Outcome.NO_VERDICT, None, "the answer is not a JSON object", status)
    retcode = envelope.get("retcode")
    message = " ".join(str(envelope.get("message", "")).split())[:MAX_MESSAGE]
    if isinstance(retcode, bool) or not isinstance(retcode, int):
        return Answer(Outcome.NO_VERDICT, None, "the answer has no retcode", status)
    return Answer(classify(retcode), retcode, message, status)
