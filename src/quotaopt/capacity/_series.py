"""The per-series statistical candidate: exponential smoothing of each rep's own rates.

Each rep's history in index units (their yearly rate divided by the company level, see
:mod:`quotaopt.capacity._features`) is one short series; statsforecast's
``SimpleExponentialSmoothingOptimized`` fits a smoothing weight per series and forecasts
the next year. With the level taken out, a smoothed rate sits between "same as last
year" and the rep's own average, whichever the rep's record favours. Series of one year
are their own forecast; statsforecast falls back to the last value where it declines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from quotaopt.capacity._features import MIN_SHARE
from quotaopt.capacity._level import ChainIndex
from quotaopt.capacity._panel import RepPanel

#: Most past years each series holds.
SERIES_YEARS = 6


def smoothed_rates(panel: RepPanel, index: ChainIndex, rows: np.ndarray, year: int) -> np.ndarray:
    """Exponentially smoothed index-unit rate of each of ``rows`` for ``year`` (NaN without history)."""
    years = [int(y) for y in panel.years if year - SERIES_YEARS <= y < year]
    out = np.full(len(rows), np.nan)
    if not years:
        return out
    values = np.full((len(rows), len(years)), np.nan)
    for k, y in enumerate(years):
        j = panel.col(y)
        assert j is not None
        share = panel.share(y)[rows]
        rate = panel.total[rows, j] / np.maximum(share, MIN_SHARE) / panel.fte[rows] / index.level(y)
        values[:, k] = np.where(share > 0, rate, np.nan)
    count = np.isfinite(values).sum(axis=1)
    last = np.array([v[np.isfinite(v)][-1] if n else np.nan for v, n in zip(values, count, strict=True)])
    out[count == 1] = last[count == 1]
    many = np.flatnonzero(count >= 2)
    if len(many) == 0:
        return out
    from statsforecast import StatsForecast
    from statsforecast.models import Naive, SimpleExponentialSmoothingOptimized

    sub = values[many]
    rep, step = np.nonzero(np.isfinite(sub))
    frame = pd.DataFrame({"unique_id": rep.astype("int64"), "ds": step.astype("int64") + 1,
                          "y": sub[rep, step].astype("float64")})
    model = StatsForecast(models=[SimpleExponentialSmoothingOptimized()], freq=1, n_jobs=1, fallback_model=Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecast = model.forecast(df=frame, h=1)
    column = [c for c in forecast.columns if c not in ("unique_id", "ds")][0]
    got = forecast.set_index("unique_id")[column].reindex(np.arange(len(many))).to_numpy(dtype="float64")
    out[many] = np.where(np.isfinite(got), got, last[many])
    return out

