"""Capacity: what each rep can be expected to book in a plan year, with honest P10/P50/P90.

``capacity = exposure x company level x the rep's own anchor x the change from it``,
each part chosen on the company's own history (see :mod:`quotaopt.capacity._model`).

Public API:

- :class:`CapacityModel`, :func:`fit_capacity`, :func:`predict_capacity`,
  :func:`estimate_capacity` (both on one reading of the data) -- train and apply;
- :func:`train_model`, :class:`TrainedModel` -- what ``quotaopt train`` saves (:mod:`quotaopt.io` writes it);
- :func:`given_capacity` -- capacities set by hand (capacity.csv);
- :func:`backtest`, :func:`calibration`, :func:`table_records` -- score the model on past years
  (WAPE: :func:`quotaopt.metrics.wape`);
- :func:`capacity_calendar`, :func:`carry_forward` -- plan before the year closes;
- :func:`observed_years`, :func:`training_years`, :func:`too_little_history` -- the calendar it learns on.
"""

from quotaopt.capacity._backtest import (
    backtest,
    baselines,
    bias,
    calibration,
    mdape,
    table_records,
)
from quotaopt.capacity._calendar import observed_years, too_little_history, training_years
from quotaopt.capacity._estimate import (
    FLOOR_SHARE,
    GIVEN_SIGMA,
    capacity_column,
    estimate_capacity,
    fit_capacity,
    given_capacity,
    predict_capacity,
)
from quotaopt.capacity._model import CANDIDATES, CapacityModel
from quotaopt.capacity._rolling import capacity_calendar, carry_forward, months_short
from quotaopt.capacity._train import TrainedModel, train_model

__all__ = [
    "CANDIDATES", "FLOOR_SHARE", "GIVEN_SIGMA", "CapacityModel", "TrainedModel", "backtest", "baselines", "bias", "calibration",
    "capacity_calendar", "capacity_column", "carry_forward", "estimate_capacity", "fit_capacity", "given_capacity", "mdape",
    "months_short", "observed_years", "predict_capacity", "table_records", "too_little_history", "train_model",
    "training_years",
]
