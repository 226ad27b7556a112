"""The JSON webhooks' section of the settings: on or off, and how long a receiver may take."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    """JSON webhooks are on unless `CODECAST_WEBHOOKS` is false: targets are added with
    `codecast subscribe` or the subscribers file, and need no token."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    webhooks: bool = Field(default=True, alias="CODECAST_WEBHOOKS")
    # Seconds a receiver has to answer one POST.
    webhook_timeout: float = Field(default=10.0, gt=0, alias="CODECAST_WEBHOOK_TIMEOUT")

    def webhook_off(self) -> str | None:
        """Why JSON webhooks are off, or None when they are on."""
        return None if self.webhooks else "CODECAST_WEBHOOKS is false"
