"""The operator's HoYoverse accounts for verification, read from a TOML file.

    [[accounts]]
    name = "alt-1"
    cookie = "ltuid_v2=…; ltoken_v2=…; cookie_token_v2=…; account_id_v2=…; account_mid_v2=…"
    [accounts.uids]
    genshin = { uid = "700000001", region = "os_usa" }

Cookies are secrets: held as SecretStr, never put in a message, a repr or an exception.
"""

from __future__ import annotations

import logging
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

log = logging.getLogger(__name__)

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


class AccountsFileError(ValueError):
    """The accounts file cannot be used; the message says where and why (never a cookie)."""


class GameUid(BaseModel):
    """One game account of a HoYoverse login: its uid and the server region it lives on."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    uid: Annotated[str, Field(pattern=r"^[0-9]{6,12}$")]
    region: Annotated[str, Field(pattern=r"^[a-z0-9_]{2,40}$")]

    @field_validator("uid", mode="before")
    @classmethod
    def _uid_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Account(BaseModel):
    """An account the operator owns; `name` shows in logs and status, the cookie never does."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: Annotated[str, Field(pattern=_NAME)]
    cookie: SecretStr
    uids: dict[str, GameUid] = Field(default_factory=dict)

    @field_validator("cookie")
    @classmethod
    def _cookie_shape(cls, value: SecretStr) -> SecretStr:
        text = " ".join(value.get_secret_value().split())
        if "=" not in text:
            # The message names the rule only; the value stays out of it.
            raise ValueError("must be the browser's cookie header: name=value; name=value")
        return SecretStr(text)

    def uid_for(self, game: str) -> GameUid | None:
        return self.uids.get(game)


class AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    accounts: list[Account]


def load_accounts(path: Path) -> tuple[Account, ...]:
    """Read the accounts file; warn when other users may read it."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccountsFileError(f"cannot read accounts file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "verification accounts file %s can be read by other users (mode %03o): "
            "it holds login cookies; chmod 600 it",
            path,
            stat.S_IMODE(mode),
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message gives line and column, not the text around them.
        raise AccountsFileError(f"{path}: {exc}") from None
    return parse_accounts(data, str(path))


def parse_accounts(data: dict[str, Any], where: str = "accounts file") -> tuple[Account, ...]:
    problems = ""
    try:
        parsed = AccountsFile.model_validate(data)
    except ValidationError as exc:
        # Built from locations and rules only, and raised outside this block so that the
        # validation error (which may hold the input) is not kept as the context either.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        )
    if problems:
        raise AccountsFileError(f"{where}: {problems}")
    if not parsed.accounts:
        raise AccountsFileError(f"{where}: no [[accounts]]")
    names = [account.name for account in parsed.accounts]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise AccountsFileError(f"{where}: account names appear twice: {', '.join(twice)}")
    return tuple(parsed.accounts)
