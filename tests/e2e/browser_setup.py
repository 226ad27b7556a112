"""Set-up shared by the nginx, browser and deployment tests: Debian packages, nginx, Chromium.

Debian's nginx and Chromium are installed with apt-get when missing and this process may
(root). Without them a test skips on a developer's machine and fails in CI (`CI=true`),
where they are required.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
IN_CI = os.environ.get("CI", "").lower() == "true"

CHROMIUM = "/usr/bin/chromium"
# Without the networking switches Chromium keeps calling home at start-up, and on a machine
# without internet those connections are refused, many at a time.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# apt-get waits this long for another package manager (unattended upgrades) to finish.
APT_LOCK_TIMEOUT = 300
APT_INSTALL_TIMEOUT = 900
# How long a test may take when it first has to install Debian packages.
INSTALL_TIMEOUT_MARK = pytest.mark.timeout(APT_INSTALL_TIMEOUT + 120)

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI where everything it needs must be there."""
    if IN_CI:
        pytest.fail(f"required when CI=true: {reason}")
    pytest.skip(reason)


@functools.cache
def _apt_updated() -> bool:
    result = subprocess.run(
        ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT}", "update"],
        capture_output=True,
        timeout=APT_INSTALL_TIMEOUT,
        check=False,
    )
    return result.returncode == 0


def ensure_debian_packages(binaries: dict[str, str]) -> str | None:
    """Install the packages whose binaries (path -> package) are missing; why not, or None.

    The test processes of one run (pytest-xdist) take turns: apt-get refuses to run twice at
    once, and the second comes after the first has installed what both need.
    """
    if all(Path(path).exists() for path in binaries):
        return None
    with FileLock(Path(tempfile.gettempdir()) / "codecast-tests-apt.lock"):
        return _install_missing(binaries)


def _install_missing(binaries: dict[str, str]) -> str | None:
    missing = sorted({package for path, package in binaries.items() if not Path(path).exists()})
    if not missing:
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return f"{', '.join(missing)} not installed, and apt-get is not usable here as root"
    if not _apt_updated():
        return "apt-get update failed"
    result = subprocess.run(
        [
            "apt-get",
            "-o",
            f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT}",
            "install",
            "-y",
            "--no-install-recommends",
            *missing,
        ],
        capture_output=True,
        text=True,
        timeout=APT_INSTALL_TIMEOUT,
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    if result.returncode != 0:
        return f"apt-get install {' '.join(missing)} failed: {result.stderr[-500:]}"
    still = [path for path in binaries if not Path(path).exists()]
    return f"still missing after install: {', '.join(still)}" if still else None


def require_nginx() -> str:
    problem = ensure_debian_packages({"/usr/sbin/nginx": "nginx"})
    if problem:
        unavailable(problem)
    return "/usr/sbin/nginx"


def require_chromium() -> str:
    problem = ensure_debian_packages({CHROMIUM: "chromium"})
    if problem:
        unavailable(problem)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_block(site_dir: Path, port: int) -> str:
    """deploy/nginx.conf as deployed, but listening on 127.0.0.1:port and serving site_dir."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    listens = re.findall(r"(?m)^\s*listen\s+[^;]+;\s*$", text)
    roots = re.findall(r"(?m)^\s*root\s+[^;]+;\s*$", text)
    assert listens, "deploy/nginx.conf has no listen line"
    assert len(roots) == 1, "deploy/nginx.conf needs exactly one root"
    text = re.sub(r"(?m)^\s*listen\s+[^;]+;\s*$\n?", "", text)
    return re.sub(
        r"(?m)^(\s*)root\s+[^;]+;",
        rf"\g<1>listen 127.0.0.1:{port};\n\g<1>root {site_dir};",
        text,
    )


def main_config(prefix: Path, server: str, *, workers: int = 1) -> str:
    """A whole nginx.conf around `server`, every path inside `prefix`: no system state used."""
    # Running as root, nginx would switch its workers to `nobody`, who cannot read pytest's
    # private temporary folders; as another user the directive is ignored.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nmaster_process on;\nworker_processes {workers};\n"
        f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log off;\n{temp}\n{server}\n}}\n"
    )


def nginx_test(nginx: str, prefix: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@dataclass
class Nginx:
    """An nginx of our own: its own prefix, pid file and port; the system service untouched."""

    binary: str
    site_dir: Path
    prefix: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"
        config.write_text(
            main_config(self.prefix, server_block(self.site_dir, self.port), workers=self.workers)
        )
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nginx exited at start: {error}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening within 10 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGQUIT is nginx's graceful stop; only the master we started is signalled.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextlib.contextmanager
def running_nginx(binary: str, site_dir: Path, prefix: Path, workers: int = 1) -> Iterator[Nginx]:
    server = Nginx(binary, site_dir, prefix, workers=workers).start()
    try:
        yield server
    finally:
        server.stop()


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium under Playwright, headless, with a fresh profile (Playwright's own)."""
    return playwright.chromium.launch(
        executable_path=require_chromium(), headless=True, args=list(CHROMIUM_ARGS)
    )


def open_page(context: Any, server: Nginx, path: str) -> Any:
    """A new page of `context` at `path` on the test nginx, which must answer 200."""
    page = context.new_page()
    response = page.goto(server.base_url + path, wait_until="load")
    assert response is not None
    assert response.status == 200, path
    return page
