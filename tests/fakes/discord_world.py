"""The simulated Discord world behind the fake: users, guilds, roles, channels, permissions."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntFlag
from typing import Any

JsonDict = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000


class Perm(IntFlag):
    """Permission bits as Discord numbers them (only the ones a bot like ours meets)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38
    # Discord split pinning from MANAGE_MESSAGES in 2025; either allows it.
    PIN_MESSAGES = 1 << 51


ALL_PERMISSIONS = (1 << 53) - 1

# What a freshly created server grants @everyone (Discord's defaults include pinging
# @everyone, which is exactly why announcements must set allowed_mentions).
DEFAULT_EVERYONE_PERMISSIONS = int(
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.MENTION_EVERYONE
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CONNECT
    | Perm.SPEAK
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)

# What the invite link of a notification bot typically asks for.
DEFAULT_BOT_PERMISSIONS = int(
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.ADD_REACTIONS
)

# Server-wide permissions with no meaning in a channel (kick, ban, administrator, manage
# server, audit log, insights, nicknames, expressions, events, timeouts, monetisation, …):
# a hidden channel keeps only these.
GUILD_ONLY_PERMISSIONS = sum(
    1 << bit for bit in (1, 2, 3, 5, 7, 19, 26, 27, 30, 33, 40, 41, 43, 44, 48)
)

# Losing SEND_MESSAGES in a channel also takes these away (Discord's implicit denial).
_NEEDS_SEND = int(
    Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.EMBED_LINKS | Perm.ATTACH_FILES
)


class ChannelType:
    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    ANNOUNCEMENT = 5
    FORUM = 15


MESSAGEABLE_TYPES = frozenset({ChannelType.TEXT, ChannelType.VOICE, ChannelType.ANNOUNCEMENT})

OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1

# Gateway intent bits the fake looks at.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT


@dataclass
class FakeSettings:
    """Knobs of the fake; the defaults are Discord's published numbers."""

    rate_limits: bool = True
    channel_message_limit: int = 5
    channel_message_window: float = 5.0
    global_limit: int = 50
    global_window: float = 1.0
    crosspost_limit: int = 10
    crosspost_window: float = 3600.0
    interaction_deadline: float = 3.0
    followup_ttl: float = 900.0
    # Follow-ups and edits of one interaction's messages: Discord's webhook bucket, keyed by
    # the interaction (not bound by the global limit).
    followup_limit: int = 5
    followup_window: float = 2.0
    # A channel webhook's bucket (its executes and edits).
    webhook_limit: int = 5
    webhook_window: float = 2.0
    nonce_window: float = 300.0
    heartbeat_interval_ms: int = 41_250
    recommended_shards: int = 1
    # Honour `compress=zlib-stream` in the gateway URL as Discord does (binary frames).
    gateway_compression: bool = True
    # Privileged intents switched on in the (fake) developer portal.
    privileged_intents: int = 0
    # Discord echoes the bot's own messages as MESSAGE_CREATE when it has GUILD_MESSAGES.
    echo_messages: bool = True
    # Keep every request and message for the tests to read; off, only counters are kept
    # (`sent_count`, `request_count`), so that a long benchmark costs the fake little.
    record: bool = True


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


class SnowflakeFactory:
    """Unique, increasing ids; each id is one millisecond apart so that shard routing
    (`(guild_id >> 22) % shard_count`) spreads guilds created in one burst."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + (1 << 22), now)
        return self._last


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int
    mentionable: bool = False
    bot_id: int | None = None

    def payload(self) -> JsonDict:
        data: JsonDict = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.bot_id is not None,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    id: int
    guild_id: int
    name: str
    type: int
    position: int
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    topic: str | None = None
    parent_id: int | None = None
    last_message_id: int | None = None

    def payload(self) -> JsonDict:
        data: JsonDict = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type in MESSAGEABLE_TYPES:
            data["topic"] = self.topic
            data["last_message_id"] = str(self.last_message_id) if self.last_message_id else None
            data["rate_limit_per_user"] = 0
            data["default_auto_archive_duration"] = 1440
        return data


@dataclass
class Member:
    user: User
    roles: list[int]
    joined_at: str = field(default_factory=iso_now)
    nick: str | None = None

    def payload(self, *, permissions: int | None = None) -> JsonDict:
        data: JsonDict = {
            "user": self.user.payload(),
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bot_role_id: int | None = None
    # False once the bot was kicked: the guild still exists but the bot sees nothing of it.
    bot_present: bool = True
    joined_at: str = field(default_factory=iso_now)
    # The server's language (Server Settings → Community → Server Primary Language).
    preferred_locale: str = "en-US"
    # GUILD_CREATE's member_count when a test sets it (a server of thousands whose members
    # the test does not make one by one); otherwise the members made.
    member_count: int | None = None

    @property
    def everyone_role_id(self) -> int:
        return self.id

    def payload(self, *, members: bool, self_id: int) -> JsonDict:
        """A GUILD_CREATE body; without the members intent only the bot's own member."""
        member_list = [m.payload() for uid, m in self.members.items() if members or uid == self_id]
        return {
            **self.rest_payload(),
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members) if self.member_count is None else self.member_count,
            "channels": [c.payload() for c in self.channels.values()],
            "members": member_list,
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def rest_payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "preferred_locale": self.preferred_locale,
            "premium_tier": 0,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }


