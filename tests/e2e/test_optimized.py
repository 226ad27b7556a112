"""codecast as `make run`, the container and the systemd unit start it: `PYTHONOPTIMIZE=2`.

Python then leaves out docstrings and asserts, which keeps the daemon about 7 MB smaller
(bench/bench_soak.py --footprint). Nothing codecast does may depend on either: the daemon
reads a page in its parser process, announces on both bots, writes the site in its renderer
process, registers its slash commands with their descriptions, and stops cleanly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.crash_harness import Daemon, build_world, daemon_environment, poll, seed
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.source_site import FixtureSite, Page
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow

NEW_CODE = "OPTIMIZED2026"


async def test_an_optimized_daemon_reads_announces_renders_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(echo_messages=False) as dc,
        FixtureSite() as site,
    ):
        fleet = build_world(dc, telegram=3, discord=3)
        url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
        await seed(url, fleet)
        env = daemon_environment(tmp_path, url, tg, dc, PYTHONOPTIMIZE="2")
        # Read once as it is (what a source lists at its first read is not news), then with
        # a new code.
        site.pages["codes.txt"] = Page(b"Redeem code: OLDCODE2025 (expired)", "text/plain")
        with (tmp_path / "catalog.toml").open("a", encoding="utf-8") as catalog:
            catalog.write(
                f'\n[[sources]]\nid = "one-page"\nkind = "page"\ngame = "genshin"\n'
                f'trust = "curated"\ninterval = 1\nurl = "{site.url("codes.txt")}"\n'
            )
        listing = tmp_path / "public" / "codes.json"

        async def done() -> bool:
            telegram = fleet.telegram_counts(tg)
            discord = fleet.discord_counts(dc)
            everyone = [telegram[c] for c in fleet.telegram_chats] + [
                discord[c] for c in fleet.discord_channels
            ]
            # The queued announcement and the page's new code, to every chat.
            return min(everyone) >= 2 and listing.is_file() and NEW_CODE in listing.read_text()

        async def read_once() -> bool:
            return "poll one-page: read" in daemon.text

        daemon = await Daemon(env).start()
        try:
            finished = await poll(read_once, 60)
            site.pages["codes.txt"] = Page(f"New redeem code: {NEW_CODE}".encode(), "text/plain")
            finished = finished and await poll(done, 60)
        finally:
            code = await daemon.stop()
        assert finished, daemon.text[-5000:]
    assert code == 0, daemon.text[-5000:]
    assert "Traceback" not in daemon.text, daemon.text[-5000:]
    texts = [m.text for m in tg.sent_messages()]
    assert sum(NEW_CODE in t for t in texts) == len(fleet.telegram_chats)
    codes = json.loads(listing.read_text(encoding="utf-8"))
    assert NEW_CODE in {c["code"] for game in codes["games"] for c in game["codes"]}
    assert dc.commands, "no slash command registered"
    for command in dc.commands:
        assert command["description"].strip(), command
        for option in command.get("options", []):
            assert option["description"].strip(), (command["name"], option)
