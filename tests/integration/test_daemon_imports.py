"""What a daemon imports: only its own platform's library, and nothing it does not run.

Each case runs `codecast run`'s own entry point in a fresh interpreter (settings from the
environment, a database already migrated), with a daemon that builds the App and closes it
instead of running, and lists the modules then loaded. Memory follows imports: discord.py or
python-telegram-bot is 10-16 MB, the site's renderer and its locale data ~25 MB, PostgreSQL's
dialect 2 MB, and a module once imported stays for the life of the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import without_settings

ROOT = Path(__file__).resolve().parents[2]

BUILD = """
import asyncio, importlib.util, json, sys
from bot.app import cli


async def build_only(settings):
    from bot.app.daemon import build_app

    app = await build_app(settings, wait_for_database=True)
    await app.close()
    return 0


class BuildInsteadOfRunning:
    # `codecast run` as it is, up to the daemon's loop: its run_daemon only builds the App.
    def find_spec(self, name, path, target=None):
        if name != "bot.app.daemon":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            module.run_daemon = build_only

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, BuildInsteadOfRunning())
assert cli.main(["run"]) == 0
print(json.dumps(sorted(sys.modules)))
"""

# Never imported by a daemon that has not needed them: the site renders in a worker process,
# pages are parsed in worker processes, the database is migrated already, no metrics port,
# no icon converted, no Apprise target sent to; httpx's command-line tool is never run; a
# daemon on SQLite has no use for PostgreSQL's dialect.
NOT_IN_THE_DAEMON = (
    "sqlalchemy.dialects.postgresql",
    "click",
    "pygments",
    "jinja2",
    "PIL",
    "mwparserfromhell",
    "selectolax",
    "scrapers.extract",
    "alembic",
    "mako",
    "prometheus_client",
    "apprise",
)


def imported(tmp_path: Path, **platform: str) -> set[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
    env = without_settings(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(tmp_path / "public"),
        CODECAST_LOG_LEVEL="WARNING",
        **platform,
    )
    migrate = [sys.executable, "-m", "bot", "db", "upgrade"]
    subprocess.run(migrate, env=env, cwd=tmp_path, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-c", BUILD],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


TELEGRAM = {"TELEGRAM_TOKEN": "123456789:AAFakeTokenForCodecastTests-000000"}
DISCORD = {"DISCORD_TOKEN": "fake-bot-token"}


def test_a_telegram_only_daemon_never_imports_discord_py(tmp_path: Path) -> None:
    modules = imported(tmp_path, **TELEGRAM)
    assert "telegram" in packages(modules)
    assert "discord" not in packages(modules)


def test_a_discord_only_daemon_never_imports_python_telegram_bot(tmp_path: Path) -> None:
    modules = imported(tmp_path, **DISCORD)
    assert "discord" in packages(modules)
    assert "telegram" not in packages(modules)


@pytest.fixture(scope="module")
def both_bots(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return imported(tmp_path_factory.mktemp("both"), **TELEGRAM, **DISCORD)


def test_a_daemon_with_both_bots_imports_both(both_bots: set[str]) -> None:
    assert {"telegram", "discord"} <= packages(both_bots)


@pytest.mark.parametrize("module", NOT_IN_THE_DAEMON)
def test_the_daemon_leaves_to_workers_and_to_need_what_it_does_not_run(
    both_bots: set[str], module: str
) -> None:
    assert not {m for m in both_bots if m == module or m.startswith(module + ".")}
