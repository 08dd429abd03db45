"""Capacity: what each rep can be expected to book in a year, with honest quantiles.

:class:`CapacityModel` is a scikit-learn regressor over the rep-year features of
:mod:`quotaopt.features`. It works on a transformed target so one model serves reps
whose bookings differ by orders of magnitude:

1. divide by ``exposure`` (share of the year employed x fte x expected company
   level, see :mod:`quotaopt.features`) when told which column holds it, so a rep
   hired in October is not mistaken for a weak rep;
2. ``z = asinh(r / scale_)``: logarithmic for large amounts, linear near zero, and
   defined for negative totals (credit notes), unlike ``log``.

Quantiles commute with monotone maps, so quantiles of ``z`` map back exactly.

Two learners are built in (``method``), chosen by backtest (``benchmarks/capacity.py``;
1,000 reps x 4 generated years, scoring the last year, 4 seeds): ``conformal`` had
WAPE 0.247-0.284 and P10-P90 coverage 75-81%; ``quantile`` had about the same WAPE
but 62-70% coverage (in-sample quantile boosting is overconfident), so ``conformal``
is the default.

* ``conformal`` -- the median of ``z`` from gradient-boosted trees blended with a
  robust linear model (weight ``linear_weight``; it lowered the error against the
  generator's true capacity on every seed tried), plus a boosted spread model, all
  cross-fitted by rep; the quantiles are those of the out-of-fold residuals
  divided by the spread, so bands are wide for new hires and narrow for steady
  reps, and honest because no row scores itself. Quantiles never cross by
  construction, and any level in [0.005, 0.995] can be asked for after fitting.
* ``quantile`` -- one gradient-boosted quantile-loss model per quantile, sorted
  across quantiles so they never cross (rearrangement).
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

from quotaopt.data import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.features import (
    POOL_COLUMNS,
    TERRITORY_COLUMNS,
    model_columns,
    observed_years,
    rep_year_features,
    training_set,
)

#: Quantile levels kept of the normalised residuals, so any quantile can be asked for later.
_GRID = np.round(np.linspace(0.005, 0.995, 199), 6)
#: Spread in log units assumed when capacity.csv leaves p10 or p90 empty:
#: a lognormal with sigma 0.2 gives p10 = 0.77 x p50 and p90 = 1.29 x p50.
GIVEN_SIGMA = 0.2
_Z90 = 1.2815515655446004  # standard normal 90% quantile
#: Smallest capacity handed downstream, as a share of the median P50 (quotas divide by it).
FLOOR_SHARE = 0.001


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


def _design(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Scale-free design matrix of the linear part: asinh(x / median |x|), imputed, flagged."""
    t = np.arcsinh(X / params["scale"])
    missing = np.isnan(t)
    t = np.where(missing, params["fill"], t)
    cols = np.hstack([t, missing[:, params["flag"]].astype("float64")])
    return (cols - params["mu"]) / params["sd"]


def _linear_fit(X: np.ndarray, z: np.ndarray) -> dict[str, Any]:
    """Robust (Huber) linear model of ``z`` on the scaled features, as plain arrays.

    Bookings are roughly multiplicative in skill, book and market, i.e. linear on
    log scales, where trees only approximate by steps; the blend takes the best of both.
    """
    scale = np.nanmedian(np.abs(np.where(np.isnan(X).all(axis=0), 1.0, X)), axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    t = np.arcsinh(X / scale)
    with np.errstate(all="ignore"):
        fill = np.where(np.isnan(t).all(axis=0), 0.0, np.nanmean(np.where(np.isnan(t).all(axis=0), 0.0, t), axis=0))
    params: dict[str, Any] = {"scale": scale, "fill": fill, "flag": np.isnan(t).any(axis=0)}
    params["mu"], params["sd"] = np.zeros(1), np.ones(1)
    raw = _design(params, X)
    params["mu"], sd = raw.mean(axis=0), raw.std(axis=0)
    params["sd"] = np.where(sd > 0, sd, 1.0)
    params["coef"], params["intercept"] = _huber(_design(params, X), z)
    return params


def _huber(A: np.ndarray, z: np.ndarray, alpha: float = 1.0, epsilon: float = 1.35) -> tuple[np.ndarray, float]:
    """Huber regression by iteratively reweighted least squares (a ridge penalty on the slopes).

    Deterministic and ~50x faster than a generic optimiser at 20,000 rows: each step
    is one small normal-equation solve.
    """
    design = np.hstack([np.ones((len(z), 1)), A])
    penalty = alpha * np.eye(design.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    weights = np.ones(len(z))
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        wd = design * weights[:, None]
        beta = np.linalg.solve(design.T @ wd + penalty, wd.T @ z)
        resid = z - design @ beta
        scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        if scale <= 0:
            break
        u = np.abs(resid) / (epsilon * scale)
        new = np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-12))
        if np.max(np.abs(new - weights)) < 1e-6:
            break
        weights = new
    return beta[1:], float(beta[0])


