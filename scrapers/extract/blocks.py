"""Text blocks shared by the HTML, Markdown and wikitext readers, and the codes in them."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from bot.core.domain import MAX_REWARDS_LENGTH, CodeStatus, Game
from scrapers.extract.candidates import could_qualify
from scrapers.extract.context import (
    KEYWORD,
    REWARDS_LOOKAHEAD,
    Section,
    has_keyword,
    keyword_adjacent,
    looks_like_rewards,
    row_expiry,
    row_status,
    says_section_expired,
    status_after,
)
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.model import Evidence, Occurrence
from scrapers.extract.shape import find_tokens
from scrapers.extract.urls import mask_urls, redeem_link

# One block's text is cut here: a code list item or table cell is never this long.
MAX_BLOCK_CHARS = 20_000
# A paragraph longer than this is prose about many things; its "expired" is not per code.
_MAX_STATUS_PARAGRAPH = 240
# Only this much of a row is read for another game's name.
_MAX_SCOPE_ROW = 400
# Only this much of a column's header is read for "code": it is read again for every cell.
_MAX_COLUMN = 300


class Mark:
    """Inline markup around a piece of text, as int bit flags (see Evidence for why)."""

    NONE = 0
    CODE = 1  # <code>, <kbd>, `backticks`
    EMPHASIS = 2  # <b>, <strong>, **bold**
    STRIKE = 4  # <s>, <del>, <strike>, ~~text~~


class BlockKind(Enum):
    LIST_ITEM = "list-item"
    CELL = "cell"
    LINE = "line"  # one line of a paragraph or a code block, read like a list item
    PARAGRAPH = "paragraph"


@dataclass(slots=True)
class Span:
    text: str
    marks: int = Mark.NONE
    # The innermost code or emphasis element this text is in (0: none); a token that is the
    # whole text of its element is "in bold" or "in code", not merely touching it.
    element: int = 0
    # The node the text came from: a token running across two elements
    # ("<span>1</span><a>Dehya ...</a>") is two things side by side, not one word.
    origin: int = 0


class Row:
    """The whole row or list item blocks belong to (for "expired", expiry and rewards).

    What the row says is read once, however many cells it has: a row of thousands of cells
    read once per cell would cost the square of its length.
    """

    __slots__ = ("_expires", "_rewards", "_scope", "_status", "text")

    def __init__(self, text: str) -> None:
        self.text = text[:MAX_BLOCK_CHARS]
        self._status: CodeStatus | None = None
        self._expires: tuple[datetime | None] | None = None
        self._rewards: bool | None = None
        self._scope: tuple[Scope | None] | None = None

    @property
    def status(self) -> CodeStatus:
        """The status the row's words state for its codes."""
        if self._status is None:
            self._status = row_status(self.text) if self.text else CodeStatus.UNKNOWN
        return self._status

    @property
    def expires(self) -> datetime | None:
        """The expiry date the row states."""
        if self._expires is None:
            self._expires = (row_expiry(self.text) if self.text else None,)
        return self._expires[0]

    def rest(self, cell: str) -> str:
        """The row without a cell's text (where it first stands): a cell's code's rewards."""
        return self.text.replace(cell, " ", 1)

    def rest_looks_like_rewards(self, cell: str) -> bool:
        """Whether the row without the cell starts like rewards; the same for every cell that
        first stands past what looks_like_rewards reads, so that is decided once."""
        at = self.text.find(cell)
        if 0 <= at < REWARDS_LOOKAHEAD:
            return looks_like_rewards(self.rest(cell))
        if self._rewards is None:
            self._rewards = looks_like_rewards(self.text)
        return self._rewards

    def game(self, scope: GameScope) -> Scope | None:
        """The game the row names (a row belongs to one reader, so to one GameScope)."""
        if self._scope is None:
            self._scope = (scope.of_text(self.text[:_MAX_SCOPE_ROW]),)
        return self._scope[0]


@dataclass(slots=True)
class Block:
    kind: BlockKind
    spans: list[Span]
    section: Section
    group: str | None = None
    # The header of the column a cell is in.
    column: str = ""
    row: Row | None = None
    links: list[str] = field(default_factory=list)
    # Whether the text around the block (the paragraph a line is in) speaks of codes,
    # decided once for the whole paragraph; None: the block's own text decides.
    keyword_nearby: bool | None = None


