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
        "Retirements happen as they did; nothing else goes wrong (no new crashes or damage).",
        _penalties(m),
        "Other cars keep their real strategies: nobody reacts to the changed decision.",
    ]
    weather = m.dry_lap_offset_s
    if weather is not None and weather.any():
        laps = [i + 1 for i in range(len(weather)) if weather[i]]
        lines.append(f"Rain on slicks from lap {laps[0]} replayed as it happened (up to "
                     f"{float(weather.max()):.0f} s a lap on dry tyres); where the field was on "
                     "wet tyres, slicks are taken as quick as them (no data).")
    if m.is_wet:
        lines.append("Wet race: wet tyres' pace follows a straight line through the wet laps; "
                     "treat the figures as rough.")
    lines += [f"Note: {n}." for n in m.notes]
    return lines


def _penalties(m: RaceModel) -> str:
    if not m.penalties:
        return "No penalties were given in the race."
    told = ", ".join(
        f"{p.code} {p.seconds:.0f} s (lap {p.lap})" if p.kind == "time"
        else f"{p.code} {'drive-through' if p.kind == 'drive_through' else 'stop/go'} (lap {p.lap})"
        for p in m.penalties)
    return ("Penalties as the stewards gave them: " + told + "; a time penalty is served at the "
            "car's next stop, else added to its race time.")
