"""Monotone recalibration of the Monte Carlo's P(win) and P(podium) (pure).

Why: the simulated probabilities are slightly off in the middle of the range
(e.g. after qualifying, podium odds of 20–30% came true about 6 points more often
on the 1996–2013 validation backtest). A global temperature does not fix a
bin-local bias, so each stage (before / after qualifying) and each quantity (win,
podium) gets a piecewise-linear increasing map, learned by centred isotonic regression
(pool-adjacent-violators, pooled blocks centred) on the 1996–2013 walk-forward backtest only
(`bench/fit_calibration.py` prints the knots below; 2014–2025 stays out of sample).

The maps keep the field's totals: P(win) is rescaled to its simulated total (1),
P(podium) is shifted on the logit scale until it sums to its simulated total (3).
Each entrant's interval goes through the same per-race map, so it still holds its
estimate. P(points) is raised where needed to stay at least P(podium).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import brentq

from bot.predict.simulate import RaceSim

Knots = tuple[tuple[float, ...], tuple[float, ...]]  # (simulated probability, observed frequency)

# Learned on 1996–2013 with the current Params (bench/fit_calibration.py); do not refit on 2014+.
KNOTS: dict[tuple[str, str], Knots] = {
    ("pre_quali", "win"): (
        (0.0, 0.0046, 0.0328, 0.0721, 0.1219, 0.2103, 0.348, 0.4465, 0.5756, 1.0),
        (0.0, 0.0026, 0.0569, 0.0784, 0.1142, 0.2296, 0.2804, 0.3571, 0.5408, 1.0)),
    ("pre_quali", "podium"): (
        (0.0, 0.0072, 0.032, 0.0707, 0.1223, 0.1736, 0.2234, 0.2752, 0.3476, 0.4493, 0.5478, 0.6523, 0.7367,
         1.0),
        (0.0, 0.0064, 0.0281, 0.0699, 0.1378, 0.1851, 0.2788, 0.3105, 0.3746, 0.4393, 0.5469, 0.566, 0.6718,
         1.0)),
    ("after_quali", "win"): (
        (0.0, 0.0034, 0.0321, 0.0709, 0.1232, 0.1714, 0.2234, 0.2772, 0.354, 0.4545, 0.5468, 0.6444, 1.0),
        (0.0, 0.0024, 0.0312, 0.0734, 0.1183, 0.2034, 0.2421, 0.2632, 0.3933, 0.4898, 0.5056, 0.6167, 1.0)),
    ("after_quali", "podium"): (
        (0.0, 0.0066, 0.032, 0.0723, 0.1214, 0.1716, 0.2462, 0.349, 0.4493, 0.5542, 0.6499, 0.7428, 0.8142, 1.0),
        (0.0, 0.0045, 0.0306, 0.0741, 0.1055, 0.1286, 0.3063, 0.3755, 0.4525, 0.555, 0.5993, 0.786, 0.8286, 1.0)),
}
# Bins of simulated probability the isotonic fit pools over (a bin needs MIN_BIN cases).
EDGES = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
MIN_BIN = 30
_EPS = 1e-9


def _blocks(y: list[float], w: list[float], *, merge_ties: bool = False) -> list[list[float]]:
    """Pool-adjacent-violators blocks [value, weight, count] (ties merged too with `merge_ties`)."""
    blocks: list[list[float]] = []
    for v, wt in zip(y, w, strict=True):
        blocks.append([v, wt, 1])
        while len(blocks) > 1 and (blocks[-2][0] > blocks[-1][0]
                                   or (merge_ties and blocks[-2][0] == blocks[-1][0])):
            b, a = blocks.pop(), blocks.pop()
            tw = a[1] + b[1]
            blocks.append([(a[0] * a[1] + b[0] * b[1]) / tw, tw, a[2] + b[2]])
    return blocks


def _pava(y: list[float], w: list[float]) -> list[float]:
    """Pool-adjacent-violators: the weighted least-squares non-decreasing fit of `y`."""
    return [v for v, _, k in _blocks(y, w) for _ in range(int(k))]


def learn(p: np.ndarray, hit: np.ndarray) -> Knots:
    """Knots of a centred isotonic map: one knot per pooled block, at the block's mean simulated p.

    Plain isotonic regression is flat across a pooled block, which would give drivers with
    different simulated odds the same displayed odds; centring the pooled blocks (centred
    isotonic regression) keeps the map strictly increasing and still monotone-calibrated.
    """
    idx = np.searchsorted(EDGES, p, side="right") - 1
    xs, obs, ws = [], [], []
    for b in range(len(EDGES) - 1):
        m = idx == b
        if m.sum() >= MIN_BIN:
            xs.append(float(p[m].mean()))
            obs.append(float(hit[m].mean()))
            ws.append(float(m.sum()))
    kx, ky, i = [0.0], [0.0], 0
    for v, wt, k in _blocks(obs, ws, merge_ties=True):
        n = int(k)
        kx.append(round(float(np.dot(xs[i:i + n], ws[i:i + n]) / wt), 4))
        ky.append(round(v, 4))
        i += n
    return (*kx, 1.0), (*ky, 1.0)


def _logit(q: np.ndarray) -> np.ndarray:
    q = np.clip(q, _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def recalibrate(sim: RaceSim, stage: str) -> RaceSim:
    """`sim` with its win and podium probabilities (and intervals) mapped; totals unchanged."""
    kx, ky = KNOTS[(stage, "win")]
    w = np.interp(sim.p_win, kx, ky)
    factor = float(sim.p_win.sum()) / max(float(w.sum()), _EPS)
    p_win = w * factor
    p_win_q = np.interp(sim.p_win_q, kx, ky) * factor

    kx, ky = KNOTS[(stage, "podium")]
    z = _logit(np.interp(sim.p_podium, kx, ky))
    target = float(sim.p_podium.sum())
    if 0 < target < len(z):
        # The logit shift that restores the simulated total (3 when at least three cars run).
        c = brentq(lambda s: float(_sigmoid(z + s).sum()) - target, -40.0, 40.0, xtol=1e-14)
    else:
        c = 0.0  # hazard: a degenerate field (all or none on the podium) has no finite shift
    p_pod = _sigmoid(z + c) if 0 < target < len(z) else sim.p_podium
    p_pod_q = _sigmoid(_logit(np.interp(sim.p_podium_q, kx, ky)) + c) if 0 < target < len(z) else sim.p_podium_q
    p_pts = np.maximum(sim.p_points, p_pod)
    p_pts_q = np.stack([sim.p_points_q[0], np.maximum(sim.p_points_q[1], p_pts)])
    return dataclasses.replace(sim, p_win=p_win, p_win_q=p_win_q, p_podium=p_pod, p_podium_q=p_pod_q,
                               p_points=p_pts, p_points_q=p_pts_q)
