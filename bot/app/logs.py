"""Logging set-up: one line per event on stderr, and secrets kept out of every line."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

# Bot tokens as they appear in URLs and headers: Telegram `123456:ABC…`, Discord `xxx.yyy.zzz`.
_TOKEN_PATTERNS = (
    re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b"),
)

# Secrets inside URLs codecast may be handed (webhook targets, Apprise URLs): a Discord
# webhook's token, and the password of a URL's user part.
_URL_SECRETS = (
    (re.compile(r"(/webhooks/\d+/)[A-Za-z0-9._-]{20,}"), r"\1[redacted]"),
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1[redacted]@"),
)


class RedactSecrets(logging.Filter):
    """Replaces anything shaped like a bot token, and any given secret, with `[redacted]`."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub("[redacted]", text)
        for pattern, replacement in _URL_SECRETS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, redacted, so the handler prints that one.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# What a line is about, where known: set with log_context() around a fetch or a send, or
# passed as `extra=`. Shown as key=value after a text line, as keys of a JSON line.
CONTEXT_FIELDS = ("source", "game", "platform", "chat")
_context: ContextVar[Mapping[str, str]] = ContextVar(
    "codecast_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Tag every line logged inside (this task or thread, and tasks it starts) with fields."""
    merged = {**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFields(logging.Filter):
    """Copies the current log_context() onto each record, unless `extra=` set the field."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _context_of(record: logging.LogRecord) -> dict[str, str]:
    return {
        key: str(value)
        for key in CONTEXT_FIELDS
        if (value := getattr(record, key, None)) is not None
    }


class NoVoiceNotes(logging.Filter):
    """Drops discord.py's notes that its voice libraries (PyNaCl, davey) are missing.

    codecast sends text and never joins a voice channel, so those warnings only worry.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("discord")
            and record.getMessage().endswith("voice will NOT be supported")
        )


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = _context_of(record)
        if not context:
            return line
        tags = " ".join(f"{key}={value}" for key, value in context.items())
        first, newline, rest = line.partition("\n")
        return f"{first} [{tags}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (Loki, journald, CloudWatch, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, str] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", secrets: tuple[str, ...] = (), *, as_json: bool = False
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(ContextFields())
    handler.addFilter(NoVoiceNotes())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Client libraries log request URLs (Telegram's carry the token) at DEBUG and INFO.
    noisy_loggers = ("httpx", "httpcore", "telegram", "discord", "apscheduler", "aiosqlite")
    for noisy in (*noisy_loggers, "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
