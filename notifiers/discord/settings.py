"""Discord's section of the settings: token, REST address, shards, command sync and sending."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class DiscordSettings(BaseSettings):
    """Discord is on when `DISCORD_TOKEN` is set."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    # An HTTP proxy in front of Discord's REST API; replaces https://discord.com/api/v10 whole.
    discord_api_url: str | None = Field(default=None, alias="CODECAST_DISCORD_API_URL")
    # Sharding: scale-out splits shard ids across processes.
    discord_shard_count: int | None = Field(
        default=None, gt=0, alias="CODECAST_DISCORD_SHARD_COUNT"
    )
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None, alias="CODECAST_DISCORD_SHARD_IDS"
    )
    # Commands sync to this guild at once (global commands take up to an hour to appear).
    discord_test_guild_id: int | None = Field(default=None, alias="CODECAST_DISCORD_TEST_GUILD_ID")
    discord_crosspost: bool = Field(default=False, alias="CODECAST_DISCORD_CROSSPOST")
    discord_global_rate: float = Field(default=50.0, gt=0, alias="CODECAST_DISCORD_GLOBAL_RATE")
    discord_channel_messages: int = Field(
        default=5, gt=0, alias="CODECAST_DISCORD_CHANNEL_MESSAGES"
    )
    discord_channel_window: float = Field(
        default=5.0, gt=0, alias="CODECAST_DISCORD_CHANNEL_WINDOW"
    )
    # The channel where reports waiting for a moderator are posted; unset: nowhere.
    discord_moderation_channel: int | None = Field(
        default=None, alias="CODECAST_MODERATION_DISCORD_CHANNEL"
    )
    discord_max_ratelimit_wait: float = Field(
        default=30.0, ge=30.0, alias="CODECAST_DISCORD_MAX_RATELIMIT_WAIT"
    )

    @field_validator("discord_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_id_list(cls, value: object) -> object:
        """`0,1,2` or a JSON list; empty means all shards."""
        if value in ("", None):
            return None
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [int(part) for part in text.split(",") if part.strip()]
        return value

    @field_validator(
        "discord_test_guild_id", "discord_shard_count", "discord_moderation_channel", mode="before"
    )
    @classmethod
    def _empty_number_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def discord_off(self) -> str | None:
        """Why Discord is off, or None when it is on."""
        return "DISCORD_TOKEN is not set" if self.discord_token is None else None
