"""The redeem client against the fake endpoint on 127.0.0.1: request shape, cookies, pacing."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import VerifyEndpoint
from bot.core.verification import Outcome
from scrapers.verify import Account, GameUid, RedeemClient, RedeemUnavailable, build_http
from tests.fakes.redeem import FakeAccount, FakeRedeem

GENSHIN_UID = "700000001"
HSR_UID = "600000001"


def endpoint(fake: FakeRedeem, game: str) -> VerifyEndpoint:
    """The catalog's endpoint for `game`, pointed at the fake."""
    real = load_catalog().game(game).verify
    assert real is not None
    name = real.url.rsplit("/", 1)[1]
    return VerifyEndpoint(
        url=fake.url(real.game_biz, name),
        game_biz=real.game_biz,
        origin=real.origin,
        method=real.method,
    )


def account_of(fake_account: FakeAccount, name: str | None = None) -> Account:
    return Account.model_validate(
        {
            "name": name or fake_account.name,
            "cookie": fake_account.cookie,
            "uids": {
                "genshin": {"uid": GENSHIN_UID, "region": "os_usa"},
                "hsr": {"uid": HSR_UID, "region": "prod_official_usa"},
            },
        }
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeRedeem]:
    async with FakeRedeem(pace=0.3) as server:
        yield server


async def test_genshin_request_has_the_gift_page_shape(fake: FakeRedeem) -> None:
    alt = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    fake.answer("hk4e_global", "GENSHINGIFT", 0)
    async with build_http(5.0) as http:
        answer = await RedeemClient(http).redeem(
            endpoint(fake, "genshin"),
            account_of(alt),
            GameUid(uid=GENSHIN_UID, region="os_usa"),
            "GENSHINGIFT",
        )
    assert answer.outcome is Outcome.VALID
    assert answer.retcode == 0
    [seen] = fake.seen
    assert seen.method == "GET"
    assert seen.name == "webExchangeCdkey"
    assert seen.account == "alt-1"
    assert seen.params == {
        "uid": GENSHIN_UID,
        "region": "os_usa",
        "lang": "en",
        "cdkey": "GENSHINGIFT",
        "game_biz": "hk4e_global",
        "sLangKey": "en-us",
    }
    assert seen.headers["Origin"] == "https://genshin.hoyoverse.com"
    assert seen.headers["Referer"] == "https://genshin.hoyoverse.com/"
    assert seen.headers["User-Agent"].startswith("Mozilla/5.0")


async def test_star_rail_posts_to_the_risk_endpoint(fake: FakeRedeem) -> None:
    alt = fake.add_account("alt-1", {"hkrpg_global": HSR_UID})
    fake.answer("hkrpg_global", "STARRAILGIFT", -2017)
    async with build_http(5.0) as http:
        answer = await RedeemClient(http).redeem(
            endpoint(fake, "hsr"),
            account_of(alt),
            GameUid(uid=HSR_UID, region="prod_official_usa"),
            "STARRAILGIFT",
        )
    assert (answer.outcome, answer.retcode) == (Outcome.VALID, -2017)
    assert answer.message == "This Redemption Code is already in use"
    [seen] = fake.seen
    assert (seen.method, seen.name) == ("POST", "webExchangeCdkeyRisk")
    assert seen.headers["Origin"] == "https://hsr.hoyoverse.com"


async def test_a_cookie_the_endpoint_does_not_know_is_a_login_problem(fake: FakeRedeem) -> None:
    fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    stranger = Account.model_validate(
        {"name": "alt-9", "cookie": "cookie_token_v2=nope; account_id_v2=1", "uids": {}}
    )
    async with build_http(5.0) as http:
        answer = await RedeemClient(http).redeem(
            endpoint(fake, "genshin"), stranger, GameUid(uid=GENSHIN_UID, region="os_usa"), "X1"
        )
    assert (answer.outcome, answer.retcode) == (Outcome.ACCOUNT_OUT, -1071)
    assert answer.message == "Please log in to your account first"


