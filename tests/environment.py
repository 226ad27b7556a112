"""The environment a codecast process is started with by the tests and benches."""

from __future__ import annotations

import os

# What codecast reads from the environment: its own settings and the platforms' tokens.
SETTINGS_PREFIXES = ("CODECAST_", "TELEGRAM_", "DISCORD_")


def without_settings(**settings: str) -> dict[str, str]:
    """This process's environment less every codecast setting it may carry, plus `settings`:
    the process started with it reads only what it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    env.update(settings)
    return env
