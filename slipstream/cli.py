"""The `slipstream` command line. Each area registers its own sub-commands.

Modules under `slipstream/cli_*.py` each expose `register(app)`; this file only
lists them, so areas do not edit each other's code. It also owns how the whole
command tree is shown: `--version`, and on/off flags rendered as flags.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="slipstream",
    help="Slipstream: F1 race intelligence for Discord, Slack and the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml is the one source)."""
    try:
        return version("slipstream")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"slipstream {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Show the version and exit.")] = False,
) -> None:
    """Slipstream: F1 race intelligence for Discord, Slack and the terminal."""


def _register_all() -> None:
    from slipstream import cli_data

    cli_data.register(app)
    from slipstream import cli_discord; cli_discord.register(app)  # noqa: E702, I001
    from slipstream import cli_chat; cli_chat.register(app)  # noqa: E702, I001
    from slipstream import cli_run; cli_run.register(app)  # noqa: E702, I001
    from slipstream import cli_pulse; cli_pulse.register(app)  # noqa: E702, I001
    from slipstream import cli_bootstrap; cli_bootstrap.register(app)  # noqa: E702, I001
    from slipstream import cli_predict; cli_predict.register(app)  # noqa: E702, I001
    from slipstream import cli_lab; cli_lab.register(app)  # noqa: E702, I001


def _flags_as_flags(cmd: Any) -> None:
    """Show on/off options as bare flags in `--help`, not as `--console <bool>`.

    Typer's rich help prints each option's type, `<bool>` included, unless the
    option has a metavar; an empty metavar prints nothing. Done once here for the
    whole tree, so no command module has to remember it.
    """
    ctx = typer.Context(cmd, info_name=cmd.name)
    # Hazard: the `--help` option is made lazily and cached by the command; asking for
    # it here makes the cached one, which is then the one rendered.
    params = [*cmd.params, cmd.get_help_option(ctx)]
    for param in params:
        if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(cmd, "commands", {}).values():
        _flags_as_flags(sub)


def build_command() -> Any:
    """The click command tree of the whole CLI, ready to call."""
    _register_all()
    cmd = typer.main.get_command(app)
    _flags_as_flags(cmd)
    return cmd


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    command = build_command()
    try:
        command(prog_name="slipstream")
    except Exception as exc:
        from slipstream.wiring import StartupError

        if not isinstance(exc, StartupError):
            raise
        # A bad setting or store: one line and status 2, never a traceback.
        print(f"slipstream: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
