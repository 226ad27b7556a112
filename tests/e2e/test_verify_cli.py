"""`codecast verify --game GAME CODE`: one check by hand against the fake redeem endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.fakes.redeem import FakeRedeem

UID = "700000001"


def environment(
    tmp_path: Path, redeem: FakeRedeem, accounts: Path, sources: str | None = None
) -> dict[str, str]:
    """The built-in catalog with Genshin's endpoint at the fake; `sources` replace its own."""
    builtin = (Path(__file__).resolve().parents[2] / "bot" / "core" / "catalog.toml").read_text()
    text = builtin.replace(
        "https://sg-hk4e-api.hoyoverse.com/common/apicdkey/api/webExchangeCdkey",
        redeem.url("hk4e_global"),
    )
    if sources is not None:
        text = text.split("\n[[sources]]", 1)[0] + sources
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
    env.update(
        CODECAST_CATALOG=str(catalog),
        CODECAST_VERIFY_ACCOUNTS_FILE=str(accounts),
        CODECAST_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}",
        CODECAST_LOG_LEVEL="DEBUG",
    )
    return env


async def verify(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "verify",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_verify_prints_the_verdict_and_touches_no_database(tmp_path: Path) -> None:
    async with FakeRedeem(pace=0.0) as redeem:
        redeem.answer("hk4e_global", "GENSHINGIFT", -2017)
        account = redeem.add_account("alt-1", {"hk4e_global": UID})
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            f'[[accounts]]\nname = "alt-1"\ncookie = "{account.cookie}"\n'
            f'uids = {{ genshin = {{ uid = "{UID}", region = "os_usa" }} }}\n',
            encoding="utf-8",
        )
        accounts.chmod(0o600)
        env = environment(tmp_path, redeem, accounts)
        code, out, err = await verify("--game", "genshin", "GENSHINGIFT", env=env)
        assert code == 0, err
        assert json.loads(out) == {
            "game": "genshin",
            "code": "GENSHINGIFT",
            "account": "alt-1",
            "retcode": -2017,
            "message": "This Redemption Code is already in use",
            "outcome": "valid",
            "verification": "valid",
        }
        assert [s.params["cdkey"] for s in redeem.seen] == ["GENSHINGIFT"]
        assert account.cookie_token not in out + err
        assert not (tmp_path / "untouched.db").exists()

        code, _, err = await verify("--game", "hi3", "TRUTH", env=env)
        assert code == 2
        assert "hi3 has no redeem endpoint" in err
        code, _, err = await verify("--game", "hsr", "STARRAILGIFT", env=env)
        assert code == 2
        assert "no account has a uid for hsr" in err
        code, _, err = await verify("--game", "genshin", "--account", "alt-9", "X1Y2Z3", env=env)
        assert code == 2
        assert "no account 'alt-9'" in err
        assert len(redeem.seen) == 1


async def test_run_once_checks_the_new_codes_before_it_exits(tmp_path: Path) -> None:
    from tests.fakes.source_site import FixtureSite, Page

    async with FakeRedeem(pace=0.0) as redeem, FixtureSite() as site:
        redeem.answer("hk4e_global", "K7PQ2WXM9A", 0)
        redeem.answer("hk4e_global", "Z9XY7QWE3C", -2003)
        account = redeem.add_account("alt-1", {"hk4e_global": UID})
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            f'[[accounts]]\nname = "alt-1"\ncookie = "{account.cookie}"\n'
            f'uids = {{ genshin = {{ uid = "{UID}", region = "os_usa" }} }}\n',
            encoding="utf-8",
        )
        accounts.chmod(0o600)
        env = environment(
            tmp_path,
            redeem,
            accounts,
            sources=f'\n[[sources]]\nid = "codes-page"\nkind = "page"\ngame = "genshin"\n'
            f'url = "{site.url("codes.txt")}"\ntrusted = true\n',
        )
        env.update(
            CODECAST_SITE_DIR=str(tmp_path / "public"),
            CODECAST_VERIFY_PACE="0.2",
            CODECAST_VERIFY_WAIT="20",
            CODECAST_LOG_LEVEL="INFO",
        )
        site.pages["codes.txt"] = Page(b"Redeem code: NOTHINGNEW1 (expired)", "text/plain")

        async def once() -> None:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--once",
                env=env,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(process.communicate(), 90)
            assert process.returncode == 0, err.decode()[-3000:]

        await once()  # the page's first reading: a baseline
        site.pages["codes.txt"] = Page(
            b"Redeem code: NOTHINGNEW1 (expired)\nRedeem code: K7PQ2WXM9A\n"
            b"Redeem code: Z9XY7QWE3C\n",
            "text/plain",
        )
        await once()
    data = json.loads((tmp_path / "public" / "genshin" / "codes.json").read_text())
    codes = {c["code"]: c for c in data["games"][0]["codes"]}
    assert codes["K7PQ2WXM9A"]["verification"] == "valid"
    assert codes["K7PQ2WXM9A"]["verified_at"] is not None
    assert codes["Z9XY7QWE3C"]["verification"] == "invalid"
    page = (tmp_path / "public" / "genshin" / "index.html").read_text(encoding="utf-8")
    assert "Reported by a source, but HoYoverse rejects it (1)" in page
