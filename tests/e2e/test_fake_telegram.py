"""The fake Telegram Bot API, driven by the real python-telegram-bot client over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import (
    DEFAULT_TOKEN,
    FakeTelegram,
    Limit,
    RateLimits,
    Violation,
    command_entities,
)

Context = ContextTypes.DEFAULT_TYPE
REPOSITORY = Path(__file__).resolve().parents[2]
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("✓ Genshin Impact", callback_data="toggle:genshin")],
        [InlineKeyboardButton("Redeem", url="https://example.com/redeem?code=ABC")],
    ]
)


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every int time period unless told to use timedelta already."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


@contextlib.asynccontextmanager
async def polling(
    tg: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real Application polling the fake, started the way codecast starts it."""
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=dt.timedelta(seconds=10))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# -- basics ----------------------------------------------------------------------------------


async def test_get_me_describes_the_bot(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.id == int(DEFAULT_TOKEN.split(":")[0])
    assert me.username == "codecast_test_bot"
    assert me.can_join_groups is True
    assert [r.method for r in tg.calls("getMe")] == ["getMe", "getMe"]  # initialize + call
    assert all(r.status == 200 for r in tg.requests)


async def test_send_message_ids_increase_per_chat_and_markup_is_recorded_parsed(
    tg: FakeTelegram, bot: Bot
) -> None:
    alice = tg.private_chat(tg.add_user("Alice", username="alice"))
    group = tg.add_group("Genshin fans")

    first = await bot.send_message(alice.id, "one", reply_markup=KEYBOARD)
    second = await bot.send_message(alice.id, "two")
    in_group = await bot.send_message(group.id, "hello group")

    assert (first.message_id, second.message_id, in_group.message_id) == (1, 2, 1)
    assert first.chat.first_name == "Alice"
    assert first.chat.username == "alice"
    assert in_group.chat.title == "Genshin fans"
    assert first.from_user is not None
    assert first.from_user.id == bot.id
    assert first.reply_markup == KEYBOARD
    assert first.date.tzinfo is not None
    sent = tg.sent_messages(alice.id)
    assert [m.text for m in sent] == ["one", "two"]
    assert sent[0].reply_markup == {
        "inline_keyboard": [
            [{"text": "✓ Genshin Impact", "callback_data": "toggle:genshin"}],
            [{"text": "Redeem", "url": "https://example.com/redeem?code=ABC"}],
        ]
    }
    assert sent[0].params["chat_id"] == alice.id  # decoded back from the form body
    assert [b["text"] for b in sent[0].buttons] == ["✓ Genshin Impact", "Redeem"]
    assert len(tg.sent_messages()) == 3


async def test_html_is_checked_like_telegram_does(tg: FakeTelegram, bot: Bot) -> None:
    shown = await bot.send_message(
        7, "<b>ABC123</b> gives 60 Primogems &amp; &lt;script&gt;", parse_mode=ParseMode.HTML
    )
    assert shown.text == "ABC123 gives 60 Primogems & <script>"
    assert tg.sent_messages(7)[0].text == "<b>ABC123</b> gives 60 Primogems &amp; &lt;script&gt;"

    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "script" at byte offset 9'):
        await bot.send_message(7, "Rewards: <script>x</script>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag corresponding to start tag"):
        await bot.send_message(7, "<b>bold", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(7, "x" * 4097)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(7, "too much data", reply_markup=markup)
    assert len(tg.sent_messages()) == 1


async def test_edits_deletes_and_not_modified(tg: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(9, "code ABC", reply_markup=KEYBOARD)

    edited = await bot.edit_message_text("code ABC (expired)", 9, message.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "code ABC (expired)"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # an edit that does not repeat the keyboard drops it
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("code ABC (expired)", 9, message.message_id)
    await bot.edit_message_reply_markup(9, message.message_id, reply_markup=KEYBOARD)
    assert await bot.delete_message(9, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("gone", 9, message.message_id)

    assert [(e.method, e.text) for e in tg.edits] == [
        ("editMessageText", "code ABC (expired)"),
        ("editMessageReplyMarkup", None),
    ]
    assert tg.deleted == [(9, message.message_id)]
    assert tg.sent_messages(9)[0].text == "code ABC"  # the record of the send stays as sent


async def test_commands_menu_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("start", "What this bot does"), ("subscribe", "Get new codes")])

    assert tg.commands == [
        {"command": "start", "description": "What this bot does"},
        {"command": "subscribe", "description": "Get new codes"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "subscribe"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start!", "bad name")])
    await bot.delete_my_commands()
    assert tg.commands == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("creator", ChatMemberOwner),
        ("administrator", ChatMemberAdministrator),
        ("member", ChatMemberMember),
        ("restricted", ChatMemberRestricted),
        ("left", ChatMemberLeft),
        ("kicked", ChatMemberBanned),
    ],
)
async def test_chat_member_status_is_configurable(
    tg: FakeTelegram, bot: Bot, status: str, expected: type
) -> None:
    group = tg.add_group("Codes", supergroup=True)
    user = tg.add_user("Bob")
    tg.set_member(group, user, status)  # type: ignore[arg-type]

    member = await bot.get_chat_member(group.id, user.id)

    assert isinstance(member, expected)
    assert member.user.id == user.id


async def test_chat_info_and_administrators(tg: FakeTelegram, bot: Bot) -> None:
    owner, stranger = tg.add_user("Owner"), tg.add_user("Stranger")
    channel = tg.add_channel("Code drops", username="code_drops", creator=owner)

    chat = await bot.get_chat("@code_drops")
    admins = await bot.get_chat_administrators(channel.id)
    default = await bot.get_chat_member(channel.id, stranger.id)

    assert (chat.id, chat.type, chat.title) == (channel.id, "channel", "Code drops")
    assert {(a.user.id, a.status) for a in admins} == {
        (owner.id, ChatMemberStatus.OWNER),
        (bot.id, ChatMemberStatus.ADMINISTRATOR),
    }
    assert default.status == ChatMemberStatus.MEMBER
    assert await bot.leave_chat(channel.id)
    assert tg.bot_status(channel.id) == "left"
    with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
        await bot.send_message(channel.id, "still here?")


async def test_member_count_counts_members_and_the_bot_or_what_the_test_set(
    tg: FakeTelegram, bot: Bot
) -> None:
    owner, member, gone = tg.add_user("Owner"), tg.add_user("Member"), tg.add_user("Gone")
    group = tg.add_group("Small", creator=owner)
    tg.set_member(group, member, "member")
    tg.set_member(group, gone, "left")
    channel = tg.add_channel("Big")
    tg.set_member_count(channel, 12_345)
    private = tg.private_chat(member)

    assert await bot.get_chat_member_count(group.id) == 3  # owner, member and the bot
    assert await bot.get_chat_member_count(channel.id) == 12_345
    assert await bot.get_chat_member_count(private.id) == 2
    assert [r.params["chat_id"] for r in tg.calls("getChatMemberCount")] == [
        group.id,
        channel.id,
        private.id,
    ]


# -- updates through long polling ------------------------------------------------------------


def test_command_entities_count_utf16_units() -> None:
    assert command_entities("🎁 /codes@codecast_test_bot genshin") == [
        {"type": "bot_command", "offset": 3, "length": 24}
    ]


async def test_command_reaches_handler_promptly_through_long_polling(tg: FakeTelegram) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def subscribe(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        seen.append((update.effective_message.text or "", list(context.args or [])))
        await update.effective_message.reply_text("Subscribed")

    user = tg.add_user("Alice")
    group = tg.add_group("Fans", creator=user)
    async with polling(tg, CommandHandler(["start", "subscribe"], subscribe)):
        await tg.wait_for(lambda: len(tg.calls("getUpdates")) >= 1)
        await asyncio.sleep(0.05)  # the poll is now waiting inside the fake
        queued_at = time.monotonic()
        tg.send_command(tg.private_chat(user), user, "/start")
        tg.send_command(group, user, "/subscribe@codecast_test_bot genshin hsr")
        tg.send_command(group, user, "/subscribe@another_bot genshin")  # not for us
        await tg.wait_for(lambda: len(tg.sent_messages()) == 2)
        answered_in = time.monotonic() - queued_at

    assert seen == [
        ("/start", []),
        ("/subscribe@codecast_test_bot genshin hsr", ["genshin", "hsr"]),
    ]
    assert answered_in < 3.0  # answered on arrival, not when the 10 s poll timed out
    assert [m.chat_id for m in tg.sent_messages()] == [user.id, group.id]
    assert tg.calls("deleteWebhook")
    assert tg.pending_updates == 0  # the final getUpdates confirmed every update


async def test_callback_query_reaches_handler_and_answer_is_recorded(tg: FakeTelegram) -> None:
    async def toggle(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        assert query.message is not None
        await query.answer(f"Toggled {query.data}")
        await query.edit_message_text(f"Now: {query.data}", reply_markup=KEYBOARD)

    user = tg.add_user("Alice")
    chat = tg.private_chat(user)
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        message = await bot.send_message(chat.id, "Pick games", reply_markup=KEYBOARD)
    async with polling(tg, CallbackQueryHandler(toggle, pattern=r"^toggle:")):
        update = tg.press_button(chat, user, message.message_id, "toggle:genshin")
        await tg.wait_for(lambda: len(tg.edits) == 1)

    assert update["callback_query"]["message"]["text"] == "Pick games"
    [answer] = tg.callback_answers
    assert answer.callback_query_id == update["callback_query"]["id"]
    assert answer.text == "Toggled toggle:genshin"
    assert tg.edits[0].text == "Now: toggle:genshin"
    current = tg.message(chat.id, message.message_id)
    assert current is not None
    assert current.text == "Now: toggle:genshin"


async def test_membership_changes_and_channel_posts_reach_handlers(tg: FakeTelegram) -> None:
    changes: list[tuple[int, str, str]] = []
    posts: list[tuple[int, str]] = []

    async def membership(update: Update, context: Context) -> None:
        change = update.my_chat_member
        assert change is not None
        changes.append(
            (change.chat.id, change.old_chat_member.status, change.new_chat_member.status)
        )

    async def channel_subscribe(update: Update, context: Context) -> None:
        assert update.channel_post is not None
        assert update.channel_post.sender_chat is not None
        posts.append((update.channel_post.sender_chat.id, " ".join(context.args or [])))

    owner = tg.add_user("Owner")
    channel = tg.add_channel("Drops", username="drops", bot_status="left")
    group = tg.add_group("Fans", bot_status="left")
    handlers = (
        ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER),
        # CommandHandler only sees messages by default; channel posts must be asked for.
        CommandHandler("subscribe", channel_subscribe, filters.UpdateType.CHANNEL_POST),
    )
    async with polling(tg, *handlers):
        tg.bot_added_to_chat(channel, owner, status="administrator")
        tg.bot_added_to_chat(group, owner, status="member")
        tg.channel_post(channel, "/subscribe genshin")
        tg.bot_removed_from_chat(group, owner)
        await tg.wait_for(lambda: len(changes) == 3 and len(posts) == 1)

    assert changes == [
        (channel.id, "left", "administrator"),
        (group.id, "left", "member"),
        (group.id, "member", "kicked"),
    ]
    assert posts == [(channel.id, "genshin")]
    assert tg.bot_status(group) == "kicked"


async def test_webhook_and_polling_exclude_each_other(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://codecast.example/telegram", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://codecast.example/telegram"

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    tg.send_text(1, 1, "hello")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_a_second_poller_ends_the_first_with_conflict(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=dt.timedelta(seconds=5)))
    await tg.wait_for(lambda: len(tg.calls("getUpdates")) == 1)
    await asyncio.sleep(0.05)  # the first poll is now waiting inside the fake

    # A second instance of the bot (PTB keeps one connection for getUpdates per Bot).
    async with Bot(tg.token, base_url=tg.base_url) as other:
        assert await other.get_updates(timeout=dt.timedelta(seconds=0)) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


# -- failures --------------------------------------------------------------------------------


async def test_too_many_requests_raises_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hi")
    await bot.send_message(1, "hi again")

    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert [r.status for r in tg.calls("sendMessage")] == [429, 200]
    assert tg.violations == []  # injected, not a breach of the rate limits


async def test_injected_failure_can_target_one_chat(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 500, chat_id=2)

    await bot.send_message(1, "fine")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(2, "fails once")
    await bot.send_message(2, "fine again")
    tg.fail_next("sendMessage", "drop")
    with pytest.raises(NetworkError, match="Server disconnected"):
        await bot.send_message(2, "connection dropped")

    assert [r.status for r in tg.calls("sendMessage")] == [200, 500, 200, 0]


async def test_blocked_kicked_and_deactivated_chats_are_forbidden(
    tg: FakeTelegram, bot: Bot
) -> None:
    group = tg.add_group("Fans")
    tg.block(11)
    tg.kick(group.id)
    tg.deactivate(12)

    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(11, "hi")
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the group chat$"):
        await bot.send_message(group.id, "hi")
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(12, "hi")
    tg.restore(11)
    await bot.send_message(11, "unblocked")
    assert len(tg.sent_messages()) == 1


async def test_unknown_chat_is_bad_request(bot: Bot, tg: FakeTelegram) -> None:
    tg.chat_not_found(404)

    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(404, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message("@nobody_here", "hi")


async def test_strict_world_knows_only_registered_chats() -> None:
    async with FakeTelegram(strict_chats=True) as tg:
        user = tg.add_user("Alice")
        async with Bot(tg.token, base_url=tg.base_url) as bot:
            await bot.send_message(tg.private_chat(user).id, "known")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(999, "unknown")


async def test_migrated_group_raises_chat_migrated(tg: FakeTelegram, bot: Bot) -> None:
    group = tg.add_group("Old group")
    supergroup = tg.migrate(group.id, by=tg.add_user("Admin"))

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "hi")
    moved = await bot.send_message(caught.value.new_chat_id, "hi again")

    assert caught.value.new_chat_id == supergroup.id
    assert moved.chat.type == "supergroup"
    assert moved.chat.title == "Old group"
    assert tg.pending_updates == 2  # the service messages in both chats


async def test_wrong_token_is_invalid_token(tg: FakeTelegram) -> None:
    for token in ("987654321:AAwrong-token", "not-a-token"):
        # Bot's own context manager would fail in initialize(), leaving its client open.
        request = HTTPXRequest()
        try:
            with pytest.raises(InvalidToken):
                await Bot(token, base_url=tg.base_url, request=request).get_me()
        finally:
            await request.shutdown()
    assert [r.status for r in tg.requests] == [401, 404]


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("drop", NetworkError, "RemoteProtocolError"),
        ("500", NetworkError, "Internal Server Error"),
        ("502", NetworkError, "Bad Gateway"),
    ],
)
async def test_outage_fails_requests_until_it_ends(
    tg: FakeTelegram, bot: Bot, mode: str, error: type[Exception], match: str
) -> None:
    tg.outage(0.3, mode)  # type: ignore[arg-type]

    with pytest.raises(error, match=match):
        await bot.send_message(1, "during")
    await asyncio.sleep(0.35)
    await bot.send_message(1, "after")

    assert [m.text for m in tg.sent_messages()] == ["after"]


async def test_hanging_outage_times_the_client_out(tg: FakeTelegram, bot: Bot) -> None:
    tg.outage(1.0, "hang")

    with pytest.raises(TimedOut):
        await bot.send_message(1, "during", read_timeout=0.2)


async def test_latency_delays_every_answer(tg: FakeTelegram, bot: Bot) -> None:
    tg.latency = 0.1
    started = time.monotonic()
    await bot.send_message(1, "slow")
    assert time.monotonic() - started >= 0.1


# -- rate limits -----------------------------------------------------------------------------


async def test_back_to_back_messages_to_one_chat_are_a_violation(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.rate_limits = RateLimits()

    await bot.send_message(5, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(5, "second")

    assert caught.value.retry_after == dt.timedelta(seconds=1)
    [violation] = tg.violations
    assert (violation.scope, violation.chat_id, violation.retry_after) == ("chat", 5, 1)
    await bot.send_message(6, "another chat is fine")
    assert len(tg.violations) == 1


async def test_messages_spaced_by_the_limit_are_not_violations(tg: FakeTelegram, bot: Bot) -> None:
    tg.rate_limits = RateLimits()
    await bot.send_message(5, "first")
    await asyncio.sleep(1.0)
    await bot.send_message(5, "second")

    tg.rate_limits = RateLimits().scaled(10)  # 1 message per 0.1 s to one chat
    for index in range(4):
        await bot.send_message(5, f"scaled {index}")
        await asyncio.sleep(0.1)

    assert tg.violations == []
    assert len(tg.sent_messages(5)) == 6


async def test_group_and_overall_limits(tg: FakeTelegram, bot: Bot) -> None:
    group = tg.add_group("Fans", supergroup=True)
    tg.rate_limits = RateLimits(
        per_chat=Limit(100, 1.0), per_group=Limit(3, 60.0), overall=Limit(5, 10.0)
    )
    for index in range(3):
        await bot.send_message(group.id, f"group {index}")
    with pytest.raises(RetryAfter):
        await bot.send_message(group.id, "fourth to the group within a minute")
    await bot.send_message(1, "private chats have no group limit")
    await bot.send_message(2, "fifth accepted overall")
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "sixth within ten seconds")

    assert [v.scope for v in tg.violations] == ["group", "global"]
    assert tg.violations[0].retry_after == 60


async def test_counting_only_mode_delivers_and_counts(tg: FakeTelegram, bot: Bot) -> None:
    tg.rate_limits = RateLimits(reject=False)

    await bot.send_message(5, "first")
    await bot.send_message(5, "second")

    assert len(tg.sent_messages(5)) == 2
    assert [type(v) for v in tg.violations] == [Violation]


async def test_retry_after_tells_when_the_send_is_accepted(tg: FakeTelegram, bot: Bot) -> None:
    tg.rate_limits = RateLimits().scaled(2)  # one message per 0.5 s to one chat
    await bot.send_message(5, "first")
    with pytest.raises(RetryAfter):
        await bot.send_message(5, "too soon")
    await asyncio.sleep(0.5)
    await bot.send_message(5, "in time")  # a rejected send does not extend the window

    assert len(tg.violations) == 1


# -- throughput ------------------------------------------------------------------------------


async def test_fake_cost_per_send_stays_small_and_flat(tg: FakeTelegram) -> None:
    batches, per_batch, in_flight = 4, 1000, 32
    url = f"{tg.base_url}{tg.token}/sendMessage"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Redeem", url="https://example.com")]])
    form = {"text": "<b>ABC123</b>: 60 Primogems", "parse_mode": "HTML"}
    form["reply_markup"] = markup.to_json()

    async def sender(session: aiohttp.ClientSession, chat_ids: range) -> None:
        for chat_id in chat_ids:
            async with session.post(url, data={**form, "chat_id": str(chat_id)}) as response:
                assert response.status == 200
                await response.read()

    # CPU time, not wall time: other work on the machine must not fail this test.
    cpu_per_send: list[float] = []
    async with aiohttp.ClientSession() as session:
        for batch in range(batches):
            first = batch * per_batch + 1
            started = time.process_time()
            await asyncio.gather(
                *(
                    sender(session, range(first + i, first + per_batch, in_flight))
                    for i in range(in_flight)
                )
            )
            cpu_per_send.append((time.process_time() - started) / per_batch)

    assert tg.sent_count == batches * per_batch
    assert len({m.chat_id for m in tg.sent_messages()}) == batches * per_batch
    # Client and fake together, on one core: about 0.7 ms a send when measured.
    assert max(cpu_per_send) < 0.0025, cpu_per_send
    # Recording must not make later sends dearer (no copies of the history per request). The
    # cheaper of two batches on each side: one batch can take a garbage collection.
    assert min(cpu_per_send[2:]) < 2 * min(cpu_per_send[:2]), cpu_per_send


async def test_fake_runs_as_its_own_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--limits",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 15)).decode().strip()
        async with Bot(DEFAULT_TOKEN, base_url=base_url) as bot:
            await bot.send_message(5, "one")
            with pytest.raises(RetryAfter):
                await bot.send_message(5, "two")
        stats_url = base_url.removesuffix("/bot") + "/fake/stats"
        async with aiohttp.ClientSession() as session, session.get(stats_url) as response:
            stats = await response.json()
    finally:
        process.terminate()
        await process.wait()

    assert stats == {
        "requests": 3,
        "sent": 1,
        "violations": 1,
        "violations_by_scope": {"chat": 1},
        "paid": 0,
        "stars": 0.0,
    }
    assert process.returncode == 0
