"""The redeem endpoint's client: one request shaped as the game's web gift page sends it.

Published clients agree on the shape: GET (Star Rail: POST to `webExchangeCdkeyRisk`) with
the query `uid, region, lang, cdkey, game_biz, sLangKey`, the login cookies in the Cookie
header, and the gift page as Origin and Referer. The cookie goes into that one header of that
one request and nowhere else: the HTTP client keeps no cookie jar (so one account's cookies
never ride along with another's), and no line logged here holds it.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from bot.core.domain import VerifyEndpoint
from scrapers.verify.accounts import Account, GameUid
from scrapers.verify.answers import Answer, read_answer

log = logging.getLogger(__name__)

# A browser's User-Agent: the endpoint serves the gift page's own script.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
MAX_ANSWER_BYTES = 64_000


class RedeemUnavailable(Exception):
    """The endpoint could not be asked (network error, timeout, 5xx): ask again later."""


@dataclass(frozen=True)
class RedeemRequest:
    """Everything of one redeem request except the cookie (safe to log and compare)."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]


def redeem_request(endpoint: VerifyEndpoint, game_uid: GameUid, code: str) -> RedeemRequest:
    """The request the gift page sends to redeem `code` on one game account (pure)."""
    return RedeemRequest(
        method=endpoint.method,
        url=endpoint.url,
        params=(
            ("uid", game_uid.uid),
            ("region", game_uid.region),
            ("lang", endpoint.lang),
            ("cdkey", code.strip()),
            ("game_biz", endpoint.game_biz),
            ("sLangKey", endpoint.lang_key),
        ),
        headers=(
            ("User-Agent", BROWSER_USER_AGENT),
            ("Accept", "application/json, text/plain, */*"),
            ("Origin", endpoint.origin),
            ("Referer", endpoint.origin + "/"),
        ),
    )


def build_http(timeout: float, tls: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """An HTTP client for redeeming: no cookie jar, no redirects, a bounded wait; `tls`, the
    process's certificate authorities when it has them loaded already."""
    # A policy that accepts no domain: Set-Cookie answers are dropped, not kept for later.
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        verify=tls,
        cookies=jar,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=4),
    )


class RedeemClient:
    """Asks the redeem endpoint about one code on one account; one attempt per call."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def redeem(
        self, endpoint: VerifyEndpoint, account: Account, game_uid: GameUid, code: str
    ) -> Answer:
        request = redeem_request(endpoint, game_uid, code)
        headers = dict(request.headers)
        headers["Cookie"] = account.cookie.get_secret_value()
        try:
            async with self.http.stream(
                request.method, request.url, params=request.params, headers=headers
            ) as response:
                if response.status_code >= 500:
                    raise RedeemUnavailable(f"HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise RedeemUnavailable("the answer is larger than a redeem answer")
                status = response.status_code
        except httpx.TimeoutException:
            raise RedeemUnavailable("timed out") from None
        except httpx.HTTPError as exc:
            # The type only: some transport errors quote the request, headers included.
            raise RedeemUnavailable(f"network error ({type(exc).__name__})") from None
        answer = read_answer(status, body)
        log.debug(
            "redeem %s on %s for %s: %s", code, account.name, endpoint.game_biz, answer.describe()
        )
        return answer
