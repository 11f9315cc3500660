"""Intents: (filled in by its owner)."""

from __future__ import annotations

from bot.intents import Intent

INTENTS: dict[str, Intent] = {}
