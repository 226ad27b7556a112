"""Telegram's section of the settings: token, Bot API address, webhook and sending limits."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    """Telegram is on when `TELEGRAM_TOKEN` is set."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_token: SecretStr | None = Field(default=None, alias="TELEGRAM_TOKEN")
    # A local Bot API server (python-telegram-bot's base_url; the token is appended).
    telegram_api_url: str | None = Field(default=None, alias="CODECAST_TELEGRAM_API_URL")
    # Webhook instead of polling when a URL is set.
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
    # Sending limits (the Bot FAQ's values); 0 turns one off.
    telegram_rate_overall: float = Field(
        default=30.0, ge=0, alias="CODECAST_TELEGRAM_RATE_OVERALL"
    )  # messages per second for the whole bot
    telegram_rate_per_chat: float = Field(
        default=1.0, ge=0, alias="CODECAST_TELEGRAM_RATE_PER_CHAT"
    )  # messages per second to one chat
    telegram_rate_per_group: float = Field(
        default=20.0, ge=0, alias="CODECAST_TELEGRAM_RATE_PER_GROUP"
    )  # messages per minute to one group or channel
    telegram_connections: int = Field(default=32, gt=0, alias="CODECAST_TELEGRAM_CONNECTIONS")
    # Paid broadcasts (allow_paid_broadcast: up to PAID_RATE messages a second, 0.1 Stars
    # each): off unless switched on with a budget, messages per announcement and/or Stars
    # per day (UTC); used only beyond the free rate, and only for announcements to at least
    # PAID_MIN_CHATS chats (the free rate tells 1,800 chats within a minute).
    telegram_paid_broadcast: bool = Field(default=False, alias="CODECAST_TELEGRAM_PAID_BROADCAST")
    telegram_paid_rate: float = Field(default=1000.0, gt=0, alias="CODECAST_TELEGRAM_PAID_RATE")
    telegram_paid_per_announcement: int = Field(
        default=0, ge=0, alias="CODECAST_TELEGRAM_PAID_PER_ANNOUNCEMENT"
    )
    telegram_paid_stars_per_day: float = Field(
        default=0.0, ge=0, alias="CODECAST_TELEGRAM_PAID_STARS_PER_DAY"
    )
    telegram_paid_min_chats: int = Field(
        default=1800, ge=0, alias="CODECAST_TELEGRAM_PAID_MIN_CHATS"
    )
    # Where reports waiting for a moderator are posted: a chat id (a group of moderators, or
    # a moderator's private chat with the bot) or a channel's @username; unset: nowhere
    # (moderators use /moderation).
    telegram_moderation_chat: str | None = Field(
        default=None, alias="CODECAST_MODERATION_TELEGRAM_CHAT"
    )

    @field_validator(
        "telegram_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "telegram_moderation_chat",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _paid_needs_a_budget(self) -> Self:
        if self.telegram_paid_broadcast and not (
            self.telegram_paid_per_announcement or self.telegram_paid_stars_per_day
        ):
            raise ValueError(
                "CODECAST_TELEGRAM_PAID_BROADCAST needs a budget: set "
                "CODECAST_TELEGRAM_PAID_PER_ANNOUNCEMENT (messages) or "
                "CODECAST_TELEGRAM_PAID_STARS_PER_DAY (Stars)"
            )
        return self

    def telegram_off(self) -> str | None:
        """Why Telegram is off, or None when it is on."""
        return "TELEGRAM_TOKEN is not set" if self.telegram_token is None else None
