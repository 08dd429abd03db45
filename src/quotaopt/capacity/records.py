"""summary.json's ``capacity`` section: how capacities were made (the model and what it weighed).

The capacity stage returns it beside the capacities (:func:`quotaopt.planning.estimate_capacity`),
and :class:`quotaopt.planning.Summary` holds it as it is.

Examples
--------
>>> CapacitySummary(model="given", market_growth=0.0).record()
{'model': 'given', 'market_growth': 0.0}
"""

from __future__ import annotations

from quotaopt.records import Number, Record

__all__ = ["CapacitySummary", "LevelRecord"]


class LevelRecord(Record):
    """The company-level forecast: candidates, their weights, the combined growth and its error sd."""

    year: int
    growth: float
    error_sd: float
    candidates: dict[str, float]
    weights: dict[str, float]
    origins: list[int]


class CapacitySummary(Record):
    """How capacities were made (the model and what it weighed), or the re-plan's posterior."""

    model: str
    model_sha256: str | None = None
    training_years: list[int] | None = None
    validation_years: list[int] | None = None
    #: Weight of each candidate for a rep's change from their own last year.
    change_weights: dict[str, float] | None = None
    level: LevelRecord | None = None
    #: Held-out WAPE of each candidate per year (``year``, ``n``, ``wape_<candidate>``).
    validation: list[dict[str, Number]] | None = None
    market_growth: Number | None = None
    total_p50: Number | None = None
    history_months_short: int | None = None
    rescored_on_new_books: bool | None = None
    as_of: str | None = None
    actual_to_date: Number | None = None
