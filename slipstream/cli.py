"""The `slipstream` command line. Each area registers its own sub-commands.

Modules under `slipstream/cli_*.py` each expose `register(app)`; this file only
lists them, so areas do not edit each other's code.
"""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(
    name="slipstream",
    help="Slipstream: F1 race intelligence for Discord, Slack and the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    from slipstream import cli_data

    cli_data.register(app)
    from slipstream import cli_discord; cli_discord.register(app)  # noqa: E702, I001
    from slipstream import cli_chat; cli_chat.register(app)  # noqa: E702, I001
    from slipstream import cli_run; cli_run.register(app)  # noqa: E702, I001
    from slipstream import cli_pulse; cli_pulse.register(app)  # noqa: E702, I001


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _register_all()
    try:
        app()
    except Exception as exc:
        from slipstream.wiring import StartupError

        if not isinstance(exc, StartupError):
            raise
        # A bad setting or store: one line and status 2, never a traceback.
        print(f"slipstream: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
