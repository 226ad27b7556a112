"""The platform registry: each platform reads its own settings section and loads only when on."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bot.app.settings import Settings
from bot.core.domain import Platform
from notifiers.registry import PLATFORMS


def test_every_registered_platform_reads_its_section_from_the_one_settings() -> None:
    assert {kind.platform for kind in PLATFORMS} == set(Platform)
    for kind in PLATFORMS:
        assert issubclass(Settings, kind.settings), kind.platform


def test_a_platform_without_its_token_is_off_and_says_why() -> None:
    settings = Settings(_env_file=None, TELEGRAM_TOKEN="123:abc")  # type: ignore[call-arg]
    off = {kind.platform: kind.off(settings) for kind in PLATFORMS}
    assert off == {
        Platform.TELEGRAM: None,
        Platform.DISCORD: "DISCORD_TOKEN is not set",
        # The kinds named by a URL need no token: on unless switched off.
        Platform.DISCORD_WEBHOOK: None,
        Platform.WEBHOOK: None,
        Platform.APPRISE: None,
    }


def test_the_kinds_named_by_a_url_can_be_switched_off() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        CODECAST_DISCORD_WEBHOOKS="false",
        CODECAST_WEBHOOKS="false",
        CODECAST_APPRISE="false",
    )
    off = {kind.platform: kind.off(settings) for kind in PLATFORMS}
    assert off[Platform.DISCORD_WEBHOOK] == "CODECAST_DISCORD_WEBHOOKS is false"
    assert off[Platform.WEBHOOK] == "CODECAST_WEBHOOKS is false"
    assert off[Platform.APPRISE] == "CODECAST_APPRISE is false"


@pytest.mark.parametrize(
    ("token", "loaded", "not_loaded"),
    [("TELEGRAM_TOKEN", "telegram", "discord"), ("DISCORD_TOKEN", "discord", "telegram")],
)
def test_one_platform_on_never_imports_the_others_library(
    token: str, loaded: str, not_loaded: str
) -> None:
    program = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from bot.app.settings import Settings
        from bot.core.catalog import load_catalog
        from bot.store import database
        from notifiers.registry import PlatformParts, build_platforms

        settings = Settings(_env_file=None, {token}="123:abc")
        engine = database.create_engine("sqlite+aiosqlite:///:memory:")
        parts = PlatformParts(
            load_catalog(), database.session_factory(engine), lambda: datetime.now(UTC), 60.0
        )
        services = build_platforms(settings, parts)
        bots = [str(s.platform) for s in services if s.platform in ("telegram", "discord")]
        print(bots, {loaded!r} in sys.modules, {not_loaded!r} in sys.modules,
              "apprise" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    # Apprise too is loaded only when a message first goes to one of its services.
    assert result.stdout.split("\n")[-2] == f"['{loaded}'] True False False", result.stderr
