"""Discord options from the environment reach `run_discord` (role ids, message content intent),
and bad ones stop `slipstream run` before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord.settings import DiscordSettings
from bot.settings import Settings
from slipstream.wiring import StartupError, load_platforms


def test_moderator_role_ids_and_message_content_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_MODERATOR_ROLE_IDS", "111, 222,333")
    monkeypatch.setenv("DISCORD_MESSAGE_CONTENT", "true")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "42,43")
    s = DiscordSettings(_env_file=None)  # type: ignore[call-arg]
    assert s.moderator_roles() == [111, 222, 333]
    assert s.guild_ids() == [42, 43]
    assert s.discord_message_content is True
    assert DiscordSettings(_env_file=None, discord_moderator_role_ids=None).moderator_roles() == []  # type: ignore[call-arg]


@pytest.mark.parametrize(("var", "value", "line"), [
    ("DISCORD_MODERATOR_ROLE_IDS", "111,mods", "DISCORD_MODERATOR_ROLE_IDS: 'mods' is not a role id (digits only)"),
    ("DISCORD_GUILD_IDS", "12;13", "DISCORD_GUILD_IDS: '12;13' is not a guild id (digits only)"),
])
def test_malformed_discord_ids_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             var: str, value: str, line: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv(var, value)
    with pytest.raises(StartupError) as err:
        load_platforms()
    assert str(err.value) == line


async def test_run_refuses_bad_role_ids_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from slipstream.cli_run import serve

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DISCORD_MODERATOR_ROLE_IDS", "abc")
    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'x.db'}")  # type: ignore[call-arg]
    assert await serve(s) == 2
    assert not (tmp_path / "x.db").exists()  # nothing was started
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slipstream: DISCORD_MODERATOR_ROLE_IDS: 'abc' is not a role id (digits only)"]
