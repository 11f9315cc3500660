"""The whole command registry as ONE `/f1` application-command group.

Each registry `Command` becomes a subcommand whose options come from its
`Param`s: typed (string / integer / number / boolean), required or not,
`Literal` choices as Discord choices, and autocomplete sources served by the
core (`Dispatcher.autocomplete`). The handler itself is not called here: the
subcommand turns the interaction into an `Incoming` and hands it to the
dispatcher, which checks privilege (Discord's `default_permissions` is only a
UI hint, and a subcommand cannot even carry one).

Discord allows 25 subcommands per group; past that, commands go into nested
groups `/f1 more …`, `/f1 more2 …` rather than disappearing.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Optional, Protocol

import discord
from discord import app_commands

from bot.registry import Command, Param, Registry

log = logging.getLogger(__name__)

MAX_SUBCOMMANDS = 25
MAX_CHOICES = 25

# (interaction, registry command, parsed args) -> None; the client supplies it.
Invoke = Callable[[discord.Interaction, Command, dict[str, Any]], Awaitable[None]]


class AutocompleteSource(Protocol):
    async def autocomplete(
        self, source: str, prefix: str, limit: int = 25
    ) -> list[tuple[str, str]]: ...


def _annotation(param: Param) -> Any:
    base: Any = param.type
    if param.choices:
        # Literal[...] gives Discord choices; more than 25 would be rejected, so fall back to text.
        base = Literal[param.choices] if len(param.choices) <= MAX_CHOICES else str  # type: ignore[valid-type]
    return base if param.required else Optional[base]  # noqa: UP045 (discord.py inspects typing.Optional)


def _autocomplete_callback(source: str, param: Param, provider: AutocompleteSource | None) -> Any:
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[Any]]:
        if provider is None:
            return []
        try:
            pairs = await provider.autocomplete(source, str(current or ""), 25)
        except Exception:  # autocomplete must never take the client down; log and offer nothing
            log.exception("autocomplete %s failed for %r", source, current)
            return []
        out: list[app_commands.Choice[Any]] = []
        for label, value in pairs[:25]:
            try:
                typed: Any = param.type(value) if param.type in (int, float) else str(value)[:100]
            except (TypeError, ValueError):
                continue
            out.append(app_commands.Choice(name=str(label)[:100] or str(value)[:100], value=typed))
        return out

    return complete


def build_subcommand(
    cmd: Command, invoke: Invoke, provider: AutocompleteSource | None
) -> app_commands.Command[Any, ..., None]:
    """One registry command as a discord.py app command with a synthesized signature."""

    async def callback(interaction: discord.Interaction, **kwargs: Any) -> None:
        await invoke(interaction, cmd, kwargs)

    params = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    # Discord wants required options first; discord.py sorts too, but keep the signature valid Python.
    ordered = sorted(cmd.params, key=lambda p: not p.required)
    for p in ordered:
        params.append(
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(p),
                default=inspect.Parameter.empty if p.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__doc__ = None  # descriptions come from the registry, not this wrapper's docstring
    callback.__discord_app_commands_param_description__ = {
        p.name: p.description for p in cmd.params
    }  # type: ignore[attr-defined]
    autocompletes = {
        p.name: _autocomplete_callback(p.autocomplete, p, provider)
        for p in cmd.params
        if p.autocomplete and not p.choices
    }
    if autocompletes:
        callback.__discord_app_commands_param_autocomplete__ = autocompletes  # type: ignore[attr-defined]
    return app_commands.Command(
        name=cmd.name, description=cmd.summary or cmd.name, callback=callback
    )


def build_group(
    registry: Registry,
    invoke: Invoke,
    provider: AutocompleteSource | None,
    *,
    name: str = "f1",
    description: str = "Formula 1 race intelligence",
) -> app_commands.Group:
    """The `/f1` group for every (non-hidden) command of `registry`."""
    group = app_commands.Group(name=name, description=description)
    commands = sorted(registry.commands(), key=lambda c: c.name)
    first, rest = commands[: MAX_SUBCOMMANDS - (1 if len(commands) > MAX_SUBCOMMANDS else 0)], []
    if len(commands) > MAX_SUBCOMMANDS:
        rest = commands[len(first) :]
    for cmd in first:
        group.add_command(build_subcommand(cmd, invoke, provider))
    n = 0
    while rest:
        n += 1
        sub = app_commands.Group(
            name="more" if n == 1 else f"more{n}",
            description="More Slipstream commands",
            parent=group,
        )
        chunk, rest = rest[:MAX_SUBCOMMANDS], rest[MAX_SUBCOMMANDS:]
        for cmd in chunk:
            sub.add_command(build_subcommand(cmd, invoke, provider))
        if n >= 24:
            log.warning("%d commands do not fit in /%s and are left out", len(rest), name)
            break
    return group
