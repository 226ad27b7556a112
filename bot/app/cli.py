"""The `codecast` command line: run, extract, render, status, verify, subscribe, db."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from bot.app.logs import configure_logging
from bot.app.settings import Settings
from bot.core.catalog import CatalogError, load_catalog

log = logging.getLogger(__name__)


def prepare_daemon() -> None:
    """The daemon's process before its first thread and before it imports the rest."""
    from bot.app.allocator import limit_arenas

    # The threads share the C allocator's memory.
    limit_arenas()
    # httpx imports its command-line tool along with itself when it can, and with it click
    # (and Pygments where installed): ~4 MB the daemon would keep and never use. A module
    # set to None in sys.modules cannot be imported, which httpx takes as "not installed".
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app.daemon import run_daemon, run_once

    return asyncio.run(run_once(settings) if args.once else run_daemon(settings))


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    catalog = load_catalog(settings.catalog)
    try:
        game = catalog.game(args.game)
    except CatalogError as exc:
        sys.stderr.write(f"codecast extract: {exc} (known: {', '.join(catalog.games)})\n")
        return 2
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"codecast extract: cannot read {args.file}: {exc.strerror}\n")
        return 2
    from bot.site.view import iso
    from scrapers.page import find_codes

    result = []
    for finding in find_codes(body, game, filename=args.file):
        code = finding.code
        result.append(
            {
                # What the page says of the code, in the fields and forms of the site's
                # codes.json (rewards, items, expires_at, redeem_link) ...
                "code": code.code,
                "status": str(code.status),
                "rewards": code.rewards,
                "items": [
                    {"name": item.name, "amount": item.amount, "icon_url": item.icon_url}
                    for item in code.items
                ],
                "expires_at": iso(code.expires_at),
                "redeem_link": game.redeem_link(code.code),
                # ... and what made the string a code, strongest first, and what gave its
                # status: enough to judge a page a user adds at a glance.
                "evidence": list(finding.evidence),
                "status_from": finding.status_from or None,
            }
        )
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app.daemon import build_app
    from bot.store import database

    async def render() -> int:
        # An unmigrated database would give an empty site: refuse before writing anything.
        await database.require_schema(settings.database_url)
        app = await build_app(settings, with_services=False)
        try:
            report = await app.publisher.publish()
        finally:
            await app.close()
        sys.stdout.write(
            f"{len(report.written)} files written ({report.bytes_written} bytes), "
            f"{report.unchanged} unchanged, in {settings.site_dir}\n"
        )
        return 0

    return asyncio.run(render())


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app.status import collect_status, format_status
    from bot.store import database

    async def collect() -> dict[str, object]:
        await database.require_schema(settings.database_url)
        return await collect_status(settings)

    status = asyncio.run(collect())
    if args.json:
        sys.stdout.write(json.dumps(status, indent=1, default=str) + "\n")
    else:
        sys.stdout.write(format_status(status))
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    """Ask HoYoverse's redeem endpoint about one code, by hand; the database is not touched."""
    from bot.app.verifier import check_by_hand
    from scrapers.verify import AccountsFileError

    catalog = load_catalog(settings.catalog)
    try:
        result = asyncio.run(check_by_hand(settings, catalog, args.game, args.code, args.account))
    except (CatalogError, AccountsFileError, LookupError) as exc:
        sys.stderr.write(f"codecast verify: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


def _subscribe(args: argparse.Namespace, settings: Settings) -> int:
    """Subscribe (or unsubscribe) a target named by a URL: a Discord webhook, a JSON
    webhook, any Apprise URL. The URL is never printed; its label is."""
    from bot.app.subscribers import choose_games, choose_kind
    from bot.app.targets import change_target
    from notifiers.addresses import BadTarget, parse_address

    catalog = load_catalog(settings.catalog)
    try:
        address = parse_address(args.url, choose_kind(args.kind))
        games = choose_games(catalog, args.game or ["all"])
    except BadTarget as exc:
        sys.stderr.write(f"codecast {args.command}: {exc}\n")
        return 2
    on = args.command == "subscribe"
    text = asyncio.run(
        change_target(
            settings,
            address,
            games,
            on=on,
            secret=getattr(args, "secret", None),
            remind=getattr(args, "remind", False),
        )
    )
    sys.stdout.write(text)
    return 0


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    """The operator's report: approved at once and announced, as a moderator's own /submit."""
    from bot.app.daemon import report_rules
    from bot.core.submission import OPERATOR, Reporter
    from bot.store import database
    from notifiers.reports import ReportDesk

    catalog = load_catalog(settings.catalog)
    game = catalog.game(args.game)

    async def submit() -> int:
        await database.require_schema(settings.database_url)
        engine = database.create_engine(settings.database_url)
        try:
            desk = ReportDesk(
                catalog,
                database.session_factory(engine),
                clock=lambda: datetime.now(UTC),
                rules=report_rules(settings),
            )
            operator = Reporter(
                platform=OPERATOR.key, user_id="shell", name=OPERATOR.name, moderator=True
            )
            receipt = await desk.submit(operator, game, args.code, rewards=args.rewards or "")
        finally:
            await engine.dispose()
        decided = receipt.decided
        if decided is None:
            why = receipt.not_a_code.plain() if receipt.not_a_code else str(receipt.refusal)
            sys.stderr.write(f"codecast submit: {receipt.code or args.code}: {why}\n")
            return 2
        if decided.announcement_id is None:
            sys.stdout.write(f"{receipt.code}: approved; it was already announced\n")
        else:
            sys.stdout.write(
                f"{receipt.code}: approved and announced to {decided.deliveries} subscriber(s); "
                "the running daemon sends it (or codecast run --once)\n"
            )
        return 0

    return asyncio.run(submit())


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from alembic.util import CommandError

    from bot.store import database

    url = settings.database_url
    try:
        if args.action == "upgrade":
            database.upgrade(url, args.revision or "head")
        else:
            if asyncio.run(database.check_schema(url)) is None:
                sys.stderr.write(
                    f"codecast db: nothing to downgrade: {database.shown(url)} is not migrated\n"
                )
                return 1
            database.downgrade(url, args.revision or "-1")
    except CommandError as exc:  # an unknown revision, for one
        sys.stderr.write(f"codecast db: {exc}\n")
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codecast",
        description="Finds game redemption codes and announces each new one once.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the daemon (scrape, site, bots, delivery)")
    run.add_argument(
        "--once", action="store_true", help="one full cycle, deliver what is pending, exit"
    )
    run.set_defaults(handler=_run)

    extract = commands.add_parser(
        "extract", help="find codes in one saved page with the generic extractor"
    )
    extract.add_argument("--game", required=True, help="game id from the catalog")
    extract.add_argument("file", help="a saved page: HTML, Markdown, wikitext, JSON or text")
    extract.set_defaults(handler=_extract)

    render = commands.add_parser("render", help="write the static site from the database")
    render.set_defaults(handler=_render)

    status = commands.add_parser("status", help="sources, delivery queue and subscriptions")
    status.add_argument("--json", action="store_true", help="print JSON for monitoring")
    status.set_defaults(handler=_status)

    verify = commands.add_parser(
        "verify", help="check one code on HoYoverse's redeem endpoint and print the verdict"
    )
    verify.add_argument("--game", required=True, help="game id from the catalog")
    verify.add_argument("--account", help="account name (default: the first with a uid)")
    verify.add_argument("code", help="the code to check (it is redeemed on the account)")
    verify.set_defaults(handler=_verify)

    for name, text in (
        ("subscribe", "send new codes to a webhook or any Apprise URL"),
        ("unsubscribe", "stop sending codes to a webhook or Apprise URL"),
    ):
        target = commands.add_parser(name, help=text)
        target.add_argument(
            "--game",
            action="append",
            help="game id from the catalog (repeat for more; all games when left out)",
        )
        target.add_argument(
            "--kind",
            choices=["discord_webhook", "webhook", "apprise"],
            help="what the URL is (guessed: a Discord webhook, another http(s) URL a "
            "signed JSON webhook, anything else an Apprise URL)",
        )
        target.add_argument(
            "url", help="a Discord webhook URL, an http(s) URL, or an Apprise URL (ntfy://…)"
        )
        if name == "subscribe":
            target.add_argument(
                "--secret", help="a JSON webhook's signing key (made up when left out)"
            )
            target.add_argument(
                "--remind", action="store_true", help="also codes about to expire (24 h)"
            )
        target.set_defaults(handler=_subscribe)

    submit = commands.add_parser(
        "submit", help="announce a code by hand (approved at once, like a moderator's report)"
    )
    submit.add_argument("--game", required=True, help="game id from the catalog")
    submit.add_argument("--rewards", help="what the code gives")
    submit.add_argument("code", help="the code, or its redeem link")
    submit.set_defaults(handler=_submit)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(handler=_db)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        # First: what `main` imports below (the subscribers file's errors) brings in httpx.
        prepare_daemon()
    try:
        settings = Settings()
    except ValidationError as exc:
        sys.stderr.write(f"codecast: bad settings:\n{exc}\n")
        return 2
    secrets = tuple(
        token.get_secret_value()
        for token in (
            settings.telegram_token,
            settings.discord_token,
            settings.indexnow_key,
            settings.telegram_webhook_secret,
        )
        if token is not None
    )
    configure_logging(settings.log_level, secrets, as_json=settings.log_json)
    from bot.app.subscribers import SubscribersFileError
    from bot.store.database import DatabaseNotReady

    try:
        code: int = args.handler(args, settings)
    except (CatalogError, SubscribersFileError) as exc:
        sys.stderr.write(f"codecast: {exc}\n")
        return 2
    except DatabaseNotReady as exc:
        sys.stderr.write(f"codecast {args.command}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return code
