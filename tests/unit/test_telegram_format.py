"""Telegram message formatting: escaping, Telegram's length bound, buttons, callback data."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.domain import CodeStatus, CodeView, Game, RewardItem
from bot.core.language import LANGUAGES, Language, words
from notifiers.telegram import format as fmt

GENSHIN = Game(
    id="genshin",
    name="Genshin Impact",
    pattern="[A-Za-z0-9]{6,20}",
    redeem_url="https://genshin.hoyoverse.com/en/gift?code={code}",
)
WUWA = Game(
    id="wuwa",
    name="Wuthering Waves",
    pattern="[A-Za-z0-9]{6,20}",
    note="Redeem in game: Settings → Other Settings → Redemption Code.",
)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TELEGRAM_TAGS = {"b", "i", "code", "s", "u", "a", "pre", "blockquote"}


def view(
    code: str,
    rewards: str = "Primogems ×60",
    *,
    status: CodeStatus = CodeStatus.ACTIVE,
    items: tuple[RewardItem, ...] = (),
    expires_at: datetime | None = None,
) -> CodeView:
    return CodeView(
        game="genshin",
        code=code,
        status=status,
        rewards=rewards,
        items=items,
        first_seen=NOW,
        last_seen=NOW,
        expires_at=expires_at,
        sources=("fandom-genshin",),
    )


class _Reader(HTMLParser):
    """What a Telegram client shows, and whether the HTML is within Telegram's subset."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"unbalanced </{tag}>"
        assert self.open[-1] == tag, f"unbalanced </{tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.shown.append(data)

    @property
    def text(self) -> str:
        return "".join(self.shown)


def shown(text: str) -> str:
    reader = _Reader(text)
    assert not reader.open, f"unclosed tags {reader.open}"
    assert set(reader.tags) <= TELEGRAM_TAGS, reader.tags
    return reader.text


def test_one_code_is_copyable_with_rewards_and_a_redeem_button() -> None:
    [message] = fmt.announcement_messages(GENSHIN, [view("GENSHINGIFT")])
    assert "<code>GENSHINGIFT</code>" in message.text
    assert "Genshin Impact" in shown(message.text)
    assert "Primogems ×60" in shown(message.text)
    [[button]] = message.keyboard
    assert button.text == "Redeem GENSHINGIFT"
    assert button.url == "https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT"


def test_html_in_rewards_arrives_as_text_not_markup() -> None:
    evil = '<b>free</b> <a href="https://evil.example">click</a> & <script>x</script> "q"'
    [message] = fmt.announcement_messages(GENSHIN, [view("SAFE1234", evil)])
    assert "<script>" not in message.text
    assert "<a " not in message.text
    # Shown as text, less the address (reward text keeps no links).
    assert evil.replace("https://evil.example", " ") in shown(message.text)
    assert "evil.example" not in message.text


def test_html_in_codes_game_names_and_notes_is_escaped() -> None:
    game = Game(id="x", name="<i>Game</i> & co", pattern=".+", note="<b>note</b>")
    [message] = fmt.announcement_messages(game, [view("A<B>&C")])
    text = shown(message.text)
    assert "<i>Game</i> & co" in text
    assert "<b>note</b>" in text
    assert "A<B>&C" in text


def test_items_stand_in_for_missing_rewards_text() -> None:
    items = (RewardItem("Primogem", 60), RewardItem("Mora", 10000), RewardItem("Hero's Wit"))
    [message] = fmt.announcement_messages(GENSHIN, [view("ITEMS123", "", items=items)])
    assert "Primogem ×60, Mora ×10,000, Hero's Wit" in shown(message.text)


def test_expiry_is_shown_and_expired_codes_get_no_button() -> None:
    codes = [
        view("LIVE1234", expires_at=datetime(2026, 11, 5, tzinfo=UTC)),
        view("DEAD1234", status=CodeStatus.EXPIRED),
    ]
    [message] = fmt.announcement_messages(GENSHIN, codes)
    assert "valid until Nov 5, 2026" in shown(message.text)
    assert "DEAD1234 (expired)" in shown(message.text)
    assert [b.text for row in message.keyboard for b in row] == ["Redeem LIVE1234"]


def test_many_codes_get_one_redeem_button() -> None:
    codes = [view(f"CODE{i:04d}") for i in range(fmt.MAX_CODE_BUTTONS + 1)]
    [message] = fmt.announcement_messages(GENSHIN, codes)
    [[button]] = message.keyboard
    assert button.text == "Redeem"
    assert button.url is not None
    assert button.url.startswith("https://genshin.hoyoverse.com/")


