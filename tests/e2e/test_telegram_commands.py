"""codecast's Telegram bot answering users, end to end: real PTB Application, fake Bot API."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import InvalidToken, NetworkError

from bot.core.domain import Platform
from bot.core.language import LANGUAGES, words
from bot.store import database, repository
from notifiers.telegram.format import commands
from notifiers.telegram.service import TelegramService, WebhookSecretError
from notifiers.telegram.wiring import build_service
from tests.e2e.telegram_helpers import (
    CATALOG,
    add_codes,
    ask,
    ask_one,
    eventually,
    press,
    quiet,
    running_bot,
    subscribe,
    subscribed,
    telegram_settings,
    utc_now,
)
from tests.fakes.telegram_api import FakeTelegram

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every int time period unless told to use timedelta already."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram, sessions: Sessions) -> AsyncIterator[TelegramService]:
    async with running_bot(tg, sessions) as service:
        yield service


# --- private chats --------------------------------------------------------------------------


async def test_start_registers_the_menu_and_explains_the_bot(
    tg: FakeTelegram, bot: TelegramService
) -> None:
    assert [(c["command"], c["description"]) for c in tg.commands] == list(commands())
    # A menu in each language codecast speaks, for users whose app is in it.
    assert tg.command_languages == sorted(language.telegram for language in LANGUAGES)
    for language in LANGUAGES:
        menu = tg.commands_for(language_code=language.telegram)
        assert [(c["command"], c["description"]) for c in menu] == list(
            commands(words(language.tag))
        )
    alice = tg.private_chat(tg.add_user("Alice"))
    text = await ask_one(tg, alice, alice.id, "/start")
    assert "Genshin Impact (genshin)" in text
    assert "Wuthering Waves (wuwa)" in text
    assert "/subscribe" in text


async def test_codes_for_a_game_lists_active_codes_with_redeem_buttons(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    await add_codes(
        sessions, [("GENSHINGIFT", "Primogems ×60"), ("SPRING2026", "Mora")], announce=False
    )
    alice = tg.private_chat(tg.add_user("Alice"))
    [answer] = await ask(tg, alice, alice.id, "/codes genshin")
    assert "2 active codes" in answer.plain_text
    assert "GENSHINGIFT" in answer.plain_text
    assert "Primogems ×60" in answer.plain_text
    urls = [b["url"] for b in answer.buttons]
    assert "https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT" in urls


async def test_codes_without_a_game_offers_a_keyboard_then_shows_the_pick_in_place(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    await add_codes(sessions, [("HSRCODE123", "Stellar Jade ×50")], game="hsr", announce=False)
    alice = tg.private_chat(tg.add_user("Alice"))
    [menu] = await ask(tg, alice, alice.id, "/codes")
    assert "Which game?" in menu.plain_text
    _answer, shown = await press(tg, alice, alice.id, menu, "Honkai: Star Rail")
    assert "HSRCODE123" in shown.plain_text
    assert "Stellar Jade ×50" in shown.plain_text
    assert len(tg.sent_messages(alice.id)) == 1  # edited, not sent anew


async def test_codes_for_a_game_without_codes_and_for_an_unknown_game(
    tg: FakeTelegram, bot: TelegramService
) -> None:
    alice = tg.private_chat(tg.add_user("Alice"))
    assert "No active codes for Wuthering Waves" in await ask_one(
        tg, alice, alice.id, "/codes wuwa"
    )
    text = await ask_one(tg, alice, alice.id, "/codes minecraft")
    assert 'I don\'t know "minecraft"' in text
    assert "genshin" in text


async def test_subscribe_by_name_and_unsubscribe_in_a_private_chat(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    alice = tg.private_chat(tg.add_user("Alice"))
    text = await ask_one(tg, alice, alice.id, "/subscribe genshin Honkai Star Rail")
    assert "gets new codes for Genshin Impact, Honkai: Star Rail" in text
    assert sorted(await subscribed(sessions, alice.id)) == ["genshin", "hsr"]

    text = await ask_one(tg, alice, alice.id, "/unsubscribe hsr")
    assert "no longer gets codes for Honkai: Star Rail" in text
    assert await subscribed(sessions, alice.id) == ["genshin"]

    text = await ask_one(tg, alice, alice.id, "/subscriptions")
    assert text == "This chat gets new codes for: Genshin Impact."


async def test_subscribe_all_and_bad_arguments(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    alice = tg.private_chat(tg.add_user("Alice"))
    await ask_one(tg, alice, alice.id, "/subscribe all")
    assert len(await subscribed(sessions, alice.id)) == 5
    text = await ask_one(tg, alice, alice.id, "/subscribe genshn")
    assert 'I don\'t know "genshn"' in text
    await ask_one(tg, alice, alice.id, "/unsubscribe all")
    assert await subscribed(sessions, alice.id) == []
    text = await ask_one(tg, alice, alice.id, "/subscriptions")
    assert "gets no codes yet" in text


async def test_subscribe_keyboard_toggles_games_in_place(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    alice = tg.private_chat(tg.add_user("Alice"))
    await subscribe(sessions, [alice.id], "hsr")
    [menu] = await ask(tg, alice, alice.id, "/subscribe")
    labels = [b["text"] for b in menu.buttons]
    assert "✓ Honkai: Star Rail" in labels
    assert "Genshin Impact" in labels

    answer, menu_now = await press(tg, alice, alice.id, menu, "Genshin Impact")
    assert answer.text == "Genshin Impact: on"
    assert "✓ Genshin Impact" in [b["text"] for b in menu_now.buttons]
    assert sorted(await subscribed(sessions, alice.id)) == ["genshin", "hsr"]

    answer, menu_now = await press(tg, alice, alice.id, menu, "✓ Honkai: Star Rail")
    assert answer.text == "Honkai: Star Rail: off"
    assert "Honkai: Star Rail" in [b["text"] for b in menu_now.buttons]
    assert await subscribed(sessions, alice.id) == ["genshin"]

    answer, _ = await press(tg, alice, alice.id, menu, "All")
    assert len(await subscribed(sessions, alice.id)) == 5
    answer, menu_now = await press(tg, alice, alice.id, menu, "None")
    assert await subscribed(sessions, alice.id) == []
    assert not any(b["text"].startswith("✓") for b in menu_now.buttons)
    assert len(tg.sent_messages(alice.id)) == 1  # every change edited the one message


async def test_unknown_commands_and_chatter_get_a_helpful_answer(
    tg: FakeTelegram, bot: TelegramService
) -> None:
    alice = tg.private_chat(tg.add_user("Alice"))
    assert "I don't know /frobnicate" in await ask_one(tg, alice, alice.id, "/frobnicate")
    before = len(tg.sent_messages(alice.id))
    tg.send_text(alice, alice.id, "hello?")
    await tg.wait_for(lambda: len(tg.sent_messages(alice.id)) > before)
    assert "/start" in tg.sent_messages(alice.id)[-1].plain_text


# --- groups ---------------------------------------------------------------------------------


async def test_group_admin_subscribes_and_member_is_refused_politely(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    admin, member = tg.add_user("Ada"), tg.add_user("Bob")
    group = tg.add_group("Genshin fans", supergroup=True, creator=admin)
    tg.set_member(group, member, "member")

    text = await ask_one(tg, group, admin, "/subscribe genshin")
    assert "this group gets new codes for Genshin Impact" in text
    text = await ask_one(tg, group, member, "/unsubscribe genshin")
    assert "Only this group's administrators" in text
    assert await subscribed(sessions, group.id) == ["genshin"]
    # anyone may look
    text = await ask_one(tg, group, member, "/subscriptions")
    assert text == "This group gets new codes for: Genshin Impact."
    assert "Genshin Impact" in await ask_one(tg, group, member, "/codes genshin")


async def test_group_keyboard_taps_are_checked_per_user_and_cached(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    admin, member = tg.add_user("Ada"), tg.add_user("Bob")
    group = tg.add_group("HSR fans", creator=admin)
    tg.set_member(group, member, "member")
    [menu] = await ask(tg, group, admin, "/subscribe")

    answer, _ = await press(tg, group, member, menu, "Honkai: Star Rail", edits=False)
    assert answer.show_alert
    assert "Only this group's administrators" in (answer.text or "")
    assert await subscribed(sessions, group.id) == []

    await press(tg, group, admin, menu, "Honkai: Star Rail")
    await press(tg, group, admin, menu, "Zenless Zone Zero")
    assert sorted(await subscribed(sessions, group.id)) == ["hsr", "zzz"]
    # The admin's command and two taps cost one getChatMember: answers are cached.
    asked = [r.params["user_id"] for r in tg.calls("getChatMember")]
    assert asked.count(admin.id) == 1


async def test_group_admin_is_recognised_as_administrator_too(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    admin = tg.add_user("Ada")
    group = tg.add_group("Old group")
    tg.set_member(group, admin, "administrator")
    await ask_one(tg, group, admin, "/subscribe zzz")
    assert await subscribed(sessions, group.id) == ["zzz"]


async def test_in_groups_only_commands_addressed_to_this_bot_get_unknown_answers(
    tg: FakeTelegram, bot: TelegramService
) -> None:
    admin = tg.add_user("Ada")
    group = tg.add_group("Mixed bots", creator=admin)
    tg.send_command(group, admin, "/weather")
    tg.send_command(group, admin, "/start@some_other_bot")
    await quiet(tg, group)
    text = await ask_one(tg, group, admin, "/weather@codecast_test_bot")
    assert "I don't know /weather" in text
    assert "Genshin Impact" in await ask_one(tg, group, admin, "/start@codecast_test_bot")


async def test_group_becoming_a_supergroup_keeps_its_subscriptions(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    admin = tg.add_user("Ada")
    group = tg.add_group("Growing", creator=admin)
    await subscribe(sessions, [group.id], "genshin")
    supergroup = tg.migrate(group.id, by=admin)
    await eventually(lambda: subscribed(sessions, supergroup.id), ["genshin"])
    assert await subscribed(sessions, supergroup.id) == ["genshin"]
    assert await subscribed(sessions, group.id) == []


async def test_bot_removed_or_blocked_ends_the_chats_subscriptions(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    admin = tg.add_user("Ada")
    group = tg.add_group("Leaving", creator=admin)
    alice = tg.private_chat(tg.add_user("Alice"))
    await subscribe(sessions, [group.id, alice.id], "genshin")
    tg.bot_removed_from_chat(group, admin, "kicked")
    tg.bot_removed_from_chat(alice, alice.id, "kicked")
    await eventually(lambda: subscribed(sessions, group.id), [])
    await eventually(lambda: subscribed(sessions, alice.id), [])
    assert await subscribed(sessions, group.id) == []
    assert await subscribed(sessions, alice.id) == []


async def test_a_chat_that_blocked_the_bot_is_not_remembered(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    # Chats come and go for years: what the bot keeps of one in memory (its language) goes
    # with it, or the daemon grows with every chat it has ever seen.
    alice = tg.add_user("Alice", language_code="de")
    chat = tg.private_chat(alice)
    tg.send_command(chat, alice, "/subscribe genshin")
    await eventually(lambda: subscribed(sessions, chat.id), ["genshin"])
    assert str(chat.id) in bot.commands.languages
    tg.bot_removed_from_chat(chat, alice.id, "kicked")
    await eventually(lambda: subscribed(sessions, chat.id), [])
    assert str(chat.id) not in bot.commands.languages


async def test_bot_added_to_a_group_says_hello(tg: FakeTelegram, bot: TelegramService) -> None:
    admin = tg.add_user("Ada")
    group = tg.add_group("New home", creator=admin, bot_status="left")
    tg.bot_added_to_chat(group, admin, "member")
    await tg.wait_for(lambda: len(tg.sent_messages(group.id)) == 1)
    assert "/subscribe" in tg.sent_messages(group.id)[0].plain_text


# --- channels -------------------------------------------------------------------------------


async def test_subscribe_posted_in_a_channel_subscribes_the_channel(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    owner = tg.add_user("Olga")
    channel = tg.add_channel("Codes daily", username="codes_daily", creator=owner)
    text = await ask_one(tg, channel, None, "/subscribe genshin zzz")
    assert "this channel gets new codes for" in text
    assert sorted(await subscribed(sessions, channel.id)) == ["genshin", "zzz"]


async def test_channel_admin_subscribes_a_channel_from_a_private_chat(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    owner, stranger = tg.add_user("Olga"), tg.add_user("Sam")
    channel = tg.add_channel("Codes daily", username="codes_daily", creator=owner)
    olga, sam = tg.private_chat(owner), tg.private_chat(stranger)

    text = await ask_one(tg, olga, owner, "/subscribe @codes_daily hsr")
    assert "@codes_daily gets new codes for Honkai: Star Rail" in text
    assert await subscribed(sessions, channel.id) == ["hsr"]
    assert "Only administrators of @codes_daily" in await ask_one(
        tg, sam, stranger, "/subscribe @codes_daily genshin"
    )
    assert "@codes_daily gets new codes for: Honkai: Star Rail" in await ask_one(
        tg, olga, owner, "/subscriptions @codes_daily"
    )

    # the keyboard in the private chat changes the channel, not the private chat
    [menu] = await ask(tg, olga, owner, "/subscribe @codes_daily")
    answer, _ = await press(tg, olga, owner, menu, "Wuthering Waves")
    assert answer.text == "Wuthering Waves: on"
    assert sorted(await subscribed(sessions, channel.id)) == ["hsr", "wuwa"]
    assert await subscribed(sessions, olga.id) == []


async def audiences(sessions: Sessions, chat_id: int) -> dict[str, int | None]:
    async with sessions() as session:
        found = await repository.chat_subscriptions(session, Platform.TELEGRAM, str(chat_id))
    return {s.game: s.audience for s in found}


async def test_subscribing_records_how_many_people_the_chat_reaches(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    owner = tg.add_user("Olga")
    olga = tg.private_chat(owner)
    group = tg.add_group("Genshin fans", supergroup=True, creator=owner)
    tg.set_member_count(group, 5_000)
    channel = tg.add_channel("Codes daily", username="codes_daily", creator=owner)
    tg.set_member_count(channel, 80_000)

    await ask_one(tg, olga, owner, "/subscribe genshin")
    await ask_one(tg, group, owner, "/subscribe genshin")
    await ask_one(tg, olga, owner, "/subscribe @codes_daily hsr")
    assert await audiences(sessions, olga.id) == {"genshin": 1}
    assert await audiences(sessions, group.id) == {"genshin": 5_000}
    assert await audiences(sessions, channel.id) == {"hsr": 80_000}
    # A private chat is one person: Telegram is not asked.
    assert [r.params["chat_id"] for r in tg.calls("getChatMemberCount")] == [
        group.id,
        channel.id,
    ]

    # The group grew: the next /subscribe records it on every subscription of the group.
    tg.set_member_count(group, 7_500)
    await ask_one(tg, group, owner, "/subscribe hsr")
    assert await audiences(sessions, group.id) == {"genshin": 7_500, "hsr": 7_500}

    # Telegram not telling is no reason to refuse the subscription, nor to forget the count.
    tg.fail_next("getChatMemberCount", 400, description="Bad Request: chat not found")
    text = await ask_one(tg, group, owner, "/subscribe zzz")
    assert "this group gets new codes for Zenless Zone Zero" in text
    assert await audiences(sessions, group.id) == {"genshin": 7_500, "hsr": 7_500, "zzz": 7_500}


async def test_channel_without_the_bot_as_poster_is_explained(
    tg: FakeTelegram, sessions: Sessions, bot: TelegramService
) -> None:
    owner = tg.add_user("Olga")
    tg.add_channel("Quiet", username="quiet_channel", creator=owner, bot_status="member")
    olga = tg.private_chat(owner)
    text = await ask_one(tg, olga, owner, "/subscribe @quiet_channel genshin")
    assert "make me an administrator who can post" in text
    assert "I can't find @nowhere_here" in await ask_one(
        tg, olga, owner, "/subscribe @nowhere_here genshin"
    )


async def test_bot_made_channel_admin_tells_the_owner_how_to_subscribe(
    tg: FakeTelegram, bot: TelegramService
) -> None:
    owner = tg.add_user("Olga")
    olga = tg.private_chat(owner)
    channel = tg.add_channel("Codes daily", username="codes_daily", bot_status="left")
    tg.bot_added_to_chat(channel, owner, "administrator")
    await tg.wait_for(lambda: len(tg.sent_messages(olga.id)) == 1)
    assert "/subscribe @codes_daily" in tg.sent_messages(olga.id)[0].plain_text


# --- errors and webhooks ----------------------------------------------------------------------


async def test_a_failing_handler_is_logged_with_its_traceback_and_answered_briefly(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without tables: every query fails inside the handler.
    engine = database.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with running_bot(tg, database.session_factory(engine)):
            alice = tg.private_chat(tg.add_user("Alice"))
            text = await ask_one(tg, alice, alice.id, "/subscriptions")
    finally:
        await engine.dispose()
    assert text == "Sorry, something went wrong on my side. Please try again in a minute."
    [record] = [r for r in caplog.records if r.name == "notifiers.telegram.handlers"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "no such table" in str(record.exc_info[1])


async def test_webhook_mode_receives_updates_with_the_secret_only(
    tg: FakeTelegram, sessions: Sessions, unused_tcp_port: int
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    async with running_bot(
        tg,
        sessions,
        telegram_webhook_url=url,
        telegram_webhook_secret="s3cret-token",
        telegram_webhook_port=unused_tcp_port,
    ):
        [call] = tg.calls("setWebhook")
        assert call.params["url"] == url
        assert call.params["secret_token"] == "s3cret-token"
        assert tg.calls("getUpdates") == []
        alice = tg.private_chat(tg.add_user("Alice"))
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
                "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with aiohttp.ClientSession() as client:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            async with client.post(url, json=update, headers=wrong) as answer:
                assert answer.status == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            async with client.post(url, json=update, headers=right) as answer:
                assert answer.status == 200
        await tg.wait_for(lambda: len(tg.sent_messages(alice.id)) == 1)
    assert "Genshin Impact" in tg.sent_messages(alice.id)[0].plain_text


async def test_webhook_without_a_configured_secret_still_refuses_forged_updates(
    tg: FakeTelegram, sessions: Sessions, unused_tcp_port: int
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    alice = tg.private_chat(tg.add_user("Alice"))
    mallory = tg.add_user("Mallory")
    group = tg.add_group("Codes fans", supergroup=True)
    # What a forger sends: a "channel post" in a group it does not administer, as the group.
    forged = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": group.to_json(),
            "sender_chat": group.to_json(),
            "from": mallory.to_json(),
            "text": "/subscribe genshin",
            "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
        },
    }
    real = {
        "update_id": 8,
        "message": {
            "message_id": 2,
            "date": 0,
            "chat": alice.to_json(),
            "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with running_bot(
        tg, sessions, telegram_webhook_url=url, telegram_webhook_port=unused_tcp_port
    ):
        [call] = tg.calls("setWebhook")
        secret = call.params["secret_token"]
        assert len(secret) >= 40  # made up for this run, told to Telegram
        async with aiohttp.ClientSession() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": ""}):
                async with client.post(url, json=forged, headers=headers) as answer:
                    assert answer.status == 403
            genuine = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with client.post(url, json=real, headers=genuine) as answer:
                assert answer.status == 200
        await tg.wait_for(lambda: len(tg.sent_messages(alice.id)) == 1)
        await quiet(tg, group)
    assert await subscribed(sessions, group.id) == []


def test_a_webhook_secret_telegram_would_refuse_stops_the_start(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    settings = telegram_settings(
        tg,
        telegram_webhook_url="https://codecast.example/hook",
        telegram_webhook_secret="not allowed!",
    )
    with pytest.raises(WebhookSecretError, match="CODECAST_TELEGRAM_WEBHOOK_SECRET"):
        build_service(settings, CATALOG, sessions, utc_now)


# --- starting and stopping --------------------------------------------------------------------


async def test_a_failed_start_can_be_stopped_and_started_again(
    tg: FakeTelegram, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    service = build_service(telegram_settings(tg), CATALOG, sessions, utc_now)
    tg.outage(0.5, "500")
    with pytest.raises(NetworkError):
        await service.start()
    await service.stop()
    await asyncio.sleep(0.6)
    await service.start()
    try:
        alice = tg.private_chat(tg.add_user("Alice"))
        assert "codecast" in await ask_one(tg, alice, alice.id, "/start")
    finally:
        await service.stop()
    gc.collect()
    assert "Unclosed" not in caplog.text


async def test_a_wrong_token_is_refused_without_repeating_it(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    wrong = "987654321:AAWrongTokenWrongTokenWrongToken-0000"
    service = build_service(
        telegram_settings(tg, telegram_token=wrong), CATALOG, sessions, utc_now
    )
    with pytest.raises(InvalidToken) as refused:
        await service.start()
    await service.stop()
    assert wrong not in str(refused.value)
    assert refused.value.__cause__ is None
