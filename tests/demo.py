"""`make demo`: codecast offline, on recorded pages served from a local HTTP server.

The demo serves source pages from a local server (the recorded real copies in ../shared when
that folder is beside the checkout, else constructed pages of the same layouts from
tests/fixtures), points a catalog at them, and runs scrape cycles into ./demo. Between the
cycles HoYoLAB's livestream answer goes from empty to a livestream with codes, so new codes
appear and are announced, as they would be after a real livestream. The pages' reward icons
are served by the same local server. `make demo` then serves the site and prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from aiohttp import web

from bot.app.logs import configure_logging
from bot.app.settings import Settings
from bot.site.icons import IconStore
from tests.fakes.reward_icons import serve_icons_locally
from tests.fakes.source_site import FixtureSite, Page
from tests.recorded import LOCAL_FIXTURES, SHARED_FIXTURES

log = logging.getLogger(__name__)


EMPTY_LIVESTREAM = json.dumps({"retcode": 0, "message": "OK", "data": {"modules": []}}).encode()


def fresh_livestream(path: Path, now: float) -> bytes:
    """The constructed livestream answer with its expiry moved three days past `now`."""
    text = path.read_text(encoding="utf-8")
    future = str(int(now) + 3 * 86400)
    return re.sub(r'("offline_at":\s*)\d+', rf"\g<1>{future}", text).encode()


@dataclass(frozen=True)
class DemoSource:
    id: str
    kind: str
    game: str
    path: str
    file: Path
    content_type: str


HTML = "text/html; charset=utf-8"
JSON = "application/json"

# id, kind, game, the recorded page (in ../shared/fixtures) and the constructed one of the same
# layout (in tests/fixtures) served when the recorded one is absent; None where there is none.
DEMO_PAGES: list[tuple[str, str, str, str | None, str | None, str]] = [
    (
        "game8-genshin",
        "game8",
        "genshin",
        "editorial/game8_genshin_codes_v5.0.html",
        "editorial/game8_genshin_codes.html",
        HTML,
    ),
    ("game8-hsr", "game8", "hsr", "editorial/game8_hsr_codes_v2.5.html", None, HTML),
    ("game8-zzz", "game8", "zzz", "editorial/game8_zzz_codes_v1.2.html", None, HTML),
    (
        "fandom-genshin",
        "fandom",
        "genshin",
        "fandom/genshin_promotional_code_parse_text.html",
        "fandom/genshin_promotional_code_parse_text.html",
        HTML,
    ),
    ("fandom-hsr", "fandom", "hsr", None, "fandom/hsr_redemption_code_query_slots.json", JSON),
    ("fandom-zzz", "fandom", "zzz", None, "fandom/zzz_redemption_code_parse_wikitext.json", JSON),
    ("fandom-wuwa", "fandom", "wuwa", None, "fandom/wuwa_redemption_code_query_v2.json", JSON),
    (
        "pockettactics-genshin",
        "pockettactics",
        "genshin",
        None,
        "pockettactics/genshin_codes.html",
        HTML,
    ),
]
# After the livestream the guide lists its codes too, naming the rewards HoYoLAB gives only as
# icons and amounts.
GUIDE_AFTER_LIVESTREAM = LOCAL_FIXTURES / "pockettactics" / "genshin_codes_after_livestream.html"
LIVESTREAM = LOCAL_FIXTURES / "hoyolab" / "genshin_material_livestream.json"
PORT = 8000


def demo_sources() -> list[DemoSource]:
    """The pages the demo serves: each recorded one when present, else its constructed twin."""
    sources = []
    for id, kind, game, recorded, constructed, content_type in DEMO_PAGES:
        if recorded is not None and (SHARED_FIXTURES / recorded).is_file():
            file = SHARED_FIXTURES / recorded
        elif constructed is not None:
            file = LOCAL_FIXTURES / constructed
        else:
            continue
        sources.append(DemoSource(id, kind, game, f"{kind}/{file.name}", file, content_type))
    return sources


def demo_catalog(site: FixtureSite, sources: list[DemoSource]) -> str:
    """The built-in games, with sources pointing at the local server."""
    from importlib import resources

    builtin = resources.files("bot.core").joinpath("catalog.toml").read_text(encoding="utf-8")
    games = re.split(r"(?m)^\[\[sources\]\]", builtin, maxsplit=1)[0]
    entries = [
        f'[[sources]]\nid = "{s.id}"\nkind = "{s.kind}"\ngame = "{s.game}"\n'
        f'url = "{site.url(s.path)}"\n'
        for s in sources
    ]
    entries.append(
        '[[sources]]\nid = "hoyolab-genshin"\nkind = "hoyolab"\ngame = "genshin"\n'
        f'trust = "official"\nmay_be_empty = true\nurl = "{site.url("hoyolab/genshin")}"\n'
    )
    return games + "\n".join(entries)


def stock(site: FixtureSite, folder: Path) -> Path:
    """Put the demo pages on `site` (HoYoLAB between livestreams), their reward icons served
    by `site` too, and write a catalog for them into `folder`; returns the catalog's path."""
    sources = demo_sources()
    for source in sources:
        body = serve_icons_locally(site, source.file.read_bytes())
        site.pages[source.path] = Page(body, source.content_type)
    site.pages["hoyolab/genshin"] = Page(EMPTY_LIVESTREAM, "application/json")
    catalog_path = folder / "catalog.toml"
    catalog_path.write_text(demo_catalog(site, sources), encoding="utf-8")
    return catalog_path


