"""Deployment files agree with the code: `.env.example` lists every setting with its default."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot.settings import Settings

# Core settings, and each platform's beside its adapter: one .env serves them all.
SETTINGS = (Settings, DiscordSettings, SlackSettings)

ROOT = Path(__file__).resolve().parents[2]


def _env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented out)."""
    out: dict[str, tuple[str, bool]] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            name = m.group(2)
            assert name not in out, f"{name} listed twice"
            out[name] = (m.group(3).strip(), bool(m.group(1)))
    return out


def test_env_example_lists_every_setting_with_its_default() -> None:
    listed = _env_example()
    fields = {name: f for cls in SETTINGS for name, f in cls.model_fields.items()}
    assert set(listed) == {name.upper() for name in fields}, "add new settings to .env.example"
    for name, field in fields.items():
        value, commented = listed[name.upper()]
        if field.default_factory is not None:
            # Machine-dependent defaults (user data / cache dirs) are documented, not fixed.
            assert commented and value == "", name
            continue
        assert not commented, name
        default = field.default
        expected = "" if default is None else str(default)
        assert value == expected, f"{name.upper()}: .env.example says {value!r}, default is {expected!r}"
    # And it parses: loading it gives exactly the defaults.
    for cls in SETTINGS:
        loaded = cls(_env_file=str(ROOT / ".env.example"))
        defaults = cls(_env_file=None)
        for name in cls.model_fields:
            want, got = getattr(defaults, name), getattr(loaded, name)
            assert got == want or (want is None and got in ("", None)), name


def test_dockerfile_is_slim_non_root_cached_and_health_checked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    deps = text.index("COPY pyproject.toml")
    code = text.index("COPY bot ")
    assert deps < text.index("pip install .") < code, "dependency layer before the source"
    assert re.search(r"^USER slipstream$", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'CMD ["sh", "-c", "slipstream db upgrade && exec slipstream run"]' in text


def test_compose_has_bot_postgres_and_optional_ollama() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    services = re.findall(r"^  ([a-z]+):$", text, re.M)
    assert services[:3] == ["bot", "db", "ollama"]
    bot = text[text.index("\n  bot:\n"):text.index("\n  db:\n")]
    assert "DATABASE_URL: postgresql://" in bot and "condition: service_healthy" in bot
    assert "image: postgres:" in text and "pg_isready" in text
    ollama = text[text.index("\n  ollama:\n"):]
    assert 'profiles: ["ollama"]' in ollama