_LEAD_START = re.compile(r"^[\s•·*+>#\-–—\"'`“‘(\[]*(?:\d{1,3}[.)]\s*)?$")
# Between two codes of a list; an opening bracket starts a note ("CODE (Zenless Zone Zero)").
# The first run is possessive: the runs on both sides of the word share spaces and quotes, and
# handing them back one by one would cost the square of a long run; no separator starts with
# one of them, so taking them all first never loses a match.
_LEAD_JOIN = re.compile(
    r"^[\s\"'`”’)\]]*+(?:[/,;&|+]|\band\b|\bor\b|\bou\b|、|，|；)?[\s\"'`“‘]*$", re.I
)
_PROSE = frozenset({BlockKind.PARAGRAPH, BlockKind.LINE})
# A tail that starts with a digit follows a token split off a glued reward amount (shape.py):
# the lost cell separator.
_REWARD_SEPARATOR = re.compile(r"^(?:\s*(?:[-–—:：|(\[=>→•·]|\s{2,}|$)|\d)")
# How far from "code" a token may stand to be "right after" or "right before" it.
_REACH = 45
_QUANTITY_TAIL = re.compile(r"^\s*[x×*]\s?\d", re.IGNORECASE)
_LABEL_TAIL = re.compile(r"^\s*[:：]\s*[^\W\d_]+\s+[^\W\d_]+")
_TAIL_TRIM = re.compile(r"^[\s\-–—:：|=>)\]]+")
# The first reading of a reward source, in characters (see _reward_text).
_REWARD_WINDOW = 1024
_CELL_REST = re.compile(r"\[\d+\]|\([^)]{0,24}\)|[^\w]|_", re.UNICODE)


def block_occurrences(block: Block, game: Game, scope: GameScope) -> list[Occurrence]:
    """The code-shaped strings in one block, each with the evidence its place gives."""
    text = "".join(s.text for s in block.spans)[:MAX_BLOCK_CHARS]
    if not text.strip():
        return []
    masked, urls = mask_urls(text)
    found = _links(block, urls, scope)
    tokens = find_tokens(masked, game)
    strings = _Tokens(block, text, masked, tokens, scope).occurrences() if tokens else []
    found.extend(strings)
    path = block.section.path
    if not strings and path and block.kind in _PROSE and says_section_expired(text):
        found.append(Occurrence("", Evidence.NONE, sections=path, claims_expired=True))
    return found


def _links(block: Block, urls: list[str], scope: GameScope) -> list[Occurrence]:
    section = block.section
    found = []
    for url in (*block.links, *urls):
        link = redeem_link(url, scope)
        if link is not None:
            where = link.scope if link.scope is not Scope.NEUTRAL else section.scope
            evidence = link.evidence
            if section.about_codes:
                evidence |= Evidence.CODE_SECTION
            found.append(
                Occurrence(
                    link.code,
                    evidence,
                    section_status=section.status,
                    scope=where,
                    sections=section.path,
                )
            )
    return found


