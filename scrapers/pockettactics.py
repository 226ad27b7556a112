"""Pocket Tactics code guides: `div.entry-content` lists of "<strong>CODE</strong> - rewards".

The article's first list holds the working codes; a later section whose heading says
"expired" lists dead ones, as list items or as a comma-separated paragraph.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from bot.core.domain import CodeStatus, Game, ScrapedCode, SourceConfig
from scrapers.base import SourceChanged, decode_text, fetch_url
from scrapers.codelist import CodeList, check_size, shielded
from scrapers.htmltext import heading_level, heading_text, html_tree, inline_text
from scrapers.rewards import rewards_from_text
from scrapers.sections import heading_status, looks_like_code, split_codes

_LIST_TAGS = frozenset({"ul", "ol"})
_CODE_TAGS = frozenset({"strong", "b", "code"})
_SEPARATOR = re.compile(r"^\s*[-\u2013\u2014:]\s*")
_WRAPPING = " -\u2013\u2014:,;\t\n"


# A plain conditional GET; the registry hands the daemon this very function (scrapers/__init__).
fetch = fetch_url


@shielded("pockettactics")
def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    check_size("pockettactics", body)
    tree = html_tree(decode_text(body), "pockettactics")
    content = tree.css_first("div.entry-content")
    if content is None:
        raise SourceChanged("pockettactics: no div.entry-content")
    codes = CodeList(game)
    first_list = True
    section: CodeStatus | None = None
    for node in content.iter(include_text=False):
        level = heading_level(node)
        if level is not None:
            section = heading_status(heading_text(node))
        elif node.tag in _LIST_TAGS:
            if first_list:
                first_list = False
                if not _read_list(node, codes, section or CodeStatus.ACTIVE, strict=False):
                    raise SourceChanged("pockettactics: the first list holds no codes")
            else:
                _read_list(node, codes, section or CodeStatus.ACTIVE, strict=True)
        elif node.tag == "p" and section is CodeStatus.EXPIRED:
            for piece in split_codes(inline_text(node)):
                codes.add(piece, status=CodeStatus.EXPIRED)
    if first_list:
        raise SourceChanged("pockettactics: no list in the article")
    return codes.result()


def _read_list(items: LexborNode, codes: CodeList, status: CodeStatus, *, strict: bool) -> bool:
    """Add the codes of one list; `strict` lists (not the first) need a code-looking word."""
    added = False
    for item in items.iter(include_text=False):
        if item.tag != "li":
            continue
        code, rest = _code_and_rest(item, expired=status is CodeStatus.EXPIRED)
        if code is None or (strict and not looks_like_code(code)):
            continue
        rewards, reward_items = rewards_from_text(rest)
        added = codes.add(code, status=status, rewards=rewards, items=reward_items) or added
    return added


def _code_and_rest(item: LexborNode, *, expired: bool) -> tuple[str | None, str]:
    """The code an item opens with, and the reward text after its dash."""
    text = inline_text(item)
    opening = item.child
    while (
        opening is not None and opening.tag == "-text" and not (opening.text_content or "").strip()
    ):
        opening = opening.next
    if opening is not None and opening.tag in _CODE_TAGS:
        code = inline_text(opening)
        rest = text[len(code) :] if text.startswith(code) else text.replace(code, "", 1)
        return code, _SEPARATOR.sub("", rest).strip(_WRAPPING)
    if expired:
        # Expired lists are often bare: "<li>CODE</li>".
        pieces = split_codes(text)
        if len(pieces) == 1 and " " not in pieces[0]:
            return pieces[0], ""
    return None, ""