async def test_an_account_that_redeems_faster_than_the_pacing_gets_cooldown(
    fake: FakeRedeem,
) -> None:
    alt = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    uid = GameUid(uid=GENSHIN_UID, region="os_usa")
    async with build_http(5.0) as http:
        client = RedeemClient(http)
        first = await client.redeem(endpoint(fake, "genshin"), account_of(alt), uid, "CODEA1")
        second = await client.redeem(endpoint(fake, "genshin"), account_of(alt), uid, "CODEB2")
        await asyncio.sleep(fake.pace)
        third = await client.redeem(endpoint(fake, "genshin"), account_of(alt), uid, "CODEC3")
    assert first.outcome is Outcome.INVALID
    assert (second.outcome, second.retcode) == (Outcome.COOLDOWN, -2016)
    assert third.outcome is Outcome.INVALID


async def test_an_http_429_is_a_cooldown() -> None:
    async with FakeRedeem(pace=5.0, over_pace="429") as fake:
        alt = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
        uid = GameUid(uid=GENSHIN_UID, region="os_usa")
        async with build_http(5.0) as http:
            client = RedeemClient(http)
            await client.redeem(endpoint(fake, "genshin"), account_of(alt), uid, "CODEA1")
            answer = await client.redeem(endpoint(fake, "genshin"), account_of(alt), uid, "CODEB2")
    assert (answer.outcome, answer.http_status) == (Outcome.COOLDOWN, 429)


async def test_an_endpoint_that_never_answers_is_unavailable(fake: FakeRedeem) -> None:
    alt = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    fake.never_answer("hk4e_global", "SILENTCODE")
    async with build_http(0.3) as http:
        with pytest.raises(RedeemUnavailable, match="timed out"):
            await RedeemClient(http).redeem(
                endpoint(fake, "genshin"),
                account_of(alt),
                GameUid(uid=GENSHIN_UID, region="os_usa"),
                "SILENTCODE",
            )


async def test_cookies_the_endpoint_sets_are_never_sent_again(fake: FakeRedeem) -> None:
    alt1 = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    alt2 = fake.add_account("alt-2", {"hk4e_global": GENSHIN_UID})
    uid = GameUid(uid=GENSHIN_UID, region="os_usa")
    async with build_http(5.0) as http:
        client = RedeemClient(http)
        await client.redeem(endpoint(fake, "genshin"), account_of(alt1), uid, "CODEA1")
        await client.redeem(endpoint(fake, "genshin"), account_of(alt2), uid, "CODEB2")
        # The jar kept nothing (a default client would hold _HYVUUID now).
        assert len(http.cookies) == 0
    assert [s.account for s in fake.seen] == ["alt-1", "alt-2"]
    for seen in fake.seen:
        names = seen.headers["x-cookie-names"].split(",")
        assert "_HYVUUID" not in names
        assert "cookie_token_v2" in names


async def test_no_cookie_value_reaches_a_log_record_or_an_exception(
    fake: FakeRedeem, caplog: pytest.LogCaptureFixture
) -> None:
    alt = fake.add_account("alt-1", {"hk4e_global": GENSHIN_UID})
    account = account_of(alt)
    secret = alt.cookie_token
    assert secret in account.cookie.get_secret_value()
    fake.answer("hk4e_global", "GENSHINGIFT", 0)
    fake.never_answer("hk4e_global", "SILENTCODE")
    uid = GameUid(uid=GENSHIN_UID, region="os_usa")
    texts: list[str] = [
        repr(account),
        str(account),
        repr(account.cookie),
        str(account.model_dump()),
    ]
    caplog.set_level(logging.DEBUG)  # the root logger: httpx, httpcore, aiohttp and ours
    for name in ("httpx", "httpcore", "aiohttp", "asyncio", "scrapers", "hpack"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    async with build_http(0.3) as http:
        client = RedeemClient(http)
        await client.redeem(endpoint(fake, "genshin"), account, uid, "GENSHINGIFT")
        await asyncio.sleep(fake.pace)
        try:
            await client.redeem(endpoint(fake, "genshin"), account, uid, "SILENTCODE")
        except RedeemUnavailable as exc:
            texts.append("".join(traceback.format_exception(exc)))
            texts.append(repr(exc))
    assert any(r.name.startswith("httpx") for r in caplog.records), "httpx logged nothing"
    assert any(r.name.startswith("httpcore") for r in caplog.records), "httpcore logged nothing"
    texts.extend(record.getMessage() for record in caplog.records)
    texts.extend(repr(record.__dict__) for record in caplog.records)
    leaked = [text for text in texts if secret in text]
    assert leaked == []
