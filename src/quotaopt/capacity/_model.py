"""CapacityModel: each rep's bookings in a coming year, as predictive quantiles.

``capacity = exposure x company level x anchor x change``:

* the **anchor** is the rep's own recent rate (:mod:`quotaopt.capacity._features`);
* the **company level** of the coming year is a combination of candidate forecasts
  weighted by their record on the company's own past years (:mod:`quotaopt.capacity._level`);
* the **change** from the anchor is a weighted combination of candidates: persistence
  (no change), boosted trees and a robust log-linear model of the change learned from
  every earlier rep-year, and each rep's exponentially smoothed rate (statsforecast,
  :mod:`quotaopt.capacity._series`).

Why this shape: on real company data "same as last year" is the forecast to beat, and a
model that must learn it from a few hundred rows loses to it; anchored on it, a model
that has learnt nothing useful still says it. The weights of the change candidates are
chosen on **held-out** rep-years -- each year after the first predicted by models fitted
on the years before it (a rolling origin), or, with a single training year, by folds of
reps -- and scored in money, as the backtest scores them (:mod:`quotaopt.capacity._blend`).
So on a company where persistence wins, the plan uses persistence; where a rep's book,
momentum or history say more, the learned models get the weight. The learned models are
fitted with the realised company level of each training year (the model learns reps,
not years); the level's own forecast error goes into the band (:mod:`quotaopt.capacity._bands`).

The model needs no random seed: folds and the order of training rows come from a hash
of each rep's data (:mod:`quotaopt.capacity._panel`), and ``random_state`` is passed to
the boosting only for the record. Same data in any row order, or with reps renamed,
gives the same capacities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from quotaopt.capacity._bands import BAND_SCALE, Bands, asinh_residual
from quotaopt.capacity._blend import least_absolute_weights, sample, shrink_toward
from quotaopt.capacity._features import YearRows, feature_columns, training_rows, year_rows
from quotaopt.capacity._level import (
    ChainIndex,
    LevelForecast,
    chain,
    forecast_level,
    planners_growth,
)
from quotaopt.capacity._linear import RATIO_RANGE, LogRatioHuber
from quotaopt.capacity._panel import RepPanel, build_panel
from quotaopt.capacity._pool import Pools, pools
from quotaopt.capacity._series import smoothed_rates
from quotaopt.company import CompanyData
from quotaopt.metrics import wape

#: The change candidates, persistence first (the one weights are shrunk toward).
CANDIDATES = ("persistence", "trees", "linear", "smoothing")
#: Most validation years (rolling origins) the weights and bands are learned on, and the
#: fewest validation rows wanted: small companies look further back.
MAX_ORIGINS, MIN_VALIDATION_ROWS, MOST_ORIGINS = 3, 500, 6
#: Folds of reps (cross-fitting), and the range of company sizes that use them by default.
#: Below it a fold leaves too few reps to learn from, and above it one year holds plenty of
#: rows to learn from: there the rolling origin, honest in time and a third of the fits, judges.
N_FOLDS, FOLD_MIN_REPS, FOLD_MAX_REPS = 5, 200, 5_000


@dataclass(frozen=True)
class CompanyView:
    """What the model reads of a company: its panel, chain index, books and planners' growth."""

    panel: RepPanel
    index: ChainIndex
    pools: Pools
    planners: float | None

    @classmethod
    def of(cls, company: CompanyData) -> CompanyView:
        panel = build_panel(company)
        return cls(panel, chain(panel), pools(company, panel), planners_growth(company.territories))


