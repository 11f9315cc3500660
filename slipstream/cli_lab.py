"""`slipstream lab backtest`: the Race Lab's evidence on every stored race with laps."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

# Targets of issue 16 (printed next to the figures).
TARGET_SPEARMAN = 0.85
TARGET_WINNER_SHARE = 0.8
TARGET_TIME_ERROR = 0.005


@contextmanager
def _engine(db: str | None) -> Iterator[Any]:
    """`--db URL` when given, else the configured store (it must exist)."""
    if db:
        from storage.db import make_engine

        engine = make_engine(db)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    from bot.settings import Settings
    from slipstream.wiring import opened

    with opened(Settings(), create_store=False) as app:
        yield app.engine


def run_backtest(
    engine: Any, *, runs: int, seed: int, as_json: bool, out: Any = None
) -> dict[str, Any]:
    """Replay every stored race with laps; print per race, then the summary. Returns the figures."""
    out = out or sys.stdout  # looked up now: a test runner swaps sys.stdout
    import numpy as np

    from bot.lab import CircuitParams, fit_race_model, simulate
    from bot.lab.backtest import (
        EXTRAS,
        battle_cases,
        brier,
        calibration,
        fit_calibration,
        leave_one_race_out,
        replay,
    )
    from bot.lab.battle import CALIBRATION
    from storage import pulse_store
    from storage.chart_data import races_with_laps
    from storage.lab_data import NoLapData, race_data

    scores = []
    cases = []
    for ev in sorted(races_with_laps(engine, limit=1000), key=lambda e: (e.year, e.round)):
        try:
            data = race_data(engine, ev.year, ev.round)
        except NoLapData:
            continue
        model = fit_race_model(data)
        sim = simulate(model, runs=runs, seed=seed)
        score = replay(model, sim)
        scores.append(score)
        if as_json:
            out.write(json.dumps(score.as_json()) + "\n")
        else:
            err = "n/a" if score.winner_time_error is None else f"{score.winner_time_error:+.2%}"
            out.write(f"\n{ev.year} R{ev.round:02d} {ev.name}: Spearman {score.spearman:.3f}, "
                      f"winner {score.winner}, most likely winner {score.most_likely_winner}, "
                      f"winner time error {err}\n")
            out.write("  code  official  sim mean  P(win)\n")
            for d in score.drivers:
                pos = d["official_position"] if d["official_position"] is not None else "-"
                out.write(f"  {d['code']:<4}  {pos!s:>8}  {d['sim_mean_position']:>8.2f}  "
                          f"{float(d['p_win']):>6.1%}\n")  # type: ignore[arg-type]
        # Battle forecasts with pre-race knowledge only: circuit passing difficulty from
        # history and earlier stored races' passes, default tyre and fuel figures (the live
        # detector has no full-race fit); the race's own passes up to each battle's lap.
        params = CircuitParams(pass_threshold_s=model.pass_threshold_s, drs_gain_s=model.drs_gain_s,
                               pass_rate=model.circuit_params().pass_rate)
        sid = pulse_store.find_session(engine, ev.year, ev.round, "R")
        feed = pulse_store.load_feed(engine, sid)
        cases.extend(battle_cases(data, feed, params))

    rhos = [s.spearman for s in scores]
    hits = sum(s.winner == s.most_likely_winner for s in scores)
    errs = [abs(s.winner_time_error) for s in scores if s.winner_time_error is not None]
    p = np.array([c.p_pass_5 for c in cases])
    y = np.array([float(c.passed) for c in cases])
    base = float(y.mean()) if len(y) else float("nan")
    p_cv, base_cv, _, chosen = leave_one_race_out(cases) if cases else (p, p, y, [])
    # The simulation alone (before calibration), at the shipped dirty-air extra.
    k_ship = EXTRAS.index(CircuitParams().battle_extra_s)
    p_sim = np.array([c.p_by_extra[k_ship] for c in cases])
    refit = (fit_calibration(p_sim, np.array([c.pass_rate for c in cases]), y)
             if cases else (float("nan"),) * 3)
    ten = [c for c in cases if c.passed_10 is not None]
    p10 = np.array([c.p_pass_10 for c in ten])
    y10 = np.array([float(bool(c.passed_10)) for c in ten])
    figures = {
        "races": len(scores), "median_spearman": statistics.median(rhos) if rhos else None,
        "winner_most_likely": hits,
        "winner_time_within_0_5pct": sum(e <= TARGET_TIME_ERROR for e in errs),
        "median_winner_time_error": statistics.median(errs) if errs else None,
        "battles": len(cases), "passes_within_5": int(y.sum()),
        "brier_forecast": brier(p, y), "brier_base_rate": brier(np.full(len(y), base), y),
        "base_rate": base, "calibration": calibration(p, y),
        "brier_forecast_cv": brier(p_cv, y), "brier_base_rate_cv": brier(base_cv, y),
        "calibration_cv": calibration(p_cv, y), "extra_chosen_cv": chosen,
        "brier_simulation_uncalibrated": brier(p_sim, y),
        "calibration_shipped": list(CALIBRATION), "calibration_refit_all": list(refit),
        "battles_10": len(ten), "passes_within_10": int(y10.sum()),
        "brier_forecast_10": brier(p10, y10),
        "brier_base_rate_10": brier(np.full(len(y10), y10.mean() if len(y10) else 0.0), y10),
        "calibration_10": calibration(p10, y10),
    }
    if as_json:
        return figures
    out.write("\nSummary\n")
    out.write(f"  races: {len(scores)}; median Spearman {figures['median_spearman']:.3f} "
              f"(target >= {TARGET_SPEARMAN})\n")
    out.write(f"  winner the most likely winner: {hits} of {len(scores)} "
              f"(target >= {TARGET_WINNER_SHARE:.0%})\n")
    within = figures["winner_time_within_0_5pct"]
    out.write(f"  winner's race time within 0.5%: {within} of {len(errs)}; "
              f"median |error| {figures['median_winner_time_error']:.2%}\n")
    out.write(f"\nBattle forecast: {len(cases)} battles, {int(y.sum())} passed within {5} laps\n")
    out.write(f"  Brier score: forecast {figures['brier_forecast']:.4f} vs base rate "
              f"({base:.1%}) {figures['brier_base_rate']:.4f} (lower is better)\n")
    out.write(f"  (the simulation before calibration: {figures['brier_simulation_uncalibrated']:.4f}; "
              f"calibration shipped {', '.join(f'{v:+.2f}' for v in CALIBRATION)}, refit on "
              f"these battles {', '.join(f'{v:+.2f}' for v in refit)})\n")
    out.write("  P(pass in 5)   cases  mean forecast  observed\n")
    for label, k, mp, obs in figures["calibration"]:
        out.write(f"  {label:<13} {k:>6}  {mp:>13.1%}  {obs:>8.1%}\n")
    out.write("  Leave one race out (each race's battles scored with the dirty-air extra, the "
              "calibration and the base rate chosen and fitted on the other races):\n")
    out.write(f"  Brier score: forecast {figures['brier_forecast_cv']:.4f} vs base rate "
              f"{figures['brier_base_rate_cv']:.4f}; extra threshold chosen per fold: "
              f"{', '.join(f'{x:.1f}' for x in chosen)} s\n")
    out.write("  P(pass in 5)   cases  mean forecast  observed\n")
    for label, k, mp, obs in figures["calibration_cv"]:
        out.write(f"  {label:<13} {k:>6}  {mp:>13.1%}  {obs:>8.1%}\n")
    out.write(f"  Within 10 laps (battles with no stop or retirement in the next 10 laps: {len(ten)}, "
              f"{int(y10.sum())} passed), in sample, calibration fitted on the 5-lap outcomes: Brier "
              f"{figures['brier_forecast_10']:.4f} vs base rate {figures['brier_base_rate_10']:.4f}\n")
    out.write("  P(pass in 10)  cases  mean forecast  observed\n")
    for label, k, mp, obs in figures["calibration_10"]:
        out.write(f"  {label:<13} {k:>6}  {mp:>13.1%}  {obs:>8.1%}\n")
    return figures


def register(app: typer.Typer) -> None:
    lab = typer.Typer(help="Race Lab: race model, simulation, what-if and battle forecast.",
                      no_args_is_help=True)

    @lab.command("backtest")
    def backtest(
        as_json: bool = typer.Option(False, "--json", help="One JSON object per race."),
        runs: int = typer.Option(1000, help="Monte Carlo runs per race."),
        seed: int = typer.Option(1, help="Random seed (same seed, same figures)."),
        db: str = typer.Option("", help="Store URL (default: the configured store)."),
    ) -> None:
        """Replay every stored race with laps: the actual strategies vs the official result,
        and every Track Pulse battle's forecast vs what happened."""
        t = time.perf_counter()
        with _engine(db or None) as engine:
            run_backtest(engine, runs=runs, seed=seed, as_json=as_json)
        if not as_json:
            typer.echo(f"\n({time.perf_counter() - t:.1f} s)")

    app.add_typer(lab, name="lab")
