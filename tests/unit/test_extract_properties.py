"""Properties of the extractor that hold for any codes and any unrelated text around them.

The pages are generated from publicly known page formats (guide lists, code tables, redeem
links, data files, wiki code rows); the codes are random strings shaped like generated codes.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.catalog import load_catalog
from scrapers.page import extract_codes

HSR = load_catalog().game("hsr")

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
# Letters and digits interleaved as generated codes are ("K4QP8LZ2XM").
_SHAPE = "LDLLDLLDLL"

code = st.tuples(*(st.sampled_from(_LETTERS if kind == "L" else _DIGITS) for kind in _SHAPE)).map(
    "".join
)
codes = st.lists(code, min_size=2, max_size=6, unique=True)

# Page text that has nothing to do with codes.
_PROSE = (
    "The new banner runs for three weeks and brings back two older characters.",
    "Most players finish the story quest in about an hour.",
    "The event shop closes when the version ends, so spend the tokens early.",
    "Our tier list ranks supports by how much damage they add to a team.",
    "Maintenance starts at six in the morning and lasts about five hours.",
    "Thanks for reading, and see you in the next update of this guide!",
    "Check the map for chests near the river before the weekly reset.",
)
prose = st.lists(st.sampled_from(_PROSE), min_size=0, max_size=6)


def _found(body: str, filename: str) -> set[str]:
    return {c.code for c in extract_codes(body.encode(), HSR, filename=filename)}


def _markdown_list(items: list[str]) -> str:
    lines = "\n".join(f"- {item} - 60 Stellar Jade" for item in items)
    return f"## Redeem codes\n\n{lines}"


@settings(max_examples=40, deadline=None)
@given(items=codes, before=prose, after=prose, data=st.data())
def test_shuffling_unrelated_text_around_a_code_list_never_changes_the_codes(
    items: list[str], before: list[str], after: list[str], data: st.DataObject
) -> None:
    blocks = [*before, _markdown_list(items), *after]
    shuffled = data.draw(st.permutations(blocks))
    assert _found("\n\n".join(blocks), "guide.md") == set(items)
    assert _found("\n\n".join(shuffled), "guide.md") == set(items)
    html = "".join(
        f"<p>{block}</p>" if block in _PROSE else _html_list(items) for block in shuffled
    )
    assert _found(f"<html><body>{html}</body></html>", "guide.html") == set(items)


def _html_list(items: list[str]) -> str:
    rows = "".join(f"<li><strong>{item}</strong> - 60 Stellar Jade</li>" for item in items)
    return f"<h2>Redeem codes</h2><ul>{rows}</ul>"


def _html_table(items: list[str]) -> str:
    rows = "".join(f"<tr><td>{item}</td><td>Stellar Jade x60</td></tr>" for item in items)
    return f"<table><tr><th>Code</th><th>Rewards</th></tr>{rows}</table>"


def _redeem_links(items: list[str]) -> str:
    links = "".join(
        f'<p><a href="https://hsr.hoyoverse.com/gift?code={item}">Redeem</a></p>' for item in items
    )
    return f"<h2>New codes</h2>{links}"


def _markdown_spans(items: list[str]) -> str:
    lines = "\n".join(f"* `{item}` (Stellar Jade x60)" for item in items)
    return f"Codes for this week:\n\n{lines}"


def _data(items: list[str]) -> str:
    return json.dumps({"codes": [{"code": item, "rewards": "Stellar Jade x60"} for item in items]})


def _wiki_rows(items: list[str]) -> str:
    return "\n".join(
        f"{{{{Redemption Code Row|{item}|ref=|A|{{{{Item List|Stellar Jade*60}}}}|2031-01-01}}}}"
        for item in items
    )


MARKUPS = (
    (_html_list, "list.html"),
    (_html_table, "table.html"),
    (_redeem_links, "links.html"),
    (_markdown_spans, "spans.md"),
    (_data, "codes.json"),
    (_wiki_rows, "page.wikitext"),
)


@settings(max_examples=40, deadline=None)
@given(items=codes)
def test_the_same_codes_in_different_markups_are_found_alike(items: list[str]) -> None:
    for markup, filename in MARKUPS:
        assert _found(markup(items), filename) == set(items), filename
