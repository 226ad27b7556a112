"""Codes in data: JSON and JS values, MediaWiki API envelopes, and text fields inside them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bot.core.domain import CodeStatus, Game
from scrapers.extract.blocks import Block, BlockKind, Span, block_occurrences
from scrapers.extract.context import Section, heading_status
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.model import Evidence, Occurrence
from scrapers.extract.shape import find_tokens
from scrapers.extract.urls import redeem_link

# Walking stops below this depth; real code data is a few levels deep.
MAX_DEPTH = 64
# Strings longer than this inside data are documents of their own (wikitext, HTML).
_DOCUMENT_CHARS = 200
# At most this many strings are looked at in one data value.
MAX_STRINGS = 200_000

# Reads an embedded document (wikitext, HTML, Markdown) found in a string field.
DocumentReader = Callable[[str, Section], list[Occurrence]]

_CODE_KEYS = frozenset(
    {
        "code",
        "codes",
        "cdkey",
        "cdkeys",
        "giftcode",
        "giftcodes",
        "redeemcode",
        "redeemcodes",
        "redemptioncode",
        "redemptioncodes",
        "promocode",
        "promocodes",
        "exchangecode",
        "exchangecodes",
        "couponcode",
        "couponcodes",
        "coupon",
        "coupons",
        "serial",
        "activecodes",
        "inactivecodes",
        "expiredcodes",
        "validcodes",
        "newcodes",
        "oldcodes",
        "livestreamcodes",
    }
)
# Keys that end in "code" but hold something else.
_NOT_CODE_KEYS = re.compile(
    r"(?:error|status|lang|language|locale|country|region|currency|color|colour|zip|post|postal"
    r"|area|phone|http|response|return|ret|result|exit|item|product|game|server|event|type"
    r"|short|source|qr|bar|auth|verify|verification|invite|referral|access|hash|unicode|char"
    r"|key|dial|iso|airport|timezone|sku)codes?$"
)
_REWARD_KEYS = re.compile(r"rewards?|prizes?|gifts?|items?|bonus(?:es)?|loot|reward_?list|award")
# Fields of a record that are never its code, whatever they hold.
_NOT_CODE_FIELDS = re.compile(
    r"(?:^|_)(?:id|ids|uid|uuid|guid|name|title|slug|url|uri|link|href|src|icon|image|img|pic|"
    r"thumb|banner|desc|description|summary|content|text|note|notes|label|tip|type|kind|lang|"
    r"locale|date|time|created|updated|published|start|end|begin|over|expires?|expiry|until|"
    r"server|region|platform|author|source|version|ver|category|tag|tags|game|status|state|"
    r"color|colour|theme|rarity|element|amount|count|num|qty|quantity|price|reward|rewards|"
    r"location|published_at|at)$",
    re.IGNORECASE,
)
# What a game field holds when it names a game: a few words, not an id or a number.
_GAME_NAME = re.compile(r"[^\W\d_][\w'’:.\- ]{1,40}", re.UNICODE)
_GAME_FIELDS = frozenset({"game", "gameid", "gamename", "gamekey", "gameslug", "biz", "gamebiz"})
_NAME_FIELDS = frozenset({"name", "slug", "title", "game", "id", "key"})
_FLAG_EXPIRED = frozenset(
    {"isfail", "fail", "failed", "isexpired", "expired", "isinvalid", "invalid", "outdated"}
)
_FLAG_ACTIVE = frozenset({"isactive", "active", "isvalid", "valid", "available", "working"})
_STATUS_FIELDS = frozenset({"status", "state", "codestatus", "validity"})
_STATUS_WORDS_EXPIRED = frozenset(
    {
        "expired",
        "inactive",
        "invalid",
        "notok",
        "off",
        "dead",
        "ended",
        "unavailable",
        "disabled",
        "失效",
        "已失效",
        "过期",
        "已过期",
    }
)
_STATUS_WORDS_ACTIVE = frozenset(
    {"active", "valid", "ok", "on", "available", "working", "live", "enabled", "有效", "可用"}
)
_BUTTON_SUFFIX = re.compile(
    r"(?:(?<=[A-Za-z0-9])Quick Redeem|(?<=[A-Z0-9])(?:QuickRedeem|Redeem(?: ?Now)?|Copy(?: ?Code)?"
    r"|Copied!?))$"
)
_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})
_SPLIT = re.compile(r"[\s;,/|、，]+")


def _norm_key(key: str) -> str:
    return re.sub(r"[^0-9a-z]", "", key.lower())


def _key_words(key: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", key)
    return re.sub(r"[_\-.]+", " ", spaced)


@dataclass(frozen=True, slots=True)
class _Where:
    section: Section
    status: CodeStatus = CodeStatus.UNKNOWN
    depth: int = 0
    # Below a "codes" key: arrays of strings there are code lists, even of one item.
    in_codes: bool = False
    # The array whose records this point is in: their "code" values form one list.
    records: str | None = None


class DataReader:
    """Walks one data value and reports the code-shaped strings in it."""

    def __init__(self, game: Game, scope: GameScope, documents: DocumentReader) -> None:
        self.game = game
        self.scope = scope
        self.documents = documents
        self._strings = 0
        self._groups = 0

    def read(self, value: Any, section: Section) -> list[Occurrence]:
        return list(self._walk(value, _Where(section)))

    def _walk(self, value: Any, where: _Where) -> Iterator[Occurrence]:
        if where.depth > MAX_DEPTH or self._strings > MAX_STRINGS:
            return
        if isinstance(value, dict):
            yield from self._object(value, where)
        elif isinstance(value, list):
            yield from self._array(value, where, code_key=where.in_codes)
        elif isinstance(value, str):
            yield from self._text(value, where)

    def _object(self, obj: dict[str, Any], where: _Where) -> Iterator[Occurrence]:
        record_scope = self._record_scope(obj)
        if record_scope is Scope.OTHER:
            return
        section = where.section
        if record_scope is Scope.OURS:
            section = replace(section, scope=Scope.OURS)
        status = _record_status(obj)
        child = _Where(section, status, where.depth + 1)
        siblings = where.records
        game_keys = {k: self.scope.of_key(k) for k in obj}
        named = [k for k, s in game_keys.items() if s is not None]
        has_ours = any(s is Scope.OURS for s in game_keys.values())
        code_keys = [k for k in obj if self._is_code_key(k)]
        # {"GENSHINGIFT": {"rewards": ..., "status": ...}, ...}: a map from codes to their
        # records, wherever it sits (under a game's key, at the top); the codes are the keys.
        keyed_codes = where.in_codes or self._code_map(obj)

        for key, item in obj.items():
            if keyed_codes and isinstance(item, dict) and self._single_token(key) == key:
                yield from self._keyed_code(key, item, child, f"keys:{id(obj)}")
                continue
            if key in code_keys:
                inside = replace(self._keyed(child, key), in_codes=True)
                if isinstance(item, str):
                    yield from self._code_value(item, child, siblings)
                elif isinstance(item, list):
                    yield from self._array(item, inside, code_key=True)
                elif isinstance(item, dict):
                    yield from self._walk(item, inside)
                continue
            key_scope = game_keys[key]
            if isinstance(item, dict | list):
                if key_scope is Scope.OTHER:
                    continue
                # Among keys naming games, a container under an unnamed key is another
                # game's too when ours has its own key, or when two or more games are named.
                if (
                    key_scope is None
                    and (has_ours or len(named) >= 2)
                    and _container_of_codes(item)
                ):
                    continue
                keyed = self._keyed(child, key)
                # {"codes": {"active": [...]}}: still code lists below a status or game key.
                if where.in_codes and (keyed is not child or key_scope is not None):
                    keyed = replace(keyed, in_codes=True)
                if key_scope is Scope.OURS:
                    keyed = replace(keyed, section=replace(keyed.section, scope=Scope.OURS))
                yield from self._walk(item, keyed)
            elif isinstance(item, str):
                yield from self._text(item, child)

        if not code_keys and any(_REWARD_KEYS.fullmatch(_norm_key(k)) for k in obj):
            yield from self._record_code(obj, child)

    def _code_map(self, obj: dict[str, Any]) -> bool:
        """Whether `obj` maps codes to their records: two or more entries, nearly all of
        them a code-shaped key over a record with code fields (rewards, status, expiry)."""
        if len(obj) < 2:
            return False
        entries = [k for k, v in obj.items() if isinstance(v, dict) and self._single_token(k) == k]
        if len(entries) < 0.8 * len(obj):
            return False
        records = sum(1 for k in entries if _code_record(obj[k]))
        return records >= 2 and records >= 0.8 * len(entries)

    def _keyed_code(
        self, key: str, record: dict[str, Any], where: _Where, group: str
    ) -> Iterator[Occurrence]:
        """A code given as the key of its record; the record says its game and status."""
        scope = self._record_scope(record)
        if scope is Scope.OTHER:
            return
        status = _record_status(record)
        if scope is Scope.OURS:
            where = replace(where, section=replace(where.section, scope=Scope.OURS))
        if status is not CodeStatus.UNKNOWN:
            where = replace(where, status=status)
        yield self._occurrence(key, Evidence.DATA_LIST, where, group)

    def _keyed(self, where: _Where, key: str) -> _Where:
        status = heading_status(_key_words(key))
        if status is CodeStatus.UNKNOWN:
            return where
        return replace(where, section=replace(where.section, status=status))

    def _is_code_key(self, key: str) -> bool:
        norm = _norm_key(key)
        if norm in _CODE_KEYS:
            return True
        return norm.endswith(("code", "codes")) and not _NOT_CODE_KEYS.search(norm)

    def _record_scope(self, obj: dict[str, Any]) -> Scope | None:
        for key, value in obj.items():
            norm = _norm_key(key)
            if norm in _GAME_FIELDS and isinstance(value, str | int):
                found = self.scope.of_key(str(value)) or self.scope.of_text(str(value))
                if found is not None:
                    return found
                if isinstance(value, str) and _GAME_NAME.fullmatch(value.strip()):
                    # "game": "Free Fire": a game named, and not ours.
                    return Scope.OTHER
        for key, value in obj.items():
            if _norm_key(key) in _NAME_FIELDS and isinstance(value, str) and len(value) < 60:
                found = self.scope.of_key(value)
                if found is not None:
                    return found
        return None

    def _array(self, items: list[Any], where: _Where, *, code_key: bool) -> Iterator[Occurrence]:
        strings = [s for s in items if isinstance(s, str)]
        if strings and len(strings) == len(items):
            single = [s for s in strings if self._single_token(s) is not None]
            # An array of bare code-shaped strings is a code list when it sits under a code
            # key, or when nearly all of it is code-shaped and not all lower case (element
            # ids, slugs and keywords are; codes are written in capitals).
            if code_key or (
                len(single) >= 2
                and len(single) >= 0.8 * len(strings)
                and any(not s.islower() for s in single)
            ):
                self._groups += 1
                group = f"data:{self._groups}"
                for s in strings:
                    yield from self._code_value(s, where, group, listed=not code_key)
                return
        records = f"records:{id(items)}"
        for item in items:
            yield from self._walk(item, replace(where, depth=where.depth + 1, records=records))

    def _single_token(self, value: str) -> str | None:
        text = value.strip().strip("\"'`\\ ").strip()
        # "AA2G7664C2RXQuick Redeem": a scraped page's button text glued to the code.
        text = _BUTTON_SUFFIX.sub("", text)
        if text and self.game.matches(text):
            return text
        return None

    def _code_value(
        self, value: str, where: _Where, group: str | None, *, listed: bool = False
    ) -> Iterator[Occurrence]:
        self._strings += 1
        evidence = Evidence.DATA_LIST if listed else Evidence.DATA_KEY
        single = self._single_token(value)
        if single is not None:
            yield self._occurrence(single, evidence, where, group)
            return
        if len(value) > 200:
            yield from self._text(value, where)
            return
        link = redeem_link(value, self.scope)
        if link is not None:
            yield Occurrence(
                link.code, link.evidence, where.status, where.section.status, link.scope
            )
            return
        # "CODE1 / CODE2", "CODE1;CODE2": every part must be a code-shaped token.
        parts = [p.strip("\"'`\\") for p in _SPLIT.split(value.strip()) if p]
        tokens = [p for p in parts if self.game.matches(p)]
        if tokens and len(tokens) == len(parts):
            for token in tokens:
                yield self._occurrence(token, evidence, where, group)

    def _occurrence(
        self, text: str, evidence: int, where: _Where, group: str | None
    ) -> Occurrence:
        return Occurrence(
            text,
            evidence,
            status=where.status,
            section_status=where.section.status,
            scope=where.section.scope,
            group=group,
        )

    def _record_code(self, obj: dict[str, Any], where: _Where) -> Iterator[Occurrence]:
        """A record listing rewards whose code sits under a key of its own ("order", "key")."""
        found = []
        for key, value in obj.items():
            field_name = _key_words(key).replace(" ", "_")
            if not isinstance(value, str) or _NOT_CODE_FIELDS.search(field_name):
                continue
            text = value.strip()
            if text and self.game.matches(text) and any(ch.isalpha() for ch in text):
                found.append(text)
        if len(found) == 1:
            yield self._occurrence(found[0], Evidence.DATA_RECORD, where, None)

    def _text(self, value: str, where: _Where) -> Iterator[Occurrence]:
        self._strings += 1
        if value.count("&lt;") >= 3:
            # HTML kept escaped inside data (a forum post's "selftext_html").
            value = html.unescape(value)
        # A long or multi-line field is a document of its own: a wiki page in an API answer,
        # an article's HTML, a forum post in Markdown with its own lists and headings.
        if len(value) >= _DOCUMENT_CHARS or "\n" in value.strip():
            yield from self.documents(value, where.section)
            return
        if not find_tokens(value, self.game) and "://" not in value:
            return
        # A free-text field reads like a paragraph: only strong shapes or "code: X" pass.
        block = Block(BlockKind.PARAGRAPH, [Span(value)], where.section)
        for occ in block_occurrences(block, self.game, self.scope):
            if where.status is not CodeStatus.UNKNOWN and occ.status is CodeStatus.UNKNOWN:
                occ = replace(occ, status=where.status)
            yield occ


def _record_status(obj: dict[str, Any]) -> CodeStatus:
    """What a record's own status fields say: `status: expired`, `is_fail: 1`, `active: true`."""
    for key, value in obj.items():
        norm = _norm_key(key)
        if norm in _STATUS_FIELDS and isinstance(value, str):
            word = _norm_key(value) or value.strip()
            if word in _STATUS_WORDS_EXPIRED:
                return CodeStatus.EXPIRED
            if word in _STATUS_WORDS_ACTIVE:
                return CodeStatus.ACTIVE
        flag = _flag(value)
        if flag is None:
            continue
        if norm in _FLAG_EXPIRED:
            return CodeStatus.EXPIRED if flag else CodeStatus.ACTIVE
        if norm in _FLAG_ACTIVE:
            return CodeStatus.ACTIVE if flag else CodeStatus.EXPIRED
    return CodeStatus.UNKNOWN


# Fields that make a record a code's: what it gives, whether it works, when it was seen.
_CODE_RECORD_FIELDS = re.compile(
    r"rewards?|prizes?|items?|status|state|valid|active|expired|isexpired|expires|expiry|"
    r"expiresat|expiredat|validuntil|until|firstseen|addedat|added|discovered|source|sources"
)


def _code_record(value: dict[str, Any]) -> bool:
    return any(_CODE_RECORD_FIELDS.fullmatch(_norm_key(k)) for k in value)


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return None


def _container_of_codes(value: Any) -> bool:
    """A dict or list that holds code data somewhere below (checked a few levels down)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack and seen < 5000:
        item, depth = stack.pop()
        seen += 1
        if isinstance(item, dict):
            for key, sub in item.items():
                norm = _norm_key(key)
                if norm in _CODE_KEYS or norm.endswith("codes"):
                    return True
                if depth < 4 and isinstance(sub, dict | list):
                    stack.append((sub, depth + 1))
        elif isinstance(item, list) and depth < 4:
            stack.extend((sub, depth + 1) for sub in item[:200] if isinstance(sub, dict | list))
    return False
