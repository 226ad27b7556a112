"""Players' reports on Telegram, end to end: the real PTB bot against the fake Bot API, on
SQLite and PostgreSQL. A report reaches the moderators with buttons, a player's tap changes
nothing, a moderator's approval announces the code once, a rejection keeps it out and is
remembered, limits hold, and hostile text stays text."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.submission import Limits, Moderators
from bot.store.models import CodeRow, DeliveryRow, SubmissionRow
from notifiers.reports import ReportRules
from notifiers.telegram.service import TelegramService
from notifiers.telegram.wiring import build_service
from tests.e2e.telegram_helpers import (
    CATALOG,
    TEST_LIMITS,
    add_codes,
    ask_one,
    press,
    subscribe,
    telegram_settings,
    utc_now,
    worker,
)
from tests.fakes.telegram_api import FakeChat, FakeTelegram, FakeUser, SentMessage

Sessions = async_sessionmaker[AsyncSession]
HOSTILE = '<b>60</b> Primogems & <a href="https://evil.example">gems</a> @everyone @admin'


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


class Desk:
    """The people of a test: a moderator, their moderation group, a player, a subscriber."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.mod: FakeUser = tg.add_user("Ada")
        self.player: FakeUser = tg.add_user("Pat")
        self.group: FakeChat = tg.add_group("Moderators", supergroup=True, creator=self.mod)
        tg.set_member(self.group, self.player, "member")
        self.player_chat = tg.private_chat(self.player)
        self.mod_chat = tg.private_chat(self.mod)
        self.subscriber = tg.private_chat(tg.add_user("Sam"))


@contextlib.asynccontextmanager
async def reports_bot(
    tg: FakeTelegram, sessions: Sessions, desk: Desk, limits: Limits | None = None
) -> AsyncIterator[TelegramService]:
    rules = ReportRules(
        moderators=Moderators(telegram=frozenset({str(desk.mod.id)})), limits=limits or Limits()
    )
    service = build_service(
        telegram_settings(tg, telegram_moderation_chat=str(desk.group.id)),
        CATALOG,
        sessions,
        utc_now,
        limits=TEST_LIMITS,
        reports=rules,
        moderation_check=0.1,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def posted(tg: FakeTelegram, desk: Desk, count: int) -> list[SentMessage]:
    await tg.wait_for(lambda: len(tg.sent_messages(desk.group.id)) >= count)
    return tg.sent_messages(desk.group.id)


async def deliveries(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(DeliveryRow.id))) or 0)