def test_in_game_only_games_get_no_buttons_but_their_note() -> None:
    [message] = fmt.announcement_messages(WUWA, [view("WUWA1234")])
    assert message.keyboard == ()
    assert "Settings → Other Settings" in shown(message.text)


def test_long_announcement_is_split_under_telegrams_bound() -> None:
    rewards = "Primogems ×60 and a very long description of everything in it " * 4
    codes = [view(f"LONGCODE{i:04d}", rewards) for i in range(40)]
    messages = fmt.announcement_messages(GENSHIN, codes)
    assert len(messages) > 1
    assert all(fmt.utf16_length(m.text) <= fmt.MAX_MESSAGE_LENGTH for m in messages)
    seen = [c.code for c in codes if any(f"<code>{c.code}</code>" in m.text for m in messages)]
    assert seen == [c.code for c in codes]
    assert shown(messages[0].text).startswith(
        f"🎁 Genshin Impact: 40 new codes (1/{len(messages)})"
    )


def test_more_codes_than_parts_allow_end_with_a_pointer_to_codes() -> None:
    rewards = "x" * 300
    codes = [view(f"MANY{i:05d}", rewards) for i in range(200)]
    messages = fmt.announcement_messages(GENSHIN, codes)
    assert len(messages) == fmt.MAX_PARTS
    assert "more: /codes genshin" in shown(messages[-1].text)


@settings(max_examples=60, deadline=None)
@given(
    codes=st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9]{6,32}", fullmatch=True),
            st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda pair: pair[0],
    ),
    name=st.text(min_size=1, max_size=150),
)
def test_any_announcement_is_valid_html_within_bounds(
    codes: list[tuple[str, str]], name: str
) -> None:
    game = Game(id="g", name=name, pattern=".+", redeem_url="https://example.com/r?c={code}")
    messages = fmt.announcement_messages(game, [view(c, r) for c, r in codes])
    assert 1 <= len(messages) <= fmt.MAX_PARTS
    for message in messages:
        assert fmt.utf16_length(message.text) <= fmt.MAX_MESSAGE_LENGTH
        shown(message.text)
        assert sum(len(row) for row in message.keyboard) <= fmt.MAX_BUTTONS


def test_codes_reply_lists_active_codes_or_says_there_are_none() -> None:
    message = fmt.codes_message(GENSHIN, [view("ONE12345"), view("TWO12345")])
    assert "2 active codes" in shown(message.text)
    assert len(message.keyboard) == 2
    empty = fmt.codes_message(GENSHIN, [])
    assert "No active codes" in shown(empty.text)
    assert "/subscribe genshin" in shown(empty.text)


def test_codes_reply_stays_one_message_under_the_bound() -> None:
    codes = [view(f"CODE{i:05d}", "y" * 300) for i in range(100)]
    message = fmt.codes_message(GENSHIN, codes)
    assert fmt.utf16_length(message.text) <= fmt.MAX_MESSAGE_LENGTH
    assert "more." in shown(message.text)


def test_subscription_keyboard_marks_subscribed_games_and_carries_the_target() -> None:
    keyboard = fmt.subscription_keyboard([GENSHIN, WUWA], {"wuwa"}, target="-1001234")
    labels = [b.text for row in keyboard for b in row]
    assert labels == ["Genshin Impact", "✓ Wuthering Waves", "All", "None"]
    first = fmt.decode_callback(keyboard[0][0].callback_data)
    assert first == fmt.Callback(fmt.TOGGLE, "-1001234", "genshin")


@pytest.mark.parametrize(
    "data",
    [None, "", "x|y|z", "t|abc|genshin", "t|1", "toggle:genshin"],
)
def test_foreign_callback_data_is_refused(data: str | None) -> None:
    assert fmt.decode_callback(data) is None


def test_callback_data_keeps_telegrams_64_byte_bound() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        fmt.encode_callback(fmt.TOGGLE, "-1001234567890", "g" * 60)


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.tag)
def test_commands_menu_is_valid_for_set_my_commands(language: Language) -> None:
    menu = fmt.commands(words(language.tag))
    assert [name for name, _ in menu] == [name for name, _ in fmt.commands()]
    for name, description in menu:
        assert name.isascii()
        assert name.islower()
        assert 1 <= len(name) <= 32
        assert 3 <= len(description) <= 256
