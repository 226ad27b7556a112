"""Benchmark: the front page served by nginx (deploy/nginx.conf) beside a minimal Python server.

Renders the site for five games of fifty codes, serves it with nginx and with
`python -m http.server`, and loads each with wrk (or, without wrk, a load generator of
several Python processes): requests/s and latency p50/p99, and the ratio. Load generator and
servers share this machine's cores, so the figures are a floor for what a server gets alone.
Without nginx installed (Debian: apt-get install nginx), the script says so and stops.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.catalog import load_catalog  # noqa: E402  (after the path set-up above)
from bot.core.domain import CodeStatus, CodeView  # noqa: E402
from bot.site import SiteSnapshot, render_site, write_site  # noqa: E402
from tests.e2e.browser_setup import free_port, running_nginx  # noqa: E402

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def snapshot() -> SiteSnapshot:
    games = tuple(load_catalog().games.values())
    codes = [
        CodeView(
            game=game.id,
            code=f"{game.id[:3].upper()}{i:07d}",
            status=CodeStatus.EXPIRED if i % 4 == 3 else CodeStatus.ACTIVE,
            rewards="Primogems \u00d760, Mora \u00d710000",
            items=(),
            first_seen=NOW - timedelta(hours=3 * i),
            last_seen=NOW,
            expires_at=None,
            sources=("fandom", "game8"),
        )
        for game in games
        for i in range(50)
    ]
    return SiteSnapshot(
        games=games, codes=tuple(codes), sources=(), generated_at=NOW, site_url="http://x/"
    )


# --- load generators ---------------------------------------------------------------------


def wrk(url: str, seconds: int, connections: int, gzip: bool) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Result(url, rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), errors)


def _wrk_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _client(args: tuple[int, str, float, bool]) -> tuple[list[float], int]:
    port, path, seconds, gzip = args
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    latencies: list[float] = []
    errors = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.perf_counter() + seconds
    while (start := time.perf_counter()) < deadline:
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
        latencies.append(time.perf_counter() - start)
    connection.close()
    return latencies, errors


def python_load(port: int, path: str, seconds: int, connections: int, gzip: bool) -> Result:
    """Without wrk: one keep-alive client per process, all at once; slower than wrk."""
    workers = min(connections, 2 * (os.cpu_count() or 1))
    with multiprocessing.Pool(workers) as pool:
        parts = pool.map(_client, [(port, path, seconds, gzip)] * workers)
    latencies = sorted(x for part, _ in parts for x in part)
    errors = sum(e for _, e in parts)
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return Result(
        f"http://127.0.0.1:{port}{path}",
        len(latencies) / seconds,
        statistics.median(latencies) * 1000 if latencies else 0.0,
        p99 * 1000,
        errors,
    )


def load(port: int, seconds: int, connections: int, gzip: bool = False) -> Result:
    if shutil.which("wrk"):
        return wrk(f"http://127.0.0.1:{port}/", seconds, connections, gzip)
    return python_load(port, "/", seconds, connections, gzip)


# --- servers -----------------------------------------------------------------------------


def python_server(site: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("python -m http.server did not start")


def show(label: str, result: Result) -> None:
    print(
        f"  {label:<34} {result.requests_per_second:>10,.0f} req/s   p50 {result.p50_ms:7.2f} ms"
        f"   p99 {result.p99_ms:7.2f} ms   errors {result.errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("nginx is not installed (Debian: apt-get install nginx); nothing measured")
        return 0
    with tempfile.TemporaryDirectory() as temp:
        site = Path(temp) / "site"
        files = render_site(snapshot())
        write_site(site, files)
        page = files["index.html"]
        zipped = (site / "index.html.gz").stat().st_size
        tool = "wrk" if shutil.which("wrk") else "Python load generator (wrk not installed)"
        print(
            f"front page: {len(page):,} bytes ({zipped:,} gzipped), 5 games x 50 codes; "
            f"{tool}, {args.connections} connections, {args.seconds} s per run, "
            f"{os.cpu_count()} CPUs"
        )
        workers = os.cpu_count() or 1
        with running_nginx(nginx, site, Path(temp) / "nginx", workers=workers) as server:
            load(server.port, 1, args.connections)  # warm-up
            plain = load(server.port, args.seconds, args.connections)
            packed = load(server.port, args.seconds, args.connections, gzip=True)
        port = free_port()
        python = python_server(site, port)
        try:
            load(port, 1, args.connections)
            baseline = load(port, args.seconds, args.connections)
        finally:
            python.terminate()
            python.wait(timeout=10)
    show("nginx, plain", plain)
    show("nginx, gzip_static", packed)
    show("python -m http.server, plain", baseline)
    if baseline.requests_per_second:
        ratio = plain.requests_per_second / baseline.requests_per_second
        print(f"  nginx serves the same page {ratio:,.0f}x as many requests per second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
