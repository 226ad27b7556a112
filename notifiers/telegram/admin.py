"""Who may change a chat's subscriptions: the user in private, administrators elsewhere."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

# getChatMember answers are kept this long: a demoted admin loses rights within a minute,
# and a burst of taps on a keyboard costs one API call, not one per tap.
ADMIN_CACHE_SECONDS = 60.0
ADMIN_CACHE_SIZE = 4_096
_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


class AdminCache:
    """Memo of "is this user an administrator of this chat", asked with getChatMember."""

    def __init__(
        self,
        bot: Bot,
        *,
        ttl: float = ADMIN_CACHE_SECONDS,
        max_entries: int = ADMIN_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple[int | str, int], tuple[float, bool]] = OrderedDict()

    async def is_admin(self, chat_id: int | str, user_id: int) -> bool:
        key = (chat_id, user_id)
        now = self.clock()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
            answer = member.status in _ADMIN_STATUSES
        except (BadRequest, Forbidden):
            # Not a member, no such chat, or the bot cannot see it: not an administrator.
            answer = False
        self._entries[key] = (now + self.ttl, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return answer

    def forget(self, chat_id: int | str) -> None:
        for key in [k for k in self._entries if k[0] == chat_id]:
            del self._entries[key]


async def may_change(
    admins: AdminCache, chat: Chat, user: User | None, sender_chat: Chat | None = None
) -> bool:
    """Whether `user` (or a message sent on behalf of `sender_chat`) speaks for `chat`.

    `sender_chat` is given for commands only; a button press names the user who tapped it,
    while the message it is under is the bot's own.
    """
    if chat.type == ChatType.PRIVATE:
        return True
    if sender_chat is not None and sender_chat.id == chat.id:
        # A channel post, or an anonymous administrator writing as the group: only
        # administrators can do either.
        return True
    if user is None or user.is_bot:
        return False
    return await admins.is_admin(chat.id, user.id)
