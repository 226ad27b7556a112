"""The `codecast` command where nothing is set up: one line that says what to do, no traceback.

Each command runs as a real process in an empty folder with no settings, as a person would
type it after installing codecast; the folder must stay as it was unless the command was
asked to write there.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import without_settings
from tests.fakes.source_site import FixtureSite, Page
from tests.recorded import LOCAL_FIXTURES

CODECAST = [sys.executable, "-m", "bot"]
DEFAULT_DATABASE = "sqlite+aiosqlite:///./data/codecast.db"
# A PostgreSQL server that is not there, with a password that must never be printed.
UNREACHABLE = "postgresql+asyncpg://codecast:hunter2secret@127.0.0.1:1/codecast"


def codecast(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CODECAST, *args],
        cwd=folder,
        env=without_settings(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def problems(stderr: str) -> list[str]:
    """The lines that are not routine log lines (INFO from the migration, for one)."""
    return [line for line in stderr.splitlines() if line.strip() and " INFO " not in line]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *says: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = problems(result.stderr)
    assert len(lines) == 1, result.stderr
    for words in says:
        assert words in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "command", [["status"], ["status", "--json"], ["render"], ["db", "downgrade"]]
)
def test_a_command_without_a_database_says_to_migrate_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    result = codecast(tmp_path, *command)
    assert_one_line_error(result, "codecast db upgrade", DEFAULT_DATABASE)
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["status"], ["render"]])
def test_an_unmigrated_database_is_refused_before_anything_is_written(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "codecast.db").write_bytes(b"")
    result = codecast(tmp_path, *command)
    assert_one_line_error(result, "not migrated", "codecast db upgrade", DEFAULT_DATABASE)
    assert not (tmp_path / "public").exists()


def test_downgrading_an_unmigrated_database_says_there_is_nothing_to_do(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "codecast.db").write_bytes(b"")
    result = codecast(tmp_path, "db", "downgrade")
    assert_one_line_error(result, "nothing to downgrade", DEFAULT_DATABASE)


@pytest.mark.parametrize(
    "command", [["status"], ["render"], ["db", "upgrade"], ["db", "downgrade"], ["run", "--once"]]
)
def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, command: list[str]
) -> None:
    result = codecast(tmp_path, *command, CODECAST_DATABASE_URL=UNREACHABLE)
    line = assert_one_line_error(result, "codecast:***@127.0.0.1:1/codecast")
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "ConnectionRefusedError" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    assert codecast(tmp_path, "db", "upgrade").returncode == 0
    result = codecast(tmp_path, "db", "downgrade", "nonsense")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(problems(result.stderr)) == 1


def test_upgrade_creates_the_database_it_was_asked_for_and_status_then_works(
    tmp_path: Path,
) -> None:
    assert codecast(tmp_path, "db", "upgrade").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    result = codecast(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


async def test_run_once_with_an_unreachable_platform_finishes_the_cycle_and_says_so(
    tmp_path: Path,
) -> None:
    async with FixtureSite() as site:
        site.pages["codes"] = Page(
            (LOCAL_FIXTURES / "pockettactics" / "genshin_codes.html").read_bytes()
        )
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(
            '[games.genshin]\nname = "Genshin Impact"\npattern = "[A-Za-z0-9]{6,24}"\n\n'
            '[[sources]]\nid = "pockettactics-genshin"\nkind = "pockettactics"\n'
            f'game = "genshin"\nurl = "{site.url("codes")}"\n',
            encoding="utf-8",
        )
        process = await asyncio.create_subprocess_exec(
            *CODECAST,
            "run",
            "--once",
            cwd=tmp_path,
            env=without_settings(
                CODECAST_CATALOG=str(catalog),
                TELEGRAM_TOKEN="123456:unreachable",
                # Nothing listens on port 1: Telegram cannot be reached.
                CODECAST_TELEGRAM_API_URL="http://127.0.0.1:1/bot",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, raw = await asyncio.wait_for(process.communicate(), 120)
    stderr = raw.decode()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, stderr
    assert "telegram: cannot start" in errors[0]
    # The rest of the cycle ran: the source was read and the site written.
    assert "1 sources ok" in stderr
    assert (tmp_path / "public" / "index.html").is_file()
