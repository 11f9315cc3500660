"""`slipstream bootstrap`: fill an empty store with the bundled data (first Docker start)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("bootstrap")
    def bootstrap_cmd() -> None:
        """Import the bundled 2023 history and calendar into an empty store (a filled one is left alone)."""
        from bot.settings import Settings
        from slipstream.bootstrap import ENV_FLAG, bootstrap_if_empty, enabled
        from slipstream.wiring import opened

        if not enabled():
            typer.echo(f"bootstrap: off ({ENV_FLAG}=0); the store is left as it is", err=True)
            return
        settings = Settings()
        # create_store: the first start of a fresh volume has no store yet.
        with opened(settings, create_store=True) as app_:
            outcome = bootstrap_if_empty(app_.engine, work_dir=Path(settings.fastf1_cache_dir))
        typer.echo(f"bootstrap: {outcome.reason}", err=True)
        if not outcome.ok:
            typer.echo("bootstrap: warning: part of the bundled data did not load", err=True)
