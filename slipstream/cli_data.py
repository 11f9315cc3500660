"""`slipstream ingest`, `slipstream history import`, `slipstream db upgrade|current|stats`.

Every failure ends with a one-line reason on stderr and a non-zero exit code
(2 for an unusable setting or store: see `slipstream.wiring.StartupError`).
Each command builds the app once (`wiring.opened`) and closes it however it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer


@contextmanager
def _engine(*, create: bool) -> Iterator[Any]:
    """The store's engine, schema at head; `create=False` refuses a missing SQLite file."""
    from bot.settings import Settings
    from slipstream.wiring import opened

    with opened(Settings(), create_store=create) as app:
        yield app.engine


def _shown(url: str) -> str:
    """The URL without its password (safe to print)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _fail(msg: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(code)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar driven by the storage layer's (done, total, label) callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"), TimeElapsedColumn(), transient=False,
    ) as bar:
        task = bar.add_task(label, total=None, item="")

        def update(done: int, total: int, item: str) -> None:
            bar.update(task, completed=done, total=total, item=item)

        yield update


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        year: Annotated[int, typer.Option("--year", "-y", help="Season to ingest.")],
        event: Annotated[str | None, typer.Option("--event", "-e", help="Round number or event name (e.g. 14, Monza).")] = None,
        session: Annotated[str | None, typer.Option("--session", "-s", help="R, Q, S, SQ, FP1, FP2, FP3.")] = None,
        cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="FastF1 cache (default: FASTF1_CACHE_DIR).")] = None,
        offline: Annotated[bool, typer.Option("--offline", help="Use only the FastF1 cache, no network.")] = False,
        timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per session before FastF1 is killed.")] = None,
    ) -> None:
        """Ingest a season's schedule and completed sessions from FastF1 into the store."""
        from rich.console import Console
        from rich.table import Table

        from bot.settings import Settings
        from storage.ingest import IngestError, ingest

        cache = cache_dir or Path(Settings().fastf1_cache_dir)
        if offline and not cache.is_dir():
            raise _fail(f"cache dir not found: {cache}")
        try:
            with _engine(create=True) as engine, _progress(f"ingest {year}") as progress:
                report = ingest(engine, year, event, session, cache_dir=cache, offline=offline,
                                progress=progress, timeout_s=timeout)
        except IngestError as exc:
            raise _fail(str(exc)) from None
        table = Table(title=f"Ingest {year}")
        for col in ("session", "event", "outcome", "rows", "FastF1 load s", "write s", "reason"):
            table.add_column(col)
        for s in report.sessions:
            if s.reason == "not in the offline cache":
                continue  # summarized below instead of a row per absent session
            table.add_row(
                s.target, s.event, s.outcome, str(s.rows),
                f"{s.load_s:.2f}" if s.load_s is not None else "",
                f"{s.write_s:.3f}" if s.write_s is not None else "", s.reason or "",
            )
        console = Console()
        console.print(table)
        absent = sum(1 for s in report.sessions if s.reason == "not in the offline cache")
        console.print(
            f"added {report.added} · updated {report.updated} · skipped {report.skipped}"
            + (f" ({absent} not in the offline cache)" if absent else "")
            + f" · failed {report.failed} · {report.elapsed_s:.1f} s"
        )
        if report.failed:
            first = next(s for s in report.sessions if s.outcome == "failed")
            raise _fail(f"{report.failed} session(s) failed; first: {first.target}: {first.reason}")

    history = typer.Typer(help="Historical data (Ergast-schema CSV).", no_args_is_help=True)

    @history.command("import")
    def history_import(
        directory: Annotated[Path, typer.Argument(help="Directory with races.csv, results.csv, ...")],
        year: Annotated[list[int] | None, typer.Option("--year", "-y", help="Only these seasons (repeatable).")] = None,
    ) -> None:
        """Import an Ergast-schema CSV dump (`\\N` = NULL); all or nothing."""
        from storage.history import HistoryError, import_history

        if not directory.is_dir():
            raise _fail(f"history directory not found: {directory}")
        try:
            with _engine(create=True) as engine, _progress("history import") as progress:
                rep = import_history(engine, directory, years=year or None, progress=progress)
                # The predictions posterior follows the history: fold new / changed races.
                from bot.predict.service import PredictCore

                upd = PredictCore(engine).fold_new_results()
        except HistoryError as exc:
            raise _fail(f"{exc} (nothing was imported)") from None
        parts = ", ".join(f"{k} {v}" for k, v in rep.rows.items())
        typer.echo(f"imported {rep.total_rows} rows in {rep.elapsed_s:.1f} s: {parts}")
        typer.echo(f"predictions: {upd.races_folded} race(s) folded in {upd.seconds:.2f} s"
                   + (" (full refit)" if upd.refit else ""))

    app.add_typer(history, name="history")

    db = typer.Typer(help="The store: schema migrations, statistics.", no_args_is_help=True)

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Create the store, or upgrade its schema to this release's (idempotent)."""
        from bot.settings import Settings
        from slipstream.wiring import opened
        from storage.migrate import status

        settings = Settings()
        # Opening the store upgrades it (a pre-migration store is adopted first).
        with opened(settings, create_store=True) as app:
            typer.echo(f"schema {status(app.engine).describe()}: {_shown(settings.database_url)}")

    @db.command("init", hidden=True)
    def db_init() -> None:
        """Same as `db upgrade` (kept for scripts written before migrations)."""
        db_upgrade()

    @db.command("current")
    def db_current() -> None:
        """The store's schema revision, and whether it is this release's head (exit 1 if not)."""
        from bot.settings import Settings
        from slipstream.wiring import opened
        from storage.migrate import status

        with opened(Settings(), create_store=False, init_schema=False) as app:
            st = status(app.engine)
        typer.echo(st.describe())
        if not st.is_head:
            raise typer.Exit(1)

    @db.command("stats")
    def db_stats() -> None:
        """Row counts per table and freshness per season."""
        from rich.console import Console
        from rich.table import Table

        from storage.stats import season_stats, table_counts

        with _engine(create=False) as engine:
            counts_by_table, by_season = table_counts(engine), season_stats(engine)
        console = Console()
        counts = Table(title="Rows")
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for name, n in counts_by_table.items():
            counts.add_row(name, str(n))
        console.print(counts)
        seasons = Table(title="Seasons")
        for col in ("year", "events", "sessions ingested", "sessions failed", "results", "laps",
                    "last FastF1 ingest (UTC)", "last history import (UTC)"):
            seasons.add_column(col)
        for s in by_season:
            seasons.add_row(
                str(s.year), str(s.events), str(s.sessions_ingested), str(s.sessions_failed),
                str(s.results), str(s.laps),
                s.last_ingested_at.strftime("%Y-%m-%d %H:%M") if s.last_ingested_at else "-",
                s.last_history_at.strftime("%Y-%m-%d %H:%M") if s.last_history_at else "-",
            )
        console.print(seasons)

    app.add_typer(db, name="db")
