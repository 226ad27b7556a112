"""Turning occurrences into codes: score each string by where it stood and how it looks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.domain import MAX_REWARDS_LENGTH, CodeStatus, Game, ScrapedCode
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.model import Evidence, Occurrence, points
from scrapers.extract.shape import SHAPE_POINTS, STRONG_SHAPES, Shape, classify
from scrapers.extract.vocabulary import is_word

# A string becomes a code at this many points. Structure alone (a "code" field, a redeem link,
# a wiki code row) reaches it for anything but a plain lower-case or title-case word; typography
# (bold, a list item, a table cell) needs a code-like shape or the word "code" nearby too.
THRESHOLD = 7
# Being one of several code-shaped strings in the same list or column.
GROUP_BONUS = 2
# A page listing more than this many codes for one game is a dump of something else.
MAX_CODES = 2000
# Codes shorter than this exist (Star Rail's OMEGA and MH5KC, Honkai Impact 3rd's TRUTH), but
# five characters are mostly words and abbreviations: such a string is a code only where the
# page's structure declares one, never from prose or typography alone.
SHORT_CODE = 6
_DECLARING = (
    Evidence.REDEEM_LINK
    | Evidence.COPY_VALUE
    | Evidence.CODE_TEMPLATE
    | Evidence.CODE_COLUMN
    | Evidence.DATA_KEY
)
# An ordinary word in lower or title case ("Copied", "expired") is button or label text even in
# a code column; only a redeem link, a copy button, a wiki template or a "code" field makes it
# a code.
_NAMING = Evidence.REDEEM_LINK | Evidence.COPY_VALUE | Evidence.CODE_TEMPLATE | Evidence.DATA_KEY


@dataclass
class _Candidate:
    spelling: str
    score: int
    rewards: str = ""
    statuses: set[CodeStatus] = field(default_factory=set)
    section_statuses: set[CodeStatus] = field(default_factory=set)
    # Listed under a heading about codes that claims no status ("Genshin Impact codes").
    in_plain_code_section: bool = False


def resolve(occurrences: Iterable[Occurrence], game: Game, scope: GameScope) -> list[ScrapedCode]:
    """The codes among the occurrences, in page order, deduplicated case-insensitively."""
    shapes: dict[str, Shape] = {}

    def shape_of(text: str) -> Shape:
        found = shapes.get(text)
        if found is None:
            found = classify(text, game, scope)
            shapes[text] = found
        return found

    occurrences = list(occurrences)
    # Sections whose prose says their codes expired ("These codes have since expired").
    expired_sections = {o.sections[-1] for o in occurrences if o.claims_expired and o.sections}
    # A code whose redeem link opens another game's site is that game's code, wherever
    # else on the page it is written.
    foreign = {
        occ.text.upper()
        for occ in occurrences
        if occ.scope is Scope.OTHER and occ.evidence & Evidence.REDEEM_LINK
    }
    kept: list[Occurrence] = []
    group_members: dict[str, dict[str, Shape]] = {}
    for occ in occurrences:
        if occ.scope is Scope.OTHER or not game.matches(occ.text) or occ.text.upper() in foreign:
            continue
        shape = shape_of(occ.text)
        if shape is Shape.REJECT:
            continue
        if (
            shape in (Shape.TITLE, Shape.LOWER)
            and not occ.evidence & _NAMING
            and is_word(occ.text)
        ):
            continue
        kept.append(occ)
        if occ.group is not None:
            group_members.setdefault(occ.group, {})[occ.text.upper()] = shape
    good_groups = {name for name, members in group_members.items() if _is_code_group(members)}

    candidates: dict[str, _Candidate] = {}
    for occ in kept:
        if len(occ.text) < SHORT_CODE and not _declares_short(occ, good_groups):
            continue
        shape = shape_of(occ.text)
        shape_points = SHAPE_POINTS[shape]
        if shape is Shape.BRAND and occ.evidence & Evidence.CODE_TEMPLATE:
            # A wiki's code template says so itself: "{{Code Row|YuanShen|CN|…}}".
            shape_points = 0
        elif occ.evidence & Evidence.REDEEM_HOST and shape is not Shape.BRAND:
            # The game's own redeem site opened with this code: whatever it looks like.
            shape_points = max(shape_points, 0)
        score = points(occ.evidence) + shape_points
        if occ.group in good_groups and shape_points >= 0:
            score += GROUP_BONUS
        key = occ.text.upper()
        cand = candidates.get(key)
        if cand is None:
            cand = candidates[key] = _Candidate(occ.text, score)
        elif score > cand.score:
            # The score improves; the spelling stays the one the page showed first.
            cand.score = score
        if occ.rewards and not cand.rewards:
            cand.rewards = occ.rewards[:MAX_REWARDS_LENGTH]
        # Only places that make the string a code on their own speak for its status: a code
        # merely mentioned in prose under "Expired codes" is not thereby expired.
        if score >= THRESHOLD:
            cand.statuses.add(occ.status)
            section_status = occ.section_status
            if section_status is CodeStatus.UNKNOWN and expired_sections.intersection(
                occ.sections
            ):
                section_status = CodeStatus.EXPIRED
            cand.section_statuses.add(section_status)
            if occ.evidence & Evidence.CODE_SECTION and occ.section_status is CodeStatus.UNKNOWN:
                cand.in_plain_code_section = True

    accepted = [c for c in candidates.values() if c.score >= THRESHOLD][:MAX_CODES]
    # A page that keeps its expired codes under their own heading says, by that, that the
    # codes it lists under its other code headings are the ones still working.
    split_page = any(CodeStatus.EXPIRED in c.section_statuses for c in accepted)
    return [
        ScrapedCode(code=c.spelling, status=_status(c, split_page), rewards=c.rewards)
        for c in accepted
    ]


_BEST_SHAPE = max(SHAPE_POINTS.values())


def could_qualify(evidence: int, *, grouped: bool) -> bool:
    """False when a place gives too little evidence for any string to become a code there."""
    return points(evidence) + _BEST_SHAPE + (GROUP_BONUS if grouped else 0) >= THRESHOLD


def _declares_short(occ: Occurrence, good_groups: set[str]) -> bool:
    """Whether the page's structure declares a short string a code (a code span counts only
    among other codes)."""
    if occ.evidence & _DECLARING:
        return True
    return bool(occ.evidence & Evidence.CODE_MARKUP) and occ.group in good_groups


def _is_code_group(members: dict[str, Shape]) -> bool:
    """Several code-looking strings side by side, at least one with digits in it."""
    good = [s for s in members.values() if SHAPE_POINTS[s] >= 1]
    return len(good) >= 2 and (any(s in STRONG_SHAPES for s in good) or len(good) >= 3)


def _status(cand: _Candidate, split_page: bool) -> CodeStatus:
    # Any explicit "expired" wins: an expired code announced is worse than an active one held.
    if CodeStatus.EXPIRED in cand.statuses or CodeStatus.EXPIRED in cand.section_statuses:
        return CodeStatus.EXPIRED
    if CodeStatus.ACTIVE in cand.statuses or CodeStatus.ACTIVE in cand.section_statuses:
        return CodeStatus.ACTIVE
    if split_page and cand.in_plain_code_section:
        return CodeStatus.ACTIVE
    return CodeStatus.UNKNOWN