def after_livestream(site: FixtureSite, now: float) -> None:
    """A livestream happened: HoYoLAB lists its codes, and the guide soon after."""
    livestream = fresh_livestream(LIVESTREAM, now)
    site.pages["hoyolab/genshin"] = Page(serve_icons_locally(site, livestream), JSON)
    guide = serve_icons_locally(site, GUIDE_AFTER_LIVESTREAM.read_bytes())
    site.pages["pockettactics/genshin_codes.html"] = Page(guide, HTML)


async def run_demo(folder: Path, cycles: int, serve: bool, port: int = PORT) -> int:
    from bot.app.daemon import build_app, utc_now

    async with FixtureSite() as site:
        catalog_path = stock(site, folder)
        settings = Settings(
            CODECAST_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'codecast.db'}",
            CODECAST_SITE_DIR=folder / "public",
            CODECAST_CATALOG=catalog_path,
            CODECAST_SITE_URL=f"http://127.0.0.1:{port}/",
            CODECAST_HTTP_RETRIES=0,
            # Every demo page is on one local server: no need to space its polls.
            CODECAST_HOST_SPACING=0,
            CODECAST_OFFICIAL_HOST_SPACING=0,
            DISCORD_TOKEN=None,
            TELEGRAM_TOKEN=None,
        )
        app = await build_app(settings, with_services=False)
        # The icons are on the local server, which a real site's icon store refuses to fetch.
        icons = IconStore(settings.site_dir, app.http, utc_now, allow_private_hosts=True)
        app.publisher = replace(app.publisher, icon_store=icons)
        try:
            for number in range(1, cycles + 1):
                if number == 2:
                    after_livestream(site, time.time())
                report = await app.cycle()
                sys.stdout.write(
                    f"cycle {number}: {len(report.outcomes) - len(report.failed)} sources ok, "
                    f"{len(report.failed)} failed, {report.new_codes} new codes, "
                    f"{len(report.announcements)} announcements\n"
                )
        finally:
            await app.close()
        sys.stdout.write(f"site written to {settings.site_dir}/index.html\n")
    if serve:
        await serve_folder(settings.site_dir, port)
    else:
        sys.stdout.write(
            f"to look at it: python -m tests.demo --serve (make demo), then open "
            f"http://127.0.0.1:{port}/\n"
        )
    return 0


async def serve_folder(folder: Path, port: int) -> None:
    """Serve the demo site on http://127.0.0.1:PORT until interrupted (nginx in production)."""
    app = web.Application()

    def resolve(tail: str) -> Path | None:
        target = folder / tail
        if target.is_dir():
            target = target / "index.html"
        inside = target.resolve().is_relative_to(folder.resolve())
        return target if inside and target.is_file() else None

    async def index(request: web.Request) -> web.StreamResponse:
        target = await asyncio.to_thread(resolve, request.match_info["tail"])
        if target is None:
            return web.Response(status=404, text="not found")
        return web.FileResponse(target)

    app.router.add_get("/{tail:.*}", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sys.stdout.write(f"open http://127.0.0.1:{port}/ to see the demo site (Ctrl-C stops)\n")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codecast-demo", description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path("demo"))
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help="serve the site afterwards")
    parser.add_argument("--port", type=int, default=PORT, help="where --serve serves it")
    args = parser.parse_args(argv)
    configure_logging("INFO")
    args.folder.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(run_demo(args.folder, args.cycles, args.serve, args.port))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
