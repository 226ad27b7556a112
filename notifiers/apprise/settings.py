"""Apprise's section of the settings: on or off, and how long one notification may take."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppriseSettings(BaseSettings):
    """Apprise targets are on unless `CODECAST_APPRISE` is false."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    apprise: bool = Field(default=True, alias="CODECAST_APPRISE")
    apprise_timeout: float = Field(default=30.0, gt=0, alias="CODECAST_APPRISE_TIMEOUT")

    def apprise_off(self) -> str | None:
        """Why Apprise targets are off, or None when they are on."""
        return None if self.apprise else "CODECAST_APPRISE is false"
