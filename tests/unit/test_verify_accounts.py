"""The accounts file: read, checked, its cookies secret in every message, a warning when open."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scrapers.verify import AccountsFileError, load_accounts

SECRET = "cookie_token_v2=RECOGNISABLEsecret123; account_id_v2=190000001"

GOOD = f"""
[[accounts]]
name = "alt-1"
cookie = "{SECRET}"
[accounts.uids]
genshin = {{ uid = "700000001", region = "os_usa" }}
hsr     = {{ uid = 600000001, region = "prod_official_usa" }}

[[accounts]]
name = "alt-2"
cookie = "{SECRET}2"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_accounts_are_read_with_their_game_uids(tmp_path: Path) -> None:
    alt1, alt2 = load_accounts(write(tmp_path, GOOD))
    assert alt1.name == "alt-1"
    assert alt1.cookie.get_secret_value() == SECRET
    genshin = alt1.uid_for("genshin")
    assert genshin is not None
    assert (genshin.uid, genshin.region) == ("700000001", "os_usa")
    hsr = alt1.uid_for("hsr")
    assert hsr is not None
    assert hsr.uid == "600000001"
    assert alt1.uid_for("zzz") is None
    assert alt2.uids == {}


def test_reprs_and_dumps_hide_the_cookie(tmp_path: Path) -> None:
    accounts = load_accounts(write(tmp_path, GOOD))
    for text in (repr(accounts), str(accounts), str([a.model_dump() for a in accounts])):
        assert "RECOGNISABLEsecret123" not in text


def test_a_file_others_can_read_gets_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    load_accounts(write(tmp_path, GOOD, mode=0o600))
    assert caplog.records == []
    load_accounts(write(tmp_path, GOOD, mode=0o644))
    [record] = caplog.records
    assert "can be read by other users" in record.getMessage()
    assert "644" in record.getMessage()
    assert "RECOGNISABLEsecret123" not in record.getMessage()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("accounts = []", "no [[accounts]]"),
        ('[[accounts]]\nname = "alt-1"\n', "accounts.0.cookie"),
        (
            '[[accounts]]\nname = "alt 1"\ncookie = "RECOGNISABLEsecret123=x"\n',
            "accounts.0.name",
        ),
        ('[[accounts]]\nname = "a"\ncookie = "RECOGNISABLEsecret123"\n', "accounts.0.cookie"),
        (
            '[[accounts]]\nname = "a"\ncookie = "RECOGNISABLEsecret123=1"\n'
            'uids = { genshin = { uid = "abc", region = "os_usa" } }\n',
            "accounts.0.uids.genshin.uid",
        ),
        (
            '[[accounts]]\nname = "a"\ncookie = "RECOGNISABLEsecret123=1"\ntoken = "y"\n',
            "accounts.0.token",
        ),
        (
            '[[accounts]]\nname = "a"\ncookie = "RECOGNISABLEsecret123=1"\n'
            '[[accounts]]\nname = "a"\ncookie = "RECOGNISABLEsecret123=2"\n',
            "appear twice: a",
        ),
        ('[[accounts]\nname = "RECOGNISABLEsecret123"', "line 1"),
    ],
)
def test_bad_files_get_a_clear_error_without_the_cookie(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(AccountsFileError) as caught:
        load_accounts(write(tmp_path, text))
    message = str(caught.value)
    assert says in message
    assert "RECOGNISABLEsecret123" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or "RECOGNISABLEsecret123" not in str(
        caught.value.__context__
    )


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(AccountsFileError, match="cannot read accounts file"):
        load_accounts(tmp_path / "absent.toml")