class CapacityModel(BaseEstimator):
    """Predictive quantiles of every rep's bookings in a plan year (see the module docstring).

    Parameters
    ----------
    quantiles : sequence of float, default (0.1, 0.5, 0.9)
        Levels returned by default; any level in [0.005, 0.995] can be asked for later.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to the boosted trees (:class:`~sklearn.ensemble.HistGradientBoostingRegressor`).
    alpha : float, default 1.0
        Ridge penalty of the log-linear candidate.
    candidates : sequence of str, default all of :data:`CANDIDATES`
        Change candidates weighed (persistence is always among them).
    validation : {"auto", "rolling", "folds"}, default "auto"
        How held-out predictions are made: each year from models fitted on the years
        before it (a rolling origin), or folds of reps over every year (cross-fitting; also
        the fallback with a single training year). ``auto``: folds from
        :data:`FOLD_MIN_REPS` to :data:`FOLD_MAX_REPS` reps, else rolling.
    n_folds : int, default :data:`N_FOLDS`
        Folds of reps when cross-fitting.
    n_threads : int, default 1
        OpenMP threads of the boosting (one is fastest for many small fits on a shared machine).
    random_state : int, default 0
        Passed to the boosting (which draws nothing with these settings).

    Attributes
    ----------
    plan_year_ : int
    training_years_, validation_years_ : list of int
    feature_names_in_ : ndarray of str
    trees_ : HistGradientBoostingRegressor
    linear_ : LogRatioHuber
    newcomer_ : ndarray
        Persistence for a newcomer: their first-year ratio to their peers' rate, per tenure bin.
    weights_ : dict
        Candidate -> weight (sum 1), chosen on held-out rows.
    bands_ : Bands
    level_ : dict or None
        The level forecast for the plan year as made at fit (:meth:`LevelForecast.record`).
    validation_ : list of dict
        Per validation year: held-out WAPE of each candidate and of the blend with the
        realised level, and of the blend with the level forecast as it was made then.

    Examples
    --------
    >>> import tempfile
    >>> from quotaopt.io import load_company
    >>> from quotaopt.datasets import generate_company
    >>> folder = generate_company(tempfile.mkdtemp(), n_reps=40, years=3, seed=1, end_year=2026)
    >>> model = CapacityModel().fit(load_company(folder), 2027)
    >>> sorted(model.weights_) == sorted(CANDIDATES)
    True
    """

    def __init__(self, quantiles: Sequence[float] = (0.1, 0.5, 0.9), max_iter: int = 100,
                 learning_rate: float = 0.1, max_leaf_nodes: int = 15, min_samples_leaf: int = 20,
                 l2_regularization: float = 1.0, alpha: float = 1.0, candidates: Sequence[str] = CANDIDATES,
                 validation: str = "auto", n_folds: int = N_FOLDS, n_threads: int = 1, random_state: int = 0):
        self.quantiles = quantiles
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.alpha = alpha
        self.candidates = candidates
        self.validation = validation
        self.n_folds = n_folds
        self.n_threads = n_threads
        self.random_state = random_state

    # -- pieces ------------------------------------------------------------------
    def _trees(self) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="absolute_error", max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, early_stopping=False, random_state=self.random_state)

    def _names(self) -> list[str]:
        names = [c for c in CANDIDATES if c in set(self.candidates)]
        unknown = sorted(set(self.candidates) - set(CANDIDATES))
        if unknown:
            raise ValueError(f"unknown candidates {unknown}; expected some of {list(CANDIDATES)}")
        return ["persistence"] + [c for c in names if c != "persistence"]

    def _fit_learned(self, X: pd.DataFrame, ratio: np.ndarray, base: np.ndarray) -> Learned:
        """The learned candidates on rows of earlier years.

        The trees model the median log change, one vote per rep-year (the ``size``
        feature lets big reps differ): boosting with sample weights bins and updates
        leaves by weighted percentiles, minutes on a long panel. The linear model is
        weighted by the base in money, as the backtest scores it (cheap there).
        """
        names = self._names()
        weight = base / base.mean() if base.mean() > 0 else np.ones(len(base))
        values = X.to_numpy(dtype="float64")
        trees = linear = None
        if "trees" in names and len(X) >= 2 * self.min_samples_leaf:
            trees = self._trees().fit(_fillable(values), np.log(np.clip(ratio, *RATIO_RANGE)))
        if "linear" in names and len(X) >= 3:
            linear = LogRatioHuber(alpha=self.alpha).fit(values, ratio, sample_weight=weight)
        return Learned(trees, linear, newcomer_ratios(X, ratio, base))

    def _ratios(self, view: CompanyView, part: YearRows, X: pd.DataFrame, learned: Learned) -> np.ndarray:
        """Each candidate's predicted ratio to the anchor (columns in :meth:`_names` order).

        Persistence is 1 for a rep anchored on their own record, and for a newcomer (no
        such record) what newcomers of the same tenure booked against their peers' rate.
        """
        names = self._names()
        values = X.to_numpy(dtype="float64")
        out = np.ones((len(X), len(names)))
        for k, name in enumerate(names):
            if name == "persistence":
                out[:, k] = np.where(X["source"].to_numpy() == 2, learned.newcomer[_tenure_bin(X)], 1.0)
            elif name == "trees" and learned.trees is not None:
                out[:, k] = np.exp(learned.trees.predict(values))
            elif name == "linear" and learned.linear is not None:
                out[:, k] = learned.linear.predict(values)
            elif name == "smoothing":
                smooth = smoothed_rates(view.panel, view.index, part.rows, part.year) / part.anchor
                out[:, k] = np.where(np.isfinite(smooth), smooth, 1.0)
        return out

    # -- fit ---------------------------------------------------------------------
    def fit(self, company: CompanyData, plan_year: int, *, view: CompanyView | None = None) -> CapacityModel:
        """Learn from every observed year before ``plan_year`` that has a year before it.

        ``view`` (:meth:`CompanyView.of` the company) saves building it again when the
        caller also predicts.

        Raises
        ------
        ValueError
            Fewer than two training rep-years (the caller turns this into an input error).
        """
        with threadpool_limits(limits=self.n_threads):
            return self._fit(CompanyView.of(company) if view is None else view, plan_year)

    def _fit(self, view: CompanyView, plan_year: int) -> CapacityModel:
        panel, index = view.panel, view.index
        years = [int(y) for y in panel.years if y < plan_year and panel.col(y - 1) is not None]
        parts = {y: training_rows(panel, index, view.pools, y) for y in years}
        parts = {y: p for y, p in parts.items() if len(p.rows)}
        if sum(len(p.rows) for p in parts.values()) < 2:
            raise ValueError(f"too few training rep-years ({sum(len(p.rows) for p in parts.values())})")
        years = sorted(parts)
        columns = feature_columns(pd.concat([parts[y].X.iloc[:0] for y in years]))
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.plan_year_ = int(plan_year)
        self.training_years_ = years
        names = self._names()

        realised = {y: index.realised_growth(y) or 0.0 for y in years}
        rows = {y: _rows(view, parts[y], realised[y], columns) for y in years}

        # Held-out predictions: a rolling origin over the last years, or folds of reps.
        scheme = self.validation
        if scheme == "auto":
            scheme = "folds" if FOLD_MIN_REPS <= panel.n_reps <= FOLD_MAX_REPS else "rolling"
        validation = self._validation_years(years, parts) if scheme == "rolling" else []
        held_out: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame, np.ndarray]] = []
        if validation:
            for v in validation:
                train = [rows[y] for y in years if y < v]
                X, ratio, base, _ = _concat(train)
                learned = self._fit_learned(X, ratio, base)
                Xv, _, bv, _ = rows[v]
                held_out.append((v, self._ratios(view, parts[v], Xv, learned), rows[v][1] * bv, bv, Xv,
                                 parts[v].X["source"].to_numpy()))
        else:
            validation = years
            folds = {y: (rows[y][3] % np.uint64(self.n_folds)).astype("int64") for y in years}
            ratios = {y: np.ones((len(rows[y][0]), len(names))) for y in years}
            for f in range(self.n_folds):
                train = [tuple(a[folds[y] != f] if isinstance(a, np.ndarray) else a.loc[folds[y] != f]
                               for a in rows[y]) for y in years]
                train = [t for t in train if len(t[1])]
                if not train or all(not (folds[y] == f).any() for y in years):
                    continue
                X, ratio, base, _ = _concat(train)  # type: ignore[arg-type]
                learned = self._fit_learned(X, ratio, base)
                for y in years:
                    test = folds[y] == f
                    if test.any():
                        sub = parts[y].take(test)
                        ratios[y][test] = self._ratios(view, sub, rows[y][0].loc[test].reset_index(drop=True),
                                                       learned)
            for y in years:
                Xv, ratio_v, bv, _ = rows[y]
                held_out.append((y, ratios[y], ratio_v * bv, bv, Xv, parts[y].X["source"].to_numpy()))

        P = np.vstack([h[1] * h[3][:, None] for h in held_out])
        actual = np.concatenate([h[2] for h in held_out])
        keys = np.concatenate([rows[h[0]][3] for h in held_out])
        pick = sample(keys)
        w = least_absolute_weights(P[pick], actual[pick])
        w = shrink_toward(w, 0, len(actual))
        self.weights_ = {n: float(round(v, 6)) for n, v in zip(names, w, strict=True)}
        self.validation_years_ = validation

        blend = P @ w
        base_all = np.concatenate([h[3] for h in held_out])
        X_all = pd.concat([h[4] for h in held_out], ignore_index=True).to_numpy(dtype="float64")
        source = np.concatenate([h[5] for h in held_out])
        residual = asinh_residual(actual, blend, BAND_SCALE * np.maximum(np.abs(base_all), 1e-9))
        self.bands_ = Bands(random_state=self.random_state).fit(_fillable(X_all), source, residual)
        self.validation_ = self._record(view, held_out, w)

        X, ratio, base, _ = _concat([rows[y] for y in years])
        final = self._fit_learned(X, ratio, base)
        self.trees_, self.linear_, self.newcomer_ = final.trees, final.linear, final.newcomer
        level = forecast_level(index, plan_year, view.planners)
        self.level_ = None if level is None else level.record()
        return self

    def _validation_years(self, years: list[int], parts: dict[int, YearRows]) -> list[int]:
        later = years[1:]
        chosen: list[int] = []
        for v in reversed(later):
            chosen.insert(0, v)
            enough = sum(len(parts[y].rows) for y in chosen) >= MIN_VALIDATION_ROWS
            if (len(chosen) >= MAX_ORIGINS and enough) or len(chosen) >= MOST_ORIGINS:
                break
        return chosen

    def _record(self, view: CompanyView, held_out: list[Any], w: np.ndarray) -> list[dict[str, Any]]:
        names = self._names()
        out = []
        for year, ratios, actual, base, _, _ in held_out:
            if float(np.abs(actual).sum()) <= 0:
                continue
            row: dict[str, Any] = {"year": int(year), "n": int(len(actual))}
            for k, name in enumerate(names):
                row[f"wape_{name}"] = round(wape(base * ratios[:, k], actual), 6)
            row["wape_blend"] = round(wape(base * (ratios @ w), actual), 6)
            level = forecast_level(view.index, int(year), None)
            realised = view.index.realised_growth(int(year))
            if level is not None and realised is not None:
                shift = np.exp(level.growth - realised)
                row["wape_blend_forecast_level"] = round(wape(base * shift * (ratios @ w), actual), 6)
            out.append(row)
        return out

    # -- predict -----------------------------------------------------------------
    def predict_year(self, company: CompanyData, year: int, levels: Sequence[float] | None = None, *,
                     rows: np.ndarray | None = None, growth: float | None = None,
                     view: CompanyView | None = None) -> tuple[np.ndarray, np.ndarray, LevelForecast | None]:
        """Quantiles of bookings in ``year`` for the reps employed in it.

        Parameters
        ----------
        company : CompanyData
        year : int
            ``year - 1`` must be observed.
        levels : sequence of float, optional
            Default ``self.quantiles``.
        rows : ndarray of int, optional
            Panel positions (default: every rep employed in ``year``).
        growth : float, optional
            Log growth of the company level into ``year`` to use instead of the forecast
            (e.g. the realised one, to score the rep part alone); the band then carries
            no level error.

        Returns
        -------
        rep_ids : ndarray of str
        quantiles : ndarray of shape (reps, levels)
        level : LevelForecast or None
            The level forecast used (None when ``growth`` was given).
        """
        check_is_fitted(self)
        view = CompanyView.of(company) if view is None else view
        q = np.sort(np.asarray(self.quantiles if levels is None else levels, dtype="float64"))
        part = year_rows(view.panel, view.index, view.pools, year, rows)
        X = part.X.reindex(columns=list(self.feature_names_in_))
        level = None
        if growth is None:
            level = forecast_level(view.index, year, view.planners)
            if level is None:
                raise ValueError(f"capacity for {year} needs the year before it observed")
            growth, sd = level.growth, level.sd
        else:
            sd = 0.0
        with threadpool_limits(limits=self.n_threads):
            ratios = self._ratios(view, part, X, Learned(self.trees_, self.linear_, self.newcomer_))
            w = np.array([self.weights_[n] for n in self._names()])
            base = part.base(growth)
            point = base * (ratios @ w)
            values = _fillable(X.to_numpy(dtype="float64"))
            out = self.bands_.quantiles(values, part.X["source"].to_numpy(), point, base, q, sd)
        return view.panel.ids[part.rows], out, level

    def summary(self) -> dict[str, Any]:
        """What the model weighed and how, for summary.json and the report (rounded, stable)."""
        check_is_fitted(self)
        return {"training_years": list(self.training_years_), "validation_years": list(self.validation_years_),
                "change_weights": dict(self.weights_), "level": self.level_,
                "validation": list(self.validation_)}


