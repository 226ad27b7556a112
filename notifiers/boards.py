"""Live boards: one message per chat and game that codecast keeps up to date in place.

`/board game` posts it (notifiers/<platform>/boards.py); from then on a `BoardKeeper` looks
every `interval` seconds: it renders each active board's game as it is now (codes that
work, with redeem buttons; codes expired within a day struck through) and edits the
message only when that rendering differs from what it shows, so a quiet game costs no
request. Edits go through the platform's limits and never notify anyone. A board whose
message was deleted, or whose chat is gone, ends quietly: nothing is said anywhere.

Like the expiry watcher, it runs in the process that listens for commands (one per bot).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import CodeView, Game, Platform
from bot.store import repository

log = logging.getLogger(__name__)

# How often boards are looked at (the daemon uses CODECAST_EXPIRY_CHECK).
BOARD_CHECK_SECONDS = 60.0


class BoardEdit(Enum):
    """What an edit of a board came to."""

    EDITED = "edited"
    # The message already shows this (Telegram's "message is not modified").
    UNCHANGED = "unchanged"
    # The message or its chat is gone: the board ends, quietly.
    GONE = "gone"
    # Anything else (a network error, a 5xx): tried again at the next look.
    FAILED = "failed"


@dataclass(frozen=True)
class BoardView:
    """A board as the platform will show it, and a digest of exactly that."""

    payload: object
    digest: str


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


class BoardEditor(Protocol):
    """What a platform provides: render a board, and edit its message."""

    platform: Platform

    async def render(
        self, board: repository.Board, game: Game, codes: Sequence[CodeView]
    ) -> BoardView: ...

    async def edit(self, board: repository.Board, view: BoardView) -> BoardEdit: ...


class BoardKeeper:
    """Keeps every active board of one platform showing its game's codes as they are."""

    def __init__(
        self,
        editor: BoardEditor,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        interval: float = BOARD_CHECK_SECONDS,
    ) -> None:
        self.editor = editor
        self.platform = editor.platform
        self.catalog = catalog
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self.edited = 0
        self.ended = 0

    async def run(self) -> None:
        """Look every `interval` seconds, forever; a failed look is logged and retried."""
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as error:
                log.warning("%s: cannot update boards: %s", self.platform, type(error).__name__)
            except Exception:
                # A background loop must outlive its bugs: log, and look again next time.
                log.exception("%s: updating boards failed", self.platform)
            await asyncio.sleep(self.interval)

    async def check(self) -> int:
        """One look: edit every board whose game changed; returns how many were edited."""
        now = self.clock()
        async with self.sessions() as session:
            boards = await repository.active_boards(session, self.platform)
            codes = {
                game: await repository.board_codes(session, game, now)
                for game in sorted({b.game for b in boards})
            }
        edited = 0
        for board in boards:
            game = self.catalog.games.get(board.game)
            if game is None:
                continue  # a game taken out of the catalog: its board stays as it was
            view = await self.editor.render(board, game, codes[board.game])
            if view.digest == board.shown:
                continue
            outcome = await self.editor.edit(board, view)
            async with self.sessions.begin() as session:
                if outcome in (BoardEdit.EDITED, BoardEdit.UNCHANGED):
                    await repository.board_shown(session, board.id, view.digest, now=now)
                elif outcome is BoardEdit.GONE:
                    await repository.end_board(
                        session, board.id, reason="message or chat gone", now=now
                    )
                    self.ended += 1
            if outcome is BoardEdit.EDITED:
                edited += 1
        self.edited += edited
        if edited:
            log.info("%s: %d boards updated", self.platform, edited)
        return edited