async def test_a_players_report_is_approved_by_a_moderator_and_announced_once(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    await subscribe(sessions, [desk.subscriber.id], "genshin")
    async with reports_bot(tg, sessions, desk) as bot:
        answer = await ask_one(
            tg, desk.player_chat, desk.player, "/submit genshin PLAYERGIFT1 60 Primogems credit"
        )
        assert "will be checked by a moderator" in answer
        [post] = await posted(tg, desk, 1)
        assert "PLAYERGIFT1" in post.plain_text
        assert "60 Primogems" in post.plain_text
        assert "0 accepted, 0 rejected" in post.plain_text
        # The reporter's platform id is never shown; the name only because they opted in.
        assert str(desk.player.id) not in post.plain_text
        assert "Pat" in post.plain_text
        assert [b["text"] for b in post.buttons][:2] == ["✅ Approve", "❌ Reject"]

        # A player's tap does nothing and says so.
        answer_tap, after = await press(
            tg, desk.group, desk.player, post, "✅ Approve", edits=False
        )
        assert answer_tap.show_alert
        assert answer_tap.text == "Only moderators can decide reports."
        assert after.buttons, "the post changed on a player's tap"
        assert await deliveries(sessions) == 0

        answer_tap, after = await press(tg, desk.group, desk.mod, post, "✅ Approve")
        assert answer_tap.text == "Approved and announced."
        assert "Approved by Ada" in after.plain_text
        assert not after.buttons
        # A second tap (another moderator's, or the same twice) announces nothing more.
        assert await deliveries(sessions) == 1
        await worker(sessions, bot).drain()
    [announced] = tg.sent_messages(desk.subscriber.id)
    assert "PLAYERGIFT1" in announced.plain_text
    assert "reported by Pat" in announced.plain_text
    async with sessions() as session:
        code = await session.scalar(select(CodeRow).where(CodeRow.code_key == "PLAYERGIFT1"))
    assert code is not None
    assert code.announced_at is not None
    assert code.rewards == "60 Primogems"


async def test_a_rejected_report_stays_out_and_is_answered_at_once_next_time(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    await subscribe(sessions, [desk.subscriber.id], "genshin")
    async with reports_bot(tg, sessions, desk):
        await ask_one(tg, desk.player_chat, desk.player, "/submit genshin FAKECODE99")
        [post] = await posted(tg, desk, 1)
        answer_tap, after = await press(tg, desk.group, desk.mod, post, "❌ Reject")
        assert answer_tap.text == "Rejected."
        assert "Rejected by Ada" in after.plain_text
        again = await ask_one(tg, desk.player_chat, desk.player, "/submit genshin fakecode99")
        assert "was reported before and rejected" in again
        # Anonymous reports say "a player", never a name.
        await ask_one(tg, desk.player_chat, desk.player, "/submit hsr STARRAILNEW1")
        second = (await posted(tg, desk, 2))[1]
        assert "Pat" not in second.plain_text
        assert "0 accepted, 1 rejected" in second.plain_text
    assert tg.sent_messages(desk.subscriber.id) == []
    assert await deliveries(sessions) == 0
    assert len(tg.sent_messages(desk.group.id)) == 2


async def test_known_codes_unknown_games_and_bad_codes_are_answered_at_once(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    await add_codes(sessions, [("GENSHINGIFT", "Primogems ×60")], announce=False)
    async with reports_bot(tg, sessions, desk):
        chat, user = desk.player_chat, desk.player
        assert "already known and active" in await ask_one(
            tg, chat, user, "/submit genshin genshingift"
        )
        assert "Which game is it?" in await ask_one(tg, chat, user, "/submit minecraft ABCDEF123")
        assert "does not look like a Genshin Impact code" in await ask_one(
            tg, chat, user, "/submit genshin no"
        )
        assert "/submit GAME CODE" in await ask_one(tg, chat, user, "/submit")
        # A pasted redeem link is the code, and names the game by its host.
        answer = await ask_one(
            tg, chat, user, "/submit https://hsr.hoyoverse.com/gift?code=LINKEDCODE1"
        )
        assert "LINKEDCODE1" in answer
        assert "Honkai: Star Rail" in answer
        assert "was reported already" in await ask_one(tg, chat, user, "/submit hsr LINKEDCODE1")
    async with sessions() as session:
        reports = (await session.scalars(select(SubmissionRow.code))).all()
    assert reports == ["LINKEDCODE1"]


async def test_a_moderators_own_report_is_announced_at_once(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    await subscribe(sessions, [desk.subscriber.id], "zzz")
    async with reports_bot(tg, sessions, desk) as bot:
        answer = await ask_one(tg, desk.mod_chat, desk.mod, "/submit zzz ZZZOWNER12 Polychrome")
        assert "announced now, to 1 chat" in answer
        await worker(sessions, bot).drain()
    [announced] = tg.sent_messages(desk.subscriber.id)
    assert "ZZZOWNER12" in announced.plain_text
    assert tg.sent_messages(desk.group.id) == []


async def test_moderation_lists_what_waits_for_moderators_only(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    async with reports_bot(tg, sessions, desk):
        for code in ("WAITING0001", "WAITING0002"):
            await ask_one(tg, desk.player_chat, desk.player, f"/submit genshin {code}")
        assert "Only moderators" in await ask_one(tg, desk.player_chat, desk.player, "/moderation")
        before = len(tg.sent_messages(desk.mod_chat.id))
        tg.send_command(desk.mod_chat, desk.mod, "/moderation")
        await tg.wait_for(lambda: len(tg.sent_messages(desk.mod_chat.id)) > before)
        listing = tg.sent_messages(desk.mod_chat.id)[-1]
        assert "2 reports waiting" in listing.plain_text
        _, after = await press(tg, desk.mod_chat, desk.mod, listing, "✅ WAITING0001")
        assert "1 report waiting" in after.plain_text
        assert "WAITING0001" not in after.plain_text
        # The post in the moderation group is edited to say who decided.
        [first, _] = await posted(tg, desk, 2)

        def edited() -> bool:
            shown = tg.message(desk.group.id, first.message_id)
            return shown is not None and "Approved by Ada" in shown.plain_text

        await tg.wait_for(edited)


async def test_reports_are_limited_per_person_and_per_chat(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    limits = Limits(per_user=2, per_chat=3, window=timedelta(hours=1))
    other = tg.add_user("Quinn")
    tg.set_member(desk.group, other, "member")
    async with reports_bot(tg, sessions, desk, limits):
        chat, user = desk.player_chat, desk.player
        for n in range(2):
            assert "Thanks!" in await ask_one(tg, chat, user, f"/submit genshin LIMITED{n:04d}")
        assert "please wait a while" in await ask_one(
            tg, chat, user, "/submit genshin LIMITED0009"
        )
        # In a group, the group's own limit counts everyone's reports.
        group = tg.add_group("Players", supergroup=True, creator=other)
        assert "Thanks!" in await ask_one(tg, group, other, "/submit genshin GROUPED0001")
        assert "Thanks!" in await ask_one(tg, group, other, "/submit genshin GROUPED0002")
        tg.set_member(group, user, "member")
        tg.set_member(group, desk.mod, "member")
        third = tg.add_user("Rene")
        tg.set_member(group, third, "member")
        assert "Thanks!" in await ask_one(tg, group, third, "/submit genshin GROUPED0003")
        assert "This chat has reported many codes" in await ask_one(
            tg, group, third, "/submit genshin GROUPED0004"
        )
        # Moderators are not limited.
        assert "announced now" in await ask_one(tg, group, desk.mod, "/submit genshin MODCODE01")
    async with sessions() as session:
        stored = await session.scalar(select(func.count(SubmissionRow.id)))
    assert stored == 6


async def test_hostile_reward_text_is_shown_as_text_and_mentions_no_one(
    tg: FakeTelegram, sessions: Sessions
) -> None:
    desk = Desk(tg)
    await subscribe(sessions, [desk.subscriber.id], "genshin")
    async with reports_bot(tg, sessions, desk) as bot:
        await ask_one(tg, desk.player_chat, desk.player, f"/submit genshin HOSTILE001 {HOSTILE}")
        [post] = await posted(tg, desk, 1)
        await press(tg, desk.group, desk.mod, post, "✅ Approve")
        await worker(sessions, bot).drain()
    [announced] = tg.sent_messages(desk.subscriber.id)
    for message in (post, announced):
        # The markup came through as text, not as tags; the mentions are broken.
        assert "<b>60</b>" in message.plain_text
        # Links are taken out of reward text, as from pages.
        assert "<a href=" in message.plain_text
        assert "evil.example" not in message.plain_text
        assert "@everyone" not in message.plain_text
        assert "@\u2060everyone" in message.plain_text
        assert "&lt;b&gt;" in message.text
