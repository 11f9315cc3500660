"""Discord options from the environment reach `run_discord` (role ids, message content intent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings


def test_moderator_role_ids_and_message_content_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_MODERATOR_ROLE_IDS", "111, 222,333")
    monkeypatch.setenv("DISCORD_MESSAGE_CONTENT", "true")
    s = Settings(_env_file=None)
    assert s.discord_moderator_roles() == [111, 222, 333]
    assert s.discord_message_content is True
    assert Settings(_env_file=None, discord_moderator_role_ids=None).discord_moderator_roles() == []
    with pytest.raises(ValueError, match="'mods' is not a role id"):
        Settings(_env_file=None, discord_moderator_role_ids="111,mods").discord_moderator_roles()


async def test_run_refuses_bad_role_ids_before_starting(tmp_path: Path) -> None:
    from slipstream.cli_run import serve

    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'x.db'}",
                 discord_moderator_role_ids="abc")
    assert await serve(s) == 2
    assert not (tmp_path / "x.db").exists()  # nothing was started
