"""Discord in each reader's language, end to end: real discord.py client, fake Discord.

Answers follow the user's locale; announcements follow the language chosen with /language
for their subscription, else their server's preferred locale (live from the gateway, else as
recorded); command names, descriptions and choices reach Discord in every language codecast
speaks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Platform
from bot.store import repository
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    add_codes,
    delivery_worker,
    running_bot,
    subscribe_channels,
)
from tests.fakes.discord_api import FakeDiscord, Guild, Member, Perm

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def server(dc: FakeDiscord, locale: str = "en-US") -> tuple[Guild, int, Member]:
    """A guild speaking `locale`, with one channel and a member allowed to manage it."""
    guild = dc.add_guild(f"{locale} server", preferred_locale=locale)
    admins = dc.add_role(guild.id, "admins", permissions=Perm.MANAGE_GUILD)
    admin = dc.add_member(guild.id, "admin", roles=(admins.id,))
    return guild, next(iter(guild.channels)), admin


def titles(dc: FakeDiscord, channel_id: int) -> list[str]:
    """The titles of the announcements in a channel (answers to commands left out)."""
    return [m.embeds[0]["title"] for m in dc.messages(channel_id) if m.kind == "channel"]


async def test_answers_follow_each_users_locale(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, admin = server(dc)
    player = dc.add_member(guild.id, "player")
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")], announce=False)
    answers: dict[str, str] = {}
    async with running_bot(dc, sessions, clock):
        for locale in ("ja", "de", "zh-TW", "it"):
            handle = await dc.dispatch_interaction(
                guild.id, channel_id, player.user.id, "codes", {"game": "genshin"}, locale=locale
            )
            await handle.response()
            [reply] = await handle.wait_followups(1)
            answers[locale] = reply.embeds[0]["title"]
        subscribed = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "hsr"}, locale="fr"
        )
        await subscribed.response()
        [done] = await subscribed.wait_followups(1)
        refused = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "subscribe", {"game": "genshin"},
            locale="es-419", enforce_default_permissions=False,
        )  # fmt: skip
        refusal = (await refused.response()).data["content"]
        wrong = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "redeem", {"code": "no"}, locale="ru"
        )
        not_a_code = (await wrong.response()).data["content"]
    assert answers["ja"] == "原神：有効なコード 1 件"
    assert answers["de"] == "Genshin Impact: 1 aktiver Code"
    assert answers["zh-TW"] == "原神：1 个可用兑换码"  # Simplified is nearer than English
    assert answers["it"] == "Genshin Impact: 1 active code"  # no Italian: English
    assert done.content == (
        f"Les nouveaux codes **Honkai: Star Rail** seront annoncés dans <#{channel_id}>."
    )
    # The permissions by the names Discord's Spanish app gives them.
    assert refusal.startswith("Solo los miembros con el permiso **Gestionar servidor**")
    assert not_a_code == "Это не похоже на код ни одной известной мне игры."


async def test_announcements_reach_servers_of_three_languages_each_in_its_own(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    servers = {locale: server(dc, locale) for locale in ("ja", "de", "pt-BR")}
    for guild, channel_id, _ in servers.values():
        await subscribe_channels(sessions, clock, guild.id, [channel_id])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60"), ("SPRING2026", "Mora")])
    async with running_bot(dc, sessions, clock) as service:
        stats = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert stats.sent == 3
    sent = {locale: dc.messages(channel_id)[0] for locale, (_, channel_id, _) in servers.items()}
    assert sent["ja"].embeds[0]["title"] == "原神：新しいコード 2 件"
    assert sent["de"].embeds[0]["title"] == "2 neue Genshin Impact-Codes"
    assert sent["pt-BR"].embeds[0]["title"] == "2 códigos novos de Genshin Impact"
    labels = {
        locale: [b["label"] for row in message.components for b in row["components"]]
        for locale, message in sent.items()
    }
    assert labels["ja"] == ["GENSHINGIFT を交換", "SPRING2026 を交換"]
    assert labels["de"] == ["GENSHINGIFT einlösen", "SPRING2026 einlösen"]
    assert labels["pt-BR"] == ["Resgatar GENSHINGIFT", "Resgatar SPRING2026"]
    first = sent["ja"].embeds[0]["fields"][0]["value"]
    assert "に初確認" in first


async def test_a_server_language_recorded_at_subscribe_holds_without_the_gateway(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    """A delivery-only process (no gateway, or another process's shard) has no server in
    its cache: the language recorded when the channel subscribed is used."""
    guild, channel_id, admin = server(dc, "ko")
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "genshin"}, locale="en-US"
        )
        await handle.response()
        [done] = await handle.wait_followups(1)
    assert done.content.startswith("New **Genshin Impact** codes")  # the user's English
    async with sessions() as session:
        recorded = await repository.chat_language(session, Platform.DISCORD, str(channel_id))
    assert recorded == repository.ChatLanguage("ko", chosen=False)
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        assert service.client.get_guild(guild.id) is None  # nothing cached: REST only
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert titles(dc, channel_id) == ["원신: 새 코드 1개"]


async def test_language_sets_a_subscriptions_language_until_the_server_is_followed_again(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, admin = server(dc, "ja")
    other = dc.add_channel(guild.id, "other").id

    async def run(command: str, options: dict[str, object], locale: str = "en-US") -> str:
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, command, options, locale=locale
        )
        await handle.response()
        [reply] = await handle.wait_followups(1)
        return reply.content

    async with running_bot(dc, sessions, clock) as service:
        nothing = await run("language", {"language": "de", "channel": other})
        await run("subscribe", {"game": "genshin"})
        await run("subscribe", {"game": "hsr"})
        chosen = await run("language", {"language": "de", "game": "genshin"})
        listed = await run("subscriptions", {}, locale="ja")
        await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
        await add_codes(sessions, clock, [("STARRAILGIFT", "Stellar Jade x50")], "hsr")
        worker = delivery_worker(sessions, service, clock)
        await worker.drain(wait_for_retries=0)
        # Subscribing again (a role, say) keeps the language chosen for the channel.
        await run("subscribe", {"game": "genshin"})
        await run("language", {"language": "server"})
        await add_codes(sessions, clock, [("GENSHINMORE", "Mora x5000")])
        await worker.drain(wait_for_retries=0)
    subscribe_id = next(c["id"] for c in dc.commands if c["name"] == "subscribe")
    assert nothing == (
        f"<#{other}> gets no announcements to set a language for: add some with "
        f"</subscribe:{subscribe_id}> first."
    )
    assert chosen == f"Announcements in <#{channel_id}> (Genshin Impact) will be in Deutsch."
    assert listed == (
        f"**購読（2）**\n<#{channel_id}> · 原神 · Deutsch\n<#{channel_id}> · 崩壊：スターレイル"
    )
    first, second, third = titles(dc, channel_id)
    assert {first, second} == {
        "1 neuer Genshin Impact-Code",  # chosen: German
        "崩壊：スターレイル：新しいコード 1 件",  # the server's Japanese
    }
    assert third == "原神：新しいコード 1 件"  # the server's again


async def test_a_server_changing_its_language_changes_its_announcements(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    guild, channel_id, _ = server(dc, "fr")
    await subscribe_channels(sessions, clock, guild.id, [channel_id])
    async with running_bot(dc, sessions, clock) as service:
        worker = delivery_worker(sessions, service, clock)
        await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
        await worker.drain(wait_for_retries=0)
        await dc.set_guild_locale(guild.id, "es-ES")
        for _ in range(100):
            async with sessions() as session:
                recorded = await repository.chat_language(
                    session, Platform.DISCORD, str(channel_id)
                )
            if recorded is not None:
                break
            await asyncio.sleep(0.02)
        await add_codes(sessions, clock, [("GENSHINMORE", "Mora x5000")])
        await worker.drain(wait_for_retries=0)
    assert recorded == repository.ChatLanguage("es", chosen=False)
    assert titles(dc, channel_id) == [
        "1 nouveau code Genshin Impact",
        "1 código nuevo de Genshin Impact",
    ]


async def test_commands_reach_discord_with_their_words_in_every_language(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    """The fake refuses a sync with a locale Discord does not know or a name it would not
    take (upper case, spaces, over 32): the sync succeeding is half the test."""
    async with running_bot(dc, sessions, clock):
        pass
    commands = {c["name"]: c for c in dc.commands}
    subscribe = commands["subscribe"]
    assert subscribe["name_localizations"]["ja"] == "購読"
    assert subscribe["name_localizations"]["th"] == "ติดตาม"
    assert subscribe["name_localizations"]["es-419"] == "suscribir"
    assert "zh-TW" not in subscribe["name_localizations"]
    assert subscribe["description_localizations"]["ko"] == "게임의 새 코드를 채널에 알리기"
    game = next(o for o in subscribe["options"] if o["name"] == "game")
    assert game["name_localizations"]["fr"] == "jeu"
    assert game["description_localizations"]["de"] == (
        "Das Spiel, dessen neue Codes angekündigt werden"
    )
    genshin = next(c for c in game["choices"] if c["value"] == "genshin")
    assert genshin["name_localizations"]["ja"] == "原神"
    language = next(o for o in commands["language"]["options"] if o["name"] == "language")
    assert [c["value"] for c in language["choices"]][:3] == ["server", "en", "zh-hans"]