class World:
    """Everything the fake knows about: the bot, its application and the guilds."""

    def __init__(self, *, token: str, bot_name: str) -> None:
        self.snowflake = SnowflakeFactory()
        self.token = token
        self.bot = User(self.snowflake(), bot_name, bot=True)
        self.application_id = self.bot.id  # a bot user shares its application's id
        self.app_owner = User(self.snowflake(), f"{bot_name}-owner")
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.users: dict[int, User] = {self.bot.id: self.bot, self.app_owner.id: self.app_owner}
        self._names = itertools.count(1)

    # -- building -----------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False) -> User:
        user = User(self.snowflake(), username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        bot_member: bool = True,
    ) -> Guild:
        gid = self.snowflake()
        owner = self.add_user(f"{name}-owner")
        guild = Guild(gid, name, owner.id)
        guild.roles[gid] = Role(gid, "@everyone", everyone_permissions, position=0)
        guild.members[owner.id] = Member(owner, [])
        guild.bot_present = False
        self.guilds[gid] = guild
        if bot_member:
            self.bot_join(gid, permissions=bot_permissions)
        return guild

    def bot_join(self, guild_id: int, *, permissions: int = DEFAULT_BOT_PERMISSIONS) -> Member:
        """The bot is invited: a managed role carrying the requested permissions is created."""
        guild = self.guilds[guild_id]
        role = Role(self.snowflake(), self.bot.username, permissions, 1, bot_id=self.bot.id)
        guild.roles[role.id] = role
        guild.bot_role_id = role.id
        member = Member(self.bot, [role.id])
        guild.members[self.bot.id] = member
        guild.bot_present = True
        return member

    def bot_leave(self, guild_id: int) -> None:
        guild = self.guilds[guild_id]
        guild.members.pop(self.bot.id, None)
        if guild.bot_role_id is not None:
            guild.roles.pop(guild.bot_role_id, None)
            guild.bot_role_id = None
        guild.bot_present = False

    def add_role(
        self, guild_id: int, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> Role:
        guild = self.guilds[guild_id]
        role = Role(self.snowflake(), name, permissions, len(guild.roles), mentionable)
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str | None = None,
        *,
        type: int = ChannelType.TEXT,
        overwrites: list[Overwrite] | tuple[Overwrite, ...] = (),
        topic: str | None = None,
        parent_id: int | None = None,
    ) -> Channel:
        guild = self.guilds[guild_id]
        channel = Channel(
            self.snowflake(),
            guild_id,
            name or f"channel-{next(self._names)}",
            type,
            position=len(guild.channels),
            overwrites={o.id: o for o in overwrites},
            topic=topic,
            parent_id=parent_id,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(self, guild_id: int, username: str, *, roles: tuple[int, ...] = ()) -> Member:
        user = self.add_user(username)
        member = Member(user, list(roles))
        self.guilds[guild_id].members[user.id] = member
        return member

    # -- permissions (Discord's documented order) ---------------------------------------

    def base_permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = guild.roles[guild.id].permissions
        for rid in member.roles:
            role = guild.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        guild = self.guilds[channel.guild_id]
        perms = self.base_permissions(guild, user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        member = guild.members.get(user_id)
        if member is None:
            return 0
        overwrites = channel.overwrites
        everyone = overwrites.get(guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for rid in member.roles:
            ow = overwrites.get(rid)
            if ow is not None and ow.type == OVERWRITE_ROLE:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = overwrites.get(user_id)
        if own is not None and own.type == OVERWRITE_MEMBER:
            perms = (perms & ~own.deny) | own.allow
        if not perms & Perm.VIEW_CHANNEL:
            return perms & GUILD_ONLY_PERMISSIONS
        if channel.type in MESSAGEABLE_TYPES and not perms & Perm.SEND_MESSAGES:
            perms &= ~_NEEDS_SEND
        return perms

    def bot_permissions(self, channel: Channel) -> int:
        if not self.guilds[channel.guild_id].bot_present:
            return 0
        return self.channel_permissions(channel, self.bot.id)

    def bot_guilds(self) -> list[Guild]:
        return [g for g in self.guilds.values() if g.bot_present]
