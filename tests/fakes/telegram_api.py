"""Fake Telegram Bot API server on 127.0.0.1 for driving the real python-telegram-bot client."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import re
import signal
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

JSON = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
OutageMode = Literal["500", "502", "drop", "hang"]
Scope = Literal["chat", "group", "global", "paid"]

DEFAULT_TOKEN = "123456789:AAFakeTokenForCodecastTests-000000"
MAX_TEXT_LENGTH = 4096
# Texts whose check is remembered (see FakeTelegram._checked_text).
TEXTS_REMEMBERED = 64
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPDATES_PER_POLL = 100
# Bot API: a message sent with allow_paid_broadcast costs the bot 0.1 Stars, counted here in
# tenths of a Star so that the sum stays exact.
STAR_TENTHS_PER_PAID_MESSAGE = 1

# Bot API: without allowed_updates every type is delivered except these three.
_NOT_DELIVERED_BY_DEFAULT = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
# PTB sends non-string values JSON-encoded in form bodies; these stay text even when they look
# like JSON ("123" as a message text must not become an int).
_TEXT_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "data"}
    | {"inline_message_id", "language_code", "description", "short_description", "name"}
    | {"title", "message_effect_id", "business_connection_id", "ip_address", "custom_title"}
)
_JSON_START = frozenset('{["-0123456789tfnN')
_TOKEN_SHAPE = re.compile(r"\d+:[\w-]+")
_COMMAND_TOKEN = re.compile(r"(?<!\S)/\w{1,64}(?:@\w{3,32})?", re.ASCII)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SUPERGROUP_BASE = 1_000_000_000_000  # supergroup and channel ids are -100xxxxxxxxxx

_ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_post_messages": True,
    "can_edit_messages": True,
    "can_pin_messages": True,
    "can_manage_topics": False,
}
_RESTRICTED_RIGHTS: JSON = {
    "is_member": True,
    "until_date": 0,
    **dict.fromkeys(
        (
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_send_messages",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_manage_topics",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_edit_tag",
            "can_react_to_messages",
        ),
        False,
    ),
}


@dataclass(frozen=True, slots=True)
class FakeUser:
    """A Telegram account in the simulated world."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class FakeChat:
    """A chat in the simulated world; private chats share their id with the user."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(slots=True)
class RecordedRequest:
    """One API call as received; `status` is 200, an error status, or 0 for a dropped one."""

    method: str
    params: JSON
    at: float
    status: int = 0


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, with the text exactly as the client sent it."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSON | None
    date: int
    at: float
    params: JSON
    edit_date: int | None = None

    @property
    def plain_text(self) -> str:
        """The text a reader sees: Telegram HTML tags removed and entities decoded."""
        return visible_text(self.text, self.parse_mode)

    @property
    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass(frozen=True, slots=True)
class Edit:
    method: str
    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    text: str | None
    reply_markup: JSON | None
    at: float


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Violation:
    """A send that broke a rate limit: which one, where, when, and the retry_after answered."""

    scope: Scope
    chat_id: int
    at: float
    retry_after: int


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` accepted messages in any sliding window of `window` seconds."""

    count: int
    window: float


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's published limits as sliding windows (see FakeTelegram.rate_limits).

    `tolerance` shortens every window to absorb clock jitter between a sender's timer and
    the moment a request reaches the fake. With `reject=False` violations are only counted and
    the message is delivered anyway.
    """

    per_chat: Limit = Limit(1, 1.0)
    per_group: Limit = Limit(20, 60.0)
    overall: Limit = Limit(30, 1.0)
    # Every message together, paid broadcasts (allow_paid_broadcast) included.
    paid_overall: Limit = Limit(1000, 1.0)
    tolerance: float = 0.05
    reject: bool = True

    def scaled(self, factor: float) -> RateLimits:
        """The same limits on a clock running `factor` times faster: every rate times `factor`."""

        def shrink(limit: Limit) -> Limit:
            return Limit(limit.count, limit.window / factor)

        return replace(
            self,
            per_chat=shrink(self.per_chat),
            per_group=shrink(self.per_group),
            overall=shrink(self.overall),
            paid_overall=shrink(self.paid_overall),
            tolerance=self.tolerance / factor,
        )


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        if self.status == 502:  # what a proxy in front of the API answers: not JSON
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return _json_response(self.status, body)


class _Dropped(Exception):
    """The connection is closed without an answer."""


@dataclass(slots=True)
class _Failure:
    status: int | Literal["drop"]
    description: str
    parameters: JSON | None
    chat_id: int | None = None

    def raise_(self) -> None:
        if self.status == "drop":
            raise _Dropped
        raise _ApiError(self.status, self.description, self.parameters)


@dataclass(slots=True)
class _ChatState:
    chat: FakeChat
    json: JSON  # built once and shared by every message of the chat
    bot_status: MemberStatus
    last_message_id: int = 0
    failure: _Failure | None = None
    members: dict[int, tuple[FakeUser, MemberStatus, JSON]] = field(default_factory=dict)
    # What getChatMemberCount answers when a test set it (a group of thousands whose members
    # the test does not make one by one); otherwise the members known and the bot.
    member_count: int | None = None
    # Accepted send times, oldest first, at most the limit's count (tuples stay small).
    chat_recent: tuple[float, ...] = ()
    group_recent: tuple[float, ...] = ()


class _TelegramHtml(HTMLParser):
    """Checks text against Telegram's HTML subset and collects what a reader sees."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.parts: list[str] = []
        self.open_tags: list[str] = []
        self.error: str | None = None
        self.feed(text)
        self.close()
        if self.error is None and self.open_tags:
            self.error = f'Can\'t find end tag corresponding to start tag "{self.open_tags[-1]}"'

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        start = 0
        for _ in range(line - 1):
            start = self.text.index("\n", start) + 1
        return len(self.text[: start + column].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error is None and tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error is None and (not self.open_tags or self.open_tags[-1] != tag):
            expected = f'"</{self.open_tags[-1]}>"' if self.open_tags else "nothing"
            self.error = (
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected {expected}, found "</{tag}>"'
            )
        if self.open_tags:
            self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    """Text as Telegram shows it; only HTML is interpreted (Markdown is returned as is)."""
    if (parse_mode or "").upper() != "HTML" or ("<" not in text and "&" not in text):
        return text
    return "".join(_TelegramHtml(text).parts)


def utf16_length(text: str) -> int:
    """Entity offsets and lengths count UTF-16 code units, as the Bot API does."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON]:
    """bot_command entities for every /command token, as Telegram adds them server side."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: m.start()]),
            "length": utf16_length(m[0]),
        }
        for m in _COMMAND_TOKEN.finditer(text)
    ]


