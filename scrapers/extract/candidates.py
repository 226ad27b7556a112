"""Turning occurrences into codes: score each string by where it stood and how it looks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.domain import MAX_REWARDS_LENGTH, CodeStatus, Game, ScrapedCode
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.model import Evidence, Finding, Occurrence, evidence_names, points
from scrapers.extract.shape import SHAPE_POINTS, STRONG_SHAPES, Shape, classify
from scrapers.extract.vocabulary import camel_parts, is_word

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
# Structure that names one string a code: a redeem link, a copy button, a wiki code row.
_EXPLICIT = Evidence.REDEEM_LINK | Evidence.COPY_VALUE | Evidence.CODE_TEMPLATE
# Structure that holds codes: a "code" column or field, a code span. A short string there is a
# code when it has digits, stands among other codes, or has a status of its own; "ERROR" in a
# lone "code" field and "NOTES" in a code column are not.
_HOLDING = Evidence.CODE_COLUMN | Evidence.DATA_KEY | Evidence.CODE_MARKUP
# An ordinary word in lower or title case ("Copied", "expired") is button or label text even in
# a code column; only a redeem link, a copy button, a wiki template or a "code" field makes it
# a code.
_NAMING = Evidence.REDEEM_LINK | Evidence.COPY_VALUE | Evidence.CODE_TEMPLATE | Evidence.DATA_KEY


_DATA = Evidence.DATA_KEY | Evidence.DATA_RECORD | Evidence.DATA_LIST


@dataclass
class _Candidate:
    spelling: str
    score: int
    rewards: str = ""
    # Each status a place states, with what stated it ("row", "heading", ...).
    statuses: dict[CodeStatus, str] = field(default_factory=dict)
    section_statuses: dict[CodeStatus, str] = field(default_factory=dict)
    # Listed under a heading about codes that claims no status ("Genshin Impact codes").
    in_plain_code_section: bool = False
    # The evidence of the places that make the string a code on their own.
    evidence: int = 0
    expires: datetime | None = None


def resolve(
    occurrences: Iterable[Occurrence], game: Game, scope: GameScope, now: datetime
) -> list[Finding]:
    """The codes among the occurrences, in page order, deduplicated case-insensitively.

    A code's status is what the page states, strongest first: an "expired" anywhere it is
    listed, then "active", then an expiry date compared with `now`, then what its place on a
    page that keeps expired codes apart implies.
    """
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
    kept = [occ for occ in kept if _held(occ, shape_of(occ.text), good_groups)]

    candidates: dict[str, _Candidate] = {}
    for occ in kept:
        shape = shape_of(occ.text)
        shape_points = SHAPE_POINTS[shape]
        if shape is Shape.BRAND and occ.evidence & Evidence.CODE_TEMPLATE:
            # A wiki's code template says so itself: "{{Code Row|YuanShen|CN|…}}".
            shape_points = 0
        elif occ.evidence & Evidence.REDEEM_HOST and shape is not Shape.BRAND:
            # The game's own redeem site opened with this code: whatever it looks like.
            shape_points = max(shape_points, 0)
        elif (
            shape in (Shape.CAMEL, Shape.CAMEL_WORDS)
            and occ.evidence & Evidence.ADJ_KEYWORD
            and _named_after_game(occ.text, scope)
        ):
            # "the codes GenshinGalaxy and GenshinEpic": the game's name opening a word the
            # page calls a code (and only then: tools are named that way too).
            shape_points = SHAPE_POINTS[Shape.TAGGED]
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
            _note_place(cand, occ, expired_sections)

    accepted = [c for c in candidates.values() if c.score >= THRESHOLD][:MAX_CODES]
    # A page that keeps its expired codes under their own heading says, by that, that the
    # codes it lists under its other code headings are the ones still working.
    split_page = any(CodeStatus.EXPIRED in c.section_statuses for c in accepted)
    findings = []
    for cand in accepted:
        status, status_from = _status(cand, split_page, now)
        code = ScrapedCode(
            code=cand.spelling, status=status, rewards=cand.rewards, expires_at=cand.expires
        )
        findings.append(Finding(code, evidence_names(cand.evidence), status_from))
    return findings


def _note_place(cand: _Candidate, occ: Occurrence, expired_sections: set[int]) -> None:
    """What a place that makes the string a code says: evidence, status, expiry."""
    cand.evidence |= occ.evidence
    data = bool(occ.evidence & _DATA)
    if occ.status is not CodeStatus.UNKNOWN:
        default = "wiki-template" if occ.evidence & Evidence.CODE_TEMPLATE else "row"
        cue = occ.status_cue or ("data-field" if data else default)
        cand.statuses.setdefault(occ.status, cue)
    section_status = occ.section_status
    cue = "data-key" if data else "heading"
    if section_status is CodeStatus.UNKNOWN and expired_sections.intersection(occ.sections):
        section_status, cue = CodeStatus.EXPIRED, "section-prose"
    if section_status is not CodeStatus.UNKNOWN:
        cand.section_statuses.setdefault(section_status, cue)
    if occ.evidence & Evidence.CODE_SECTION and occ.section_status is CodeStatus.UNKNOWN:
        cand.in_plain_code_section = True
    if cand.expires is None and occ.expires is not None:
        cand.expires = occ.expires


_BEST_SHAPE = max(SHAPE_POINTS.values())


def could_qualify(evidence: int, *, grouped: bool) -> bool:
    """False when a place gives too little evidence for any string to become a code there."""
    return points(evidence) + _BEST_SHAPE + (GROUP_BONUS if grouped else 0) >= THRESHOLD


def _named_after_game(text: str, scope: GameScope) -> bool:
    """ "GenshinGalaxy": the game's name, then capitalised words (no acronyms, no digits)."""
    upper = text.upper()
    for prefix in scope.code_prefixes:
        rest = text[len(prefix) :]
        if upper.startswith(prefix) and len(rest) >= 3 and rest[0].isupper():
            parts = camel_parts(rest)
            return all(len(p) > 1 and p[0].isupper() and p[1:].islower() for p in parts)
    return False


