"""Fake HoYoverse redeem endpoint (webExchangeCdkey) on 127.0.0.1 for verification tests.

It takes the gift page's request shape (the query `uid, region, lang, cdkey, game_biz,
sLangKey`, the Cookie header, Origin and Referer), knows its accounts by their
`cookie_token_v2`, answers each code with the retcodes a test scripts for it (in turn, the
last one repeating), redeems a Zenless family once per account, and answers -2016 (or HTTP
429) when one account redeems faster than the pacing allows.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

PATH = "/{game_biz}/common/apicdkey/api/{name}"
NAMES = ("webExchangeCdkey", "webExchangeCdkeyRisk")
REQUIRED_PARAMS = ("uid", "region", "lang", "cdkey", "game_biz", "sLangKey")

# The messages the real endpoint gives, where recorded (shared/fixtures/redeem), else the
# meaning published clients give the retcode.
MESSAGES = {
    0: "OK",
    -1071: "Please log in to your account first",
    -1073: "No game account bound to this login",
    -2001: "Redemption code has expired.",
    -2003: "Invalid Redemption Code",
    -2004: "Invalid Redemption Code",
    -2006: "This Redemption Code has reached its usage limit",
    -2011: "Insufficient game level",
    -2014: "Redemption code not activated",
    -2016: "Redemption in cooldown",
    -2017: "This Redemption Code is already in use",
    -2018: "You have already used a Redemption Code of this kind",
    -2021: "Adventure Rank too low",
}


@dataclass
class FakeAccount:
    name: str
    cookie_token: str
    account_id: str
    # game_biz -> uid
    uids: dict[str, str]
    expired: bool = False
    last_redeem: float | None = None
    redeemed: set[tuple[str, str]] = field(default_factory=set)
    # (game_biz, family) -> code that used it
    families: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def cookie(self) -> str:
        return (
            f"ltuid_v2={self.account_id}; ltoken_v2=v2_lt_{self.cookie_token}; "
            f"cookie_token_v2={self.cookie_token}; account_id_v2={self.account_id}; "
            f"account_mid_v2=mid_{self.account_id}"
        )


@dataclass(frozen=True)
class Seen:
    """One request the fake received (the cookie is kept only as the account it named)."""

    at: float
    method: str
    name: str
    params: dict[str, str]
    headers: dict[str, str]
    account: str | None
    retcode: int | None
    http_status: int
    # The names of the cookies the request carried (their values are not kept).
    cookie_names: tuple[str, ...] = ()


class FakeRedeem:
    """Use as `async with FakeRedeem() as fake:`; point `[games.X.verify].url` at fake.url()."""

    def __init__(
        self,
        *,
        pace: float = 6.0,
        over_pace: Literal["cooldown", "429"] = "cooldown",
        families: dict[str, str] | None = None,
        unknown_code: int = -2003,
    ) -> None:
        self.pace = pace
        self.over_pace = over_pace
        self.families = {biz: re.compile(p, re.IGNORECASE) for biz, p in (families or {}).items()}
        self.unknown_code = unknown_code
        self.accounts: dict[str, FakeAccount] = {}
        self.scripts: dict[tuple[str, str], list[int]] = {}
        self.asked: dict[tuple[str, str], int] = {}
        self.silent: set[tuple[str, str]] = set()
        self.seen: list[Seen] = []
        self._port = 0
        self._runner: web.AppRunner | None = None

    # -- the simulated world -----------------------------------------------------------------

    def add_account(self, name: str, uids: dict[str, str]) -> FakeAccount:
        number = len(self.accounts) + 1
        account = FakeAccount(
            name=name,
            cookie_token=f"ck{number:02d}{name.replace('-', '')}SECRETcookievalue",
            account_id=str(190000000 + number),
            uids=dict(uids),
        )
        self.accounts[account.cookie_token] = account
        return account

    def answer(self, game_biz: str, code: str, retcodes: int | Sequence[int]) -> None:
        """The answers to give `code`, in turn; the last one repeats."""
        codes = [retcodes] if isinstance(retcodes, int) else list(retcodes)
        self.scripts[(game_biz, code.upper())] = codes

    def never_answer(self, game_biz: str, code: str) -> None:
        self.silent.add((game_biz, code.upper()))

    def url(self, game_biz: str, name: str = "webExchangeCdkey") -> str:
        return f"http://127.0.0.1:{self._port}/{game_biz}/common/apicdkey/api/{name}"

    def asked_about(self, code: str) -> list[Seen]:
        return [s for s in self.seen if s.params.get("cdkey", "").upper() == code.upper()]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", PATH, self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the endpoint ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        game_biz = request.match_info["game_biz"]
        params = dict(request.query)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "cookie"}
        account = self._account(request.headers.get("Cookie", ""))
        headers["x-cookie-names"] = ",".join(_cookie_names(request.headers.get("Cookie", "")))
        now = time.monotonic()
        if name not in NAMES:
            raise web.HTTPNotFound()
        expected_method = "POST" if name == "webExchangeCdkeyRisk" else "GET"
        if request.method != expected_method:
            raise web.HTTPMethodNotAllowed(request.method, [expected_method])
        missing = [p for p in REQUIRED_PARAMS if not params.get(p)]
        if missing or params.get("game_biz") != game_biz:
            problem = f"param error: {missing or 'game_biz'}"
            body = {"data": None, "message": problem, "retcode": -1}
            return self._record(now, request, name, params, headers, account, body)
        if account is None or account.expired:
            return self._record(now, request, name, params, headers, account, _body(-1071))
        if account.uids.get(game_biz) != params["uid"]:
            return self._record(now, request, name, params, headers, account, _body(-1073))
        last = account.last_redeem
        account.last_redeem = now
        if last is not None and now - last < self.pace:
            if self.over_pace == "429":
                self.seen.append(
                    Seen(now, request.method, name, params, headers, account.name, None, 429)
                )
                return web.Response(status=429, text="Too Many Requests")
            return self._record(now, request, name, params, headers, account, _body(-2016))
        code = params["cdkey"].upper()
        if (game_biz, code) in self.silent:
            self.seen.append(
                Seen(now, request.method, name, params, headers, account.name, None, 0)
            )
            await asyncio.sleep(3600)  # until the client gives up (handler is cancelled)
        retcode = self._retcode(account, game_biz, code)
        return self._record(now, request, name, params, headers, account, _body(retcode))

    def _retcode(self, account: FakeAccount, game_biz: str, code: str) -> int:
        script = self.scripts.get((game_biz, code))
        turn = self.asked.get((game_biz, code), 0)
        self.asked[(game_biz, code)] = turn + 1
        retcode = self.unknown_code if script is None else script[min(turn, len(script) - 1)]
        # The code's own state comes first (published checkers recheck codes they redeemed
        # and still see them expire); then "already used" by this account or its family.
        if retcode not in (0, -2017, -2018, -2011, -2021):
            return retcode
        if (game_biz, code) in account.redeemed:
            return -2017
        pattern = self.families.get(game_biz)
        found = pattern.match(code) if pattern is not None else None
        family = found.group(0).upper() if found else None
        if family is not None:
            used = account.families.get((game_biz, family))
            if used is not None and used != code:
                return -2018
            account.families[(game_biz, family)] = code
        if retcode == 0:
            account.redeemed.add((game_biz, code))
        return retcode

    def _account(self, header: str) -> FakeAccount | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            return None
        token = jar.get("cookie_token_v2")
        account_id = jar.get("account_id_v2")
        if token is None or account_id is None:
            return None
        account = self.accounts.get(token.value)
        if account is None or account.account_id != account_id.value:
            return None
        return account

    def _record(
        self,
        now: float,
        request: web.Request,
        name: str,
        params: dict[str, str],
        headers: dict[str, str],
        account: FakeAccount | None,
        body: dict[str, Any],
    ) -> web.Response:
        self.seen.append(
            Seen(
                now,
                request.method,
                name,
                params,
                headers,
                None if account is None else account.name,
                body["retcode"],
                200,
            )
        )
        response = web.json_response(body)
        # The real site sets tracking cookies; a client must not send them on to others.
        response.set_cookie("_HYVUUID", f"visitor-{len(self.seen)}", path="/")
        return response


def _cookie_names(header: str) -> list[str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return []
    return sorted(jar)


def _body(retcode: int) -> dict[str, Any]:
    # Key order as the real endpoint writes it (data, message, retcode).
    return {"data": None, "message": MESSAGES.get(retcode, "error"), "retcode": retcode}
