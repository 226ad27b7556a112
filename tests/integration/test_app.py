"""The composition root keeps going when the database fails under it."""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from bot.app.daemon import build_app, report_rules
from bot.app.settings import Settings
from bot.core.domain import Platform
from bot.store.database import DatabaseNotReady
from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        site_dir=tmp_path / "public",
        site_url="https://codes.example.org/",
    )


async def test_publish_logs_one_line_when_the_database_fails(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = await build_app(settings_for(tmp_path, sqlite_url), with_services=False)
    try:
        await app.publish()
        assert (tmp_path / "public" / "index.html").is_file()
        async with app.engine.begin() as connection:
            await connection.execute(text("DROP TABLE codes"))
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            await app.publish()  # must not raise: the next cycle writes the site
        [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert "database unavailable" in record.getMessage()
        assert record.exc_info is None
    finally:
        await app.close()


async def test_publish_logs_an_unwritable_site_directory(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "public").write_text("a file where the site directory should be")
    app = await build_app(settings_for(tmp_path, sqlite_url), with_services=False)
    try:
        with caplog.at_level(logging.ERROR):
            await app.publish()
        assert any("cannot write to" in r.getMessage() for r in caplog.records)
    finally:
        await app.close()


@pytest.mark.postgres
async def test_the_daemon_waits_for_a_database_that_is_not_there_yet(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A server still starting up, or a database not created yet: the first attempts fail,
    # a later one succeeds, and the daemon goes on from there.
    name = f"codecast_later_{uuid.uuid4().hex[:8]}"
    settings = settings_for(tmp_path, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)

    async def appear() -> None:
        await asyncio.sleep(1.5)
        await postgres_admin(f'CREATE DATABASE "{name}"')

    try:
        with caplog.at_level(logging.ERROR):
            appearing = asyncio.create_task(appear())
            app = await asyncio.wait_for(build_app(settings, wait_for_database=True), 30)
            await appearing
        try:
            await app.publish()
            assert (tmp_path / "public" / "index.html").is_file()
        finally:
            await app.close()
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    waits = [r for r in caplog.records if "database unavailable at start" in r.getMessage()]
    assert waits, "the first attempt should have failed and been logged"
    assert all(r.exc_info is None for r in waits)


@pytest.mark.postgres
async def test_commands_other_than_the_daemon_fail_at_once_without_a_database(
    tmp_path: Path, postgres_url: str
) -> None:
    missing = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/codecast_never_created"
    with pytest.raises(DatabaseNotReady, match='codecast_never_created" does not exist'):
        await asyncio.wait_for(build_app(settings_for(tmp_path, missing), with_services=False), 30)


@pytest.mark.parametrize(("value", "order"), [(None, "reach"), ("subscribed", "subscribed")])
async def test_the_delivery_order_setting_reaches_everything_that_queues_deliveries(
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    order: str,
) -> None:
    if value is not None:
        monkeypatch.setenv("CODECAST_DELIVERY_ORDER", value)
    settings = settings_for(tmp_path, sqlite_url)
    app = await build_app(settings, with_services=False)
    try:
        assert app.pipeline.delivery_order == order
        assert report_rules(settings).delivery_order == order
    finally:
        await app.close()


def test_an_unknown_delivery_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODECAST_DELIVERY_ORDER", "loudest")
    with pytest.raises(ValidationError, match="CODECAST_DELIVERY_ORDER"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_the_http_clients_of_a_daemon_load_the_certificate_authorities_once(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each SSL context that loads them holds about a megabyte: the shared client, the one for
    # public addresses, the redeem endpoint's and each webhook kind's use one context.
    loads: list[ssl.SSLContext] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(context)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[accounts]]\nname = "alt-1"\ncookie = "ltoken_v2=x; ltuid_v2=1"\n')
    settings = settings_for(tmp_path, sqlite_url).model_copy(
        update={"verify_accounts_file": accounts}
    )
    app = await build_app(settings)
    try:
        for service in app.services:
            await service.start(commands=False)
        assert app.verify_http is not None
        assert {service.platform for service in app.services} >= {
            Platform.WEBHOOK,
            Platform.DISCORD_WEBHOOK,
        }
    finally:
        for service in app.services:
            await service.stop()
        await app.close()
    assert len(loads) == 1
