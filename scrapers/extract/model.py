"""The extractor's intermediate data: each place a code-shaped string was seen, with why."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from bot.core.domain import CodeStatus, ScrapedCode
from scrapers.extract.games import Scope


class Evidence:
    """Reasons to believe a string is a code, from where it stands on the page.

    Bit flags as plain ints: they are combined for every token of every page, and enum flag
    arithmetic costs several times more.
    """

    NONE = 0
    DATA_KEY = 1 << 0  # value of a "code"/"codes"/"exchange_code" field
    DATA_RECORD = 1 << 1  # the one code-shaped value of a record that lists rewards
    DATA_LIST = 1 << 2  # an item of a data array of code-shaped strings
    REDEEM_LINK = 1 << 3  # the code parameter of a redeem link (?code=X)
    COPY_VALUE = 1 << 4  # the value a copy button puts on the clipboard
    CODE_TEMPLATE = 1 << 5  # a wiki code-row template's code parameter
    CODE_COLUMN = 1 << 6  # a whole table cell in a column headed "Code"
    CODE_MARKUP = 1 << 7  # a whole <code>/<kbd>/`backticks` element
    EMPHASIS = 1 << 8  # a whole <b>/<strong>/**bold** element
    WHOLE = 1 << 9  # the whole table cell, list item or line is the code (or codes)
    LIST_LEAD = 1 << 10  # what a list item or line starts with
    ADJ_KEYWORD = 1 << 11  # "code: X", "X code"
    NEAR_KEYWORD = 1 << 12  # the paragraph or item speaks of codes
    CODE_SECTION = 1 << 13  # under a heading about codes
    REWARD_TAIL = 1 << 14  # followed by rewards: "- 60 Primogems", "x3"
    REDEEM_HOST = 1 << 15  # the redeem link opens the game's own redeem site


EVIDENCE_POINTS: dict[int, int] = {
    Evidence.DATA_KEY: 10,
    Evidence.DATA_RECORD: 7,
    Evidence.DATA_LIST: 5,
    Evidence.REDEEM_LINK: 10,
    Evidence.COPY_VALUE: 8,
    Evidence.CODE_TEMPLATE: 10,
    Evidence.CODE_COLUMN: 6,
    Evidence.CODE_MARKUP: 4,
    Evidence.EMPHASIS: 3,
    Evidence.WHOLE: 2,
    Evidence.LIST_LEAD: 2,
    Evidence.ADJ_KEYWORD: 4,
    Evidence.NEAR_KEYWORD: 2,
    Evidence.CODE_SECTION: 1,
    Evidence.REWARD_TAIL: 3,
    Evidence.REDEEM_HOST: 0,  # not more points: it lifts the shape's penalty (candidates.py)
}

# Evidence that comes from the page's structure declaring a code, not from typography.
STRUCTURAL = (
    Evidence.DATA_KEY
    | Evidence.DATA_RECORD
    | Evidence.REDEEM_LINK
    | Evidence.COPY_VALUE
    | Evidence.CODE_TEMPLATE
    | Evidence.CODE_COLUMN
)


@functools.lru_cache(maxsize=4096)
def points(evidence: int) -> int:
    return sum(p for flag, p in EVIDENCE_POINTS.items() if flag & evidence)


# Names of the evidence flags as `codecast extract` reports them.
EVIDENCE_NAMES: dict[int, str] = {
    Evidence.DATA_KEY: "code-field",
    Evidence.DATA_RECORD: "reward-record",
    Evidence.DATA_LIST: "code-array",
    Evidence.REDEEM_LINK: "redeem-link",
    Evidence.REDEEM_HOST: "game-redeem-site",
    Evidence.COPY_VALUE: "copy-button",
    Evidence.CODE_TEMPLATE: "wiki-template",
    Evidence.CODE_COLUMN: "code-table",
    Evidence.CODE_MARKUP: "code-markup",
    Evidence.EMPHASIS: "bold",
    Evidence.WHOLE: "alone",
    Evidence.LIST_LEAD: "list",
    Evidence.ADJ_KEYWORD: "named-code",
    Evidence.NEAR_KEYWORD: "near-code-word",
    Evidence.CODE_SECTION: "code-section",
    Evidence.REWARD_TAIL: "rewards-follow",
}


def evidence_names(evidence: int) -> tuple[str, ...]:
    """The reported names of the flags set in `evidence`, strongest first."""
    ranked = sorted(EVIDENCE_POINTS, key=lambda flag: -EVIDENCE_POINTS[flag])
    return tuple(EVIDENCE_NAMES[flag] for flag in ranked if flag & evidence)


def describe(evidence: int) -> str:
    """The names of the flags set in `evidence`, for logs and test messages."""
    names = [
        name
        for name, value in vars(Evidence).items()
        if name.isupper() and value and isinstance(value, int) and evidence & value
    ]
    return "|".join(names) or "NONE"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place where a code-shaped string stands, and what that place says about it."""

    text: str
    evidence: int
    # What the row, record or markup right around the string says (strike-through, "expired").
    status: CodeStatus = CodeStatus.UNKNOWN
    # What the section or container above says ("Expired codes", an "inactive" key).
    section_status: CodeStatus = CodeStatus.UNKNOWN
    scope: Scope = Scope.NEUTRAL
    # Strings in the same list, table column or data array: a group of codes backs each other.
    group: str | None = None
    rewards: str = ""
    # The sections the string stands in (see Section.path).
    sections: tuple[int, ...] = ()
    # Not a string but a claim that every code of the innermost of `sections` expired.
    claims_expired: bool = False
    # What gave `status` ("strike-through", "row", "wiki-template", "data-field"); empty when
    # the reader did not say.
    status_cue: str = ""
    # The expiry date the row or template gives.
    expires: datetime | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A code as the extractor found it, and why: what made it a code and what gave its
    status ("heading", "row", "strike-through", "wiki-template", "data-field", "expiry-date")."""

    code: ScrapedCode
    evidence: tuple[str, ...]
    status_from: str = ""
