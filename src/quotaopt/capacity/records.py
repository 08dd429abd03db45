"""summary.json's ``capacity`` section (how capacities were made), and a trained model's metadata.

The capacity stage returns it beside the capacities (:func:`quotaopt.planning.estimate_capacity`),
and :class:`quotaopt.planning.Summary` holds it as it is.

Examples
--------
>>> CapacitySummary(model="given", market_growth=0.0).record()
{'model': 'given', 'market_growth': 0.0}
"""

from __future__ import annotations

from quotaopt.records import Number, Record

__all__ = ["CapacitySummary", "LevelRecord", "ModelMetadata", "ModelSummary"]


class LevelRecord(Record):
    """The company-level forecast: candidates, their weights, the combined growth and its error sd."""

    year: int
    growth: float
    error_sd: float
    candidates: dict[str, float]
    weights: dict[str, float]
    #: Prior odds a candidate held against each other one before its record was read (the freshest
    #: growth's momentum prior; absent in summaries written before it).
    prior_odds: dict[str, float] | None = None
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


class ModelSummary(Record):
    """What a fitted model weighed (:meth:`quotaopt.capacity.CapacityModel.summary`)."""

    training_years: list[int] | None = None
    validation_years: list[int] | None = None
    change_weights: dict[str, float] | None = None
    level: LevelRecord | None = None
    #: Held-out WAPE of each candidate per year (``year``, ``n``, ``wape_<candidate>``).
    validation: list[dict[str, Number | None]] | None = None


class ModelMetadata(Record):
    """A trained model folder's ``metadata.json``: what it was trained on and how it scored.

    :func:`quotaopt.capacity.train_model` sets what training knows; :func:`quotaopt.io.save_model`
    adds what the saved file is (format, hash, features, quantiles, parameters). Every key is
    optional, so a folder written by hand with only the hash and the format still loads.

    Examples
    --------
    >>> ModelMetadata(plan_year=2027, scenario="s").record()
    {'plan_year': 2027, 'scenario': 's'}
    """

    plan_year: int | None = None
    scenario: str | None = None
    #: File name -> SHA-256 of the company's files the model was trained on.
    data_files: dict[str, str] | None = None
    #: ``data/<file>`` and ``scenario/<file>`` -> SHA-256.
    inputs: dict[str, str] | None = None
    history_months_short: int | None = None
    #: The model's own rolling-origin record (its validation rows).
    backtest: list[dict[str, Number | None]] | None = None
    model: ModelSummary | None = None
    format_version: int | None = None
    model_file: str | None = None
    model_sha256: str | None = None
    features: list[str] | None = None
    quantiles: list[float] | None = None
    candidates: list[str] | None = None
    training_years: list[int] | None = None
    #: The estimator's plain parameters (numbers, text, flags).
    params: dict[str, bool | int | float | str | None] | None = None
