"""The race model's assumptions, one line each (the "explain" answer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.lab.types import RaceModel


def assumptions(m: RaceModel) -> list[str]:
    """What the simulation takes as given, with the fitted numbers."""
    deg = ", ".join(f"{c.lower()} {s:.3f} ± {sd:.3f} s/lap"
                    for c, s, sd in zip(m.compounds, m.deg_linear_s, m.deg_sd_s, strict=True))
    lines = [
        f"Lap time = driver pace + fuel ({m.fuel_per_lap_s:.3f} s quicker per lap as fuel burns) "
        "+ tyre compound + tyre age + random noise.",
        f"Tyre degradation is linear in tyre age: {deg}.",
        "Fitted on green-flag laps only (no lap 1, pit in/out laps, SC/VSC/red laps or the lap "
        "after), traffic laps down-weighted (Huber).",
        f"A pit stop costs {m.pit_loss_green_s:.1f} s ± {m.pit_loss_sd_s:.1f} s at racing speed, "
        f"{m.pit_loss_sc_s:.1f} s under a safety car, {m.pit_loss_vsc_s:.1f} s under a VSC; "
        "new tyres are assumed fresh.",
        f"To pass, a car needs to be {m.pass_threshold_s:.1f} s a lap quicker "
        f"({m.pass_threshold_s - m.drs_gain_s:.1f} s with DRS within 1 s), plus 0.5 s in dirty "
        "air; otherwise it is held up.",
        f"The first lap reshuffles the grid by about {m.start_sd_positions:.1f} places (spread).",
        "Safety cars, VSCs and red flags happen as they did in the race (what-if); the strategy "
        f"search draws them: {m.sc_prob_per_lap * m.total_laps:.2f} SC and "
        f"{m.vsc_prob_per_lap * m.total_laps:.2f} VSC per race at this circuit (history, shrunk "
        "to the all-circuit rate).",
        "Retirements happen as they did; nothing else goes wrong (no new crashes, no penalties).",
        "Other cars keep their real strategies: nobody reacts to the changed decision.",
    ]
    if m.is_wet:
        lines.append("Wet race: changing conditions are not modelled; treat the figures as rough.")
    lines += [f"Note: {n}." for n in m.notes]
    return lines
