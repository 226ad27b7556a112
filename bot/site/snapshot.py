"""What the site is rendered from: one snapshot of the store (bot/site/publish.py reads it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.domain import CodeView, Game, SourceHealth
from bot.core.submission import ReportCounts

if TYPE_CHECKING:
    from bot.site.icons import Icon


@dataclass(frozen=True)
class SiteSnapshot:
    games: tuple[Game, ...]  # catalog order
    codes: tuple[CodeView, ...]  # all codes of all games (active, unknown, expired)
    sources: tuple[SourceHealth, ...]
    generated_at: datetime  # tz-aware UTC
    site_url: str  # absolute base URL, ends with "/"
    # When set, the site carries the IndexNow key file (<key>.txt) that proves ownership.
    indexnow_key: str | None = None
    # Reward icon URL -> the icon stored under icons/ (bot.site.icons); others show as text.
    icons: Mapping[str, Icon] = field(default_factory=dict)
    # Verification accounts HoYoverse refuses ("verification account alt-1: cookie expired").
    verification_notes: tuple[str, ...] = ()
    # How players' reports fared (accepted, rejected, waiting), for the sources page.
    reports: ReportCounts | None = None
    # Source id -> what players call it (SourceConfig.label); ids not in it show as they are.
    source_names: Mapping[str, str] = field(default_factory=dict)
