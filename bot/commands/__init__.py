"""All command modules. Each has `register(registry)`; add one line per module here."""

from __future__ import annotations

from bot.registry import Registry


def register_all(registry: Registry) -> None:
    """Register every command module's commands on `registry`."""
    from bot.commands import admin, charts, info, races

    admin.register(registry)  # service: moderator commands

    info.register(registry)
    races.register(registry)
    charts.register(registry)
    from bot.commands import predict; predict.register(registry)  # noqa: E702, I001  (forecasts)
    from bot.commands import pulse; pulse.register(registry)  # noqa: E702, I001  (Track Pulse)
    from bot.commands import lab; lab.register(registry)  # noqa: E702, I001  (Race Lab)
