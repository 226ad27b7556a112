"""Targets named by a URL from the command line and the subscribers file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from bot.app.subscribers import SubscribersFileError, read_subscribers, sync_subscribers
from bot.core.catalog import load_catalog
from bot.core.domain import Platform
from bot.store import database, repository
from tests.e2e.target_helpers import utc_now
from tests.environment import without_settings

CODECAST = [sys.executable, "-m", "bot"]
CATALOG = load_catalog()
WEBHOOK_TOKEN = "Tok" + "e" * 65
DISCORD_HOOK = f"https://discord.com/api/webhooks/123456789012345678/{WEBHOOK_TOKEN}"


def environment(url: str, **extra: str) -> dict[str, str]:
    return without_settings(CODECAST_DATABASE_URL=url, **extra)


async def codecast(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CODECAST, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_subscribe_shows_labels_and_the_signing_key_once_never_a_url(
    sqlite_url: str,
) -> None:
    env = environment(sqlite_url)
    code, out, err = await codecast(
        "subscribe", "--game", "genshin", "--game", "hsr", "--remind", DISCORD_HOOK, env=env
    )
    assert code == 0, err
    assert "discord.com webhook 123456789012345678 (discord_webhook) gets: genshin, hsr" in out
    code, out, err = await codecast(
        "subscribe", "--game", "genshin", "https://hooks.example.org/in/s3cr3t", env=env
    )
    assert code == 0, err
    assert "https://hooks.example.org/… (webhook) gets: genshin" in out
    [key_line] = [line for line in out.splitlines() if line.startswith("Signing key")]
    signing_key = key_line.rsplit(" ", 1)[1]
    code, out, err = await codecast(
        "subscribe", "--game", "genshin", "https://hooks.example.org/in/s3cr3t", env=env
    )
    assert "Signing key" not in out  # shown once, when it was made
    code, status, err = await codecast("status", "--json", env=env)
    assert code == 0, err
    targets = {t["label"]: t for t in json.loads(status)["targets"]}
    assert targets["discord.com webhook 123456789012345678"]["games"] == ["genshin", "hsr"]
    assert targets["https://hooks.example.org/…"]["state"] == "active"
    code, text, _ = await codecast("status", env=env)
    for shown in (status, text, out, err):
        assert WEBHOOK_TOKEN not in shown
        assert "s3cr3t" not in shown
        assert signing_key not in shown
    code, out, err = await codecast("unsubscribe", "--game", "hsr", DISCORD_HOOK, env=env)
    assert code == 0, err
    assert "1 subscriptions ended" in out
    engine = database.create_engine(sqlite_url)
    try:
        async with database.session_factory(engine)() as session:
            key = repository.target_key(Platform.DISCORD_WEBHOOK, DISCORD_HOOK)
            [left] = await repository.chat_subscriptions(session, Platform.DISCORD_WEBHOOK, key)
    finally:
        await engine.dispose()
    assert left.game == "genshin"
    assert left.options == {"remind": True}


async def test_a_bad_url_or_game_is_one_clear_line(sqlite_url: str) -> None:
    env = environment(sqlite_url)
    code, _, err = await codecast("subscribe", "nosuchscheme://x", env=env)
    assert code == 2
    assert "Apprise does not know this URL" in err
    code, _, err = await codecast("subscribe", "--game", "nope", DISCORD_HOOK, env=env)
    assert code == 2
    assert "unknown games nope" in err
    assert WEBHOOK_TOKEN not in err


async def test_the_subscribers_file_is_followed_at_each_start(
    tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(
        f"""
[[subscribers]]
url = "{DISCORD_HOOK}"
games = ["genshin", "hsr"]

[[subscribers]]
url = "ntfy://ntfy.example.org/codes"
games = "all"
remind = true
""",
        encoding="utf-8",
    )
    engine = database.create_engine(sqlite_url)
    sessions = database.session_factory(engine)
    try:
        await sync_subscribers(sessions, read_subscribers(path, CATALOG), clock=utc_now)
        async with sessions() as session:
            statuses = {s.target.label: s for s in await repository.target_statuses(session)}
        assert statuses["discord.com webhook 123456789012345678"].games == ("genshin", "hsr")
        [ntfy] = [s for s in statuses.values() if s.target.platform is Platform.APPRISE]
        assert set(ntfy.games) == set(CATALOG.games)
        # hsr and the ntfy target leave the file: their subscriptions end.
        path.write_text(
            f'[[subscribers]]\nurl = "{DISCORD_HOOK}"\ngames = ["genshin"]\n', encoding="utf-8"
        )
        await sync_subscribers(sessions, read_subscribers(path, CATALOG), clock=utc_now)
        async with sessions() as session:
            statuses = {s.target.label: s for s in await repository.target_statuses(session)}
        assert statuses["discord.com webhook 123456789012345678"].games == ("genshin",)
        [ntfy] = [s for s in statuses.values() if s.target.platform is Platform.APPRISE]
        assert ntfy.games == ()
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[subscribers]]\ngames = ["genshin"]\n', "subscriber 1: needs a url"),
        ('[[subscribers]]\nurl = "ntfy://h/t"\ngames = ["zzz", "nope"]\n', "unknown games nope"),
        ('[[subscribers]]\nurl = "ntfy://h/t"\ngames = "all"\ncolour = 1\n', "unknown keys"),
        ('[[subscribers]]\nurl = "ntfy://h/t"\ngames = "all"\nkind = "telegram"\n', "kind is"),
        ("[[subscribers]\n", "not valid TOML"),
    ],
)
def test_a_bad_subscribers_file_says_what_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SubscribersFileError, match=message):
        read_subscribers(path, CATALOG)
