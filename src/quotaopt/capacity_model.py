"""CapacityModel: predictive quantiles of a rep's bookings in a year (a scikit-learn regressor).

It works on a transformed target so one model serves reps whose bookings differ by
orders of magnitude:

1. divide by ``exposure`` when told which column holds it (for the capacity model:
   share of the year employed x fte x company level, see :mod:`quotaopt.features`),
   so a rep hired in October is not mistaken for a weak rep and a good company year
   is not mistaken for a good rep;
2. ``z = asinh(r / scale_)``: logarithmic for large amounts, linear near zero, and
   defined for negative totals (credit notes), unlike ``log``.

Quantiles commute with monotone maps, so quantiles of ``z`` map back exactly.

Two learners are built in (``method``), chosen by backtest (``benchmarks/capacity.py
--compare``; 1,000 reps x 4 generated years, last year scored, seeds 0-1, with and
without accounts/territories): ``quantile`` had a similar WAPE but a P10-P90 coverage
down to 66% (in-sample quantile boosting is overconfident), so ``conformal`` is the
default; its automatic blend weight beat the trees alone on all four runs and a
fixed 0.3 blend on three.

* ``conformal`` -- the median of ``z`` from gradient-boosted trees blended with a
  robust linear model (:mod:`quotaopt.capacity_linear`, weight ``linear_weight``),
  plus a boosted spread model, all cross-fitted by rep; the quantiles are those of
  the out-of-fold residuals divided by the spread, so bands are wide for new hires
  and narrow for steady reps, and honest because no row scores itself. Quantiles
  never cross by construction, and any level in [0.005, 0.995] can be asked for
  after fitting.
* ``quantile`` -- one gradient-boosted quantile-loss model per quantile, sorted
  across quantiles so they never cross (rearrangement).

``level_error`` (fit parameter): when the training exposures hold the *realised*
company level of each year, the model never sees the error of forecasting it, yet a
plan year's exposure holds a forecast. Each training row's own year's forecast
error is then applied in both directions (the residuals of ``conformal``, duplicated
rows for ``quantile``), so the band carries the company-level uncertainty without
moving the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from quotaopt.capacity_linear import linear_fit, linear_predict

#: Quantile levels kept of the normalised residuals, so any quantile can be asked for later.
_GRID = np.round(np.linspace(0.005, 0.995, 199), 6)


def _fillable(X: np.ndarray) -> np.ndarray:
    """Training copy where all-NaN columns become 0.

    HistGradientBoosting cannot bin a column without a single value; such a column
    can carry no split either way, so a constant stands in for it harmlessly.
    """
    empty = np.isnan(X).all(axis=0)
    if not empty.any():
        return X
    X = X.copy()
    X[:, empty] = 0.0
    return X


class CapacityModel(RegressorMixin, BaseEstimator):
    """Predictive quantiles of a rep's bookings in a year.

    Parameters
    ----------
    quantiles : sequence of float, default (0.1, 0.5, 0.9)
        Levels returned by :meth:`predict_quantiles`, increasing, in (0, 1).
    method : {"conformal", "quantile"}, default "conformal"
        Learner, see the module docstring.
    exposure_feature : str or None, default None
        Column of ``X`` (a DataFrame) holding the exposure the target is divided by
        (and predictions multiplied by); it is not a split variable.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    linear_weight : float in [0, 1] or "auto", default "auto"
        ``conformal`` only: weight of a robust linear model (on asinh-scaled features)
        blended with the boosted median; 0 uses the trees alone. ``"auto"`` picks the
        weight (steps of 0.1) with the smallest out-of-fold absolute error: trees
        need many rows, and on a small company they shrink every rep towards the
        typical one (new hires most), where the linear model still follows a rep's
        own history.
    n_folds : int, default 5
        Cross-fitting folds of the ``conformal`` method.
    n_threads : int or None, default 1
        OpenMP threads for the boosting (None: the library default). One thread is
        the default because many small fits on a shared machine run much slower
        with spinning threads than without.
    random_state : int, default 0
        Seed of the folds and of the boosting.

    Attributes
    ----------
    inputs_ : ndarray of int
        Positions of the columns the boosters read.
    scale_ : float
        Divisor inside ``asinh`` (a tenth of the median absolute exposure-rate).
    estimators_ : list
        Fitted boosting models (point then spread, or one per quantile).
    residual_quantiles_ : ndarray
        ``conformal`` only: quantiles of normalised out-of-fold residuals on ``_GRID``.
    linear_ : dict or None
        ``conformal`` only: arrays of the linear part (None when its weight is 0).
    linear_weight_ : float
        ``conformal`` only: the blend weight used.
    n_iter_ : int
        Boosting iterations of the (first) tree model.
    z_range_ : tuple of float
        Smallest and largest transformed target seen in training; ``conformal``
        medians are clipped to it.
    """

    def __init__(
        self,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        method: str = "conformal",
        exposure_feature: str | None = None,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        linear_weight: float | str = "auto",
        n_folds: int = 5,
        n_threads: int | None = 1,
        random_state: int = 0,
    ):
        self.quantiles = quantiles
        self.method = method
        self.exposure_feature = exposure_feature
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.linear_weight = linear_weight
        self.n_folds = n_folds
        self.n_threads = n_threads
        self.random_state = random_state

    # -- helpers -----------------------------------------------------------------
    def _boost(self, loss: str, small: bool = False, **extra: Any) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss=loss,  # type: ignore[arg-type]
            max_iter=max(20, self.max_iter // 3) if small else self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=8 if small else self.max_leaf_nodes,
            min_samples_leaf=max(self.min_samples_leaf, 50) if small else self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,  # a validation split would make the fit depend on row order
            random_state=self.random_state,
            **extra,
        )

    def _levels(self) -> np.ndarray:
        q = np.asarray(self.quantiles, dtype="float64")
        if q.ndim != 1 or q.size == 0 or np.any((q <= 0) | (q >= 1)) or np.any(np.diff(q) <= 0):
            raise ValueError(f"quantiles must be increasing and inside (0, 1), got {list(self.quantiles)}")
        return q

    def _exposure(self, X: Any) -> np.ndarray | None:
        if self.exposure_feature is None:
            return None
        if not isinstance(X, pd.DataFrame) or self.exposure_feature not in X.columns:
            raise ValueError(f"exposure_feature {self.exposure_feature!r} is not a column of X")
        e = X[self.exposure_feature].to_numpy(dtype="float64")
        if not np.all(np.isfinite(e) & (e > 0)):
            raise ValueError(f"column {self.exposure_feature!r} must be finite and > 0")
        return e

    def _inputs(self) -> np.ndarray:
        """Column positions the boosters read: all but the exposure, which only scales."""
        names = getattr(self, "feature_names_in_", None)
        keep = np.ones(self.n_features_in_, dtype=bool)
        if self.exposure_feature is not None and names is not None:
            keep &= np.asarray(names) != self.exposure_feature
        return np.flatnonzero(keep)

    def _fixed_weight(self) -> float | None:
        """The blend weight asked for, or None for "auto" (checked at fit)."""
        w = self.linear_weight
        if isinstance(w, str) and w == "auto":
            return None
        if isinstance(w, str) or not 0.0 <= float(w) <= 1.0:
            raise ValueError(f"linear_weight must be 'auto' or a number in [0, 1], got {w!r}")
        return float(w)

    def _point_fit(self, X: np.ndarray, z: np.ndarray, linear: bool
                   ) -> tuple[HistGradientBoostingRegressor, dict[str, Any] | None]:
        """The median model: boosted trees, and the linear part when asked for."""
        trees = self._boost("absolute_error").fit(X, z)
        return trees, (linear_fit(X, z) if linear else None)

    def _point(self, trees: HistGradientBoostingRegressor, linear: dict[str, Any] | None, X: np.ndarray) -> np.ndarray:
        if linear is None:
            return trees.predict(X)
        w = self.linear_weight_
        return (1.0 - w) * trees.predict(X) + w * linear_predict(linear, X)

    def _cross_fit(self, Xa: np.ndarray, z: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Out-of-fold medians; sets ``linear_weight_`` (chosen on them when "auto")."""
        fixed = self._fixed_weight()
        use_linear = fixed is None or fixed > 0
        trees_oof, linear_oof = np.empty_like(z), np.empty_like(z)
        for train, test in folds:
            trees, linear = self._point_fit(_fillable(Xa[train]), z[train], use_linear)
            trees_oof[test] = trees.predict(Xa[test])
            if linear is not None:
                linear_oof[test] = linear_predict(linear, Xa[test])
        if not use_linear:
            self.linear_weight_ = 0.0
            return trees_oof
        grid = np.round(np.linspace(0.0, 1.0, 11), 1) if fixed is None else np.array([fixed])
        errors = [float(np.mean(np.abs(z - ((1.0 - w) * trees_oof + w * linear_oof)))) for w in grid]
        self.linear_weight_ = float(grid[int(np.argmin(errors))])
        return (1.0 - self.linear_weight_) * trees_oof + self.linear_weight_ * linear_oof

    def _folds(self, n: int, groups: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        k = min(self.n_folds, n)
        if groups is not None:
            # Integer codes in sorted-id order: the same folds as the ids themselves, but
            # GroupKFold's per-fold ``isin`` is fast on integers and minutes-slow on
            # 100,000s of string ids.
            groups = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
            k_groups = min(k, len(np.unique(groups)))
            if k_groups >= 2:
                splitter = GroupKFold(n_splits=k_groups, shuffle=True, random_state=self.random_state)
                return list(splitter.split(np.zeros(n), groups=groups))
            # A single group (one rep) cannot be held out from itself: fall back to rows.
        if k < 2:
            raise ValueError(f"the conformal method needs at least 2 samples to cross-fit, got n_samples = {n}")
        return list(KFold(n_splits=k, shuffle=True, random_state=self.random_state).split(np.zeros(n)))

    # -- scikit-learn API --------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN is "unknown" (no history, no accounts file)
        return tags

    def _threads(self) -> Any:
        return threadpool_limits(limits=self.n_threads) if self.n_threads else nullcontext()

    def fit(self, X: Any, y: Any, groups: Any = None, level_error: Any = None) -> CapacityModel:
        """Fit on rep-years.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features)
            Features; NaN means unknown.
        y : array-like of shape (n,)
            Bookings in the year (may be zero or negative).
        groups : array-like of shape (n,), optional
            Rep ids: cross-fitting keeps a rep's years in one fold, so residuals are
            honest about unseen reps.
        level_error : array-like of shape (n,), optional
            Log error of forecasting the company level of each row's year (realised
            minus forecast), when the exposure holds the realised level; it widens
            the band symmetrically (see the module docstring). Default: no such error.

        Returns
        -------
        self
        """
        with self._threads():
            return self._fit(X, y, groups, level_error)

    def _level_error(self, level_error: Any, n: int) -> np.ndarray | None:
        if level_error is None:
            return None
        e = np.asarray(level_error, dtype="float64").reshape(-1)
        if e.shape != (n,) or not np.all(np.isfinite(e)):
            raise ValueError(f"level_error must hold one finite value per sample ({n}), got shape {e.shape}")
        return e if np.any(e != 0) else None

    def _fit(self, X: Any, y: Any, groups: Any, level_error: Any) -> CapacityModel:
        levels = self._levels()
        if self.method not in ("conformal", "quantile"):
            raise ValueError(f"method must be 'conformal' or 'quantile', got {self.method!r}")
        exposure = self._exposure(X)
        Xa, ya = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype="float64", y_numeric=True)
        error = self._level_error(level_error, len(ya))
        self.inputs_ = self._inputs()
        Xa = _fillable(Xa[:, self.inputs_])
        rate = ya if exposure is None else ya / exposure
        middle = float(np.median(np.abs(rate)))
        self.scale_ = 0.1 * middle if middle > 0 else 1.0
        z = np.arcsinh(rate / self.scale_)
        # Predictions stay within what was seen: the linear part would extrapolate rows
        # unlike any training row (e.g. only plan-year hires) to absurd, even infinite, amounts.
        self.z_range_ = (float(z.min()), float(z.max()))
        # What the target would have been had the level been forecast and missed by
        # the row's year's error, one way or the other.
        shifted = None if error is None else [np.arcsinh(rate * np.exp(s * error) / self.scale_) for s in (1.0, -1.0)]
        if self.method == "quantile":
            Xq, zq = (Xa, z) if shifted is None else (np.vstack([Xa, Xa]), np.concatenate(shifted))
            self.estimators_ = [self._boost("quantile", quantile=float(q)).fit(Xq, zq) for q in levels]
            self.n_iter_ = int(self.estimators_[0].n_iter_)
            return self
        folds = self._folds(len(z), groups)
        oof = self._cross_fit(Xa, z, folds)
        resid = z - oof
        spread_oof = np.empty_like(z)
        for train, test in folds:
            model = self._boost("squared_error", small=True).fit(_fillable(Xa[train]), np.abs(resid[train]))
            spread_oof[test] = model.predict(Xa[test])
        point, self.linear_ = self._point_fit(Xa, z, self.linear_weight_ > 0)
        self.n_iter_ = int(point.n_iter_)
        spread = self._boost("squared_error", small=True).fit(Xa, np.abs(resid))
        # A floor keeps the spread positive where the model sees almost no error.
        self.spread_floor_ = max(float(np.quantile(np.abs(resid), 0.05)), 1e-3)
        scale = np.maximum(spread_oof, self.spread_floor_)
        if shifted is None:
            normalised = resid / scale
        else:
            normalised = np.concatenate([(zs - oof) / scale for zs in shifted])
        self.residual_quantiles_ = np.quantile(normalised, _GRID)
        self.estimators_ = [point, spread]
        return self

    def _z_quantiles(self, X: Any, levels: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        Xa = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype="float64")[:, self.inputs_]
        if self.method == "quantile":
            fitted = self._levels()
            if not np.all(np.isin(np.round(levels, 9), np.round(fitted, 9))):
                raise ValueError(f"method 'quantile' was fitted for {list(fitted)}, got {list(levels)}")
            z = np.column_stack([m.predict(Xa) for m in self.estimators_])
            z = np.sort(z, axis=1)  # rearrangement: the sorted curve is never worse
            return z[:, np.searchsorted(np.round(fitted, 9), np.round(levels, 9))]
        if np.any((levels < _GRID[0]) | (levels > _GRID[-1])):
            raise ValueError(f"quantiles must lie in [{_GRID[0]}, {_GRID[-1]}], got {list(levels)}")
        point, spread = self.estimators_
        s = np.maximum(spread.predict(Xa), self.spread_floor_)
        offsets = np.interp(levels, _GRID, self.residual_quantiles_)
        middle = self._point(point, self.linear_, Xa)
        seen = getattr(self, "z_range_", None)  # absent in models saved before it existed
        if seen is not None:
            middle = np.clip(middle, *seen)
        return middle[:, None] + s[:, None] * offsets[None, :]

    def predict_quantiles(self, X: Any, quantiles: Sequence[float] | None = None) -> np.ndarray:
        """Predictive quantiles of bookings, non-decreasing along each row.

        Parameters
        ----------
        X : array-like or DataFrame
            Features, as in :meth:`fit`.
        quantiles : sequence of float, optional
            Levels to return (default ``self.quantiles``); the ``conformal`` method
            answers any level in [0.005, 0.995].

        Returns
        -------
        ndarray of shape (n, len(quantiles))
        """
        levels = self._levels() if quantiles is None else np.sort(np.asarray(quantiles, dtype="float64"))
        exposure = self._exposure(X)
        with self._threads():
            z = self._z_quantiles(X, levels)
        out = np.sinh(z) * self.scale_
        if exposure is not None:
            out = out * exposure[:, None]
        return np.maximum.accumulate(out, axis=1)  # guards against float ties after sinh

    def predict(self, X: Any) -> np.ndarray:
        """The median (P50) of bookings, shape (n,)."""
        return self.predict_quantiles(X, [0.5])[:, 0]
