"""The subscribers file (CODECAST_SUBSCRIBERS_FILE): targets named by a URL, kept in step.

    [[subscribers]]
    url = "ntfy://ntfy.sh/my-codes"   # any Apprise URL, a Discord webhook, an http(s) URL
    games = ["genshin", "hsr"]        # or "all"
    kind = "apprise"                  # optional: discord_webhook, webhook or apprise
    secret = "…"                      # optional: a JSON webhook's signing key
    remind = true                     # optional: also codes about to expire

At each start the database follows the file: its targets are subscribed to its games, and
games or targets no longer in it are unsubscribed. A target disabled after failing stays
disabled (`codecast subscribe` with its URL takes it back).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import Platform
from bot.store import repository
from notifiers.addresses import URL_KINDS, Address, BadTarget, parse_address, subscribe_address

log = logging.getLogger(__name__)

_KEYS = frozenset({"url", "games", "game", "kind", "secret", "remind"})


class SubscribersFileError(ValueError):
    """The subscribers file cannot be read or says something codecast cannot do."""


@dataclass(frozen=True)
class Subscriber:
    address: Address
    games: tuple[str, ...]
    secret: str | None
    remind: bool


def choose_kind(text: str | None) -> Platform | None:
    if text is None:
        return None
    try:
        kind = Platform(text)
    except ValueError:
        kind = None
    if kind not in URL_KINDS:
        raise BadTarget(f"kind is one of {', '.join(URL_KINDS)}, not {text!r}")
    return kind


def choose_games(catalog: Catalog, raw: Any) -> tuple[str, ...]:
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BadTarget('games is a list of game ids, or "all"')
    if names == ["all"]:
        return tuple(catalog.games)
    unknown = [n for n in names if n not in catalog.games]
    if unknown:
        raise BadTarget(f"unknown games {', '.join(unknown)} (known: {', '.join(catalog.games)})")
    return tuple(dict.fromkeys(names))


def read_subscribers(path: Path, catalog: Catalog) -> list[Subscriber]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SubscribersFileError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SubscribersFileError(f"{path} is not valid TOML: {exc}") from None
    entries = document.get("subscribers", [])
    if not isinstance(entries, list):
        raise SubscribersFileError(f"{path}: [[subscribers]] must be an array of tables")
    found = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: subscriber {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise SubscribersFileError(f"{where}: needs a url")
        extra = set(entry) - _KEYS
        if extra:
            raise SubscribersFileError(f"{where}: unknown keys {', '.join(sorted(extra))}")
        try:
            address = parse_address(entry["url"], choose_kind(entry.get("kind")))
            games = choose_games(catalog, entry.get("games", entry.get("game")))
        except BadTarget as exc:
            # The message never holds the URL: it is a secret.
            raise SubscribersFileError(f"{where}: {exc}") from None
        secret = entry.get("secret")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise SubscribersFileError(f"{where}: secret is a non-empty string")
        found.append(Subscriber(address, games, secret, bool(entry.get("remind", False))))
    return found


async def sync_subscribers(
    sessions: async_sessionmaker[AsyncSession],
    subscribers: Sequence[Subscriber],
    *,
    clock: Callable[[], datetime],
) -> None:
    """Make the database's file-made targets what the file says, in one transaction."""
    now = clock()
    async with sessions.begin() as session:
        listed: dict[str, tuple[str, ...]] = {}
        for entry in subscribers:
            target = await subscribe_address(
                session,
                entry.address,
                entry.games,
                origin=repository.ORIGIN_CONFIG,
                now=now,
                signing_key=entry.secret,
                remind=entry.remind,
                revive=False,
            )
            listed[target.key] = entry.games
        statuses = {s.target.key: s for s in await repository.target_statuses(session)}
        for target in await repository.targets_of_origin(session, repository.ORIGIN_CONFIG):
            status = statuses.get(target.key)
            current = status.games if status is not None else ()
            for game in set(current) - set(listed.get(target.key, ())):
                await repository.unsubscribe(session, target.platform, target.key, game, now=now)
    log.info("subscribers file: %d targets", len(subscribers))
