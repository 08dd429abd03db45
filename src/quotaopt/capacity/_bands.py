"""Honest P10/P50/P90: the held-out errors of the very forecast, widened by the level's error.

Every validation row was predicted by a model that never saw it (an earlier origin, or
another fold), with the company level as it happened, so its residual is the rep
part's honest error. Residuals are taken on ``asinh(y / s)`` with ``s`` a tenth of the
row's base (its anchor in money): logarithmic for typical amounts, linear near zero, and
defined for credit notes. A small boosted model of the residuals' size (from the same
features: tenure, share of the year, history, anchor source...) makes bands wide for new
hires and short histories and narrow for steady reps; with fewer than
:data:`MIN_SPREAD_ROWS` rows the size is the median per anchor source instead. The
normalised residuals' quantiles give the band's shape (at levels widened by ``1 + 1/n``
for small samples). The company level's own forecast error (log, sd from its rolling
origin, :mod:`quotaopt.capacity._level`) is added in quadrature, since it moves every rep
of a year together. The P50 is the point forecast itself.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from scipy.stats import norm
from sklearn.ensemble import HistGradientBoostingRegressor

#: The residual scale as a share of a row's base.
BAND_SCALE = 0.1
#: Fewest validation rows for a learned residual size.
MIN_SPREAD_ROWS = 300
#: Levels at which the normalised residual quantiles are kept (any level can be asked later).
GRID = np.round(np.linspace(0.005, 0.995, 199), 6)


def asinh_residual(actual: np.ndarray, predicted: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``asinh(actual / scale) - asinh(predicted / scale)``."""
    return cast("np.ndarray", np.arcsinh(actual / scale) - np.arcsinh(predicted / scale))


class Bands:
    """Fitted residual model: size per row and the normalised shape.

    Attributes
    ----------
    spread_ : HistGradientBoostingRegressor or None
    group_spread_ : dict
        Residual size per anchor source (used without a spread model).
    floor_ : float
    shape_ : ndarray
        Normalised residual quantiles on :data:`GRID`, centred on their median.
    n_ : int
    """

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, X: np.ndarray, source: np.ndarray, residual: np.ndarray) -> Bands:
        size = np.abs(residual)
        self.n_ = len(residual)
        self.floor_ = max(float(np.quantile(size, 0.05)) if len(size) else 0.0, 1e-3)
        self.group_spread_ = {float(s): float(np.median(size[source == s])) for s in np.unique(source)}
        overall = float(np.median(size)) if len(size) else 0.1
        self.overall_ = max(overall, self.floor_)
        self.spread_: Any = None
        if self.n_ >= MIN_SPREAD_ROWS:
            self.spread_ = HistGradientBoostingRegressor(
                loss="squared_error", max_iter=60, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=50,
                l2_regularization=1.0, early_stopping=False, random_state=self.random_state).fit(X, size)
        scale = self.size(X, source)
        normalised = residual / scale
        widen = 1.0 + 1.0 / max(self.n_, 1)
        levels = np.clip(0.5 + (GRID - 0.5) * widen, 0.0, 1.0)
        q = np.quantile(normalised, levels) if len(normalised) else norm.ppf(GRID) * 0.1
        self.shape_ = q - np.interp(0.5, GRID, q)
        return self

    def size(self, X: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Expected residual size of each row (floored)."""
        if self.spread_ is not None:
            s = self.spread_.predict(X)
        else:
            s = np.array([self.group_spread_.get(float(v), self.overall_) for v in source])
        return cast("np.ndarray", np.maximum(s, self.floor_))

    def quantiles(self, X: np.ndarray, source: np.ndarray, point: np.ndarray, base: np.ndarray, levels: np.ndarray,
                  level_sd: float) -> np.ndarray:
        """Quantiles (columns ``levels``) of bookings around ``point`` (money), non-decreasing per row."""
        scale = BAND_SCALE * np.maximum(np.abs(base), 1e-9)
        center = np.arcsinh(point / scale)
        size = self.size(X, source)
        shape = np.interp(levels, GRID, self.shape_)
        level_part = level_sd * norm.ppf(levels)
        rep_part = size[:, None] * shape[None, :]
        offset = np.sign(levels - 0.5)[None, :] * np.sqrt(rep_part**2 + level_part[None, :] ** 2)
        out = scale[:, None] * np.sinh(center[:, None] + offset)
        return np.maximum.accumulate(out, axis=1)
