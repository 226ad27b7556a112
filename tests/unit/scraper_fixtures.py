"""What the scraper tests share: catalog games, sources and result summaries."""

from __future__ import annotations

from bot.core.catalog import load_catalog
from bot.core.domain import Game, ScrapedCode, SourceConfig, Trust

CATALOG = load_catalog()


def game(game_id: str) -> Game:
    return CATALOG.game(game_id)


def source(kind: str, game_id: str, url: str = "https://source.test/codes") -> SourceConfig:
    trust = Trust.OFFICIAL if kind == "hoyolab" else Trust.CURATED
    return SourceConfig(id=f"{kind}-{game_id}", kind=kind, game=game_id, url=url, trust=trust)


def statuses(codes: list[ScrapedCode]) -> dict[str, str]:
    """code -> status word, the shape golden expectations are written in."""
    return {code.code: str(code.status) for code in codes}


def by_code(codes: list[ScrapedCode]) -> dict[str, ScrapedCode]:
    return {code.code: code for code in codes}


def codes_with(codes: list[ScrapedCode], status: str) -> set[str]:
    return {code.code for code in codes if str(code.status) == status}
