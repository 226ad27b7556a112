"""codecast as a wheel: built, installed into a fresh virtualenv, migrating and running anywhere.

The wheel is built offline (no build isolation) and installed without dependencies; the new
virtualenv borrows the test environment's installed libraries through a .pth line, so the
test needs no package index and takes seconds. What it checks is that codecast itself, with
its migrations, templates and catalog, works without the checkout.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from bot.core.language import LANGUAGES
from bot.store.database import SCHEMA_REVISION
from tests.fakes.source_site import FixtureSite, Page
from tests.recorded import LOCAL_FIXTURES, ROOT

pytestmark = pytest.mark.slow

# What a source checkout holds that the wheel must carry.
SOURCES = ("pyproject.toml", "README.md", "bot", "scrapers", "notifiers", "alembic")
PIP = [sys.executable, "-m", "pip", "--quiet", "--no-input", "--disable-pip-version-check"]
PIP_OFFLINE = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    env = env if env is not None else {**os.environ, **PIP_OFFLINE}
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (the checkout is not written to)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(source)],
        cwd=source,
    )
    (built,) = out.glob("codecast-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; its `bin` folder."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv)
    python = venv / "bin" / "python"
    run(
        [*PIP, "--python", str(python), "install", "--no-deps", str(wheel)],
        cwd=venv,
    )
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv)
        .strip()
        .splitlines()[-1]
    )
    # The libraries codecast needs, from the environment running the tests (offline, fast).
    (site / "zz_test_libraries.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return venv / "bin"


def clean_environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CODECAST_", "PYTHON", "VIRTUAL_ENV"))
        and key not in ("DISCORD_TOKEN", "TELEGRAM_TOKEN")
    }
    env.update(extra)
    return env


def test_the_wheel_holds_every_module_the_migrations_and_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("bot", "scrapers", "notifiers"):
        for module in (ROOT / package).rglob("*.py"):
            name = module.relative_to(ROOT).as_posix()
            assert name in names, f"{name}: list its package in pyproject.toml's packages"
    for migration in (ROOT / "alembic").rglob("*.py"):
        assert f"codecast_migrations/{migration.relative_to(ROOT / 'alembic').as_posix()}" in names
    assert "bot/core/catalog.toml" in names
    assert any(name.startswith("bot/site/templates/") for name in names)
    assert any(name.startswith("bot/site/static/") for name in names)
    # The migrations never take the Alembic library's name.
    assert not any(name.startswith("alembic/") for name in names)
    for language in LANGUAGES[1:]:
        assert f"bot/locales/{language.catalog}/LC_MESSAGES/codecast.mo" in names


def test_the_installed_program_speaks_every_language(installed: Path, tmp_path: Path) -> None:
    """The compiled catalogs ship in the wheel and are found from the installed package."""
    said = run(
        [
            str(installed / "python"),
            "-c",
            "from bot.core.language import LANGUAGES, words\n"
            "for language in LANGUAGES:\n"
            "    print(language.tag, words(language.tag)._('Which game?'))",
        ],
        cwd=tmp_path,
        env=clean_environment(),
    )
    answers = dict(line.split(" ", 1) for line in said.strip().splitlines())
    assert answers["en"] == "Which game?"
    assert answers["ja"] == "どのゲームですか？"
    assert answers["de"] == "Welches Spiel?"
    assert len(set(answers.values())) == len(LANGUAGES)


def test_the_installed_program_migrates_from_any_folder(installed: Path, tmp_path: Path) -> None:
    where = run(
        [
            str(installed / "python"),
            "-c",
            "import bot, alembic; print(bot.__file__, alembic.__file__)",
        ],
        cwd=tmp_path,
        env=clean_environment(),
    ).split()
    assert Path(where[0]).is_relative_to(installed.parent), "bot came from the checkout"
    assert not Path(where[1]).is_relative_to(installed.parent / "lib"), where[1]

    run([str(installed / "codecast"), "db", "upgrade"], cwd=tmp_path, env=clean_environment())

    database = tmp_path / "data" / "codecast.db"
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == SCHEMA_REVISION
    status = run(
        [str(installed / "codecast"), "status", "--json"], cwd=tmp_path, env=clean_environment()
    )
    assert json.loads(status[: status.rindex("}") + 1])["sources"] == []


async def test_the_installed_program_runs_a_cycle_and_writes_the_site(
    installed: Path, tmp_path: Path
) -> None:
    page = LOCAL_FIXTURES / "pockettactics" / "genshin_codes.html"
    async with FixtureSite() as site:
        site.pages["codes"] = Page(page.read_bytes())
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(
            '[games.genshin]\nname = "Genshin Impact"\npattern = "[A-Za-z0-9]{6,24}"\n\n'
            '[[sources]]\nid = "pockettactics-genshin"\nkind = "pockettactics"\n'
            f'game = "genshin"\nurl = "{site.url("codes")}"\n',
            encoding="utf-8",
        )
        env = clean_environment(CODECAST_CATALOG=str(catalog), CODECAST_HTTP_RETRIES="0")
        process = await asyncio.create_subprocess_exec(
            str(installed / "codecast"),
            "run",
            "--once",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    codes = json.loads((tmp_path / "public" / "codes.json").read_text(encoding="utf-8"))
    listed = {c["code"] for game in codes["games"] for c in game["codes"]}
    assert "FIXPTGS0001" in listed
    assert (tmp_path / "public" / "index.html").is_file()
