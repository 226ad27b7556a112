"""Every Bot API call through codecast's limits: python-telegram-bot's rate-limiter hook.

PTB hands each call of the bot (replies, keyboard answers, edits, getChatMember, the
announcement sender's sends) to `BaseRateLimiter.process_request`, so one object here sees
them all and keeps them within `SendLimits`. A 429 is recorded there (it pauses the bot or
holds the chat) and then:

- a call someone waits for is tried again once the pause is over, for up to
  `REPLY_PATIENCE` seconds in all: a burst of users never loses an answer;
- a broadcast call raises `RetryAfter` to its caller: the outbox reschedules the delivery,
  which keeps its place without holding a sender while it waits.

A broadcast passed `PaidBroadcast` may go as a paid broadcast: when the limits give it a
turn on the paid budget, `allow_paid_broadcast` is added to the call here, the one place
that knows which budget the turn came from, and the caller reads `paid` afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from notifiers.telegram.limits import (
    CallArgs,
    PaidBroadcast,
    Priority,
    SendLimits,
    counts_as_message,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

# A reply still waiting for Telegram after this many seconds of 429s is given up: the user
# has long moved on (and Telegram asks for hours only when it punishes the bot).
REPLY_PATIENCE = 300.0

JSONDict = dict[str, Any]
Answer = bool | JSONDict | list[JSONDict]


def chat_key(chat_id: object) -> str | None:
    """The chat a call names, as the limits key it: ids as text, @usernames as they are."""
    if chat_id is None or chat_id == "":
        return None
    return str(chat_id)


class TelegramRateLimiter(BaseRateLimiter[CallArgs]):
    """Keeps every call of one bot within `SendLimits`; see the module docstring."""

    def __init__(self, limits: SendLimits, *, patience: float = REPLY_PATIENCE) -> None:
        self.limits = limits
        self.patience = patience

    async def initialize(self) -> None:
        """Nothing to open: the limits live in memory."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: CallArgs | None,
    ) -> Answer:
        paid = rate_limit_args if isinstance(rate_limit_args, PaidBroadcast) else None
        priority = (
            paid.priority
            if paid is not None
            else rate_limit_args
            if isinstance(rate_limit_args, Priority)
            else Priority.REPLY
        )
        chat_id = chat_key(data.get("chat_id"))
        message = counts_as_message(endpoint)
        waited = 0.0
        resume_at = 0.0
        while True:
            if (pause := resume_at - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            turn = await self.limits.wait_turn(
                chat_id, priority, message=message, may_pay=paid is not None
            )
            if paid is not None:
                # `data` is the call's own parameters, sent after this returns.
                paid.paid = turn.paid
                if turn.paid:
                    data["allow_paid_broadcast"] = True
                else:
                    data.pop("allow_paid_broadcast", None)
            try:
                answer = await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                self.limits.done(turn)
                scope = self.limits.rate_limited(chat_id, seconds)
                if priority is Priority.BROADCAST or waited + seconds > self.patience:
                    raise
                log.info(
                    "telegram %s to %s: 429, retrying in %gs (%s)",
                    endpoint,
                    chat_id or "-",
                    seconds,
                    scope,
                )
                waited += seconds
                resume_at = time.monotonic() + seconds
            except BaseException:
                self.limits.done(turn)
                raise
            else:
                self.limits.done(turn)
                return answer