def _linear_predict(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    return _design(params, X) @ params["coef"] + params["intercept"]


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
    linear_weight : float, default 0.3
        ``conformal`` only: weight of a robust linear model (on asinh-scaled features)
        blended with the boosted median; 0 uses the trees alone.
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
        ``conformal`` only: arrays of the linear part (None when ``linear_weight`` is 0).
    n_iter_ : int
        Boosting iterations of the (first) tree model.
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
        linear_weight: float = 0.3,
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

    def _point_fit(self, X: np.ndarray, z: np.ndarray) -> tuple[HistGradientBoostingRegressor, dict[str, Any] | None]:
        """The median model: boosted trees, and the linear part when it has weight."""
        trees = self._boost("absolute_error").fit(X, z)
        return trees, (_linear_fit(X, z) if self.linear_weight > 0 else None)

    def _point(self, trees: HistGradientBoostingRegressor, linear: dict[str, Any] | None, X: np.ndarray) -> np.ndarray:
        if linear is None:
            return trees.predict(X)
        w = self.linear_weight
        return (1.0 - w) * trees.predict(X) + w * _linear_predict(linear, X)

    def _folds(self, n: int, groups: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        k = min(self.n_folds, n)
        if groups is not None:
            groups = np.asarray(groups)
            k = min(k, len(np.unique(groups)))
            if k >= 2:
                splitter = GroupKFold(n_splits=k, shuffle=True, random_state=self.random_state)
                return list(splitter.split(np.zeros(n), groups=groups))
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

    def fit(self, X: Any, y: Any, groups: Any = None) -> CapacityModel:
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

        Returns
        -------
        self
        """
        with self._threads():
            return self._fit(X, y, groups)

    def _fit(self, X: Any, y: Any, groups: Any) -> CapacityModel:
        levels = self._levels()
        if self.method not in ("conformal", "quantile"):
            raise ValueError(f"method must be 'conformal' or 'quantile', got {self.method!r}")
        exposure = self._exposure(X)
        Xa, ya = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype="float64", y_numeric=True)
        self.inputs_ = self._inputs()
        Xa = _fillable(Xa[:, self.inputs_])
        rate = ya if exposure is None else ya / exposure
        middle = float(np.median(np.abs(rate)))
        self.scale_ = 0.1 * middle if middle > 0 else 1.0
        z = np.arcsinh(rate / self.scale_)
        if self.method == "quantile":
            self.estimators_ = [self._boost("quantile", quantile=float(q)).fit(Xa, z) for q in levels]
            self.n_iter_ = int(self.estimators_[0].n_iter_)
            return self
        folds = self._folds(len(z), groups)
        oof = np.empty_like(z)
        for train, test in folds:
            oof[test] = self._point(*self._point_fit(_fillable(Xa[train]), z[train]), Xa[test])
        resid = z - oof
        spread_oof = np.empty_like(z)
        for train, test in folds:
            model = self._boost("squared_error", small=True).fit(_fillable(Xa[train]), np.abs(resid[train]))
            spread_oof[test] = model.predict(Xa[test])
        point, self.linear_ = self._point_fit(Xa, z)
        self.n_iter_ = int(point.n_iter_)
        spread = self._boost("squared_error", small=True).fit(Xa, np.abs(resid))
        # A floor keeps the spread positive where the model sees almost no error.
        self.spread_floor_ = max(float(np.quantile(np.abs(resid), 0.05)), 1e-3)
        normalised = resid / np.maximum(spread_oof, self.spread_floor_)
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
        return self._point(point, self.linear_, Xa)[:, None] + s[:, None] * offsets[None, :]

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


def _training_years(company: CompanyData, plan_year: int) -> list[int]:
    seen = set(observed_years(company))
    return [y for y in sorted(seen) if y < plan_year and y - 1 in seen]


def fit_capacity(company: CompanyData, plan_year: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 random_state: int = 0, **params: Any) -> CapacityModel:
    """Train a :class:`CapacityModel` on every complete year before ``plan_year``.

    Each target year needs the year before it for history, so two full years of
    bookings are the minimum.

    Raises
    ------
    InputError
        Too little history to train.
    """
    years = _training_years(company, plan_year)
    if not years:
        raise InputError([Problem("bookings.csv", f"too little history to train a capacity model for {plan_year} "
                                  "(expected at least two full calendar years before it); use capacity.model: given")])
    X, y = training_set(company, years, as_of=plan_year)
    columns = model_columns(X)
    model = CapacityModel(quantiles=tuple(quantiles), exposure_feature="exposure", random_state=random_state, **params)
    model.fit(X[columns], y, groups=X.index.to_numpy())
    model.training_years_ = years
    return model


def _floor(q: np.ndarray, mid: int) -> np.ndarray:
    """Strictly positive, non-crossing capacities (quotas divide by them)."""
    positive = q[:, mid][q[:, mid] > 0]
    floor = FLOOR_SHARE * float(np.median(positive)) if positive.size else 1.0
    return np.maximum.accumulate(np.maximum(q, floor), axis=1)


def capacity_column(q: float) -> str:
    """Output column of quantile ``q``: 0.1 -> ``capacity_p10``, 0.025 -> ``capacity_p2.5``."""
    return f"capacity_p{round(q * 100, 6):g}"


def predict_capacity(model: CapacityModel, company: CompanyData, plan_year: int,
                     quantiles: Sequence[float] | None = None) -> pd.DataFrame:
    """Capacity quantiles of every active rep employed during ``plan_year``.

    Parameters
    ----------
    model : CapacityModel
        Fitted, e.g. by :func:`fit_capacity` or loaded from a model folder.
    company : CompanyData
    plan_year : int
        Must follow the last complete year of bookings (its history features need it).
    quantiles : sequence of float, optional
        Levels to return besides 0.1, 0.5 and 0.9 (default: the model's own).

    Returns
    -------
    DataFrame
        ``rep_id, capacity_p10, capacity_p50, capacity_p90`` (and a ``capacity_pXX``
        column per extra quantile), in reps.csv order; all values > 0 (floored at
        0.1% of the median P50) and non-decreasing across quantiles. Active reps hired
        after ``plan_year`` are not employed in it and are left out.

    Raises
    ------
    InputError
        The plan year does not follow the history, or the model needs features the
        data cannot give (e.g. it was trained with accounts.csv and this folder has none).
    """
    check_is_fitted(model)
    seen = observed_years(company)
    if not seen or seen[-1] != plan_year - 1:
        last = seen[-1] if seen else "none"
        raise InputError([Problem("bookings.csv", f"capacity for {plan_year} needs full bookings of {plan_year - 1} "
                                  f"(last complete year: {last})", column="date")])
    feats = rep_year_features(company, plan_year)
    active = company.active_reps["rep_id"]
    feats = feats.reindex([r for r in active if r in feats.index])
    needed = list(model.feature_names_in_)
    missing = [c for c in needed if c not in feats.columns]
    if missing:
        files = sorted({"accounts.csv" for c in missing if c in POOL_COLUMNS + TERRITORY_COLUMNS}
                       | {"territories.csv" for c in missing if c in TERRITORY_COLUMNS}) or [str(company.folder)]
        raise InputError([Problem(", ".join(files), f"the capacity model needs features this data cannot give "
                                  f"({', '.join(missing[:5])}); supply the file or retrain")])
    wanted = model.quantiles if quantiles is None else quantiles
    levels = sorted({0.1, 0.5, 0.9} | {round(float(q), 9) for q in wanted})
    q = _floor(model.predict_quantiles(feats[needed], levels), levels.index(0.5))
    out = pd.DataFrame({"rep_id": feats.index.to_numpy()})
    for j, level in enumerate(levels):
        out[capacity_column(level)] = q[:, j]
    return out


def given_capacity(company: CompanyData) -> pd.DataFrame:
    """Capacities set by hand in capacity.csv (contract §1).

    An empty p10 or p90 mirrors the other side on the log scale when it is given,
    else uses a lognormal spread of ``GIVEN_SIGMA`` (p10 = 0.77 x p50, p90 = 1.29 x p50).
    A p10 of 0 is raised to 0.1% of p50 so every capacity is positive.

    Raises
    ------
    InputError
        capacity.csv is missing, an active rep has no row, or a p50 is 0.
    """
    cap = company.capacity
    active = company.active_reps["rep_id"]
    if cap is None:
        raise InputError([Problem("capacity.csv", f"not found in {company.folder} (needed by capacity.model: given)")])
    cap = cap.set_index("rep_id")
    problems = [Problem("capacity.csv", f"no row for active rep {rep!r} (every active rep needs a p50)", column="rep_id")
                for rep in active if rep not in cap.index]
    given = cap["p50"].reindex(active).to_numpy(dtype="float64")
    zero = [rep for rep, p50 in zip(active, given, strict=True) if rep in cap.index and not p50 > 0]
    problems += [Problem("capacity.csv", f"p50 of rep {rep!r} is 0 (expected > 0)", column="p50") for rep in zero]
    if problems:
        raise InputError(problems)
    cap = cap.loc[list(active)]
    p50 = cap["p50"].astype("float64")
    default = np.exp(GIVEN_SIGMA * _Z90)
    p10 = cap["p10"].astype("float64")
    p90 = cap["p90"].astype("float64")
    p10_filled = p10.fillna(p50**2 / p90.where(p90 > 0)).fillna(p50 / default)
    p90_filled = p90.fillna(p50**2 / p10.where(p10 > 0)).fillna(p50 * default)
    p10_filled = p10_filled.clip(lower=FLOOR_SHARE * p50)
    return pd.DataFrame({"rep_id": cap.index.to_numpy(), "capacity_p10": p10_filled.to_numpy(),
                         "capacity_p50": p50.to_numpy(), "capacity_p90": p90_filled.to_numpy()})
