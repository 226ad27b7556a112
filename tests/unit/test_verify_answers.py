"""The redeem endpoint's answers: the retcode table, and real recorded answers read by it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.verification import Outcome
from scrapers.verify import RETCODES, classify, read_answer
from tests.recorded import SHARED_FIXTURES, require_shared

REDEEM = SHARED_FIXTURES / "redeem"


def recorded(name: str) -> Path:
    require_shared()
    return REDEEM / name


# The meanings published code checkers give each retcode (the list).
EXPECTED = {
    0: Outcome.VALID,
    -2017: Outcome.VALID,
    -2018: Outcome.VALID,
    -2011: Outcome.VALID,
    -2021: Outcome.VALID,
    -2001: Outcome.EXPIRED,
    -1065: Outcome.INVALID,
    -2003: Outcome.INVALID,
    -2004: Outcome.INVALID,
    -2006: Outcome.INVALID,
    -2014: Outcome.NOT_ACTIVE,
    -2016: Outcome.COOLDOWN,
    -1071: Outcome.ACCOUNT_OUT,
    -1073: Outcome.ACCOUNT_OUT,
    -1075: Outcome.ACCOUNT_OUT,
}


@pytest.mark.parametrize(("retcode", "outcome"), sorted(EXPECTED.items()))
def test_each_known_retcode_has_its_published_meaning(retcode: int, outcome: Outcome) -> None:
    assert classify(retcode) is outcome


def test_the_table_holds_exactly_the_known_retcodes() -> None:
    assert set(RETCODES) == set(EXPECTED)


@pytest.mark.parametrize("retcode", [-1, 1, -100, -2000, -2019, -10001, 2017])
def test_an_unknown_retcode_is_no_verdict(retcode: int) -> None:
    assert classify(retcode) is Outcome.NO_VERDICT


def test_the_real_already_in_use_body_is_a_valid_code() -> None:
    body = recorded("genshin_webExchangeCdkey_-2017_already_in_use.json").read_bytes()
    answer = read_answer(200, body)
    assert answer.outcome is Outcome.VALID
    assert answer.retcode == -2017
    assert answer.message == "This Redemption Code is already in use"
    assert answer.describe() == "retcode -2017: This Redemption Code is already in use"


def test_every_body_of_the_recorded_livestream_run_reads_valid() -> None:
    lines = recorded("genshin_5.1_livestream_redeem_run_-2017.log.txt").read_text().splitlines()
    bodies = [line for line in lines if line.startswith("{")]
    assert len(bodies) == 3
    assert {read_answer(200, line.encode()).outcome for line in bodies} == {Outcome.VALID}


@pytest.mark.parametrize(
    "name",
    ["hoyolab-auto_issue109_genshin_-1071.log.txt", "hoyolab-auto_issue38_genshin_-1071.log.txt"],
)
def test_the_recorded_login_failures_put_the_account_out(name: str) -> None:
    text = recorded(name).read_text()
    # The logs print the parsed object (not JSON); rebuild the body from its two fields.
    retcodes = {int(n) for n in re.findall(r"retcode: (-?\d+)", text)}
    messages = set(re.findall(r"message: '([^']*)'", text))
    assert retcodes == {-1071}
    assert "Please log in to your account first" in messages
    body = json.dumps(
        {"data": None, "message": "Please log in to your account first", "retcode": -1071}
    )
    assert read_answer(200, body.encode()).outcome is Outcome.ACCOUNT_OUT


def test_the_recorded_zenless_not_activated_message_is_what_the_fake_sends() -> None:
    from tests.fakes.redeem import MESSAGES

    text = recorded("hoyolab-auto_issue104_zzz_not_activated.log.txt").read_text()
    assert text.count("OBOLSQUAD - Redemption code not activated") == 2
    assert MESSAGES[-2014] == "Redemption code not activated"


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (429, b"Too Many Requests", Outcome.COOLDOWN),
        (403, b"<html>forbidden</html>", Outcome.NO_VERDICT),
        (200, b"<html>maintenance</html>", Outcome.NO_VERDICT),
        (200, b"[1, 2]", Outcome.NO_VERDICT),
        (200, b'{"retcode": "0", "message": "OK"}', Outcome.NO_VERDICT),
        (200, b'{"retcode": true}', Outcome.NO_VERDICT),
        (200, b'{"data": null, "message": "x", "retcode": -2016}', Outcome.COOLDOWN),
    ],
)
def test_answers_that_are_not_a_known_retcode(status: int, body: bytes, outcome: Outcome) -> None:
    assert read_answer(status, body).outcome is outcome


def test_a_long_message_is_cut_and_collapsed() -> None:
    body = json.dumps({"retcode": -9999, "message": "word\n " * 200}).encode()
    answer = read_answer(200, body)
    assert len(answer.message) <= 200
    assert "\n" not in answer.message
