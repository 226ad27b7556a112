"""Source health as the site shows it: each source's state and last error in plain words.

The same data as `codecast status` (bot/status.py), for readers: the error strings the
pipeline stores ("unavailable: timed out (ReadTimeout)", "rejected: HTTP 404",
"changed: fandom: no table ...") become sentences in the reader's language, and times are
cut to the hour so the page does not change every cycle a source is read. sources.json
keeps the English sentences: it is data, one for every language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bot.core.domain import SourceHealth
from bot.core.language import Words, english
from bot.site.view import as_utc, clean_text, iso, plain_anchor

# The pipeline stores "<status>: <detail>"; the statuses are scrapers.base's SourceError family.
_STORED = re.compile(r"(?P<status>[a-z-]+): (?P<detail>.*)", re.DOTALL)
_HTTP = re.compile(r"HTTP (?P<code>\d{3})")
_RETCODE = re.compile(r"retcode (?P<code>-?\d+)")
# A source that worked but listed nothing where it used to (bot/pipeline.py's note).
_WENT_EMPTY = "listed no codes, though it did before"
MAX_DETAIL_LENGTH = 200


@dataclass(frozen=True)
class SourceRow:
    id: str
    game: str
    anchor: str
    kind: str
    host: str
    last_success: datetime | None  # cut to the hour
    last_attempt: datetime | None  # cut to the hour
    last_error: str | None  # in plain words; None when the source works
    error_detail: str | None  # what the pipeline stored, for those who want it
    last_count: int | None
    consecutive_failures: int
    probably_broken: bool
    state: str  # "ok" | "failing" | "broken" | "new"
    state_text: str


@dataclass(frozen=True)
class SourceGroup:
    title: str
    rows: tuple[SourceRow, ...]


def plain_error(stored: str, words: Words | None = None) -> str:
    """A stored source error as a sentence a player understands."""
    w = words or english()
    text = clean_text(stored, 500)
    if text == _WENT_EMPTY:
        return w._(
            "It listed no codes this time, though it did before: its layout probably changed."
        )
    match = _STORED.fullmatch(text)
    if match is None:
        return w._("Reading it failed.")
    status, detail = match["status"], match["detail"]
    http = _HTTP.search(detail)
    if status == "unavailable":
        if detail.startswith("timed out"):
            return w._("The site did not answer in time.")
        if http and http["code"] == "429":
            return w._("The site asked us to slow down (HTTP 429); it is read again later.")
        if http:
            return w._("The site had a server error (HTTP %(code)s).", code=http["code"])
        if detail.startswith("network error"):
            return w._("The site could not be reached (network error).")
        if detail.startswith("undecodable"):
            return w._("The site sent a garbled answer.")
        return w._("The site could not be reached.")
    if status == "rejected":
        retcode = _RETCODE.search(detail)
        if retcode:
            return w._(
                "The site refused the request (its error code %(code)s).", code=retcode["code"]
            )
        if http:
            return _http_refusal(int(http["code"]), w)
        if detail.startswith("too many redirects"):
            return w._("The page redirects in circles.")
        if detail.startswith("invalid URL"):
            return w._("The source's address is not a valid web address.")
        return w._("The site refused the request.")
    if status == "too-large":
        return w._("The page was larger than codecast reads.")
    if status == "too-slow":
        return w._(
            "The page took too long to read: its markup is broken or built to stall readers."
        )
    if status == "changed":
        if "parser crashed" in detail:
            return w._("The page could not be read: codecast's reader for it failed.")
        return w._("The page no longer looks as expected: its layout probably changed.")
    return w._("Reading it failed.")


def _http_refusal(code: int, w: Words) -> str:
    if code in (404, 410):
        return w._("The page is gone (HTTP %(code)s): it has probably moved.", code=code)
    if code in (401, 403):
        return w._("The site refused access (HTTP %(code)s).", code=code)
    if 300 <= code < 400:
        return w._("The site sent us elsewhere (HTTP %(code)s).", code=code)
    return w._("The site refused the request (HTTP %(code)s).", code=code)


def source_groups(
    game_names: Mapping[str, str],
    sources: Sequence[SourceHealth],
    words: Words | None = None,
) -> tuple[SourceGroup, ...]:
    """Sources grouped by game (catalog order, then unknown games by id), by id within;
    `game_names` are the games' names in the reader's language."""
    order = {gid: i for i, gid in enumerate(game_names)}
    grouped: dict[str, list[SourceRow]] = {}
    for source in sources:
        grouped.setdefault(source.game, []).append(source_row(source, words))
    groups = []
    for gid in sorted(grouped, key=lambda g: (order.get(g, len(order)), g)):
        rows = tuple(sorted(grouped[gid], key=lambda r: r.id))
        groups.append(SourceGroup(title=game_names.get(gid) or clean_text(gid, 40), rows=rows))
    return tuple(groups)


def source_row(source: SourceHealth, words: Words | None = None) -> SourceRow:
    w = words or english()
    if source.probably_broken:
        state, text = "broken", w._("Probably broken")
    elif source.consecutive_failures > 0:
        state, text = "failing", w._("Failing")
    elif source.last_success is not None:
        state, text = "ok", w._("Working")
    else:
        state, text = "new", w._("Not read yet")
    try:
        host = urlsplit(source.url).hostname or ""
    except ValueError:
        host = ""
    # An error from before the latest success is history, not the source's state.
    error = source.last_error if source.last_error and state in ("failing", "broken") else None
    source_id = clean_text(source.id, 80)
    return SourceRow(
        id=source_id,
        game=clean_text(source.game, 40),
        anchor="src-" + plain_anchor(source_id),
        kind=clean_text(source.kind, 40),
        host=clean_text(host, 100),
        last_success=_hour(source.last_success),
        last_attempt=_hour(source.last_attempt),
        last_error=plain_error(error, w) if error else None,
        error_detail=clean_text(error, MAX_DETAIL_LENGTH) if error else None,
        last_count=source.last_count,
        consecutive_failures=source.consecutive_failures,
        probably_broken=source.probably_broken,
        state=state,
        state_text=text,
    )


def _hour(moment: datetime | None) -> datetime | None:
    # Cut to the hour so the page does not change every cycle a source is read.
    if moment is None:
        return None
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


# sources.json (version 1):
#   {"version": 1,
#    "sources": [{"id", "game", "kind", "host", "state" ("ok" | "failing" | "broken" | "new"),
#                 "probably_broken", "last_success" (to the hour, or null),
#                 "last_attempt" (to the hour, or null), "consecutive_failures",
#                 "last_count" (or null), "last_error" (in plain words, or null),
#                 "error_detail" (as stored, or null)}]}
# consecutive_failures moves every cycle a source keeps failing, so this file (unlike the
# page) changes then; it is small, and the count is what `codecast status` reports too.
SOURCES_JSON_VERSION = 1


def sources_json(groups: Sequence[SourceGroup]) -> bytes:
    """sources.json: the source health page as data, in the page's order."""
    rows = []
    for group in groups:
        for row in group.rows:
            rows.append(
                {
                    "id": row.id,
                    "game": row.game,
                    "kind": row.kind,
                    "host": row.host,
                    "state": row.state,
                    "probably_broken": row.probably_broken,
                    "last_success": iso(row.last_success),
                    "last_attempt": iso(row.last_attempt),
                    "consecutive_failures": row.consecutive_failures,
                    "last_count": row.last_count,
                    "last_error": row.last_error,
                    "error_detail": row.error_detail,
                }
            )
    document = {"version": SOURCES_JSON_VERSION, "sources": rows}
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
