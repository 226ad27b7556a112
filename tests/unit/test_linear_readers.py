"""The linear rewrites read short texts exactly as the plain patterns they replace.

The plain patterns are the specification: simple to read, but each retries a run of one
character from every position of it, which costs the square of the run on hostile pages.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers import htmltext, rewards, sections
from scrapers.extract import blocks, feed, jsonish, markdown


def _text(*pieces: str, size: int = 14) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=size).map("".join)


_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SEPARATORS = re.compile(r"[\n;/,|]|\s+or\s+", re.IGNORECASE)
_MARKER = re.compile(
    r"^\s*(?P<word>active|expired|inactive|valid|invalid)(?:\s+codes?)?\s*:?\s*$", re.IGNORECASE
)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CODE_HEADING = re.compile(
    r"`[^`\n]{1,60}`|\[`?[^`\]\n]{1,60}`?\]\([^)\s]{0,2000}[?&]code=[^)\s]*\)"
    r"|\[`[^`\n]{1,60}`\]\([^)\s]{0,2000}\)",
    re.IGNORECASE,
)
_LEAD_JOIN = re.compile(
    r"^[\s\"'`”’)\]]*(?:[/,;&|+]|\band\b|\bor\b|\bou\b|、|，|；)?[\s\"'`“‘]*$", re.I
)
_ITEM_SPLIT = re.compile(
    r"\s*(?:(?<!\d),|,(?!\d{3}(?!\d))|[;\n・•+|]|\band\b)\s*(?:\band\b\s*)?", re.IGNORECASE
)
_EDIT = re.compile(r"\[\s*edit[^\]]*\]")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_TAGS = re.compile(r"<[^>]{0,500}>")


@settings(max_examples=400)
@given(_text("(", ")", "[", "]", "a", " ", "\n", "or", ";", "\t"))
def test_code_cells_split_and_lose_brackets_as_the_plain_patterns_say(text: str) -> None:
    assert sections.without_brackets(text) == _PARENTHESES.sub("", text)
    assert sections._CODE_SEPARATORS.split(text) == _SEPARATORS.split(text)


@settings(max_examples=400)
@given(_text("active", "Expired", "codes", "code", " ", ":", "\n", "x"))
def test_markers_read_as_the_plain_pattern_says(text: str) -> None:
    plain = _MARKER.match(text)
    marker = sections._MARKER.fullmatch(text)
    assert (plain and plain["word"]) == (marker and marker["word"])


@settings(max_examples=400)
@given(_text("#", "##", " ", "\t", "a", "x ", "|", "-", "--", ":"))
def test_markdown_headings_and_table_rules_read_as_the_plain_patterns_say(text: str) -> None:
    plain = _HEADING.match(text)
    heading = markdown._heading(text)
    assert (plain and (len(plain[1]), plain[2])) == (heading if plain else None)
    assert bool(_TABLE_SEP.match(text)) == bool(markdown._TABLE_SEP.fullmatch(text.strip()))


@settings(max_examples=400)
@given(_text("`", "[", "]", "(", ")", "?code=", "&CODE=", "a", " ", "x"))
def test_code_headings_read_as_the_plain_pattern_says(text: str) -> None:
    assert bool(_CODE_HEADING.fullmatch(text)) == bool(markdown._CODE_HEADING.fullmatch(text))


@settings(max_examples=400)
@given(_text(" ", '"', "'", "`", "”", ")", "]", "“", "/", ",", "and", "or", "x", "、", "\n"))
def test_list_joins_read_as_the_plain_pattern_says(text: str) -> None:
    assert bool(_LEAD_JOIN.match(text)) == bool(blocks._LEAD_JOIN.match(text))


@settings(max_examples=400)
@given(_text("a", " ", ",", "1", "000", "and", ";", "\n", "x2", "+", "Primo"))
def test_reward_items_split_as_the_plain_pattern_says(text: str) -> None:
    plain = [rewards.parse_item(piece) for piece in _ITEM_SPLIT.split(text)]
    assert rewards.parse_items(text) == tuple(item for item in plain if item is not None)[:20]


@settings(max_examples=400)
@given(_text("[", "]", "edit", "[edit", " ", "a"))
def test_edit_links_leave_headings_as_the_plain_pattern_says(text: str) -> None:
    end = text.rfind("]") + 1
    kept = htmltext._EDIT_LINK.sub("", text[:end]) + text[end:]
    assert kept == _EDIT.sub("", text)


@settings(max_examples=400)
@given(
    _text("<![CDATA[", "]]>", "a", "]", "<", ">", "\n"),
    _text("<", ">", "a", " ", "x" * 300, "<b>", "x" * 99),
)
def test_feed_fields_open_and_lose_tags_as_the_plain_patterns_say(cdata: str, tags: str) -> None:
    assert feed._open_cdata(cdata) == _CDATA.sub(lambda m: m.group(1), cdata)
    assert feed._without_tags(tags) == _TAGS.sub(" ", tags)


_ASSIGNMENT = re.compile(
    r"(?:^|[;\n}])\s*(?:"
    r"(?:(?:export\s+)?(?:var|let|const)\s+[\w$]+(?:\s*:\s*[\w$.<>\[\], |]{1,80}?)?"
    r"|[\w$]+(?:\s*\.\s*[\w$]+|\s*\[\s*['\"][^'\"\n]+['\"]\s*\])*)\s*="
    r"|export\s+default|module\.exports\s*="
    r")\s*(?=[{\[])"
)


@settings(max_examples=400)
@given(_text("var x = ", "a", ".", "=", "{", "}", "[", "\n", " ", ";", "export default ", "x.y"))
def test_script_assignments_are_found_where_the_plain_pattern_finds_them(text: str) -> None:
    assert list(jsonish._assignments(text)) == [m.end() for m in _ASSIGNMENT.finditer(text)]
