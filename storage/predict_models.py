"""Tables of the predictions model (issue 17): the stored posterior and what it folded.

The posterior is one versioned blob (zlib-compressed JSON of the filter state,
written by `bot.predict`); `predict_race` keeps one row per race folded in with
the content hash of its results (race + qualifying + sprint rows), so an update
finds new and changed races without refitting. Times are epoch seconds (floats).
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel


class PredictPosterior(SQLModel, table=True):
    """One fitted state of the ratings; the highest version is the current one."""

    __tablename__ = "predict_posterior"

    version: int = Field(primary_key=True)
    fitted_at: float  # epoch seconds of the fit / update that wrote it
    through_year: int | None = None  # last race folded in (None = empty history)
    through_round: int | None = None
    races: int = 0  # races folded in
    blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PredictRace(SQLModel, table=True):
    """A race folded into the posterior, with the hash of the rows it was folded from."""

    __tablename__ = "predict_race"

    year: int = Field(primary_key=True)
    round: int = Field(primary_key=True)
    content_hash: str = Field(max_length=64)
    version: int  # posterior version that first included this content
