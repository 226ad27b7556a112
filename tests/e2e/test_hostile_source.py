"""A source serving a page built to stall parsers cannot stop the daemon: polls go on, other
sources' codes are stored, the page fails as too slow to parse, and SIGTERM ends the process
at once even while that page is being parsed."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from importlib import resources
from pathlib import Path

import pytest

from tests.e2e.crash_harness import poll
from tests.e2e.test_cli import CODECAST, environment, run
from tests.fakes.source_site import FixtureSite, Page
from tests.hostile import shape

pytestmark = pytest.mark.slow

GOOD = b"<html><body><h2>Active codes</h2><ul><li><b>GENSHINGIFT</b> - 60 Primogems</li></ul>"
# The daemon stops within this many seconds of SIGTERM (its grace period is 30).
STOPS_WITHIN = 10.0


def catalog(site: FixtureSite, folder: Path) -> Path:
    builtin = resources.files("bot.core").joinpath("catalog.toml").read_text(encoding="utf-8")
    games = re.split(r"(?m)^\[\[sources\]\]", builtin, maxsplit=1)[0]
    path = folder / "catalog.toml"
    path.write_text(
        games + f'[[sources]]\nid = "hostile"\nkind = "page"\ngame = "genshin"\n'
        f'url = "{site.url("hostile.html")}"\n\n'
        f'[[sources]]\nid = "good"\nkind = "page"\ngame = "genshin"\ntrust = "curated"\n'
        f'url = "{site.url("codes.html")}"\n',
        encoding="utf-8",
    )
    return path


async def test_a_page_built_to_stall_parsers_stops_neither_polls_nor_sigterm(
    tmp_path: Path,
) -> None:
    async with FixtureSite() as site:
        # Seconds of parsing even when linear (bench/bench_hostile.py); hours when it was not.
        site.pages["hostile.html"] = Page(shape("br-lines").build(3_000_000))
        site.pages["codes.html"] = Page(GOOD)
        env = environment(
            tmp_path,
            catalog(site, tmp_path),
            CODECAST_SCRAPE_INTERVAL="1",
            CODECAST_PARSE_TIME_LIMIT="1",
        )
        process = await asyncio.create_subprocess_exec(
            *CODECAST, "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        seen = b""
        try:
            async with asyncio.timeout(120):
                # Polls go on: the good page is read, the hostile one fails again and again.
                while b"poll good: read" not in seen or seen.count(b"source hostile failed") < 3:
                    line = await process.stderr.readline()
                    assert line, seen.decode()
                    seen += line
            code, stdout, _ = await run("status", "--json", env=env)
            assert code == 0
            health = {s["id"]: s for s in json.loads(stdout)["sources"]}
            assert "too slow to parse" in (health["hostile"]["last_error"] or "")
            assert health["good"]["last_success"] is not None

            async def listed() -> bool:
                path = tmp_path / "public" / "codes.json"
                if not path.is_file():
                    return False
                data = json.loads(path.read_text("utf-8"))
                return "GENSHINGIFT" in {c["code"] for g in data["games"] for c in g["codes"]}

            assert await poll(listed, 30)

            # SIGTERM just after the hostile page was served again: its parse is under way.
            served = site.requests.count("hostile.html")

            async def served_again() -> bool:
                return site.requests.count("hostile.html") > served

            assert await poll(served_again, 60)
            await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            rest = await asyncio.wait_for(process.stderr.read(), STOPS_WITHIN)
            code = await asyncio.wait_for(process.wait(), STOPS_WITHIN)
            took = time.monotonic() - signalled
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert code == 0, (seen + rest).decode()
    assert took < STOPS_WITHIN
    assert b"Traceback" not in seen + rest, (seen + rest).decode()