def _held(occ: Occurrence, shape: Shape, good_groups: set[str]) -> bool:
    """Whether a place can make the string a code: any place for most strings; for a short
    one, structure that declares it; for a word in capitals held only by a "code" field, a
    record that states its status or sits among other codes."""
    short = len(occ.text) < SHORT_CODE
    if not short and not (shape is Shape.CAPS_WORD and occ.evidence & Evidence.DATA_KEY):
        return True
    if occ.evidence & _EXPLICIT:
        return True
    if not occ.evidence & (_HOLDING if short else Evidence.DATA_KEY):
        return False
    return (
        (short and any(ch.isdigit() for ch in occ.text))
        or occ.group in good_groups
        or occ.status is not CodeStatus.UNKNOWN
    )


def _is_code_group(members: dict[str, Shape]) -> bool:
    """Several code-looking strings side by side, at least one with digits in it."""
    good = [s for s in members.values() if SHAPE_POINTS[s] >= 1]
    return len(good) >= 2 and (any(s in STRONG_SHAPES for s in good) or len(good) >= 3)


def _status(cand: _Candidate, split_page: bool, now: datetime) -> tuple[CodeStatus, str]:
    # Any explicit "expired" wins: an expired code announced is worse than an active one held.
    for status in (CodeStatus.EXPIRED, CodeStatus.ACTIVE):
        if status in cand.statuses:
            return status, cand.statuses[status]
        if status in cand.section_statuses:
            return status, cand.section_statuses[status]
    if cand.expires is not None:
        expired = cand.expires <= now
        return (CodeStatus.EXPIRED if expired else CodeStatus.ACTIVE), "expiry-date"
    if split_page and cand.in_plain_code_section:
        return CodeStatus.ACTIVE, "other-headings"
    return CodeStatus.UNKNOWN, ""
