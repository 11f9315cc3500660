"""Discord settings, read from the environment / `.env` (the names users already have).

Ids are checked when the settings are built, so a typo in `DISCORD_GUILD_IDS`
or `DISCORD_MODERATOR_ROLE_IDS` stops start-up with one line instead of
surfacing later (or never) as a moderator who is not recognised.
"""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def parse_ids(raw: str | None, what: str) -> list[int]:
    """ "1, 2,3" → [1, 2, 3]; ValueError naming the first bad entry."""
    out: list[int] = []
    for part in (raw or "").replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"{part!r} is not a {what} id (digits only)")
        out.append(int(part))
    return out


class DiscordSettings(BaseSettings):
    """Everything the Discord adapter and `slipstream discord sync` need."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: str | None = None
    discord_guild_ids: str | None = None  # comma-separated, for fast guild command sync
    discord_api_base: str | None = None  # e.g. http://127.0.0.1:PORT/api/v10 (tests, proxies)
    discord_gateway_url: str | None = None
    # Comma-separated role ids whose members count as moderators (besides Manage Server).
    discord_moderator_role_ids: str | None = None
    # Request the privileged Message Content intent (enable it in the developer portal first):
    # lets the bot follow unmentioned messages in its own threads.
    discord_message_content: bool = False

    @field_validator("discord_guild_ids")
    @classmethod
    def _guilds(cls, v: str | None) -> str | None:
        parse_ids(v, "guild")
        return v

    @field_validator("discord_moderator_role_ids")
    @classmethod
    def _roles(cls, v: str | None) -> str | None:
        parse_ids(v, "role")
        return v

    @property
    def configured(self) -> bool:
        return bool(self.discord_token)

    def guild_ids(self) -> list[int]:
        return parse_ids(self.discord_guild_ids, "guild")

    def moderator_roles(self) -> list[int]:
        return parse_ids(self.discord_moderator_role_ids, "role")