def _rows(view: CompanyView, part: YearRows, growth: float, columns: list[str]
          ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A training year's X (columns fixed), ratio to the anchor, base money and rep data keys."""
    base = part.base(growth)
    assert part.y is not None
    return part.X.reindex(columns=columns), part.y / base, base, view.panel.key[part.rows]


class Learned(NamedTuple):
    """What one fit learned: the two models and the newcomers' ratio per tenure bin."""

    trees: HistGradientBoostingRegressor | None
    linear: LogRatioHuber | None
    newcomer: np.ndarray


#: Tenure (years on January 1) bins of newcomers: hired in the second half of the year,
#: in the first half, or before it (but without a year of their own to anchor on).
TENURE_BINS = np.array([-0.5, 0.0])
#: Newcomer rows behind a bin's ratio before it counts half (it is shrunk toward 1).
NEWCOMER_SHRINK = 10.0


def _tenure_bin(X: pd.DataFrame) -> np.ndarray:
    return np.searchsorted(TENURE_BINS, np.nan_to_num(X["tenure"].to_numpy(), nan=0.0), side="right")


def newcomer_ratios(X: pd.DataFrame, ratio: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Per tenure bin: the money-weighted median ratio of newcomers' bookings to their peers' rate.

    A newcomer's anchor is the rate of established peers; in their first months they
    book less (ramp-up), by as much as earlier newcomers of the same tenure did. Shrunk
    toward 1 in log by ``n / (n + NEWCOMER_SHRINK)``.

    Examples
    --------
    >>> X = pd.DataFrame({"source": [2.0, 2.0, 0.0], "tenure": [-0.8, -0.7, 3.0]})
    >>> newcomer_ratios(X, np.array([0.5, 0.5, 1.0]), np.ones(3)).round(3).tolist()
    [0.891, 1.0, 1.0]
    """
    out = np.ones(len(TENURE_BINS) + 1)
    new = X["source"].to_numpy() == 2
    bins = _tenure_bin(X)
    for b in range(len(out)):
        pick = new & (bins == b) & np.isfinite(ratio) & (base > 0)
        if not pick.any():
            continue
        r, w = np.clip(ratio[pick], *RATIO_RANGE), base[pick]
        order = np.argsort(r, kind="stable")
        median = float(r[order][np.searchsorted(np.cumsum(w[order]), 0.5 * w.sum())])
        keep = pick.sum() / (pick.sum() + NEWCOMER_SHRINK)
        out[b] = float(np.exp(keep * np.log(median)))
    return out


def _fillable(X: np.ndarray) -> np.ndarray:
    """Copy where all-NaN columns become 0 (a column without a value can carry no split)."""
    empty = np.isnan(X).all(axis=0)
    if not empty.any():
        return X
    X = X.copy()
    X[:, empty] = 0.0
    return X


def _concat(parts: list[tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]]
            ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows of several years in a canonical order: by rep data key, then year."""
    X = pd.concat([p[0] for p in parts], ignore_index=True)
    ratio = np.concatenate([p[1] for p in parts])
    base = np.concatenate([p[2] for p in parts])
    keys = np.concatenate([p[3] for p in parts])
    year = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    order = np.lexsort((year, keys))
    return X.iloc[order].reset_index(drop=True), ratio[order], base[order], keys[order]