def _json_response(status: int, payload: Any) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def _decode_param(name: str, value: str) -> Any:
    if name in _TEXT_PARAMS or not value or value[0] not in _JSON_START:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class _ParamDecoder:
    """Decodes request values; a repeated long value (a fan-out's text or keyboard) is decoded
    once and shared, which keeps thousands of recorded sends of one announcement small.
    Shared values are read-only by convention."""

    def __init__(self, capacity: int = 1024) -> None:
        self._cache: dict[tuple[str, str], Any] = {}
        self._capacity = capacity

    def __call__(self, name: str, value: str) -> Any:
        if len(value) < 24:
            return _decode_param(name, value)
        key = (name, value)
        if key in self._cache:
            return self._cache[key]
        if len(self._cache) >= self._capacity:
            self._cache.clear()
        decoded = self._cache[key] = _decode_param(name, value)
        return decoded


def _member_json(user: FakeUser, status: MemberStatus, extra: Mapping[str, Any] = {}) -> JSON:
    member: JSON = {"status": status, "user": user.to_json()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        member.update(_RESTRICTED_RIGHTS)
    elif status == "kicked":
        member["until_date"] = 0
    member.update(extra)
    return member


def _now_date() -> int:
    return int(time.time())


class FakeTelegram:
    """The Bot API for one bot token, plus a small simulated world of users and chats.

    Use as `async with FakeTelegram() as tg:` and point the client at `tg.base_url` and
    `tg.base_file_url`. Chats named by an unknown numeric id are created on first use (positive
    ids are private chats, -100… ids supergroups, other negative ids groups) unless
    `strict_chats` is set, in which case they answer "chat not found". With `record` off only
    the counters (`request_count`, `sent_count`, `violations`) are kept, for long benchmarks.

    Rate limits (`rate_limits`, off when None) apply to messages: sendMessage, and edits of
    a chat's messages (editMessageText, editMessageReplyMarkup), which Telegram limits
    alike; calls that post nothing (answerCallbackQuery, getChatMember…) are not limited.
    A send is checked, in this order, against: its chat (`per_chat`), its group when the
    chat is a group or supergroup (`per_group`), and all chats together (`overall`). For
    each, let `w` be the window minus `tolerance`; the send violates the limit when `count`
    accepted sends in the same scope already arrived less than `w` seconds before it. With
    the defaults: a second message to one chat less than 0.95 s after the previous one; a
    21st message to one group within 59.95 s; a 31st message within 0.95 s overall. Each
    violating send is counted once in `violations` (with the first scope it broke) and,
    unless `reject` is off, answered 429 with retry_after = the whole seconds (at least 1)
    until the send would have been accepted; rejected sends are not accepted and so do not
    count towards later windows.
    Paid broadcasts (sendMessage with `allow_paid_broadcast`) skip the free overall limit and
    are held to `paid_overall` (1,000 a second) together with every other message instead;
    each one accepted costs 0.1 Stars (`paid_count`, `stars_spent`).
    The real platform tolerates short bursts to one chat; the fake deliberately does not, so a
    sender that passes here stays within the published limits.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "codecast_test_bot",
        bot_name: str = "codecast",
        rate_limits: RateLimits | None = None,
        strict_chats: bool = False,
        record: bool = True,
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if _TOKEN_SHAPE.fullmatch(token) else 1
        self.bot_user = FakeUser(
            bot_id, bot_name, username=bot_username, language_code=None, is_bot=True
        )
        self.strict_chats = strict_chats
        self.record = record
        self.latency = latency
        self.sent_count = 0
        # Messages sent with allow_paid_broadcast, and what they cost in tenths of a Star.
        self.paid_count = 0
        self.star_tenths_spent = 0
        self.request_count = 0
        self.requests: list[RecordedRequest] = []
        self.edits: list[Edit] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.deleted: list[tuple[int, int]] = []
        # (chat id, message id, disable_notification) of each pin, in order.
        self.pins: list[tuple[int, int, bool]] = []
        self.violations: list[Violation] = []
        self._bot_json = self.bot_user.to_json()
        self._decode = _ParamDecoder()
        # Texts checked (as sent and as shown): a fan-out sends one text to every chat.
        self._texts: OrderedDict[tuple[str, Any], tuple[str, str]] = OrderedDict()
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, _ChatState] = {}
        self._usernames: dict[str, int] = {}
        self._sent: list[SentMessage] = []
        self._sent_by_chat: dict[int, list[SentMessage]] = {}
        self._current: dict[tuple[int, int], SentMessage] = {}
        self._commands: dict[tuple[str, Any, Any, str], list[JSON]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._outage_until = 0.0
        self._outage_mode: OutageMode = "500"
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids = itertools.count(4_200_000_001)
        self._open_callbacks: set[str] = set()
        self._allowed_updates: frozenset[str] | None = None
        self._pollers: set[asyncio.Future[None]] = set()
        self._poll_generation = 0
        self._webhook: JSON = {}
        self._user_ids = itertools.count(1001)
        self._group_ids = itertools.count(5001)
        self._supergroup_ids = itertools.count(1)
        self._rate_limits: RateLimits | None = None
        self.rate_limits = rate_limits
        self._runner: web.AppRunner | None = None
        self._port = port
        self._closing = False
        self._methods: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("logOut", lambda _: True),
                ("close", lambda _: True),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("getUpdates", lambda _: []),  # answered by _get_updates, which may wait
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("sendMessage", self._send_message),
                ("editMessageText", self._edit_message_text),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("pinChatMessage", self._pin_chat_message),
                ("unpinChatMessage", self._unpin_chat_message),
                ("answerCallbackQuery", self._answer_callback_query),
                ("getChat", self._get_chat),
                ("getChatMember", self._get_chat_member),
                ("getChatMemberCount", self._get_chat_member_count),
                ("getChatAdministrators", self._get_chat_administrators),
                ("leaveChat", self._leave_chat),
            )
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/fake/stats", self._stats)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        # handler_cancellation: a long poll whose client went away stops waiting, as upstream.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    # -- the simulated world ---------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Alice",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> FakeUser:
        user = FakeUser(
            next(self._user_ids) if user_id is None else user_id,
            first_name,
            username=username,
            last_name=last_name,
            language_code=language_code,
        )
        self._users[user.id] = user
        return user

    def private_chat(self, user: FakeUser) -> FakeChat:
        self._users.setdefault(user.id, user)
        state = self._chats.get(user.id)
        if state is None:
            chat = FakeChat(user.id, "private", username=user.username)
            chat = replace(chat, first_name=user.first_name, last_name=user.last_name)
            state = self._register(chat, "member")
        return state.chat

    def add_group(
        self,
        title: str = "Codes group",
        *,
        supergroup: bool = False,
        username: str | None = None,
        creator: FakeUser | None = None,
        bot_status: MemberStatus = "member",
        chat_id: int | None = None,
    ) -> FakeChat:
        if chat_id is None:
            chat_id = (
                -_SUPERGROUP_BASE - next(self._supergroup_ids)
                if supergroup
                else -next(self._group_ids)
            )
        kind: ChatType = "supergroup" if supergroup else "group"
        chat = FakeChat(chat_id, kind, title=title, username=username)
        self._register(chat, bot_status)
        if creator is not None:
            self.set_member(chat, creator, "creator")
        return chat

    def add_channel(
        self,
        title: str = "Codes channel",
        *,
        username: str | None = None,
        creator: FakeUser | None = None,
        bot_status: MemberStatus = "administrator",
        chat_id: int | None = None,
    ) -> FakeChat:
        if chat_id is None:
            chat_id = -_SUPERGROUP_BASE - next(self._supergroup_ids)
        chat = FakeChat(chat_id, "channel", title=title, username=username)
        self._register(chat, bot_status)
        if creator is not None:
            self.set_member(chat, creator, "creator")
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        return self._state(chat_id).chat

    def set_member(
        self, chat: FakeChat | int, user: FakeUser | int, status: MemberStatus, **fields: Any
    ) -> None:
        """What getChatMember answers for this user in this chat (default: member)."""
        member = self._user(user)
        self._state(chat).members[member.id] = (member, status, fields)

    def set_member_count(self, chat: FakeChat | int, count: int) -> None:
        """What getChatMemberCount answers for this group or channel from now on."""
        self._state(chat).member_count = count

    def bot_status(self, chat: FakeChat | int) -> MemberStatus:
        return self._state(chat).bot_status

    # -- updates the bot will receive ------------------------------------------------------

    def queue_update(self, payload: Mapping[str, Any]) -> JSON:
        """Queue a raw update (one key besides update_id); returns it with its update_id."""
        update: JSON = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._wake_pollers()
        return update

    def send_text(self, chat: FakeChat | int, user: FakeUser | int, text: str) -> JSON:
        """A user writes `text` in `chat`; /command tokens get bot_command entities."""
        state, sender = self._state(chat), self._user(user)
        message = self._incoming_message(state, text)
        message["from"] = sender.to_json()
        return self.queue_update({"message": message})

    def send_command(self, chat: FakeChat | int, user: FakeUser | int, text: str) -> JSON:
        if not text.startswith("/"):
            raise ValueError(f"a command starts with '/': {text!r}")
        return self.send_text(chat, user, text)

    def channel_post(
        self, chat: FakeChat | int, text: str, *, author_signature: str | None = None
    ) -> JSON:
        state = self._state(chat)
        message = self._incoming_message(state, text)
        message["sender_chat"] = state.json
        if author_signature is not None:
            message["author_signature"] = author_signature
        return self.queue_update({"channel_post": message})

    def press_button(
        self, chat: FakeChat | int, user: FakeUser | int, message_id: int, data: str
    ) -> JSON:
        """A user taps an inline button carrying callback `data` under the bot's message."""
        state, presser = self._state(chat), self._user(user)
        sent = self._current.get((state.chat.id, message_id))
        message = (
            self._message_json(state, sent)
            if sent is not None
            else {"chat": state.json, "message_id": message_id, "date": 0}  # inaccessible
        )
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": presser.to_json(),
            "message": message,
            "chat_instance": str(abs(state.chat.id) * 7919),
            "data": data,
        }
        return self.queue_update({"callback_query": query})

    def bot_added_to_chat(
        self, chat: FakeChat | int, user: FakeUser | int, status: MemberStatus = "administrator"
    ) -> JSON:
        return self._bot_membership_changed(chat, user, status)

    def bot_removed_from_chat(
        self, chat: FakeChat | int, user: FakeUser | int, status: MemberStatus = "kicked"
    ) -> JSON:
        """In a private chat, status "kicked" is the user blocking the bot."""
        return self._bot_membership_changed(chat, user, status)

    # -- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int | Literal["drop"] = 429,
        *,
        retry_after: int = 3,
        description: str | None = None,
        parameters: JSON | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` if given) with an error."""
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after, **(parameters or {})}
        elif status != "drop" and description is None:
            description = _DESCRIPTIONS.get(status, "Internal Server Error")
        failure = _Failure(status, description or "", parameters, chat_id)
        self._failures.setdefault(method.lower(), []).extend([failure] * times)

    # block and kick are one state (the bot's membership is "kicked"); the 403 description
    # follows the chat's type, as upstream, so blocking a group reads "kicked from the group".

    def block(self, chat: FakeChat | int) -> None:
        """The user blocked the bot: 403 "Forbidden: bot was blocked by the user"."""
        self._state(chat).bot_status = "kicked"

    def kick(self, chat: FakeChat | int) -> None:
        """The bot was removed: 403 "Forbidden: bot was kicked from the <type> chat"."""
        self._state(chat).bot_status = "kicked"

    def deactivate(self, chat: FakeChat | int) -> None:
        """403 "Forbidden: user is deactivated" for every method naming the chat."""
        self._fail_chat(chat, 403, "Forbidden: user is deactivated")

    def chat_not_found(self, chat: FakeChat | int) -> None:
        """400 "Bad Request: chat not found" for every method naming the chat."""
        self._fail_chat(chat, 400, "Bad Request: chat not found")

    def migrate(
        self, chat: FakeChat | int, new_chat_id: int | None = None, *, by: FakeUser | None = None
    ) -> FakeChat:
        """Upgrade a group to a supergroup: every method naming the old id answers 400 with
        parameters.migrate_to_chat_id. With `by`, queue the two service messages."""
        old = self._state(chat)
        chat_id = old.chat.id
        new_id = new_chat_id if new_chat_id is not None else -_SUPERGROUP_BASE - abs(chat_id)
        new_chat = replace(old.chat, id=new_id, type="supergroup")
        new = self._register(new_chat, old.bot_status)
        new.members.update(old.members)
        description = "Bad Request: group chat was upgraded to a supergroup chat"
        self._fail_chat(chat_id, 400, description, {"migrate_to_chat_id": new_id})
        if by is not None:
            notice = self._incoming_message(old, None)
            notice.update({"from": by.to_json(), "migrate_to_chat_id": new_id})
            self.queue_update({"message": notice})
            notice = self._incoming_message(new, None)
            notice.update({"sender_chat": new.json, "migrate_from_chat_id": chat_id})
            self.queue_update({"message": notice})
        return new_chat

    def restore(self, chat: FakeChat | int) -> None:
        """Undo block/kick/deactivate/chat_not_found/migrate for this chat."""
        state = self._state(chat)
        state.failure = None
        if state.bot_status in ("kicked", "left"):
            state.bot_status = "member"

    def outage(self, seconds: float, mode: OutageMode = "500") -> None:
        """For `seconds` from now every request fails: "500" JSON error, "502" HTML from a
        proxy, "drop" closes the connection at once, "hang" holds it until the end, then drops.
        """
        self._outage_until = time.monotonic() + seconds
        self._outage_mode = mode

    # -- what the bot did ------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages accepted from sendMessage, in order, as sent (edits do not change them)."""
        if chat_id is None:
            return list(self._sent)
        return list(self._sent_by_chat.get(chat_id, ()))

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """The bot's message as it is now (after edits); None once deleted or never sent."""
        return self._current.get((chat_id, message_id))

    def calls(self, method: str) -> list[RecordedRequest]:
        name = method.lower()
        return [request for request in self.requests if request.method.lower() == name]

    @property
    def commands(self) -> list[JSON]:
        """The command menu set with setMyCommands for the default scope and language."""
        return self.commands_for()

    def commands_for(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSON]:
        return list(self._commands.get(_scope_key(scope, language_code), ()))

    @property
    def command_languages(self) -> list[str]:
        """The languages a default-scope command menu was set for ("" for every user)."""
        return sorted(key[3] for key in self._commands if key[0] == "default")

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits | None) -> None:
        """Switch limits on (RateLimits) or off (None); the sliding windows start empty."""
        self._rate_limits = limits
        self._overall_recent: deque[float] = deque(maxlen=limits.overall.count if limits else 1)
        self._all_recent: deque[float] = deque(maxlen=limits.paid_overall.count if limits else 1)
        for state in self._chats.values():
            state.chat_recent = state.group_recent = ()

    @property
    def stars_spent(self) -> float:
        """Telegram Stars the paid broadcasts cost the bot."""
        return self.star_tenths_spent / 10

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate()` holds, e.g. until the bot under test has answered."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {within} s")
            await asyncio.sleep(0.005)

    # -- HTTP ------------------------------------------------------------------------------

    async def _stats(self, request: web.Request) -> web.Response:
        """Counters for a fake running in another process (benchmarks)."""
        scopes = [violation.scope for violation in self.violations]
        return _json_response(
            200,
            {
                "requests": self.request_count,
                "sent": self.sent_count,
                "paid": self.paid_count,
                "stars": self.stars_spent,
                "violations": len(scopes),
                "violations_by_scope": {scope: scopes.count(scope) for scope in set(scopes)},
            },
        )

    async def _not_found(self, request: web.Request) -> web.Response:
        return _ApiError(404, "Not Found").response()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        params = await _read_params(request, self._decode)
        name = request.match_info["method"]
        known = self._methods.get(name.lower())
        record = RecordedRequest(known[0] if known else name, params, time.monotonic())
        self.request_count += 1
        if self.record:
            self.requests.append(record)
        try:
            token = request.match_info["token"]
            if token != self.token:
                # Upstream: a well-formed but unknown token is 401, a malformed one 404.
                if _TOKEN_SHAPE.fullmatch(token):
                    raise _ApiError(401, "Unauthorized")
                raise _ApiError(404, "Not Found")
            if known is None:
                raise _ApiError(404, "Not Found")
            await self._before_answer(record.method, params)
            if record.method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = known[1](params)
        except _ApiError as error:
            record.status = error.status
            return error.response()
        except _Dropped:
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never written: the connection is already closed
        record.status = 200
        return _json_response(200, {"ok": True, "result": result})

    async def _before_answer(self, method: str, params: JSON) -> None:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        now = time.monotonic()
        if now < self._outage_until:
            if self._outage_mode == "hang":
                await asyncio.sleep(self._outage_until - now)
                raise _Dropped
            if self._outage_mode == "drop":
                raise _Dropped
            if self._outage_mode == "502":
                raise _ApiError(502, "Bad Gateway")
            raise _ApiError(500, "Internal Server Error")
        queued = self._failures.get(method.lower())
        if queued:
            for index, failure in enumerate(queued):
                if failure.chat_id is None or _same_id(params.get("chat_id"), failure.chat_id):
                    del queued[index]
                    failure.raise_()

    # -- getting updates -------------------------------------------------------------------

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        # A newer poll answers any older one still waiting with 409, as upstream does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        self._confirm(int(params.get("offset") or 0))
        limit = min(max(int(params.get("limit") or MAX_UPDATES_PER_POLL), 1), MAX_UPDATES_PER_POLL)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or ()
            self._allowed_updates = frozenset(allowed) if allowed else None
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        loop = asyncio.get_running_loop()
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            waiter: asyncio.Future[None] = loop.create_future()
            self._pollers.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, remaining)
            finally:
                self._pollers.discard(waiter)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()

    def _deliverable(self, limit: int) -> list[JSON]:
        batch: list[JSON] = []
        for update in self._updates:
            kind = next(key for key in update if key != "update_id")
            allowed = (
                kind not in _NOT_DELIVERED_BY_DEFAULT
                if self._allowed_updates is None
                else kind in self._allowed_updates
            )
            if allowed:
                batch.append(update)
                if len(batch) == limit:
                    break
        return batch

    def _wake_pollers(self) -> None:
        for waiter in self._pollers:
            if not waiter.done():
                waiter.set_result(None)

    def _set_webhook(self, params: JSON) -> bool:
        self._webhook = {
            "url": params.get("url", ""),
            "max_connections": params.get("max_connections", 40),
            "allowed_updates": params.get("allowed_updates"),
        }
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if info["url"]:
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    # -- bot profile -----------------------------------------------------------------------

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_json,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: command description must be 1-256 characters")
        language = params.get("language_code") or ""
        # Telegram takes a two-letter ISO 639-1 code here, or none for every user.
        if language and not re.fullmatch(r"[a-z]{2}", str(language)):
            raise _ApiError(400, "Bad Request: invalid language code specified")
        key = _scope_key(params.get("scope"), language)
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands_for(params.get("scope"), params.get("language_code", ""))

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(_scope_key(params.get("scope"), params.get("language_code", "")), None)
        return True

    # -- messages --------------------------------------------------------------------------

    def _send_message(self, params: JSON) -> JSON:
        state = self._chat_for(params.get("chat_id"))
        _require_posting(state)
        parse_mode = params.get("parse_mode")
        text, shown = self._checked_text(params.get("text"), parse_mode)
        markup = _checked_markup(params.get("reply_markup"))
        now = time.monotonic()
        paid = params.get("allow_paid_broadcast") in (True, "true", "True")
        self._check_rate(state, now, paid=paid)
        if paid:
            self.paid_count += 1
            self.star_tenths_spent += STAR_TENTHS_PER_PAID_MESSAGE
        state.last_message_id += 1
        sent = SentMessage(
            state.chat.id,
            state.last_message_id,
            text,
            parse_mode,
            markup,
            _now_date(),
            now,
            params,
        )
        self.sent_count += 1
        if self.record:
            self._sent.append(sent)
            self._sent_by_chat.setdefault(sent.chat_id, []).append(sent)
            self._current[sent.chat_id, sent.message_id] = sent
        return self._message_json(state, sent, shown)

    def _checked_text(self, text: Any, parse_mode: Any) -> tuple[str, str]:
        """`_checked_text`, remembered for the last few texts that passed."""
        if not isinstance(text, str) or not isinstance(parse_mode, str | None):
            return _checked_text(text, parse_mode)
        key = (text, parse_mode)
        checked = self._texts.get(key)
        if checked is None:
            checked = self._texts[key] = _checked_text(text, parse_mode)
            while len(self._texts) > TEXTS_REMEMBERED:
                self._texts.popitem(last=False)
        return checked

    def _edit_message_text(self, params: JSON) -> JSON | bool:
        parse_mode = params.get("parse_mode")
        text, shown = self._checked_text(params.get("text"), parse_mode)
        markup = _checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            self._record_edit("editMessageText", params, None, None, text, markup)
            return True
        state = self._chat_for(params.get("chat_id"))
        _require_posting(state)
        old = self._editable(state, params.get("message_id"))
        if shown == old.plain_text and markup == old.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        self._check_rate(state, time.monotonic())
        # Upstream drops the inline keyboard when an edit of the text does not repeat it.
        new = replace(
            old, text=text, parse_mode=parse_mode, reply_markup=markup, edit_date=_now_date()
        )
        self._current[state.chat.id, new.message_id] = new
        self._record_edit("editMessageText", params, state.chat.id, new.message_id, text, markup)
        return self._message_json(state, new, shown)

    def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        markup = _checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            self._record_edit("editMessageReplyMarkup", params, None, None, None, markup)
            return True
        state = self._chat_for(params.get("chat_id"))
        _require_posting(state)
        old = self._editable(state, params.get("message_id"))
        if markup == old.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        self._check_rate(state, time.monotonic())
        new = replace(old, reply_markup=markup, edit_date=_now_date())
        self._current[state.chat.id, new.message_id] = new
        self._record_edit(
            "editMessageReplyMarkup", params, state.chat.id, new.message_id, None, markup
        )
        return self._message_json(state, new)

    def _delete_message(self, params: JSON) -> bool:
        state = self._chat_for(params.get("chat_id"))
        _require_posting(state)
        key = (state.chat.id, _int_or_none(params.get("message_id")) or 0)
        if self._current.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append(key)
        return True

    def _pin_chat_message(self, params: JSON) -> bool:
        """Upstream: the bot pins in a private chat, and elsewhere as an administrator with
        the right to pin; a message it cannot see is "not found"."""
        state = self._chat_for(params.get("chat_id"))
        _require_membership(state)
        if state.chat.type != "private" and state.bot_status not in ("creator", "administrator"):
            raise _ApiError(
                400, "Bad Request: not enough rights to manage pinned messages in the chat"
            )
        key = (state.chat.id, _int_or_none(params.get("message_id")) or 0)
        if key not in self._current:
            raise _ApiError(400, "Bad Request: message to pin not found")
        silent = params.get("disable_notification") in (True, "true", "True")
        self.pins.append((key[0], key[1], bool(silent)))
        return True

    def _unpin_chat_message(self, params: JSON) -> bool:
        state = self._chat_for(params.get("chat_id"))
        _require_membership(state)
        message_id = _int_or_none(params.get("message_id"))
        self.pins = [p for p in self.pins if not (p[0] == state.chat.id and p[1] == message_id)]
        return True

    def pinned(self, chat_id: int) -> list[int]:
        """The chat's pinned messages, oldest first."""
        return [m for c, m, _ in self.pins if c == chat_id]

    def delete_by_user(self, chat_id: int, message_id: int) -> None:
        """Someone in the chat deleted one of the bot's messages (no update reaches bots)."""
        self._current.pop((chat_id, message_id), None)
        self.pins = [p for p in self.pins if (p[0], p[1]) != (chat_id, message_id)]

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired "
                "or query ID is invalid",
            )
        self._open_callbacks.discard(query_id)
        answer = CallbackAnswer(
            query_id,
            params.get("text"),
            bool(params.get("show_alert", False)),
            params.get("url"),
            time.monotonic(),
        )
        self.callback_answers.append(answer)
        return True

    def _editable(self, state: _ChatState, message_id: Any) -> SentMessage:
        sent = self._current.get((state.chat.id, _int_or_none(message_id) or 0))
        if sent is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return sent

    def _record_edit(
        self,
        method: str,
        params: JSON,
        chat_id: int | None,
        message_id: int | None,
        text: str | None,
        markup: JSON | None,
    ) -> None:
        inline_id = params.get("inline_message_id")
        edit = Edit(method, chat_id, message_id, inline_id, text, markup, time.monotonic())
        self.edits.append(edit)

    def _message_json(
        self, state: _ChatState, sent: SentMessage, shown: str | None = None
    ) -> JSON:
        message: JSON = {"message_id": sent.message_id, "date": sent.date, "chat": state.json}
        if state.chat.type == "channel":
            message["sender_chat"] = state.json
        else:
            message["from"] = self._bot_json
        message["text"] = sent.plain_text if shown is None else shown
        if sent.edit_date is not None:
            message["edit_date"] = sent.edit_date
        # Only inline keyboards are echoed back; reply keyboards live on the client.
        if sent.reply_markup is not None and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup
        return message

    def _check_rate(self, state: _ChatState, now: float, *, paid: bool = False) -> None:
        """Per chat, per group, then overall: a paid broadcast only against every message
        of the bot together (`paid_overall`), any other message against the free rate
        (`overall`, counting the messages sent without paying) as well."""
        limits = self._rate_limits
        if limits is None:
            return
        in_group = state.chat.type in ("group", "supergroup")
        checks: list[tuple[Scope, Limit, Sequence[float]]] = [
            ("chat", limits.per_chat, state.chat_recent)
        ]
        if in_group:
            checks.append(("group", limits.per_group, state.group_recent))
        if not paid:
            checks.append(("global", limits.overall, self._overall_recent))
        checks.append(("paid", limits.paid_overall, self._all_recent))
        for scope, limit, recent in checks:
            # `recent` holds at most `count` accepted send times, oldest first.
            if len(recent) == limit.count and now - recent[0] < limit.window - limits.tolerance:
                wait = recent[0] + limit.window - limits.tolerance - now
                retry_after = max(1, math.ceil(wait))
                self.violations.append(Violation(scope, state.chat.id, now, retry_after))
                if limits.reject:
                    raise _ApiError(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        {"retry_after": retry_after},
                    )
                break
        state.chat_recent = (*state.chat_recent, now)[-limits.per_chat.count :]
        if in_group:
            state.group_recent = (*state.group_recent, now)[-limits.per_group.count :]
        if not paid:
            self._overall_recent.append(now)
        self._all_recent.append(now)

    # -- chats -----------------------------------------------------------------------------

    def _get_chat(self, params: JSON) -> JSON:
        state = self._chat_for(params.get("chat_id"))
        return {
            **state.json,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                (
                    "unlimited_gifts",
                    "limited_gifts",
                    "unique_gifts",
                    "premium_subscription",
                    "gifts_from_channels",
                ),
                False,
            ),
        }

    def _get_chat_member(self, params: JSON) -> JSON:
        state = self._chat_for(params.get("chat_id"))
        user_id = _int_or_none(params.get("user_id"))
        if user_id is None:
            raise _ApiError(400, "Bad Request: user_id is empty")
        if user_id == self.bot_user.id:
            return _member_json(self.bot_user, state.bot_status)
        if user_id in state.members:
            user, status, extra = state.members[user_id]
            return _member_json(user, status, extra)
        if state.chat.type == "private" and user_id != state.chat.id:
            raise _ApiError(400, "Bad Request: PARTICIPANT_ID_INVALID")
        return _member_json(self._user(user_id), "member")

    def _get_chat_member_count(self, params: JSON) -> int:
        state = self._chat_for(params.get("chat_id"))
        if state.chat.type == "private":
            return 2  # the user and the bot
        if state.member_count is not None:
            return state.member_count
        present = [s for _, s, _ in state.members.values() if s not in ("left", "kicked")]
        return len(present) + (state.bot_status not in ("left", "kicked"))

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        state = self._chat_for(params.get("chat_id"))
        if state.chat.type == "private":
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [
            _member_json(user, status, extra)
            for user, status, extra in state.members.values()
            if status in ("creator", "administrator")
        ]
        if state.bot_status in ("creator", "administrator"):
            admins.append(_member_json(self.bot_user, state.bot_status))
        return admins

    def _leave_chat(self, params: JSON) -> bool:
        state = self._chat_for(params.get("chat_id"))
        if state.chat.type == "private":
            raise _ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        _require_membership(state)
        state.bot_status = "left"
        return True

    # -- internals -------------------------------------------------------------------------

    def _chat_for(self, raw: Any) -> _ChatState:
        """The chat a request names, or the error upstream would answer."""
        if raw is None or raw == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat_id: int | None
        if isinstance(raw, str) and raw.startswith("@"):
            chat_id = self._usernames.get(raw[1:].lower())
        else:
            chat_id = _int_or_none(raw)
        state = self._chats.get(chat_id) if chat_id is not None else None
        if state is None:
            if chat_id is None or self.strict_chats:
                raise _ApiError(400, "Bad Request: chat not found")
            state = self._register(_chat_from_id(chat_id), "member")
        if state.failure is not None:
            state.failure.raise_()
        return state

    def _state(self, chat: FakeChat | int) -> _ChatState:
        """The chat a test names; unknown chats join the world."""
        chat_id = chat.id if isinstance(chat, FakeChat) else chat
        state = self._chats.get(chat_id)
        if state is None:
            new = chat if isinstance(chat, FakeChat) else _chat_from_id(chat_id)
            state = self._register(new, "administrator" if new.type == "channel" else "member")
        return state

    def _register(self, chat: FakeChat, bot_status: MemberStatus) -> _ChatState:
        state = _ChatState(chat, chat.to_json(), bot_status)
        self._chats[chat.id] = state
        if chat.username:
            self._usernames[chat.username.lower()] = chat.id
        return state

    def _user(self, user: FakeUser | int) -> FakeUser:
        if isinstance(user, FakeUser):
            return self._users.setdefault(user.id, user)
        found = self._users.get(user)
        if found is None:
            found = self._users[user] = FakeUser(user, f"User {user}")
        return found

    def _incoming_message(self, state: _ChatState, text: str | None) -> JSON:
        state.last_message_id += 1
        message: JSON = {
            "message_id": state.last_message_id,
            "date": _now_date(),
            "chat": state.json,
        }
        if text is not None:
            message["text"] = text
            if entities := command_entities(text):
                message["entities"] = entities
        return message

    def _bot_membership_changed(
        self, chat: FakeChat | int, user: FakeUser | int, status: MemberStatus
    ) -> JSON:
        state, actor = self._state(chat), self._user(user)
        old, state.bot_status = state.bot_status, status
        change = {
            "chat": state.json,
            "from": actor.to_json(),
            "date": _now_date(),
            "old_chat_member": _member_json(self.bot_user, old),
            "new_chat_member": _member_json(self.bot_user, status),
        }
        return self.queue_update({"my_chat_member": change})

    def _fail_chat(
        self, chat: FakeChat | int, status: int, description: str, parameters: JSON | None = None
    ) -> None:
        self._state(chat).failure = _Failure(status, description, parameters)


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


