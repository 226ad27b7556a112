"""Telegram in each chat's language, end to end: real PTB Application, fake Bot API.

A private chat follows its user's app (`language_code`); /language sets a chat's language
from an inline keyboard (administrators only in groups); every announcement goes out in its
chat's language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Platform
from bot.store import repository
from tests.e2e.telegram_helpers import (
    add_codes,
    ask,
    ask_one,
    press,
    running_bot,
    worker,
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


async def chat_language(sessions: Sessions, chat_id: int) -> repository.ChatLanguage | None:
    async with sessions() as session:
        return await repository.chat_language(session, Platform.TELEGRAM, str(chat_id))


async def test_announcements_reach_chats_of_three_languages_each_in_its_own(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    users = {
        code: tg.add_user(name, language_code=code)
        for code, name in (("ja", "Haruka"), ("de", "Jonas"), ("ru", "Ivan"))
    }
    chats = {code: tg.private_chat(user) for code, user in users.items()}
    async with running_bot(tg, sessions) as service:
        for code, chat in chats.items():
            answer = await ask_one(tg, chat, users[code], "/subscribe genshin hsr")
            assert "/subscriptions" in answer
        done = {
            code: await ask_one(tg, chats[code], users[code], "/subscriptions") for code in chats
        }
        assert (
            done["ja"] == "このチャットが新しいコードを受け取るゲーム：原神、崩壊：スターレイル。"
        )
        assert done["de"].startswith("Dieser Chat bekommt neue Codes für: Genshin Impact")
        assert done["ru"].startswith("Этот чат получает новые коды для: Genshin Impact")
        await add_codes(sessions, [("GENSHINGIFT", "Primogems ×60"), ("SPRING2026", "Mora")])
        stats = await worker(sessions, service).drain()
    assert stats.sent == 3
    texts = {code: tg.sent_messages(chat.id)[-1] for code, chat in chats.items()}
    assert texts["ja"].plain_text.startswith("🎁 原神：新しいコード 2 件")
    assert texts["de"].plain_text.startswith("🎁 Genshin Impact: 2 neue Codes")
    assert texts["ru"].plain_text.startswith("🎁 Genshin Impact: 2 новых кода")
    buttons = {code: [b["text"] for b in message.buttons] for code, message in texts.items()}
    assert buttons["ja"][0] == "GENSHINGIFT を交換"
    assert buttons["de"][0] == "GENSHINGIFT einlösen"
    assert buttons["ru"][0] == "Активировать GENSHINGIFT"


async def test_a_private_chat_follows_its_users_app_until_a_language_is_chosen(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    user = tg.add_user("Camille", language_code="fr")
    chat = tg.private_chat(user)
    async with running_bot(tg, sessions):
        assert "Quel jeu ?" in await ask_one(tg, chat, user, "/codes")
        await ask(tg, chat, user, "/subscribe genshin")
        assert await chat_language(sessions, chat.id) == repository.ChatLanguage("fr", False)
        # The app's language changed: the chat follows, announcements included.
        user = tg.add_user("Camille", language_code="es", user_id=user.id)
        assert "¿Qué juego?" in await ask_one(tg, chat, user, "/codes")
        assert await chat_language(sessions, chat.id) == repository.ChatLanguage("es", False)
        # Chosen with the keyboard: it stays, whatever the app says.
        [menu] = await ask(tg, chat, user, "/language")
        assert "✓ 🌐 Como mi app de Telegram" in [b["text"] for b in menu.buttons]
        _answer, shown = await press(tg, chat, user, menu, "日本語")
        assert shown.plain_text == "完了：ここでは日本語で話します。"
        assert await chat_language(sessions, chat.id) == repository.ChatLanguage("ja", True)
        assert "どのゲームですか？" in await ask_one(tg, chat, user, "/codes")
        # Back to following the app.
        [menu] = await ask(tg, chat, user, "/language")
        assert "✓ 日本語" in [b["text"] for b in menu.buttons]
        await press(tg, chat, user, menu, "🌐 Telegramアプリと同じ")
        assert "¿Qué juego?" in await ask_one(tg, chat, user, "/codes")


async def test_in_a_group_only_administrators_set_the_language(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    admin = tg.add_user("Ada", language_code="en")
    member = tg.add_user("Bruno", language_code="pt-br")
    group = tg.add_group("Fãs de Genshin", supergroup=True, creator=admin)
    tg.set_member(group, member, "member")
    async with running_bot(tg, sessions) as service:
        # Without a choice each user is answered in their own app's language.
        refusal = await ask_one(tg, group, member, "/language")
        assert refusal == "Só os administradores deste grupo podem mudar o que ele recebe."
        await ask(tg, group, admin, "/subscribe genshin")
        assert await chat_language(sessions, group.id) == repository.ChatLanguage("en", False)
        assert await ask_one(tg, group, admin, "/language ko") == "완료: 여기서는 한국어를 씁니다."
        [menu] = await ask(tg, group, admin, "/language")
        answer, _ = await press(tg, group, member, menu, "Tiếng Việt", edits=False)
        assert answer.show_alert
        assert await chat_language(sessions, group.id) == repository.ChatLanguage("ko", True)
        assert "어떤 게임인가요?" in await ask_one(tg, group, member, "/codes")
        await add_codes(sessions, [("GENSHINGIFT", "Primogems ×60")])
        await worker(sessions, service).drain()
    assert tg.sent_messages(group.id)[-1].plain_text.startswith("🎁 원신: 새 코드 1개")


async def test_reports_are_answered_in_the_players_language(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    """/submit's receipts and refusals, and the menu entry for it, in each language."""
    haruka = tg.add_user("Haruka", language_code="ja")
    jonas = tg.add_user("Jonas", language_code="de")
    async with running_bot(tg, sessions):
        usage = await ask_one(tg, tg.private_chat(haruka), haruka, "/submit")
        thanks = await ask_one(tg, tg.private_chat(jonas), jonas, "/submit genshin GERMANGIFT1")
        known = await ask_one(tg, tg.private_chat(jonas), jonas, "/submit genshin GERMANGIFT1")
    assert usage.startswith("コードの報告：/submit ゲーム コード [報酬]")
    assert (
        thanks
        == "Danke! Ein Moderator prüft GERMANGIFT1 (Genshin Impact), bevor ihn jemand bekommt."
    )
    assert "wurde schon gemeldet" in known
    menu = {c["command"]: c["description"] for c in tg.commands_for(None, "ja")}
    assert menu["submit"] == "見つけたコードを報告：/submit ゲーム コード [報酬]"
