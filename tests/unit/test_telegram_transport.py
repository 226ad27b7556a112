"""The Bot API transport's form bodies: byte for byte what python-telegram-bot would send."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from notifiers.telegram.transport import ENCODED_VALUE_MIN_CHARS, FormEncoder

TEXT = (
    "<b>Genshin Impact</b>: 2 new codes 🎁\n<code>GENSHINGIFT</code> — Primogem ×60 & Mora "
    "×10,000 = <a href='https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT'>Redeem</a>"
)
KEYBOARD = json.dumps(
    {"inline_keyboard": [[{"text": "Redeem GENSHINGIFT", "url": "https://x.test/?a=1&b=2"}]]}
)


def request_data(parameters: dict[str, object]) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in parameters.items()])


def test_a_send_is_encoded_as_python_telegram_bot_encodes_it() -> None:
    data = request_data(
        {"chat_id": "-1001234", "text": TEXT, "parse_mode": "HTML", "reply_markup": KEYBOARD}
    )
    encode = FormEncoder()
    expected = data.url_encoded_parameters().encode()
    assert encode(data.json_parameters) == expected
    # The second chat gets the text from memory, the same bytes.
    assert encode(data.json_parameters) == expected


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=200), max_size=5))
def test_any_parameters_are_encoded_as_urlencode_would(parameters: dict[str, str]) -> None:
    data = request_data(dict(parameters))
    assert FormEncoder(capacity=2)(data.json_parameters) == data.url_encoded_parameters().encode()


def test_only_long_values_are_remembered_and_only_a_few() -> None:
    encode = FormEncoder(capacity=3)
    for chat in range(100):
        encode({"chat_id": str(chat), "text": f"{chat:>{ENCODED_VALUE_MIN_CHARS}}"})
    assert len(encode._encoded) == 3
