"""What the words around a code say: "code"/"redeem" nearby, expired or active, rewards after."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.domain import CodeStatus
from scrapers.dates import parse_date
from scrapers.extract.games import GameScope, Scope

# Words that say "this is about codes", in the languages code pages come in.
_KEYWORD = (
    r"(?:promo(?:tional)?[\s-]*|gift[\s-]*|redeem[\s-]*|redemption[\s-]*|exchange[\s-]*"
    r"|reward[\s-]*|bonus[\s-]*|livestream[\s-]*|serial[\s-]*)?codes?"
    r"|redeem\w*|redemption|coupons?|cd-?keys?|c[óo]digos?|gutscheine?|kode"
    r"|兑换码|兌換碼|礼包码|禮包碼|激活码|序號|コード|シリアル|쿠폰|코드"
)
KEYWORD = re.compile(rf"(?<![a-z])(?:{_KEYWORD})(?![a-z])", re.IGNORECASE)

# "code: X", "code X", "codes are X", "兑换码为：X" — the keyword right before the token.
_KEYWORD_BEFORE = re.compile(
    rf"(?:{_KEYWORD})\s*(?:#?\d{{1,2}}\s*)?(?:(?:is|are|was|were|for|here|below|now|ist|es|est"
    r"|为|是)\s*)?[:：=\-–—]?\s*[\"'“‘「『(]?\s*$",
    re.IGNORECASE,
)
# "X code", "X is a code", "X (code)". Singular only: "NATLAN codes" names a topic.
_KEYWORD_AFTER = re.compile(
    r"^\s*[\"'”’」』)]?\s*(?:\((?:new\s+)?code\)|(?:is\s+(?:an?|the)\s+(?:\w+\s+){0,2})?code\b)",
    re.IGNORECASE,
)

_EXPIRED = re.compile(
    r"(?<![a-z])(?:expired|inactive|invalid|no\s+longer\s+(?:work\w*|valid|active|available|redeemable|usable)"
    r"|not\s+working|outdated|deactivated|unavailable|abgelaufen|expirée?s?|expirados?|caducad[oa]s?|vencid[oa]s?"
    r"|inactiv[oa]s?|inativ[oa]s?|ungültige?n?|inactifs?|inactives?"
    r"|已失效|失效|已过期|过期|期限切れ|終了|만료)(?![a-z])",
    re.IGNORECASE,
)
_ACTIVE = re.compile(
    r"(?<![a-z])(?:active|working|valid(?!\s*(?:until|till|through|thru|to|from|for)\b)|current(?:ly)?"
    r"|available|unexpired|latest|new|newest|live\s+codes?|still\s+work(?:s|ing)?"
    r"|activ[oa]s|ativ[oa]s|vigentes"
    r"|v[aá]lid[oa]s|disponibles|dispon[ií]veis|aktive?n?|g[uü]ltige?n?|actifs|actives"
    r"|有效|可用|最新|利用可能|사용\s*가능)(?![a-z])",
    re.IGNORECASE,
)
# Row-level words are stricter: "new" or "latest" next to one code is not a status.
_ROW_ACTIVE = re.compile(
    r"(?<![a-z])(?:active|working|valid(?!\s*(?:until|till|through|thru|to|from|for)\b))(?![a-z])",
    re.IGNORECASE,
)

# Rewards after a code: "x3", "×60", "60 Primogems", "10,000 Credits".
_REWARD = re.compile(
    r"[x×]\s?\d|\d\s?[x×](?![a-z0-9])|\d[\d,.]*\s*[kK]?\s+[^\W\d_]", re.IGNORECASE
)


def has_keyword(text: str) -> bool:
    return KEYWORD.search(text) is not None


# "Codes/Series Numbers: X", "Redeem code (global server): X", "two codes work at the moment -
# X and Y": a clause that names codes, then a colon or a spaced dash right before the token.
_KEYWORD_LABEL = re.compile(
    rf"(?:{_KEYWORD})[^.!?\n:：]{{0,40}}(?:[:：]|\s[-–—])\s*$", re.IGNORECASE
)


_LABEL_ENDS = frozenset(":：-–—")


def keyword_adjacent(before: str, after: str) -> bool:
    """True when a code keyword stands right before or right after a token."""
    if _KEYWORD_BEFORE.search(before[-40:]) or _KEYWORD_AFTER.match(after[:40]):
        return True
    # The label form needs a colon or dash right before the token: looked for only then.
    near = before[-60:]
    return near.rstrip()[-1:] in _LABEL_ENDS and _KEYWORD_LABEL.search(near) is not None


# Words in scripts and languages whose letters the patterns above do not bound ("неактивні"
# holds "активні"): a word here stands alone between non-letters.
_EXPIRED_WORDS = re.compile(
    r"(?<![^\W\d_])(?:истекшие|истёкшие|устаревшие|неактивные|недействительные|просроченные"
    r"|застарілі|неактивні|недійсні|прострочені|hết\s+hạn|hết\s+hiệu\s+lực|kedaluwarsa"
    r"|kadaluarsa|kedaluarsa)(?![^\W\d_])",
    re.IGNORECASE,
)
_ACTIVE_WORDS = re.compile(
    r"(?<![^\W\d_])(?:активные|актуальные|действующие|рабочие|активні|актуальні|діючі|робочі"
    r"|còn\s+hiệu\s+lực|đang\s+hoạt\s+động|aktif|berlaku)(?![^\W\d_])",
    re.IGNORECASE,
)


def heading_status(text: str) -> CodeStatus:
    """The status a section heading claims for the codes under it."""
    expired = _EXPIRED.search(text) is not None or _EXPIRED_WORDS.search(text) is not None
    active = _ACTIVE.search(text) is not None or _ACTIVE_WORDS.search(text) is not None
    if expired and not active:
        return CodeStatus.EXPIRED
    if active and not expired:
        return CodeStatus.ACTIVE
    return CodeStatus.UNKNOWN


def row_status(text: str) -> CodeStatus:
    """The status the words of one row or list item state for its codes."""
    if _EXPIRED.search(text):
        return CodeStatus.EXPIRED
    if _ROW_ACTIVE.search(text):
        return CodeStatus.ACTIVE
    return CodeStatus.UNKNOWN


# "CODE (expired)", "CODE [Expired]", "CODE – expired": a mark right after one code.
_MARK_AFTER = re.compile(
    rf"^\s*(?:[(\[（【]\s*(?P<bracketed>{_EXPIRED.pattern})\s*[)\]）】]"
    rf"|[-–—:]\s*(?P<dashed>{_EXPIRED.pattern})(?![^\W\d_]))",
    re.IGNORECASE,
)


def status_after(text: str) -> CodeStatus:
    """The status a mark right after a token gives it ("(expired)"), from the next few chars."""
    return CodeStatus.EXPIRED if _MARK_AFTER.match(text[:40]) else CodeStatus.UNKNOWN


# "Expires: September 2, 2026", "valid until 2026-09-20", "expired on 14 Sep 2026": the words
# that put an expiry date after them, in the languages the status words come in.
_EXPIRY_WORDS = re.compile(
    r"(?<![^\W\d_])(?:expir(?:es|ed|y|ation|ing)?(?:\s+(?:on|at|date))?"
    r"|valid\s+(?:until|till|through|thru|to)|until|ends?(?:\s+on)?|deadline"
    r"|caduca|vence|expira|gültig\s+bis|läuft\s+ab|jusqu'?(?:au|à)|истекает)"
    r"(?![^\W\d_])\s*[:：]?\s*",
    re.IGNORECASE,
)
_EXPIRY_DATE_CHARS = 60


def row_expiry(text: str) -> datetime | None:
    """The expiry date a row states ("Valid until: 2026-09-20 03:59"), or None.

    A table row is read once, not once per cell: blocks.Row keeps what it says.
    """
    for match in _EXPIRY_WORDS.finditer(text):
        moment = parse_date(text[match.end() : match.end() + _EXPIRY_DATE_CHARS])
        if moment is not None:
            return moment
    return None


# A letters-and-digits run: a line holding one lists codes, it does not label them.
_CODEY = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6,}")
_LABEL_CHARS = 80


# A line alone in its paragraph heads what follows only when this short.
_ALONE_LABEL_CHARS = 40


def is_label(text: str, *, bold: bool, alone: bool = False) -> bool:
    """A short line that works as a heading: "Expired codes:", a bold "Active codes", or a
    line alone in its paragraph that names codes and their status ("Active codes", as a page
    reads once its heading tags are gone)."""
    text = text.strip()
    if not text or len(text) > _LABEL_CHARS or _CODEY.search(text):
        return False
    if bold or text.endswith((":", "：")):
        return heading_status(text) is not CodeStatus.UNKNOWN or has_keyword(text)
    return (
        alone
        and len(text) <= _ALONE_LABEL_CHARS
        and not text.endswith((".", "!", "?", "。"))
        and has_keyword(text)
        and heading_status(text) is not CodeStatus.UNKNOWN
    )


# "These codes have since expired", "It expired on September 14": prose saying that the
# codes of its section (before or after it) are expired.
_SECTION_EXPIRED = re.compile(
    r"(?<![a-z])(?:(?:these|those|this|the\s+above|all\s+(?:of\s+)?(?:these|the\s+above)|both)"
    r"\s+(?:codes?|ones?)|it|they)\s+(?:(?:has|have|had|are|is|were|was)\s+)?(?:now\s+|since\s+|all\s+"
    r"|already\s+)?(?:expired|ended|no\s+longer\s+(?:work|valid|active|available|redeemable))",
    re.IGNORECASE,
)


_CONDITIONAL = re.compile(
    r"(?:once|when|if|before|after|until|unless|soon\s+as|whether"
    r"|(?:some|most|many|few|several|none|any|one|two|not\s+all)\s+of)\W+$",
    re.IGNORECASE,
)


def says_section_expired(text: str) -> bool:
    """True for a short statement that the codes around it expired (not "once they expired")."""
    if len(text) > 400:
        return False
    for match in _SECTION_EXPIRED.finditer(text):
        if not _CONDITIONAL.search(text[max(0, match.start() - 20) : match.start()]):
            return True
    return False


# Rewards follow a code closely: only this much of the text after it is read for them.
REWARDS_LOOKAHEAD = 200


def looks_like_rewards(text: str) -> bool:
    return _REWARD.search(text[:REWARDS_LOOKAHEAD]) is not None


@dataclass(frozen=True, slots=True)
class Section:
    """What the headings above a point of a page say about the codes there."""

    status: CodeStatus = CodeStatus.UNKNOWN
    scope: Scope = Scope.NEUTRAL
    about_codes: bool = False
    # The sections (h2 and deeper) this point is in, outermost first: prose in one of them
    # can speak for all its codes at once ("these codes have expired").
    path: tuple[int, ...] = ()


_LOCAL_LEVEL = 2


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    status: CodeStatus
    scope: Scope | None
    about_codes: bool
    id: int = 0


class HeadingTrail:
    """The headings in force at a point of a document, outermost first."""

    def __init__(self, scope: GameScope) -> None:
        self._scope = scope
        self._stack: list[_Heading] = []
        self._section = Section()
        self._ids = itertools.count(1)

    def enter(self, level: int, text: str) -> None:
        """A heading of `level` (1 = outermost) closes deeper or equal ones and opens its own."""
        text = text[:300]
        while self._stack and self._stack[-1].level >= level:
            self._stack.pop()
        self._stack.append(
            _Heading(
                level,
                heading_status(text),
                self._scope.of_text(text),
                has_keyword(text),
                next(self._ids),
            )
        )
        self._section = self._compute()

    def mark(self, status: CodeStatus) -> None:
        """A marker inside the current section (a comment such as <!-- expired -->)."""
        if status is CodeStatus.UNKNOWN:
            return
        level = self._stack[-1].level + 1 if self._stack else 1
        while self._stack and self._stack[-1].level >= level:
            self._stack.pop()
        self._stack.append(_Heading(level, status, None, False, next(self._ids)))
        self._section = self._compute()

    @property
    def section(self) -> Section:
        return self._section

    def _compute(self) -> Section:
        status = CodeStatus.UNKNOWN
        scope = Scope.NEUTRAL
        about = False
        # The page title and h1 name the whole page; what is said under them is too general.
        path = tuple(h.id for h in self._stack if h.level >= _LOCAL_LEVEL)
        # The deepest heading that says something wins: "Expired" under "Active codes" and
        # a heading naming another game under the page's title both override what is above.
        for heading in self._stack:
            if heading.status is not CodeStatus.UNKNOWN:
                status = heading.status
            if heading.scope is not None:
                scope = heading.scope
            about = about or heading.about_codes
        return Section(status, scope, about, path)


def with_status(section: Section, status: CodeStatus) -> Section:
    """A section narrowed by a container's own status (a table caption, a data key)."""
    if status is CodeStatus.UNKNOWN:
        return section
    return replace(section, status=status)
