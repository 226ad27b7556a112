"""HoYoverse's redeem endpoint: the client, the answers it gives, and the operator's accounts."""

from __future__ import annotations

from scrapers.verify.accounts import Account, AccountsFileError, GameUid, load_accounts
from scrapers.verify.answers import RETCODES, Answer, classify, out_reason, read_answer
from scrapers.verify.client import (
    RedeemClient,
    RedeemRequest,
    RedeemUnavailable,
    build_http,
    redeem_request,
)

__all__ = [
    "RETCODES",
    "Account",
    "AccountsFileError",
    "Answer",
    "GameUid",
    "RedeemClient",
    "RedeemRequest",
    "RedeemUnavailable",
    "build_http",
    "classify",
    "load_accounts",
    "out_reason",
    "read_answer",
    "redeem_request",
]