class _Tokens:
    """The tokens of one block and what their places in it say."""

    def __init__(
        self,
        block: Block,
        text: str,
        masked: str,
        tokens: list[tuple[int, int]],
        scope: GameScope,
    ) -> None:
        self.block = block
        self.text = text
        self.masked = masked
        self.tokens = tokens
        self.scope = scope
        self.starts: list[int] = []
        pos = 0
        # The text of each element, joined once when first asked for (an element can hold
        # thousands of text pieces; adding them up one by one would copy the square).
        self._element_parts: dict[int, list[str]] = {}
        self._element_text: dict[int, str] = {}
        for span in block.spans:
            self.starts.append(pos)
            pos += len(span.text)
            if span.element:
                self._element_parts.setdefault(span.element, []).append(span.text)
        self.row = block.row.text if block.row is not None else text
        self.code_column = block.kind is BlockKind.CELL and has_keyword(block.column[:_MAX_COLUMN])
        nearby = block.keyword_nearby
        self.near = self.code_column or (has_keyword(text) if nearby is None else nearby)
        # In a paragraph "code" may be about anything ("the NATLAN codes are here"): there
        # only what the paragraph starts with is near it in a way that counts.
        self.near_all = self.near and block.kind is not BlockKind.PARAGRAPH
        self.leads = self._leads()
        last_lead = max(self.leads, default=-1)
        self.tail = masked[tokens[last_lead][1] :] if self.leads else ""
        self.whole = bool(self.leads) and not _CELL_REST.sub("", self.tail)
        if block.kind is BlockKind.CELL:
            # A cell's rewards are in the rest of its row.
            separated = True
            self.rewards_follow = bool(self.leads) and (
                block.row is not None and block.row.rest_looks_like_rewards(text)
            )
        else:
            # "CODE - 60 Primogems", "CODE (Credit x3)"; "ASTERITE x300" is a reward itself.
            separated = bool(self.leads) and _REWARD_SEPARATOR.match(self.tail) is not None
            self.rewards_follow = separated and looks_like_rewards(self.tail)
        self.separated = separated
        # "DISCLAIMER: codes expire quickly": a word used as a label, not a code with rewards.
        self.label = bool(_LABEL_TAIL.match(self.tail)) and not self.rewards_follow
        # "ASTERITE x300": an item and its quantity, as in a list of rewards.
        self.item = block.kind is not BlockKind.CELL and bool(_QUANTITY_TAIL.match(self.tail))
        self.adjacent = self._adjacent() if self.near else frozenset()

    def _leads(self) -> frozenset[int]:
        """What the block starts with: "CODE", "CODE / CODE2", "CODE1, CODE2 and CODE3"."""
        leads: list[int] = []
        previous_end = 0
        for index, (start, end) in enumerate(self.tokens):
            gap = self.masked[previous_end:start]
            pattern = _LEAD_JOIN if leads else _LEAD_START
            if not pattern.match(gap):
                break
            leads.append(index)
            previous_end = end
        return frozenset(leads)

    def _adjacent(self) -> frozenset[int]:
        """Tokens right after (or before) "code", and the list that follows such a token."""
        masked = self.masked
        # Only tokens within reach of a keyword are tested; prose can hold thousands of tokens.
        spans = [m.span() for m in KEYWORD.finditer(masked)]
        ends = sorted(end for _, end in spans)
        starts = sorted(start for start, _ in spans)
        adjacent: set[int] = set()
        for index, (start, end) in enumerate(self.tokens):
            if not self.code_column and _ordinary(masked[start:end]):
                continue  # a word in prose: never a code outside code markup (see _score)
            after_keyword = bisect_left(ends, start - _REACH) < bisect_right(ends, start)
            before_keyword = bisect_left(starts, end) < bisect_right(starts, end + _REACH)
            if (
                (after_keyword or before_keyword)
                and keyword_adjacent(masked[max(0, start - 60) : start], masked[end : end + 60])
            ) or (
                index - 1 in adjacent
                and _LEAD_JOIN.match(masked[self.tokens[index - 1][1] : start])
            ):
                adjacent.add(index)
        return frozenset(adjacent)

    def occurrences(self) -> list[Occurrence]:
        kept: list[tuple[str, int, int, str | None, bool, int]] = []
        for index in range(len(self.tokens)):
            scored = self._score(index)
            if scored is not None:
                kept.append(scored)
        if not kept:
            return []
        # Computed once per block, and only for blocks that hold a plausible code.
        block = self.block
        section = block.section
        local_status = CodeStatus.UNKNOWN
        expires = None
        if block.kind is BlockKind.PARAGRAPH and len(self.text) > _MAX_STATUS_PARAGRAPH:
            pass  # prose about many things: its "expired" is not per code
        elif block.row is not None:
            local_status, expires = block.row.status, block.row.expires
        elif self.row:
            local_status, expires = row_status(self.row), row_expiry(self.row)
        # A row that names another game (and not ours) lists that game's codes.
        if block.row is not None:
            row_scope = block.row.game(self.scope)
        else:
            row_scope = self.scope.of_text(self.row[:_MAX_SCOPE_ROW])
        where = row_scope if row_scope and section.scope is not Scope.OTHER else section.scope
        rewards = ""
        if self.leads:
            if block.kind is not BlockKind.CELL:
                rewards = _reward_text(self.tail)
            elif block.row is not None:
                rewards = _reward_text(block.row.rest(self.text))
        found = []
        for token, evidence, marks, group, is_lead, end in kept:
            if marks & Mark.STRIKE:
                status, cue = CodeStatus.EXPIRED, "strike-through"
            else:
                # "CODE (expired)" speaks for that code, even inside long prose.
                status = status_after(self.masked[end : end + 40])
                if status is CodeStatus.UNKNOWN:
                    status = local_status
                cue = "row" if status is not CodeStatus.UNKNOWN else ""
            found.append(
                Occurrence(
                    token,
                    evidence,
                    status=status,
                    section_status=section.status,
                    scope=where,
                    group=group,
                    rewards=rewards if is_lead else "",
                    sections=section.path,
                    status_cue=cue,
                    expires=expires,
                )
            )
        return found

    def _text_of(self, element: int) -> str:
        text = self._element_text.get(element)
        if text is None:
            text = self._element_text[element] = "".join(self._element_parts.get(element, ()))
        return text

    def _score(self, index: int) -> tuple[str, int, int, str | None, bool, int] | None:
        start, end = self.tokens[index]
        token = self.masked[start:end]
        spans = self.block.spans
        first = bisect_right(self.starts, start) - 1
        last = bisect_left(self.starts, end) - 1
        covering = spans[first : last + 1]
        if len({span.origin for span in covering}) > 1:
            return None
        marks = 0
        for span in covering:
            marks |= span.marks
        # An ordinary word ("Welcome", "string") can only become a code where the page
        # declares it one (a code column, code markup); skip the rest of the prose early.
        if _ordinary(token) and not self.code_column and not marks & Mark.CODE:
            return None
        evidence = Evidence.NONE
        element = covering[0].element if covering else 0
        whole_element = element and all(span.element == element for span in covering)
        if whole_element and _bare(self._text_of(element)) == token:
            if marks & Mark.CODE:
                evidence |= Evidence.CODE_MARKUP
            elif marks & Mark.EMPHASIS:
                evidence |= Evidence.EMPHASIS
        kind = self.block.kind
        is_lead = index in self.leads
        if is_lead and ((self.label and token.isalpha()) or self.item):
            return None
        group = None
        if is_lead:
            group = self.block.group
            if self.whole:
                evidence |= Evidence.WHOLE
            if kind is BlockKind.CELL:
                if self.whole and self.code_column:
                    evidence |= Evidence.CODE_COLUMN
            elif (
                kind is BlockKind.LIST_ITEM
                # A line of text leads a list only as "CODE", "CODE - rewards", "CODE (...)";
                # a wrapped sentence just happens to start a line.
                or (kind is BlockKind.LINE and (self.whole or self.separated))
                # A paragraph of nothing but "A, B, C" is a list written inline.
                or (self.whole and len(self.leads) >= 2)
            ):
                evidence |= Evidence.LIST_LEAD
            if self.rewards_follow:
                evidence |= Evidence.REWARD_TAIL
        if self.near_all or (self.near and is_lead):
            evidence |= Evidence.NEAR_KEYWORD
        if index in self.adjacent:
            evidence |= Evidence.ADJ_KEYWORD
        if self.block.section.about_codes:
            evidence |= Evidence.CODE_SECTION
        if not could_qualify(evidence, grouped=group is not None):
            return None  # prose far from any sign of a code: not worth scoring
        return token, evidence, marks, group, is_lead, end


def _ordinary(token: str) -> bool:
    """A word as prose writes it ("Welcome", "string"): a code only where the page declares one
    (a code column, code markup)."""
    return token.isalpha() and (token.islower() or token.istitle())


def _reward_text(source: str) -> str:
    """`source` without what leads up to the rewards, whitespace collapsed, cut where a code's
    rewards are cut.

    Only as much of `source` is read as that takes: a cell's rewards are the rest of its row,
    and a row can be thousands of cells long. The text read is a prefix of `source`, so what
    it gives is a prefix of what the whole would give; once that is long enough, it is the
    same text.
    """
    window = _REWARD_WINDOW
    while True:
        piece = source[:window]
        text = " ".join(_TAIL_TRIM.sub("", piece, count=1).split())
        if len(text) >= MAX_REWARDS_LENGTH or len(piece) == len(source):
            return text[:MAX_REWARDS_LENGTH]
        window *= 2


def _bare(text: str) -> str:
    return text.strip().strip(".,;:!?\"'`()[]{}“”‘’「」").strip()
