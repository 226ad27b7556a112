"""Marks codes as expired in announcements already sent: the messages are edited in place.

Both platforms share the watching: every `interval` seconds, page through the sent
announcements holding a code that expired since the last look and hand each to the
platform's `MessageEditor`, which renders the announcement as it is now (an expired code is
marked and loses its Redeem button) and edits the message(s) within its sending limits.

It runs in the process that listens for commands (one per bot), so each edit is made once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement, CodeStatus, Platform
from bot.store import repository

log = logging.getLogger(__name__)

# How often to look for newly expired codes.
EXPIRY_CHECK_SECONDS = 60.0
# On start, codes that expired this long before are looked at too (the process may have been
# down when they did).
EXPIRY_LOOKBACK = timedelta(hours=1)
# Each look also covers this much before the previous one: a cycle stamps a code expired at
# its start and commits it later, possibly after a look. Messages already showing the same
# expired codes are not edited again.
EXPIRY_OVERLAP = timedelta(minutes=5)
# Sent messages read from the database at once.
PAGE_SIZE = 500


class MessageEditor(Protocol):
    """What a platform provides: the edit of one delivered announcement."""

    platform: Platform

    async def edit_sent(self, sent: repository.SentMessage, announcement: Announcement) -> int:
        """Show `announcement` as it is now in the message(s) of `sent`; how many edited."""
        ...


@dataclass
class _Edited:
    """The messages of one announcement edited to show `expired`, the last one `at`.

    Kept per announcement, the same for all its messages, with only their delivery ids: a
    fan-out to 100,000 chats holds 100,000 ids until the overlap has passed, not as many
    entries of their own.
    """

    expired: frozenset[str]
    at: datetime
    deliveries: set[int]


class ExpiryWatcher:
    """Looks for expired codes in sent announcements and has them edited."""

    def __init__(
        self,
        editor: MessageEditor,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        interval: float = EXPIRY_CHECK_SECONDS,
    ) -> None:
        self.editor = editor
        self.platform = editor.platform
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self.edited = 0
        self._since: datetime | None = None
        # Announcement id -> which of its messages were edited to show which expired codes.
        self._edited: dict[int, _Edited] = {}

    async def run(self) -> None:
        """Look every `interval` seconds, forever; a failed look is logged and retried."""
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as error:
                log.warning(
                    "%s: cannot look for expired codes: %s", self.platform, type(error).__name__
                )
            except Exception:
                # A background loop must outlive its bugs: log, and look again next time.
                log.exception("%s: looking for expired codes failed", self.platform)
            await asyncio.sleep(self.interval)

    async def check(self) -> int:
        """One look: edit what expired since the last one. Returns how many messages."""
        now = self.clock()
        since = self._since - EXPIRY_OVERLAP if self._since else now - EXPIRY_LOOKBACK
        # What was edited before `since` cannot come up again with the same expired codes.
        self._edited = {a: done for a, done in self._edited.items() if done.at >= since}
        edited, after = 0, 0
        # Read once per look: the codes of one announcement are the same for every chat.
        announcements: dict[int, Announcement | None] = {}
        while True:
            async with self.sessions() as session:
                page = await repository.sent_with_codes_expired_since(
                    session, self.platform, since, after_id=after, limit=PAGE_SIZE
                )
                for sent in page:
                    if sent.announcement_id not in announcements:
                        announcements[sent.announcement_id] = await repository.load_announcement(
                            session, sent.announcement_id
                        )
            for sent in page:
                announcement = announcements[sent.announcement_id]
                if announcement is None or not announcement.codes:
                    continue
                expired = frozenset(
                    c.code for c in announcement.codes if c.status is CodeStatus.EXPIRED
                )
                done = self._edited.get(sent.announcement_id)
                if done is not None and done.expired == expired:
                    if sent.delivery_id in done.deliveries:
                        continue
                else:
                    # The first edit of these messages, or another code expired since.
                    done = self._edited[sent.announcement_id] = _Edited(expired, now, set())
                edited += await self.editor.edit_sent(sent, announcement)
                done.deliveries.add(sent.delivery_id)
                done.at = now
            if len(page) < PAGE_SIZE:
                break
            after = page[-1].delivery_id
        self._since = now
        self.edited += edited
        if edited:
            log.info("%s: %d sent messages marked with expired codes", self.platform, edited)
        return edited


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
