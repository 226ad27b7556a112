"""The Discord webhooks' section of the settings: on or off, and the request timeout."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiscordWebhookSettings(BaseSettings):
    """Discord webhooks are on unless `CODECAST_DISCORD_WEBHOOKS` is false; they need no bot
    token (the URL carries the webhook's own)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    discord_webhooks: bool = Field(default=True, alias="CODECAST_DISCORD_WEBHOOKS")
    discord_webhook_timeout: float = Field(
        default=15.0, gt=0, alias="CODECAST_DISCORD_WEBHOOK_TIMEOUT"
    )

    def discord_webhook_off(self) -> str | None:
        """Why Discord webhooks are off, or None when they are on."""
        return None if self.discord_webhooks else "CODECAST_DISCORD_WEBHOOKS is false"
