"""Posts waiting reports to a platform's moderation chat and keeps the posts true.

Every `interval` seconds (or at once when the report desk says something changed), a look:
reports HoYoverse has judged are decided (bot.store.repository.submissions.
follow_verification); each report waiting for a moderator is posted once, with Approve /
Reject / Block buttons and the reporter's record; a post whose report was decided
elsewhere (the other platform, a verdict, the shell) is edited to say who decided.

It runs in the process that listens for commands (one per bot), like the expiry watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.submission import SubmissionView
from bot.core.waiting import wait_set
from bot.store.repository import moderation, submissions
from notifiers.reports import ReportDesk

log = logging.getLogger(__name__)

# How often to look when nothing wakes the watcher.
MODERATION_CHECK_SECONDS = 5.0
# How long a stop waits for the look under way.
STOP_GRACE_SECONDS = 10.0


class ModerationBoard(Protocol):
    """A platform's moderation chat: posting a report, and showing it as it is now."""

    @property
    def platform(self) -> str: ...

    @property
    def chat_id(self) -> str: ...

    async def post(self, report: SubmissionView) -> str | None:
        """Post a waiting report with its buttons; the message id, or None when it failed."""
        ...

    async def show(self, chat_id: str, message_id: str, report: SubmissionView) -> bool:
        """Edit a post to show the report as it is now (decided: who, no buttons)."""
        ...


class ModerationWatcher:
    def __init__(
        self,
        desk: ReportDesk,
        sessions: async_sessionmaker[AsyncSession],
        *,
        board: ModerationBoard | None,
        clock: Callable[[], datetime],
        interval: float = MODERATION_CHECK_SECONDS,
    ) -> None:
        self.desk = desk
        self.sessions = sessions
        self.board = board
        self.clock = clock
        self.interval = interval
        self._wake = asyncio.Event()
        self._stopping = False
        desk.listen(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End `run` after the look under way (see `finish`)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Look until stopped; a failed look is logged and tried again."""
        self._stopping = False
        while not self._stopping:
            self._wake.clear()
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as error:
                log.warning("moderation: cannot look at reports: %s", type(error).__name__)
            except Exception:
                # A background loop must outlive its bugs: log, and look again next time.
                log.exception("moderation: looking at reports failed")
            await wait_set(self._wake, self.interval)

    async def check(self) -> tuple[int, int]:
        """One look: (posts sent, posts edited)."""
        now = self.clock()
        async with self.sessions.begin() as session:
            changed = await submissions.follow_verification(
                session, now, now - self.desk.rules.verify_wait
            )
        if changed:
            log.info("moderation: %d reports followed their code's verdict", len(changed))
        board = self.board
        if board is None:
            return 0, 0
        sent = edited = 0
        async with self.sessions() as session:
            waiting = await moderation.unposted(session, board.platform)
        for report in waiting:
            async with self.sessions.begin() as session:
                if not await moderation.claim(
                    session, report.id, board.platform, board.chat_id, self.clock()
                ):
                    continue
            message_id = await board.post(report)
            async with self.sessions.begin() as session:
                await moderation.posted(session, report.id, board.platform, message_id)
            sent += message_id is not None
        async with self.sessions() as session:
            stale = await moderation.outdated(session, board.platform)
        for chat_id, message_id, report in stale:
            # Marked shown first: a post that cannot be edited (deleted) is not tried forever.
            async with self.sessions.begin() as session:
                await moderation.shown(session, report.id, board.platform, str(report.state))
            edited += await board.show(chat_id, message_id, report)
        if sent or edited:
            log.info("moderation: %d reports posted, %d posts updated", sent, edited)
        return sent, edited


async def finish(watcher: ModerationWatcher, task: asyncio.Task[None] | None) -> None:
    """Stop the watcher's task: its look under way ends first (a look cancelled in the middle
    of a database call can leave the connection pool waiting), or is cancelled after a grace."""
    if task is None:
        return
    watcher.stop()
    try:
        # asyncio.timeout, not wait_for, which on Python 3.11 can lose a cancellation that
        # comes as the look ends (bot/core/waiting.py).
        async with asyncio.timeout(STOP_GRACE_SECONDS):
            await asyncio.shield(task)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
