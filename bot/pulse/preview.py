"""The `preview` highlight: a pre-race forecast (favourites with their chances), pure.

Built from the predictor's `RaceForecast` by the pipeline after qualifying
(`bot.pulse.pipeline.post_preview`); stored once per race on the grand prix session.
"""

from __future__ import annotations

from bot.forecast_format import STAGE_WORDS, chance, through
from bot.predict.types import RaceForecast
from storage.pulse_types import Priority, PulseHighlight

PREVIEW_KEY = "preview"  # one per race: the store keeps a key once per session
FAVOURITES = 5


def preview_highlight(fc: RaceForecast) -> PulseHighlight:
    """Favourites by chance to win, each with its 80% interval, and what drives the forecast."""
    top = fc.drivers[:FAVOURITES]
    return PulseHighlight(
        key=PREVIEW_KEY, kind="preview", lap=0, priority=Priority.HIGH,
        drivers=tuple(d.code for d in top[:3]),
        facts={
            "year": fc.year, "round": fc.round, "event": fc.event_name, "stage": fc.stage,
            "stage_words": STAGE_WORDS.get(fc.stage, fc.stage),
            "favourites": [{"driver": d.code, "p_win": round(d.p_win, 4),
                            "p_win_interval": [round(x, 4) for x in d.p_win_interval],
                            "p_podium": round(d.p_podium, 4)} for d in top],
            "line": ", ".join(f"{d.code} {chance(d.p_win, d.p_win_interval)}" for d in top),
            "note": fc.drivers_note, "data_through": through(fc.data_through),
            "updated_at": fc.updated_at.isoformat(), "runs": fc.runs,
        },
    )
