"""`slipstream predict race|title|backtest|refit`: the predictions model from the command line.

JSON output is for checking the model (`--json`); the text output is for people.
A forecast the model cannot make ends with its one-line reason and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer


@contextmanager
def _core() -> Iterator[Any]:
    from bot.predict.service import PredictCore
    from bot.settings import Settings
    from slipstream.wiring import opened

    with opened(Settings(), create_store=False) as app:
        yield PredictCore(app.engine)


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(1)


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}%"


def race_json(fc: Any) -> dict[str, Any]:
    return {"year": fc.year, "round": fc.round, "stage": fc.stage,
            "drivers": [{"code": d.code, "p_win": round(d.p_win, 4), "p_podium": round(d.p_podium, 4),
                         "p_points": round(d.p_points, 4), "expected_position": round(d.expected_position, 2)}
                        for d in fc.drivers]}


def _print_summary(summary: dict[str, Any]) -> None:
    for season, stages in summary.items():
        for stage, methods in stages.items():
            line = " · ".join(f"{m}: log loss {s['logloss_winner']:.3f}, Brier top-3 {s['brier_top3']:.4f}"
                              for m, s in methods.items())
            typer.echo(f"{season} {stage:11} ({methods['model']['races']} races) {line}")
    for stage, methods in summary.get("all", {}).items():
        typer.echo(f"\ncalibration, {stage} (P(win) and P(podium) pooled): bin · n · predicted · observed")
        for c in methods["model"]["calibration"]:
            typer.echo(f"  {c['bin']:>9} {c['n']:6d} {_pct(c['predicted'])} {_pct(c['observed'])}")


def register(app: typer.Typer) -> None:
    predict = typer.Typer(help="Race and championship forecasts (Bayesian ratings + Monte Carlo).",
                          no_args_is_help=True)

    @predict.command("race")
    def race_cmd(
        year: Annotated[int, typer.Option("--year", "-y")],
        round_: Annotated[int, typer.Option("--round", "-r")],
        after_quali: Annotated[bool, typer.Option("--after-quali", help="Use the stored grid.")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Forecast one race (before qualifying unless --after-quali)."""
        from bot.predict.types import PredictUnavailable

        with _core() as core:
            try:
                fc = core.race(year, round_, after_quali=after_quali)
            except PredictUnavailable as exc:
                raise _fail(exc.message) from None
        if as_json:
            typer.echo(json.dumps(race_json(fc)))
            return
        typer.echo(f"{fc.year} round {fc.round} {fc.event_name} · {fc.stage} · ratings through "
                   f"{fc.data_through} · fitted {fc.updated_at:%Y-%m-%d %H:%M} UTC · {fc.runs} runs")
        typer.echo(fc.drivers_note)
        typer.echo(" code  team              win (80%)            podium   points   exp. pos (80%)")
        for d in fc.drivers:
            typer.echo(f" {d.code:4}  {d.team[:16]:16} {_pct(d.p_win)} ({_pct(d.p_win_interval[0])}-"
                       f"{_pct(d.p_win_interval[1])}) {_pct(d.p_podium)} {_pct(d.p_points)}   "
                       f"{d.expected_position:5.1f} ({d.position_interval[0]}-{d.position_interval[1]})")

    @predict.command("title")
    def title_cmd(
        year: Annotated[int, typer.Option("--year", "-y")],
        after_round: Annotated[int | None, typer.Option("--after-round")] = None,
        constructors: Annotated[bool, typer.Option("--constructors")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Championship odds after a round (default: the last round with results)."""
        from bot.predict.types import PredictUnavailable

        with _core() as core:
            try:
                t = core.title(year, after_round=after_round, kind="constructors" if constructors else "drivers")
            except PredictUnavailable as exc:
                raise _fail(exc.message) from None
        if as_json:
            typer.echo(json.dumps({"year": t.year, "after_round": t.after_round, "kind": t.kind,
                                   "decided": t.decided, "champion": t.champion, "rounds_left": t.rounds_left,
                                   "entries": [{"key": e.key, "points": e.points, "p_title": round(e.p_title, 4),
                                                "can_win": e.can_win, "max_points": e.max_points}
                                               for e in t.entries]}))
            return
        typer.echo(f"{t.year} {t.kind} after round {t.after_round} · {t.rounds_left} rounds left "
                   f"({t.sprints_left} sprints) · {'decided: ' + str(t.champion) if t.decided else 'open'}")
        for e in t.entries:
            if e.p_title > 0 or e.can_win:
                typer.echo(f" {e.key:10} {e.points:6.1f} pts  {_pct(e.p_title)} ({_pct(e.p_title_interval[0])}-"
                           f"{_pct(e.p_title_interval[1])})  max {e.max_points:.0f}")

    @predict.command("backtest")
    def backtest_cmd(
        start: Annotated[int, typer.Option("--from")],
        end: Annotated[int, typer.Option("--to")],
        after_quali: Annotated[bool, typer.Option("--after-quali", help="Per-race lines with the grid.")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Walk-forward: every race forecast only from the races before it, scored with two baselines."""
        from bot.predict import backtest as bt
        from storage.predict_store import race_history

        with _core() as core:
            history = race_history(core.engine)
            stage = "after_quali" if after_quali else "pre_quali"
            result = bt.Backtest()
            for obj in bt.run(history, core.params, result, start=start, end=end, seed=core.seed):
                if as_json and stage in obj:
                    sys.stdout.write(json.dumps({"year": obj["year"], "round": obj["round"], "stage": stage,
                                                 "drivers": obj[stage]}) + "\n")
        if not result.seasons:
            raise _fail(f"no races with results between {start} and {end}")
        summary = bt.summary(result)
        if as_json:
            sys.stdout.write(json.dumps({"summary": summary}) + "\n")
        else:
            _print_summary(summary)

    @predict.command("refit")
    def refit_cmd() -> None:
        """Rebuild the stored posterior from the whole history."""
        with _core() as core:
            rep = core.refit()
        typer.echo(f"refit: {rep.races_folded} races in {rep.seconds:.2f} s, through {rep.data_through}, "
                   f"version {rep.version}")

    app.add_typer(predict, name="predict")
