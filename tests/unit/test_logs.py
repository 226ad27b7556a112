"""Secrets never reach the logs: tokens are redacted from messages and tracebacks."""

from __future__ import annotations

import io
import logging

import pytest

from bot.app.logs import NoVoiceNotes, RedactSecrets, configure_logging
from bot.app.settings import Settings

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
DISCORD_TOKEN = "MTA4MjM0NTY3ODkwMTIzNDU2Nw.GhIjKl.abcdefghijklmnopqrstuvwxyz012345678"


def capture(secrets: tuple[str, ...] = ()) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("codecast-test-redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return stream


def test_token_shaped_strings_are_redacted_from_messages() -> None:
    stream = capture()
    log = logging.getLogger("codecast-test-redaction")
    log.info("POST https://api.telegram.org/bot%s/sendMessage", TELEGRAM_TOKEN)
    log.info("Authorization: Bot %s", DISCORD_TOKEN)
    text = stream.getvalue()
    assert TELEGRAM_TOKEN not in text
    assert DISCORD_TOKEN not in text
    assert text.count("[redacted]") == 2


def test_secrets_inside_target_urls_are_redacted() -> None:
    stream = capture()
    log = logging.getLogger("codecast-test-redaction")
    webhook_token = "Zq3" + "x" * 65
    log.info("POST https://discord.com/api/webhooks/123456789012345678/%s", webhook_token)
    log.info("notify mailto://codes:hunter2pass@smtp.example.org/?to=a@example.org")
    text = stream.getvalue()
    assert webhook_token not in text
    assert "hunter2pass" not in text
    assert "/webhooks/123456789012345678/[redacted]" in text
    assert "mailto://codes:[redacted]@smtp.example.org" in text


def test_given_secrets_are_redacted_from_tracebacks() -> None:
    stream = capture(("s3cret-indexnow-key",))
    log = logging.getLogger("codecast-test-redaction")
    try:
        raise RuntimeError("failed with key s3cret-indexnow-key")
    except RuntimeError:
        log.exception("ping failed")
    text = stream.getvalue()
    assert "s3cret-indexnow-key" not in text
    assert "RuntimeError" in text


def test_settings_never_show_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    settings = Settings()
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert TELEGRAM_TOKEN not in shown
        assert DISCORD_TOKEN not in shown
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TELEGRAM_TOKEN


def test_configure_logging_installs_the_filter() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", (TELEGRAM_TOKEN,))
        [handler] = root.handlers
        assert any(isinstance(f, RedactSecrets) for f in handler.filters)
        assert logging.getLogger("httpx").level >= logging.WARNING
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_discord_voice_notes_are_dropped_and_other_discord_warnings_kept() -> None:
    import inspect

    import discord.client

    # The notes as discord.py words them (both end the same way), so the filter keeps up.
    source = inspect.getsource(discord.client)
    notes = [line for line in source.splitlines() if "voice will NOT be supported" in line]
    assert any("PyNaCl" in line for line in notes)
    assert any("davey" in line for line in notes)

    def record(name: str, message: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.WARNING, __file__, 1, message, None, None)

    voice = NoVoiceNotes()
    assert not voice.filter(
        record("discord.client", "PyNaCl is not installed, voice will NOT be supported")
    )
    assert not voice.filter(
        record("discord.client", "davey is not installed, voice will NOT be supported")
    )
    assert voice.filter(record("discord.client", "Shard ID None has stopped responding"))
    assert voice.filter(record("codecast", "voice will NOT be supported"))

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        [handler] = root.handlers
        assert any(isinstance(f, NoVoiceNotes) for f in handler.filters)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