async def _read_params(request: web.Request, decode: _ParamDecoder) -> JSON:
    params: JSON = {key: decode(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
            else:
                text = value if isinstance(value, str) else bytes(value).decode()
                params[key] = decode(key, text)
    return params


def _checked_text(text: Any, parse_mode: Any) -> tuple[str, str]:
    """The text as sent and as shown, or the 400 upstream answers for it."""
    if not isinstance(text, str) or not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if parse_mode is not None and str(parse_mode).upper() not in (
        "HTML",
        "MARKDOWN",
        "MARKDOWNV2",
    ):
        raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
    shown = text
    if str(parse_mode).upper() == "HTML" and ("<" in text or "&" in text):
        parsed = _TelegramHtml(text)
        if parsed.error is not None:
            raise _ApiError(400, f"Bad Request: can't parse entities: {parsed.error}")
        shown = "".join(parsed.parts)
        if not shown.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
    if len(shown) > MAX_TEXT_LENGTH:
        raise _ApiError(400, "Bad Request: message is too long")
    return text, shown


def _checked_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", ()):
        for button in row:
            if not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise _ApiError(400, f'Bad Request: inline keyboard button URL "{url}" is invalid')
    return markup


def _require_membership(state: _ChatState) -> None:
    kind = state.chat.type
    if state.bot_status == "kicked":
        if kind == "private":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        raise _ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
    if state.bot_status == "left":
        raise _ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")


def _require_posting(state: _ChatState) -> None:
    _require_membership(state)
    if state.chat.type == "channel" and state.bot_status not in ("creator", "administrator"):
        raise _ApiError(400, "Bad Request: need administrator rights in the channel chat")


def _chat_from_id(chat_id: int) -> FakeChat:
    if chat_id > 0:
        return FakeChat(chat_id, "private", first_name=f"User {chat_id}")
    if chat_id <= -_SUPERGROUP_BASE:
        return FakeChat(chat_id, "supergroup", title=f"Supergroup {chat_id}")
    return FakeChat(chat_id, "group", title=f"Group {chat_id}")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _same_id(raw: Any, chat_id: int) -> bool:
    return _int_or_none(raw) == chat_id


def _scope_key(scope: Any, language_code: Any) -> tuple[str, Any, Any, str]:
    if not isinstance(scope, Mapping):
        return ("default", None, None, str(language_code or ""))
    return (
        str(scope.get("type", "default")),
        scope.get("chat_id"),
        scope.get("user_id"),
        str(language_code or ""),
    )


async def _serve(args: argparse.Namespace) -> None:
    limits = RateLimits(reject=not args.count_only).scaled(args.scale) if args.limits else None
    fake = FakeTelegram(
        args.token, rate_limits=limits, record=args.record, latency=args.latency, port=args.port
    )
    async with fake:
        sys.stdout.write(f"{fake.base_url}\n")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main() -> None:
    """Serve the fake on its own, e.g. so a benchmark's memory is not mixed with the fake's.

    Prints the base URL on the first line; GET /fake/stats answers the counters.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--limits", action="store_true", help="enforce the rate limits")
    parser.add_argument("--scale", type=float, default=1.0, help="rates multiplied by this")
    parser.add_argument("--count-only", action="store_true", help="count violations, no 429")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--no-record", dest="record", action="store_false")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
