"""A forgiving reader of JSON and JavaScript data literals: comments, trailing commas, JS keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# `json.loads` is tried first; pages also serve `var list = [{...},];`, JSON with `// comments`
# in documentation, or `window.__DATA__ = {...}` in a script, which no JSON library reads. The
# reader never raises and never recurses, so hostile nesting cannot exhaust the stack.

# Nesting deeper than this is skipped over, not read.
MAX_DEPTH = 200
# At most this many values are read from one text.
MAX_VALUES = 50


class Junk:
    """A value that is not data (an identifier, a function call); it is never a code."""

    def __repr__(self) -> str:
        return "Junk"


JUNK = Junk()

_TOKEN = re.compile(
    r"""
    (?P<ws>(?:\s+|//[^\n]*|/\*[\s\S]*?(?:\*/|$)|<!--|-->)+)
  | (?P<dq>"(?:[^"\\\n]|\\.)*")
  | (?P<sq>'(?:[^'\\\n]|\\.)*')
  | (?P<bq>`(?:[^`\\]|\\.)*`)
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w$]))
  | (?P<ident>[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)
  | (?P<punct>[{}\[\]:,()=;])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# A string's body without its closing quote. Where the token pattern finds no closing quote
# for a string opened at p, every same quote before the end of this body was escaped, and a
# string opened there reads on exactly like the one from p: it cannot close either. Without
# this, a line of escaped quotes (\"\"\"…) costs the square of its length.
_STRING_BODY = {
    '"': re.compile(r"(?:[^\"\\\n]|\\.)*", re.DOTALL),
    "'": re.compile(r"(?:[^'\\\n]|\\.)*", re.DOTALL),
    "`": re.compile(r"(?:[^`\\]|\\.)*", re.DOTALL),
}
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None, "undefined": None}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(body: str) -> str:
    def one(match: re.Match[str]) -> str:
        esc = match.group(1)
        if esc[0] in "ux" and len(esc) > 1:
            try:
                return chr(int(esc[1:], 16))
            except ValueError:
                return esc
        return _SIMPLE_ESCAPES.get(esc, esc)

    return _ESCAPE.sub(one, body)


class _Frame:
    __slots__ = ("container", "expect_value", "key")

    def __init__(self, container: dict[str, Any] | list[Any]) -> None:
        self.container = container
        self.key: str | None = None
        self.expect_value = False


def _store(frame: _Frame, value: Any) -> None:
    container = frame.container
    if isinstance(container, list):
        container.append(value)
    elif frame.key is not None:
        if frame.expect_value:
            container[frame.key] = value
            frame.key = None
            frame.expect_value = False
        elif isinstance(value, str):
            # `{key value}` with the colon missing: take the newer string as the key.
            frame.key = value
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        frame.key = str(value)


def parse_at(text: str, start: int) -> tuple[Any, int]:
    """Read the literal starting at `text[start]` ('{' or '['); returns it and where it ended."""
    stack: list[_Frame] = []
    root: Any = JUNK
    pos = start
    n = len(text)
    skip_depth = 0
    # Where a string opened by each quote is known not to close (see _STRING_BODY).
    unclosed: dict[str, int] = {}
    kind: str | None
    while pos < n:
        char = text[pos]
        if pos < unclosed.get(char, -1):
            kind, value = "other", char
            pos += 1
        else:
            match = _TOKEN.match(text, pos)
            if match is None:  # pragma: no cover - the pattern matches any character
                break
            pos = match.end()
            kind = match.lastgroup
            value = match.group()
            if kind == "other" and char in _STRING_BODY:
                body = _STRING_BODY[char].match(text, pos)
                unclosed[char] = body.end() if body is not None else pos
        if kind == "ws":
            continue
        if skip_depth:
            if kind in ("dq", "sq", "bq"):
                continue
            if value in "{[":
                skip_depth += 1
            elif value in "}]":
                skip_depth -= 1
                if skip_depth == 0 and stack:
                    _store(stack[-1], JUNK)
            continue
        if kind == "punct":
            if value in "{[":
                if len(stack) >= MAX_DEPTH:
                    skip_depth = 1
                    continue
                container: dict[str, Any] | list[Any] = {} if value == "{" else []
                if stack:
                    _store(stack[-1], container)
                else:
                    root = container
                stack.append(_Frame(container))
            elif value in "}]":
                if stack:
                    stack.pop()
                if not stack:
                    return root, pos
            elif value == ":" and stack:
                frame = stack[-1]
                if isinstance(frame.container, dict) and frame.key is not None:
                    frame.expect_value = True
            elif value == "," and stack:
                stack[-1].key = None
                stack[-1].expect_value = False
            elif value == "(":
                pos = _skip_parens(text, pos)
            continue
        if not stack:
            if root is JUNK and kind not in ("ws",):
                return JUNK, pos
            continue
        frame = stack[-1]
        parsed: Any
        if kind == "dq" or kind == "sq" or kind == "bq":
            parsed = _unescape(value[1:-1])
        elif kind == "num":
            try:
                parsed = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
            except ValueError:
                parsed = JUNK
        elif kind == "ident":
            if value in _LITERALS:
                parsed = _LITERALS[value]
            elif isinstance(frame.container, dict) and not frame.expect_value:
                parsed = value  # an unquoted key: {code: "X"}
            else:
                parsed = JUNK
                # A call such as `fn(...)` is skipped whole.
                after = _TOKEN.match(text, pos)
                if after is not None and after.lastgroup == "ws":
                    after = _TOKEN.match(text, after.end())
                if after is not None and after.group() == "(":
                    pos = _skip_parens(text, after.end())
        else:
            continue
        _store(frame, parsed)
    return root, pos


def _skip_parens(text: str, pos: int) -> int:
    depth = 1
    n = len(text)
    while pos < n and depth:
        ch = text[pos]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in "\"'`":
            end = text.find(ch, pos + 1)
            pos = n if end < 0 else end
        pos += 1
    return pos


def loads(text: str) -> Any:
    """One JSON value: strict JSON first, then the forgiving reader from the first bracket."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    # The commonest flaw, trailing commas, is mended so the fast C parser can still read it.
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", stripped))
    except (ValueError, RecursionError):
        pass
    first = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
    if first < 0:
        return JUNK
    return parse_at(stripped, first)[0]


# `var x = [`, `window.__SEED__ = {`, `export default {`, `JSON.parse('`-less data assignments,
# each after the start of the text or a statement's end (`;`, a line break, `}`) and spaces.
_STATEMENT_END = re.compile(r"[;\n}]\s*")
_ASSIGNED = re.compile(
    # `export const posts: Post[] = [...]`: TypeScript's type annotation is skipped.
    r"(?:(?:(?:export\s+)?(?:var|let|const)\s+[\w$]+(?:\s*:\s*[\w$.<>\[\], |]{1,80}?)?"
    r"|[\w$]+(?:\s*\.\s*[\w$]+|\s*\[\s*['\"][^'\"\n]+['\"]\s*\])*)\s*="
    r"|export\s+default|module\.exports\s*="
    r")\s*(?=[{\[])"
)


def _assignments(text: str) -> Iterator[int]:
    """Where the literal of each data assignment starts, in order.

    The spaces after a statement's end are passed over once: an assignment cannot start with
    a space, so trying again from each line break of a run of blank lines (as one pattern
    searching the text would) finds nothing new and costs the square of the run.
    """
    assigned = _ASSIGNED.match(text, len(text) - len(text.lstrip()))
    pos = 0
    if assigned is not None:
        yield assigned.end()
        pos = assigned.end()
    while (start := _STATEMENT_END.search(text, pos)) is not None:
        assigned = _ASSIGNED.match(text, start.end())
        if assigned is not None:
            yield assigned.end()
            pos = assigned.end()
        else:
            pos = start.end()


def data_literals(text: str) -> list[Any]:
    """The data values of a script or data file: a whole JSON text, or assigned literals."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "{[":
        value = loads(stripped)
        return [] if value is JUNK else [value]
    values: list[Any] = []
    for start in _assignments(text):
        if len(values) >= MAX_VALUES:
            break
        value, _end = parse_at(text, start)
        if value is not JUNK and value:
            values.append(value)
    return values
