"""Slack settings, read from the environment / `.env` (the names users already have).

A bot token alone cannot receive anything: Slack reaches the bot either over
Socket Mode (`SLACK_APP_TOKEN`) or over HTTP with signed requests
(`SLACK_SIGNING_SECRET`). That is checked when the settings are built.
"""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    """Everything the Slack adapter needs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None  # HTTP mode (Events API)
    slack_app_token: str | None = None  # Socket Mode
    # HTTP mode listens here. Loopback by default so a bare `slipstream run` never opens
    # a port to the network by surprise; the Docker image and docker-compose.yml set
    # SLACK_HOST=0.0.0.0 (inside a container loopback is unreachable from outside).
    slack_host: str = "127.0.0.1"
    slack_port: int = 3000
    slack_api_base_url: str | None = None

    @model_validator(mode="after")
    def _has_a_way_in(self) -> SlackSettings:
        if self.slack_bot_token and not (self.slack_signing_secret or self.slack_app_token):
            raise ValueError(
                "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode) "
                "nor SLACK_APP_TOKEN (Socket Mode) is"
            )
        return self

    @property
    def configured(self) -> bool:
        return bool(self.slack_bot_token)
