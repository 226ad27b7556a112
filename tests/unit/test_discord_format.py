"""Discord messages: embeds and buttons within Discord's limits, inert web text, /redeem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import MAX_REWARDS_LENGTH, Announcement, CodeStatus, CodeView, RewardItem
from bot.core.language import words
from bot.core.redeem import NotACode, code_from_text, redeem_targets
from notifiers.discord.format import (
    LANGUAGE_OPTION,
    MAX_BUTTONS_PER_MESSAGE,
    MAX_BUTTONS_PER_ROW,
    MAX_CONTENT_CHARS,
    MAX_EMBED_CHARS_PER_MESSAGE,
    MAX_EMBEDS_PER_MESSAGE,
    MAX_FIELD_VALUE_CHARS,
    MAX_FIELDS_PER_EMBED,
    SubscriptionLine,
    action_rows,
    announcement_message,
    codes_messages,
    inert,
    message_chars,
    not_a_code_text,
    redeem_target_buttons,
    subscriptions_text,
    with_commands,
)
from notifiers.discord.languages import subscription_words

CATALOG = load_catalog()
GENSHIN = CATALOG.games["genshin"]
WUWA = CATALOG.games["wuwa"]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOSTILE = (
    "@everyone @here <@123> <@&456> **bold** __under__ `tick` [link](https://evil.example) ||x||"
)


def code(
    text: str, *, rewards: str = "Primogem x60", game: str = "genshin", sources: int = 2
) -> CodeView:
    return CodeView(
        game=game,
        code=text,
        status=CodeStatus.ACTIVE,
        rewards=rewards,
        items=(),
        first_seen=NOW - timedelta(hours=1),
        last_seen=NOW,
        expires_at=None,
        sources=tuple(f"source-{i}" for i in range(sources)),
    )


def text(value: str | None) -> str:
    assert value is not None
    return value


def announcement(*codes: CodeView, game: str = "genshin") -> Announcement:
    return Announcement(id=1, game=game, created_at=NOW, codes=codes)


def assert_within_limits(message_embeds: list[discord.Embed], buttons: int = 0) -> None:
    assert len(message_embeds) <= MAX_EMBEDS_PER_MESSAGE
    assert message_chars(message_embeds) <= MAX_EMBED_CHARS_PER_MESSAGE
    for embed in message_embeds:
        assert len(embed.fields) <= MAX_FIELDS_PER_EMBED
        for field in embed.fields:
            assert len(text(field.value)) <= MAX_FIELD_VALUE_CHARS
    assert buttons <= MAX_BUTTONS_PER_MESSAGE


# --- announcements ---------------------------------------------------------------------


def test_announcement_shows_each_code_in_a_code_span_with_rewards_date_and_sources() -> None:
    message = announcement_message(
        announcement(code("GENSHINGIFT", rewards="Primogem x60, Mora x10000")),
        GENSHIN,
        source_names={"source-0": "HoYoLAB", "source-1": "Fandom"},
    )
    (embed,) = message.embeds
    assert embed.title == "1 new Genshin Impact code"
    assert embed.colour is not None
    assert embed.colour.value == GENSHIN.color
    (field,) = embed.fields
    assert field.name == "`GENSHINGIFT`"
    assert "Primogem x60, Mora x10000" in text(field.value)
    assert f"<t:{int((NOW - timedelta(hours=1)).timestamp())}:R>" in text(field.value)
    assert "HoYoLAB, Fandom" in text(field.value)
    assert embed.timestamp == NOW


def test_announcement_has_a_redeem_button_per_code_in_rows_of_five() -> None:
    codes = [code(f"GIFTCODE{i:02d}") for i in range(12)]
    message = announcement_message(announcement(*codes), GENSHIN)
    rows = action_rows(message.buttons)
    assert [len(r["components"]) for r in rows] == [5, 5, 2]
    first = rows[0]["components"][0]
    assert first == {
        "type": 2,
        "style": 5,
        "label": "Redeem GIFTCODE00",
        "url": "https://genshin.hoyoverse.com/en/gift?code=GIFTCODE00",
    }


def test_in_game_only_codes_get_no_buttons_but_the_how_to() -> None:
    message = announcement_message(announcement(code("WUWAGIFT", game="wuwa"), game="wuwa"), WUWA)
    assert message.buttons == []
    assert "Redemption Code" in (message.embeds[0].description or "")


def test_thirty_codes_split_over_embeds_of_25_fields_with_at_most_25_buttons() -> None:
    codes = [code(f"GIFTCODE{i:02d}", rewards="Primogem x60") for i in range(30)]
    message = announcement_message(announcement(*codes), GENSHIN)
    assert [len(e.fields) for e in message.embeds] == [25, 5]
    assert message.omitted == 0
    assert len(message.buttons) == MAX_BUTTONS_PER_MESSAGE
    assert_within_limits(message.embeds, len(message.buttons))
    assert all(len(r["components"]) <= MAX_BUTTONS_PER_ROW for r in action_rows(message.buttons))


def test_long_rewards_stay_within_6000_characters_and_the_rest_is_counted() -> None:
    long = "Primogem x60, " * (MAX_REWARDS_LENGTH // 14)
    codes = [code(f"GIFTCODE{i:02d}", rewards=long[:MAX_REWARDS_LENGTH]) for i in range(40)]
    message = announcement_message(announcement(*codes), GENSHIN)
    assert_within_limits(message.embeds, len(message.buttons))
    shown = sum(len(e.fields) for e in message.embeds)
    assert message.omitted == 40 - shown > 0
    assert f"and {message.omitted} more" in (message.embeds[-1].footer.text or "")
    # Buttons only for the codes shown.
    assert len(message.buttons) == min(shown, MAX_BUTTONS_PER_MESSAGE)


def test_a_field_never_exceeds_1024_characters() -> None:
    message = announcement_message(announcement(code("GIFTCODE", rewards="x" * 5000)), GENSHIN)
    (field,) = message.embeds[0].fields
    assert len(text(field.value)) <= MAX_FIELD_VALUE_CHARS
    assert text(field.value).endswith("source-1")


def test_rewards_fall_back_to_items_then_to_a_placeholder() -> None:
    items = CodeView(
        **{
            **code("GIFTCODE", rewards="").__dict__,
            "items": (RewardItem("Primogem", 60), RewardItem("Mora")),
        }
    )
    message = announcement_message(announcement(items, code("OTHERCODE", rewards="")), GENSHIN)
    first, second = message.embeds[0].fields
    assert text(first.value).startswith("Primogem ×60, Mora")
    assert text(second.value).startswith("Rewards not listed")


def test_hostile_web_text_is_inert_and_only_the_role_may_be_mentioned() -> None:
    message = announcement_message(
        announcement(code("GIFTCODE", rewards=HOSTILE)), GENSHIN, role_id="777"
    )
    value = text(message.embeds[0].fields[0].value)
    for ping in ("@everyone", "@here", "<@123>", "<@&456>"):
        assert ping not in value
    assert "\\*\\*bold\\*\\*" in value
    # The link's address is taken out of reward text; what is left of it is text.
    assert "evil.example" not in value
    assert "[link]" in value
    assert "](" not in value
    body = message.payload(nonce="codecast-1")
    assert body["content"] == "<@&777>"
    assert body["allowed_mentions"] == {"parse": [], "roles": ["777"], "replied_user": False}


def test_without_a_role_nothing_may_be_mentioned() -> None:
    body = announcement_message(announcement(code("GIFTCODE")), GENSHIN).payload()
    assert "content" not in body
    assert body["allowed_mentions"] == {"parse": [], "roles": [], "replied_user": False}
    assert "nonce" not in body


def test_the_nonce_is_enforced() -> None:
    body = announcement_message(announcement(code("GIFTCODE")), GENSHIN).payload(nonce="n-1")
    assert body["nonce"] == "n-1"
    assert body["enforce_nonce"] is True


ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("@everyone", f"@{ZWSP}everyone"),
        ("@here", f"@{ZWSP}here"),
        ("<@123>", f"<{ZWSP}@123>"),
        ("<@!123>", f"<{ZWSP}@!123>"),
        ("<@&123>", f"<{ZWSP}@&123>"),
        ("<#123>", f"<{ZWSP}#123>"),
        ("</codes:123>", f"<{ZWSP}/codes:123>"),
        ("*a*", "\\*a\\*"),
        ("_a_", "\\_a\\_"),
        ("~~a~~", "\\~\\~a\\~\\~"),
        ("||a||", "\\|\\|a\\|\\|"),
        ("`a`", "\\`a\\`"),
        ("# heading", "\\# heading"),
        ("x\n> quote", "x\n\\> quote"),
        ("[a](https://x.example)", "\\[a](https://x.example)"),
    ],
)
def test_inert_defuses_mentions_and_markdown(text: str, shown: str) -> None:
    assert inert(text) == shown


def test_a_code_span_cannot_be_broken_out_of() -> None:
    message = announcement_message(announcement(code("AB`C*D")), GENSHIN)
    assert message.embeds[0].fields[0].name == "`ABCD`"


# --- /codes --------------------------------------------------------------------------------


def test_codes_answer_lists_every_code_over_several_messages_within_limits() -> None:
    long = "Stellar Jade x100, " * 15
    games = [
        (
            game,
            [code(f"{game.id.upper()}CODE{i:02d}", rewards=long, game=game.id) for i in range(30)],
        )
        for game in CATALOG.games.values()
    ]
    messages = codes_messages(games)
    assert len(messages) > 1
    for embeds in messages:
        assert_within_limits(embeds)
    listed = [f.name for embeds in messages for e in embeds for f in e.fields]
    assert len(listed) == 30 * len(CATALOG.games)
    assert len(set(listed)) == len(listed)


def test_codes_answer_links_the_redeem_page_in_the_text() -> None:
    (embeds,) = codes_messages([(GENSHIN, [code("GIFTCODE")])])
    assert "[Redeem](https://genshin.hoyoverse.com/en/gift?code=GIFTCODE)" in text(
        embeds[0].fields[0].value
    )
    assert embeds[0].title == "Genshin Impact: 1 active code"


def test_codes_answer_says_when_a_game_has_no_codes() -> None:
    (embeds,) = codes_messages([(GENSHIN, [])])
    assert embeds[0].title == "Genshin Impact: no active codes"
    assert embeds[0].fields == []


# --- /subscriptions --------------------------------------------------------------------------


def test_subscriptions_text_splits_at_2000_characters() -> None:
    lines = [SubscriptionLine(str(10**18 + i), "Genshin Impact", str(10**18)) for i in range(100)]
    messages = subscriptions_text(lines)
    assert len(messages) > 1
    assert all(len(m) <= MAX_CONTENT_CHARS for m in messages)
    assert sum(m.count("<#") for m in messages) == 100


def test_subscriptions_text_when_there_are_none() -> None:
    assert subscriptions_text([]) == ["This server has no subscriptions. Add one with /subscribe."]


# --- /redeem -----------------------------------------------------------------------------------


def test_code_is_taken_from_a_pasted_gift_link() -> None:
    assert code_from_text("https://genshin.hoyoverse.com/en/gift?code=ABCDEF123") == (
        "ABCDEF123",
        "genshin.hoyoverse.com",
    )
    assert code_from_text("  <https://x.example/r?lang=en&CODE=zz12345>  ") == (
        "zz12345",
        "x.example",
    )
    assert code_from_text("GENSHINGIFT") == ("GENSHINGIFT", None)
    # Single-page gift sites put the query after the fragment.
    assert code_from_text("https://gift.example/#/redeem?code=HASHED123") == (
        "HASHED123",
        "gift.example",
    )


def test_gift_link_without_a_code_is_refused() -> None:
    with pytest.raises(NotACode):
        code_from_text("https://genshin.hoyoverse.com/en/gift")


def test_gift_link_picks_the_game_by_its_host() -> None:
    (target,) = redeem_targets(
        "https://hsr.hoyoverse.com/gift?code=STARRAILGIFT", list(CATALOG.games.values())
    )
    assert target.game.id == "hsr"
    assert target.url == "https://hsr.hoyoverse.com/gift?code=STARRAILGIFT"


def test_bare_code_gets_a_link_for_every_game_it_can_belong_to() -> None:
    targets = redeem_targets("ABCDEF123", list(CATALOG.games.values()))
    assert {t.game.id for t in targets} == set(CATALOG.games)
    buttons = redeem_target_buttons(targets)
    assert len(buttons) == sum(1 for g in CATALOG.games.values() if g.redeem_url)
    assert all("(" in b.label for b in buttons)


def test_named_game_and_code_that_does_not_fit_it() -> None:
    (target,) = redeem_targets("ABCDEF123", list(CATALOG.games.values()), game_id="genshin")
    assert target.url == "https://genshin.hoyoverse.com/en/gift?code=ABCDEF123"
    with pytest.raises(NotACode, match="Genshin Impact") as wrong:
        redeem_targets("no", list(CATALOG.games.values()), game_id="genshin")
    assert not_a_code_text(wrong.value) == "`no` does not look like a Genshin Impact code."
    with pytest.raises(NotACode) as hostile:
        redeem_targets("@everyone!!", list(CATALOG.games.values()))
    # Nothing of the text is repeated back but the characters a code has.
    assert hostile.value.code == "everyone"
    assert not_a_code_text(hostile.value) == "That does not look like a code of any game I know."


# --- edits when codes expire ------------------------------------------------------------------


def test_expired_codes_are_struck_through_and_lose_their_buttons() -> None:
    active = code("GIFTCODE1")
    expired = CodeView(**{**code("GIFTCODE2").__dict__, "status": CodeStatus.EXPIRED})
    message = announcement_message(announcement(active, expired), GENSHIN, role_id="777")
    names = [f.name for f in message.embeds[0].fields]
    assert names == ["`GIFTCODE1`", "~~`GIFTCODE2`~~ (expired)"]
    assert [b.label for b in message.buttons] == ["Redeem GIFTCODE1"]
    assert message.embeds[0].title == "2 new Genshin Impact codes"


def test_an_announcement_whose_codes_all_expired_says_so_in_its_title() -> None:
    expired = CodeView(**{**code("GIFTCODE").__dict__, "status": CodeStatus.EXPIRED})
    message = announcement_message(announcement(expired), GENSHIN)
    assert message.embeds[0].title == "1 new Genshin Impact code (expired)"
    assert message.buttons == []


def test_an_edit_replaces_embeds_and_buttons_but_never_pings_again() -> None:
    message = announcement_message(announcement(code("GIFTCODE")), GENSHIN, role_id="777")
    body = message.edit_payload()
    assert set(body) == {"embeds", "components", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": [], "roles": [], "replied_user": False}


# --- languages ---------------------------------------------------------------------------


def test_commands_are_mentioned_by_id_else_named_in_the_readers_language() -> None:
    japanese = words("ja")
    text = "Add one with /subscribe, see /codes; /start and a/codes stay."
    assert with_commands(text, japanese, {"subscribe": 42}) == (
        "Add one with </subscribe:42>, see /コード; /start and a/codes stay."
    )
    assert with_commands("/codes", words("en")) == "/codes"


def test_an_announcement_in_another_language_keeps_codes_and_links() -> None:
    codes = [code(f"CODE{i:04d}", rewards="x" * 900) for i in range(40)]
    message = announcement_message(announcement(*codes), GENSHIN, words=words("ja"))
    assert message.embeds[0].title == "原神：新しいコード 40 件"
    assert message.buttons[0].label == "CODE0000 を交換"
    footer = text(message.embeds[-1].footer.text)
    assert footer.startswith(f"…ほか {message.omitted} 件：/コード を見てください")
    field = message.embeds[0].fields[0]
    assert field.name == "`CODE0000`"
    assert "に初確認" in text(field.value)


def test_the_subscription_language_outranks_the_servers_which_outranks_the_record() -> None:
    chosen = {LANGUAGE_OPTION: "de"}
    assert subscription_words(chosen, "ja", "ko").tag == "de"
    assert subscription_words({}, "ja", "ko").tag == "ja"
    assert subscription_words({}, None, "ko").tag == "ko"
    assert subscription_words({}, None, None).tag == "en"
    assert subscription_words({LANGUAGE_OPTION: "xx"}, "es-419", None).tag == "es"
