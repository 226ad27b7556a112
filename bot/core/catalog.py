"""The game catalog: games and sources, read from TOML (built in, or CODECAST_CATALOG)."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bot.core.domain import Game, Livestream, SourceConfig, Trust, VerifyEndpoint

_SOURCE_KEYS = {"id", "kind", "game", "url", "trust", "trusted", "name", "interval"}
_LIVESTREAM_KEYS = {"game", "starts", "hours"}
# A livestream window without `hours`: HoYoverse's programmes and their code waves fit in two.
DEFAULT_LIVESTREAM_HOURS = 2.0
_VERIFY_KEYS = {"url", "game_biz", "origin", "method", "lang", "lang_key"}


class CatalogError(ValueError):
    """The catalog file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Catalog:
    games: dict[str, Game]
    sources: tuple[SourceConfig, ...]
    livestreams: tuple[Livestream, ...] = ()

    def game(self, game_id: str) -> Game:
        try:
            return self.games[game_id]
        except KeyError:
            raise CatalogError(f"unknown game {game_id!r}") from None

    def sources_for(self, game_id: str) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if s.game == game_id)


def load_catalog(path: Path | None = None) -> Catalog:
    """Read the catalog at `path`, or the one shipped with codecast."""
    if path is None:
        text = resources.files("bot.core").joinpath("catalog.toml").read_text(encoding="utf-8")
        where = "built-in catalog"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read catalog {path}: {exc.strerror}") from exc
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    return parse_catalog(data, where)


def parse_catalog(data: dict[str, Any], where: str = "catalog") -> Catalog:
    games: dict[str, Game] = {}
    for game_id, raw in (data.get("games") or {}).items():
        games[game_id] = _parse_game(game_id, raw, where)
    if not games:
        raise CatalogError(f"{where}: no [games.<id>] tables")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("sources") or []):
        source = _parse_source(index, raw, where)
        if source.game not in games:
            raise CatalogError(f"{where}: source {source.id!r} names unknown game {source.game!r}")
        if source.id in seen:
            raise CatalogError(f"{where}: source id {source.id!r} appears twice")
        seen.add(source.id)
        sources.append(source)
    livestreams = tuple(
        _parse_livestream(index, raw, games, where)
        for index, raw in enumerate(data.get("livestreams") or [])
    )
    return Catalog(games=games, sources=tuple(sources), livestreams=livestreams)


def _parse_livestream(index: int, raw: Any, games: dict[str, Game], where: str) -> Livestream:
    name = f"livestreams[{index}]"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: {name} must be a table")
    unknown = sorted(set(raw) - _LIVESTREAM_KEYS)
    if unknown:
        raise CatalogError(f"{where}: {name} has unknown keys: {', '.join(unknown)}")
    game = raw.get("game")
    if not isinstance(game, str) or game not in games:
        raise CatalogError(f"{where}: {name}.game must name a game of the catalog")
    starts = raw.get("starts")
    if isinstance(starts, str):
        try:
            starts = datetime.fromisoformat(starts)
        except ValueError:
            raise CatalogError(f"{where}: {name}.starts is not a date and time") from None
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        raise CatalogError(
            f"{where}: {name}.starts must be a date and time with its offset, "
            "e.g. 2026-12-19T12:00:00Z"
        )
    hours = _positive_number(raw.get("hours", DEFAULT_LIVESTREAM_HOURS), f"{name}.hours", where)
    return Livestream(game=game, starts=starts, ends=starts + timedelta(hours=hours))


def _positive_number(value: Any, name: str, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise CatalogError(f"{where}: {name} must be a positive number")
    return float(value)


def _parse_game(game_id: str, raw: Any, where: str) -> Game:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: games.{game_id} must be a table")
    for key in ("name", "pattern"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogError(f"{where}: games.{game_id}.{key} is required")
    redeem_url = raw.get("redeem_url")
    if redeem_url is not None and "{code}" not in redeem_url:
        raise CatalogError(f"{where}: games.{game_id}.redeem_url must contain {{code}}")
    game = Game(
        id=game_id,
        name=raw["name"],
        pattern=raw["pattern"],
        redeem_url=redeem_url,
        color=int(raw.get("color", 0x5865F2)),
        stopwords=frozenset(str(w).upper() for w in raw.get("stopwords", [])),
        note=raw.get("note"),
        family=_parse_family(game_id, raw.get("family"), where),
        verify=_parse_verify(game_id, raw.get("verify"), where),
    )
    try:
        _ = game.regex
    except Exception as exc:
        raise CatalogError(f"{where}: games.{game_id}.pattern is not a regex: {exc}") from exc
    return game


def _parse_verify(game_id: str, raw: Any, where: str) -> VerifyEndpoint | None:
    """`[games.<id>.verify]`: the redeem endpoint; absent for games without web redemption."""
    if raw is None:
        return None
    name = f"games.{game_id}.verify"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: {name} must be a table")
    unknown = sorted(set(raw) - _VERIFY_KEYS)
    if unknown:
        raise CatalogError(f"{where}: {name} has unknown keys: {', '.join(unknown)}")
    for key in ("url", "game_biz", "origin"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogError(f"{where}: {name}.{key} is required")
    for key in ("url", "origin"):
        if not raw[key].startswith(("https://", "http://")):
            raise CatalogError(f"{where}: {name}.{key} must be an http(s) URL")
    method = str(raw.get("method", "GET")).upper()
    if method not in ("GET", "POST"):
        raise CatalogError(f"{where}: {name}.method must be GET or POST")
    return VerifyEndpoint(
        url=raw["url"],
        game_biz=raw["game_biz"],
        origin=raw["origin"].rstrip("/"),
        method=method,
        lang=str(raw.get("lang", "en")),
        lang_key=str(raw.get("lang_key", "en-us")),
    )


def _parse_family(game_id: str, family: Any, where: str) -> str | None:
    """`family`: a regex matched at the start of a code; one code of a family per account."""
    if family is None:
        return None
    try:
        re.compile(family)
    except (re.error, TypeError) as exc:
        raise CatalogError(f"{where}: games.{game_id}.family is not a regex: {exc}") from exc
    return str(family)


def _parse_source(index: int, raw: Any, where: str) -> SourceConfig:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: sources[{index}] must be a table")
    for key in ("id", "kind", "game", "url"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogError(f"{where}: sources[{index}].{key} is required")
    try:
        trust = Trust(raw.get("trust", "page" if raw["kind"] == "page" else "curated"))
    except ValueError:
        raise CatalogError(
            f"{where}: sources[{index}].trust must be official, curated or page"
        ) from None
    interval = raw.get("interval")
    return SourceConfig(
        id=raw["id"],
        kind=raw["kind"],
        game=raw["game"],
        url=raw["url"],
        trust=trust,
        trusted=bool(raw.get("trusted", False)),
        name=raw.get("name"),
        interval=None
        if interval is None
        else _positive_number(interval, f"sources[{index}].interval", where),
        options={k: v for k, v in raw.items() if k not in _SOURCE_KEYS},
    )
