"""Settings from the environment or `.env`, with the names DESIGN.md makes public."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Role(StrEnum):
    """Which parts of codecast one process runs (a deployment may split them)."""

    ALL = "all"
    SCHEDULER = "scheduler"
    DELIVERY = "delivery"
    BOTS = "bots"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/codecast.db", alias="CODECAST_DATABASE_URL"
    )
    site_dir: Path = Field(default=Path("./public"), alias="CODECAST_SITE_DIR")
    site_url: str = Field(default="http://localhost:8000/", alias="CODECAST_SITE_URL")
    catalog: Path | None = Field(default=None, alias="CODECAST_CATALOG")
    scrape_interval: float = Field(default=300.0, gt=0, alias="CODECAST_SCRAPE_INTERVAL")
    role: Role = Field(default=Role.ALL, alias="CODECAST_ROLE")
    log_level: str = Field(default="INFO", alias="CODECAST_LOG_LEVEL")
    # One JSON object per log line instead of text (for log collectors).
    log_json: bool = Field(default=False, alias="CODECAST_LOG_JSON")
    # Prometheus metrics on http://0.0.0.0:PORT/metrics; unset: no metrics server.
    metrics_port: int | None = Field(default=None, ge=0, le=65535, alias="CODECAST_METRICS_PORT")

    # Fetching sources.
    http_timeout: float = Field(default=20.0, gt=0, alias="CODECAST_HTTP_TIMEOUT")
    http_max_bytes: int = Field(default=5_000_000, gt=0, alias="CODECAST_HTTP_MAX_BYTES")
    http_concurrency: int = Field(default=8, gt=0, alias="CODECAST_HTTP_CONCURRENCY")
    http_retries: int = Field(default=2, ge=0, alias="CODECAST_HTTP_RETRIES")
    user_agent: str = Field(
        default="codecast/0.1 (+https://github.com/codecast; game code notifier)",
        alias="CODECAST_USER_AGENT",
    )
    indexnow_key: SecretStr | None = Field(default=None, alias="CODECAST_INDEXNOW_KEY")

    # Delivery (the outbox): rows claimed per batch, sends in flight, the lease after which a
    # row claimed by a process that died is taken over, and retries of transient failures.
    delivery_batch: int = Field(default=200, gt=0, alias="CODECAST_DELIVERY_BATCH")
    delivery_concurrency: int = Field(default=16, gt=0, alias="CODECAST_DELIVERY_CONCURRENCY")
    delivery_lease: float = Field(default=120.0, gt=0, alias="CODECAST_DELIVERY_LEASE")
    delivery_max_attempts: int = Field(default=8, gt=0, alias="CODECAST_DELIVERY_MAX_ATTEMPTS")
    delivery_retry_base: float = Field(default=5.0, gt=0, alias="CODECAST_DELIVERY_RETRY_BASE")

    # Verification on HoYoverse's redeem endpoint (off without an accounts file): the TOML
    # file of the operator's accounts, one redemption per account per `pace` seconds, how
    # long a new code waits for its verdict, how often valid codes and codes "not activated
    # yet" are asked again (and for how long the latter), and the HTTP timeout of one ask.
    verify_accounts_file: Path | None = Field(default=None, alias="CODECAST_VERIFY_ACCOUNTS_FILE")
    verify_pace: float = Field(default=6.0, gt=0, alias="CODECAST_VERIFY_PACE")
    verify_wait: float = Field(default=90.0, ge=0, alias="CODECAST_VERIFY_WAIT")
    verify_recheck: float = Field(default=1800.0, gt=0, alias="CODECAST_VERIFY_RECHECK")
    verify_not_active_every: float = Field(
        default=300.0, gt=0, alias="CODECAST_VERIFY_NOT_ACTIVE_EVERY"
    )
    verify_not_active_for: float = Field(
        default=172800.0, gt=0, alias="CODECAST_VERIFY_NOT_ACTIVE_FOR"
    )
    verify_retry_base: float = Field(default=15.0, gt=0, alias="CODECAST_VERIFY_RETRY_BASE")
    verify_cooldown: float = Field(default=30.0, gt=0, alias="CODECAST_VERIFY_COOLDOWN")
    verify_timeout: float = Field(default=15.0, gt=0, alias="CODECAST_VERIFY_TIMEOUT")
    # How often the bots look for sent messages whose codes expired, to edit them.
    expiry_check: float = Field(default=60.0, gt=0, alias="CODECAST_EXPIRY_CHECK")

    # Chat platforms: a platform whose token is missing is off.
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    telegram_token: SecretStr | None = Field(default=None, alias="TELEGRAM_TOKEN")
    telegram_api_url: str | None = Field(default=None, alias="CODECAST_TELEGRAM_API_URL")
    discord_api_url: str | None = Field(default=None, alias="CODECAST_DISCORD_API_URL")

    # Discord: sharding (scale-out splits shard ids across processes), command sync, sending.
    discord_shard_count: int | None = Field(
        default=None, gt=0, alias="CODECAST_DISCORD_SHARD_COUNT"
    )
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None, alias="CODECAST_DISCORD_SHARD_IDS"
    )
    discord_test_guild_id: int | None = Field(default=None, alias="CODECAST_DISCORD_TEST_GUILD_ID")
    discord_crosspost: bool = Field(default=False, alias="CODECAST_DISCORD_CROSSPOST")
    discord_global_rate: float = Field(default=50.0, gt=0, alias="CODECAST_DISCORD_GLOBAL_RATE")
    discord_channel_messages: int = Field(
        default=5, gt=0, alias="CODECAST_DISCORD_CHANNEL_MESSAGES"
    )
    discord_channel_window: float = Field(
        default=5.0, gt=0, alias="CODECAST_DISCORD_CHANNEL_WINDOW"
    )
    discord_max_ratelimit_wait: float = Field(
        default=30.0, ge=30.0, alias="CODECAST_DISCORD_MAX_RATELIMIT_WAIT"
    )

    # Telegram: webhook instead of polling when a URL is set; sending limits (Bot FAQ values).
    telegram_webhook_url: str | None = Field(default=None, alias="CODECAST_TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, alias="CODECAST_TELEGRAM_WEBHOOK_SECRET"
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1", alias="CODECAST_TELEGRAM_WEBHOOK_LISTEN"
    )
    telegram_webhook_port: int = Field(
        default=8443, gt=0, lt=65536, alias="CODECAST_TELEGRAM_WEBHOOK_PORT"
    )
    telegram_rate_overall: float = Field(
        default=30.0, ge=0, alias="CODECAST_TELEGRAM_RATE_OVERALL"
    )  # messages per second for the whole bot; 0 turns the limit off
    telegram_rate_per_chat: float = Field(
        default=1.0, ge=0, alias="CODECAST_TELEGRAM_RATE_PER_CHAT"
    )  # messages per second to one chat
    telegram_rate_per_group: float = Field(
        default=20.0, ge=0, alias="CODECAST_TELEGRAM_RATE_PER_GROUP"
    )  # messages per minute to one group or channel
    telegram_connections: int = Field(default=32, gt=0, alias="CODECAST_TELEGRAM_CONNECTIONS")

    @field_validator(
        "discord_token",
        "telegram_token",
        "indexnow_key",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        mode="before",
    )
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

    @field_validator("discord_test_guild_id", "discord_shard_count", mode="before")
    @classmethod
    def _empty_number_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("catalog", "verify_accounts_file", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
