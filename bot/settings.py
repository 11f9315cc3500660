"""Settings from the environment and an optional `.env` file.

One `Settings` object is built at start-up (see `slipstream.wiring`) and passed
to whatever needs it; nothing reads the environment behind its back. Only core
settings live here: each platform adapter has its own (`adapters/discord/settings.py`,
`adapters/slack/settings.py`), read from the same environment and `.env`.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "slipstream"


def default_database_url() -> str:
    """A SQLite file in the user's data directory (the embedded default)."""
    data_dir = Path(user_data_dir(APP_NAME))
    return f"sqlite:///{data_dir / 'slipstream.db'}"


def default_fastf1_cache_dir() -> str:
    return str(Path(user_cache_dir(APP_NAME)) / "fastf1")


class Settings(BaseSettings):
    """Every core setting, with its default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    fastf1_cache_dir: str = Field(default_factory=default_fastf1_cache_dir)
    log_level: str = "INFO"

    # LLM (OpenAI-compatible). No base URL means no LLM: deterministic answers only.
    llm_base_url: str | None = None
    llm_api_key: str = "not-needed"
    llm_model: str = "local-model"
    llm_timeout_s: float = 30.0
    llm_max_concurrency: int = 4
    llm_max_tokens: int = 400
    llm_temperature: float = 0.2

    # Rate limits (per user / per channel, questions per minute).
    rate_user_per_min: int = 10
    rate_channel_per_min: int = 30

    # Race Lab (what-if, battle forecast): worker processes and the time limit of one job.
    lab_workers: int = Field(default=1, ge=1)
    lab_timeout_s: float = Field(default=60.0, gt=0)
    lab_runs: int = Field(default=10_000, ge=100)

    # Service
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108
    # On SIGTERM/SIGINT, answers in progress get this long to finish before they are
    # marked "interrupted" (keep it under the orchestrator's kill timeout: Docker's is 10 s
    # unless `stop_grace_period` raises it).
    shutdown_grace_s: float = Field(default=30.0, ge=0)
