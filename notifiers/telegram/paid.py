"""The budget of Telegram's paid broadcasts: which sends may pay, and what they cost.

A broadcast may pay (`allow_paid_broadcast`, 0.1 Stars a message) only when the operator
switched paid broadcasts on with a budget, its announcement goes to at least `min_chats`
chats (smaller ones the free rate tells soon enough), and the budget has room: messages per
announcement and Stars per day (UTC), reserved from the database a few at a time
(`bot.store.spend`), so that several processes together keep it too. Whether a send that may
pay does pay is the rate limiter's choice: only beyond the free rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Platform
from bot.store import outbox, spend

log = logging.getLogger(__name__)

# Bot API: each message sent with allow_paid_broadcast costs the bot 0.1 Telegram Stars.
STARS_PER_PAID_MESSAGE = 0.1
# Paid messages reserved from the budget at once (a fifth of a second at the paid rate): few
# enough that a crash (which cannot give back) strands at most 20 Stars per announcement.
RESERVE_CHUNK = 200
# Counted sends are written this long after the first one not written yet.
SETTLE_AFTER_SECONDS = 5.0
# Announcement sizes remembered (one count query per announcement).
REMEMBERED_ANNOUNCEMENTS = 64


def messages_for_stars(stars: float) -> int:
    return int(round(stars / STARS_PER_PAID_MESSAGE, 6))


def stars_for_messages(messages: int) -> float:
    return round(messages * STARS_PER_PAID_MESSAGE, 1)


@dataclass(frozen=True)
class PaidPolicy:
    """The operator's budget: None means no cap of that kind (at least one is set)."""

    per_announcement: int | None
    messages_per_day: int | None
    min_chats: int


@dataclass(frozen=True)
class Ticket:
    """One paid message set aside for an announcement on a day; spent or given back."""

    day: date
    announcement_id: int


class PaidBudget:
    """Sets paid messages aside for sends, counts the ones that went, gives back the rest."""

    def __init__(
        self,
        policy: PaidPolicy,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        chunk: int = RESERVE_CHUNK,
    ) -> None:
        self.policy = policy
        self.sessions = sessions
        self.clock = clock
        self.chunk = chunk
        self._pools: dict[Ticket, int] = {}
        self._refused: set[Ticket] = set()
        self._day: date | None = None
        # Per scope: (sent, given back) not written yet.
        self._unsettled: dict[str, tuple[int, int]] = {}
        self._sizes: OrderedDict[int, int] = OrderedDict()
        self._reserving = asyncio.Lock()
        self._settler: asyncio.Task[None] | None = None
        self.spent_messages = 0

    async def take(self, announcement_id: int) -> Ticket | None:
        """A paid message for a send of this announcement, or None: it goes free."""
        if await self._size(announcement_id) < self.policy.min_chats:
            return None
        ticket = Ticket(self.clock().date(), announcement_id)
        if ticket.day != self._day:
            # A new day: yesterday's refusals no longer hold (its leftovers go at the stop).
            self._day = ticket.day
            self._refused.clear()
        if self._draw(ticket):
            return ticket
        if ticket in self._refused:
            return None
        async with self._reserving:
            if self._draw(ticket):
                return ticket
            granted = await self._reserve(ticket)
            if granted == 0:
                log.info(
                    "telegram: the paid broadcast budget is spent for announcement %d (%s); "
                    "the rest goes at the free rate",
                    announcement_id,
                    ticket.day.isoformat(),
                )
                self._refused.add(ticket)
                return None
            self._pools[ticket] = self._pools.get(ticket, 0) + granted - 1
            return ticket

    def spent(self, ticket: Ticket) -> None:
        """The message went as a paid broadcast (or may have: an answer that never came)."""
        self.spent_messages += 1
        for scope in self._scopes(ticket):
            sent, back = self._unsettled.get(scope, (0, 0))
            self._unsettled[scope] = (sent + 1, back)
        self._settle_soon()

    def give_back(self, ticket: Ticket) -> None:
        """The message went free, or was refused: its paid message stays for another."""
        self._pools[ticket] = self._pools.get(ticket, 0) + 1

    async def settle(self, *, final: bool = False) -> None:
        """Write the sends counted; with `final` (a stop), give back every unused one too."""
        if final:
            for ticket, unused in self._pools.items():
                for scope in self._scopes(ticket):
                    sent, back = self._unsettled.get(scope, (0, 0))
                    self._unsettled[scope] = (sent, back + unused)
            self._pools.clear()
            if self._settler is not None and self._settler is not asyncio.current_task():
                self._settler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._settler
        if not self._unsettled:
            return
        batch, self._unsettled = self._unsettled, {}
        try:
            async with self.sessions.begin() as session:
                await spend.settle(session, str(Platform.TELEGRAM), batch, now=self.clock())
        except (SQLAlchemyError, OSError):
            for scope, (sent, back) in batch.items():
                later_sent, later_back = self._unsettled.get(scope, (0, 0))
                self._unsettled[scope] = (sent + later_sent, back + later_back)
            raise

    def _draw(self, ticket: Ticket) -> bool:
        left = self._pools.get(ticket, 0)
        if left <= 0:
            return False
        self._pools[ticket] = left - 1
        return True

    def _scopes(self, ticket: Ticket) -> tuple[str, str]:
        return spend.day_scope(ticket.day), spend.announcement_scope(ticket.announcement_id)

    async def _reserve(self, ticket: Ticket) -> int:
        day, announcement = self._scopes(ticket)
        caps = {day: self.policy.messages_per_day, announcement: self.policy.per_announcement}
        async with self.sessions.begin() as session:
            return await spend.reserve(
                session, str(Platform.TELEGRAM), caps, self.chunk, now=self.clock()
            )

    async def _size(self, announcement_id: int) -> int:
        size = self._sizes.get(announcement_id)
        if size is None:
            async with self.sessions() as session:
                size = await outbox.announcement_size(session, announcement_id, Platform.TELEGRAM)
            self._sizes[announcement_id] = size
            while len(self._sizes) > REMEMBERED_ANNOUNCEMENTS:
                self._sizes.popitem(last=False)
        return size

    def _settle_soon(self) -> None:
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_later(), name="telegram-paid-settle")

    async def _settle_later(self) -> None:
        await asyncio.sleep(SETTLE_AFTER_SECONDS)
        try:
            await self.settle()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("telegram: paid sends not counted yet (%s)", type(exc).__name__)
