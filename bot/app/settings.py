"""Settings from the environment or `.env`, with the names DESIGN.md makes public.

The core's own settings are here; each delivery target kind brings its own section
(notifiers/<kind>/settings.py), and `Settings` is all of them read at once, so every name
stays flat (`TELEGRAM_TOKEN`, `CODECAST_DATABASE_URL`).
"""

from __future__ import annotations

from enum import StrEnum
from importlib import metadata
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.domain import DeliveryOrder
from bot.core.submission import parse_moderators
from notifiers.apprise.settings import AppriseSettings
from notifiers.discord.settings import DiscordSettings
from notifiers.discord_webhook.settings import DiscordWebhookSettings
from notifiers.telegram.settings import TelegramSettings
from notifiers.webhook.settings import WebhookSettings

SETTINGS_CONFIG = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
)


class Role(StrEnum):
    """Which parts of codecast one process runs (a deployment may split them)."""

    ALL = "all"
    SCHEDULER = "scheduler"
    DELIVERY = "delivery"
    BOTS = "bots"


class CoreSettings(BaseSettings):
    """What codecast itself needs: database, site, sources, delivery, verification."""

    model_config = SETTINGS_CONFIG

    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/codecast.db", alias="CODECAST_DATABASE_URL"
    )
    site_dir: Path = Field(default=Path("./public"), alias="CODECAST_SITE_DIR")
    site_url: str = Field(default="http://localhost:8000/", alias="CODECAST_SITE_URL")
    catalog: Path | None = Field(default=None, alias="CODECAST_CATALOG")
    # Unset: each source follows its catalog `interval`, or the default for its trust (60 s
    # official and wiki, 5 min editorial, 10 min pages). Set: the interval of every source
    # without one of its own in the catalog.
    scrape_interval: float | None = Field(default=None, gt=0, alias="CODECAST_SCRAPE_INTERVAL")
    # Livestream bursts: a game's official and wiki sources every `burst_interval` seconds
    # for `burst_seconds` after an official source shows a new code.
    burst_interval: float = Field(default=20.0, gt=0, alias="CODECAST_BURST_INTERVAL")
    burst_seconds: float = Field(default=7200.0, gt=0, alias="CODECAST_BURST_SECONDS")
    role: Role = Field(default=Role.ALL, alias="CODECAST_ROLE")
    log_level: str = Field(default="INFO", alias="CODECAST_LOG_LEVEL")
    # One JSON object per log line instead of text (for log collectors).
    log_json: bool = Field(default=False, alias="CODECAST_LOG_JSON")
    # Prometheus metrics on http://HOST:PORT/metrics; no port: no metrics server. The host is
    # this machine only unless set (0.0.0.0 for all interfaces, as in a container).
    metrics_port: int | None = Field(default=None, ge=0, le=65535, alias="CODECAST_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", min_length=1, alias="CODECAST_METRICS_HOST")

    # Fetching sources.
    http_timeout: float = Field(default=20.0, gt=0, alias="CODECAST_HTTP_TIMEOUT")
    http_max_bytes: int = Field(default=5_000_000, gt=0, alias="CODECAST_HTTP_MAX_BYTES")
    http_concurrency: int = Field(default=8, gt=0, alias="CODECAST_HTTP_CONCURRENCY")
    http_retries: int = Field(default=2, ge=0, alias="CODECAST_HTTP_RETRIES")
    # Politeness: seconds between two polls of one host (one request at a time each), and
    # the smaller spacing for the hosts of official sources (HoYoLAB's API serves all games).
    host_spacing: float = Field(default=10.0, ge=0, alias="CODECAST_HOST_SPACING")
    official_host_spacing: float = Field(default=1.0, ge=0, alias="CODECAST_OFFICIAL_HOST_SPACING")
    # Named in the User-Agent, so that a site's operator can see who polls and why.
    repository_url: str = Field(
        default="https://github.com/codecast/codecast", alias="CODECAST_REPOSITORY_URL"
    )
    # Replaces the whole User-Agent when set.
    user_agent_override: str | None = Field(default=None, alias="CODECAST_USER_AGENT")
    indexnow_key: SecretStr | None = Field(default=None, alias="CODECAST_INDEXNOW_KEY")

    # Parsing fetched pages: in this many worker processes, each page within this many
    # seconds (a page over it fails as "too slow to parse" and its worker is replaced).
    parse_workers: int = Field(default=2, gt=0, alias="CODECAST_PARSE_WORKERS")
    parse_time_limit: float = Field(default=20.0, gt=0, alias="CODECAST_PARSE_TIME_LIMIT")

    # Delivery (the outbox): rows claimed per batch, sends in flight, the lease after which a
    # row claimed by a process that died is taken over, and retries of transient failures.
    delivery_batch: int = Field(default=200, gt=0, alias="CODECAST_DELIVERY_BATCH")
    delivery_concurrency: int = Field(default=16, gt=0, alias="CODECAST_DELIVERY_CONCURRENCY")
    delivery_lease: float = Field(default=120.0, gt=0, alias="CODECAST_DELIVERY_LEASE")
    delivery_max_attempts: int = Field(default=8, gt=0, alias="CODECAST_DELIVERY_MAX_ATTEMPTS")
    delivery_retry_base: float = Field(default=5.0, gt=0, alias="CODECAST_DELIVERY_RETRY_BASE")
    # Who hears first (bot/store/repository/announcements.py): `reach`, every chat's first
    # message of a wave before any chat's second, channels and big groups before private
    # chats; or `subscribed`, announcement after announcement, oldest subscription first.
    delivery_order: DeliveryOrder = Field(
        default=DeliveryOrder.REACH, alias="CODECAST_DELIVERY_ORDER"
    )
    # Finished delivery rows are kept this many days, then pruned (a sent one also until its
    # codes have expired, so that their messages can still be edited).
    delivery_retention_days: float = Field(
        default=30.0, gt=0, alias="CODECAST_DELIVERY_RETENTION_DAYS"
    )

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
    # Targets named by a URL (webhooks, Apprise): failed attempts in a row before one is
    # disabled (`codecast subscribe` with its URL takes it back), and the TOML file of
    # `[[subscribers]]` kept in step with the database at start.
    target_max_failures: int = Field(default=20, gt=0, alias="CODECAST_TARGET_MAX_FAILURES")
    subscribers_file: Path | None = Field(default=None, alias="CODECAST_SUBSCRIBERS_FILE")

    # Players' reports (/submit): who moderates (`telegram:<user id>` and `discord:<user or
    # role id>`, separated by commas or spaces), how many reports one person and one chat
    # may make per window, after how many rejected reports a reporter is ignored, and how
    # often the bots look after their moderation chat.
    moderators: str = Field(default="", alias="CODECAST_MODERATORS")
    submit_per_user: int = Field(default=5, ge=0, alias="CODECAST_SUBMIT_PER_USER")
    submit_per_chat: int = Field(default=20, ge=0, alias="CODECAST_SUBMIT_PER_CHAT")
    submit_window: float = Field(default=3600.0, gt=0, alias="CODECAST_SUBMIT_WINDOW")
    submit_ignore_after: int = Field(default=3, gt=0, alias="CODECAST_SUBMIT_IGNORE_AFTER")
    moderation_check: float = Field(default=5.0, gt=0, alias="CODECAST_MODERATION_CHECK")

    @field_validator("indexnow_key", "user_agent_override", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("metrics_port", "scrape_interval", mode="before")
    @classmethod
    def _empty_port_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("catalog", "verify_accounts_file", "subscribers_file", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("moderators")
    @classmethod
    def _readable_moderators(cls, value: str) -> str:
        parse_moderators(value)  # a clear error at start, not at the first report
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def user_agent(self) -> str:
        """codecast, its version and its repository, unless CODECAST_USER_AGENT says otherwise."""
        if self.user_agent_override:
            return self.user_agent_override
        try:
            version = metadata.version("codecast")
        except metadata.PackageNotFoundError:
            version = "0"
        return f"codecast/{version} (+{self.repository_url}; game code notifier)"


class Settings(
    CoreSettings,
    TelegramSettings,
    DiscordSettings,
    DiscordWebhookSettings,
    WebhookSettings,
    AppriseSettings,
):
    """Every section at once: the core's and one per delivery target kind in the registry."""

    model_config = SETTINGS_CONFIG
