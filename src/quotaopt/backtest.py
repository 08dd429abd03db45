"""Backtest: fit the capacity model on years before ``Y``, predict ``Y``, score it.

What is scored: every rep employed at some point in ``Y`` -- hires during ``Y``
included, since quotas are set for them too -- except a departed rep's last
booking year (no departure date exists, so that year is probably partial; the
same rule keeps it out of training). The target is the rep's net bookings in ``Y``.

Methods, all scored on the same reps:

* ``model`` -- :class:`~quotaopt.capacity.CapacityModel` P50 (and its P10-P90 band),
  fitted as for a plan year (:func:`~quotaopt.capacity.fit_capacity` for ``Y``): the
  company level of ``Y`` is forecast from the years before it.
* ``last_year`` -- bookings in ``Y - 1``.
* ``last_year_grown`` -- that times the company's trailing growth (``Y - 1`` over
  ``Y - 2``, on reps employed all of both years).
* ``team_equal`` -- the team's ``Y - 1`` bookings, grown, split equally per FTE-year
  (fte x share of ``Y`` employed) among the team's scored reps.
* ``team_potential`` -- the same team total split by each rep's account potential
  (accounts.csv), or by territory potential per rep when only that exists.

A baseline that has nothing to say about a rep (a new hire has no ``Y - 1``) gives
the median of the established reps of the same role, times the share of ``Y``
employed, so every method is scored on every rep.

Metrics: ``wape`` = sum |p - y| / sum |y|; ``mdape`` = median |p - y| / |y| over reps
with y != 0; ``bias`` = sum (p - y) / sum |y| (positive: over-forecast);
``coverage_p10_p90`` = share of reps with P10 <= y <= P90 (model only). With the
generator's ``truth`` (rep_id, year, capacity[, capacity_with_shocks]), ``truth_wape``
scores each method against the true expected bookings instead.

:func:`calibration` scores capacity quantiles against the actuals of a plan year
(median actual / P50, share below P50, P10-P90 coverage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from quotaopt.capacity import fit_capacity
from quotaopt.data import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.features import model_columns, observed_years, training_set

#: History years the baselines read (``b1`` and ``b2``).
BASELINE_DEPTH = 2


def wape(pred: np.ndarray, actual: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |p - y| / sum |y|."""
    denom = float(np.abs(actual).sum())
    return float(np.abs(pred - actual).sum() / denom) if denom > 0 else float("nan")


def mdape(pred: np.ndarray, actual: np.ndarray) -> float:
    """Median absolute percentage error over the rows with a non-zero actual."""
    nz = actual != 0
    return float(np.median(np.abs(pred[nz] - actual[nz]) / np.abs(actual[nz]))) if nz.any() else float("nan")


def bias(pred: np.ndarray, actual: np.ndarray) -> float:
    """Signed total error over total absolute actual (positive = over-forecast)."""
    denom = float(np.abs(actual).sum())
    return float((pred - actual).sum() / denom) if denom > 0 else float("nan")


def _fill_new(values: pd.Series, X: pd.DataFrame) -> pd.Series:
    """Reps a baseline knows nothing about: role median of established reps x share of the year."""
    established = X["share1"] >= 1.0
    role = X["role_ka"]
    medians = values.where(established).groupby(role).median()
    fallback = role.map(medians).fillna(float(values.where(established).median())) * X["share"]
    return values.fillna(fallback).fillna(0.0)


def baselines(X: pd.DataFrame, company: CompanyData, year: int) -> dict[str, np.ndarray]:
    """Predictions of the simple methods for the rows of ``X`` (features of ``year``).

    Parameters
    ----------
    X : DataFrame
        :func:`~quotaopt.features.rep_year_features` rows of ``year`` with at least
        two years of history (``depth >= 2``: the growth baselines need ``b2``).
    company : CompanyData
    year : int

    Returns
    -------
    dict
        Method name -> predictions aligned with ``X``.
    """
    full_both = (X["share1"] >= 1.0) & (X["share2"] >= 1.0)
    prev, prev2 = X["b1"].where(full_both).sum(), X["b2"].where(full_both).sum()
    growth = float(prev / prev2) if full_both.any() and prev2 > 0 else 1.0
    out = {"last_year": _fill_new(X["b1"], X).to_numpy(),
           "last_year_grown": _fill_new(X["b1"] * growth, X).to_numpy()}
    # Team totals include reps who left since: their bookings were part of the team's year.
    b = company.bookings
    team_of = company.reps.set_index("rep_id")["team_id"]
    last = b.loc[b["date"].dt.year == year - 1]
    team_total = last.groupby(last["rep_id"].map(team_of))["amount"].sum() * growth
    fte_years = X["fte"] * X["share"]

    def split(weight: pd.Series) -> np.ndarray:
        weight = weight.clip(lower=0.0)
        share = weight / weight.groupby(X["team_id"]).transform("sum").replace(0.0, np.nan)
        return (X["team_id"].map(team_total).fillna(0.0) * share.fillna(0.0)).to_numpy()

    out["team_equal"] = split(fte_years)
    if "pot" in X.columns and X["pot"].notna().any():
        out["team_potential"] = split(X["pot"].fillna(0.0) * fte_years)
    elif "terr_pot_per_rep" in X.columns and X["terr_pot_per_rep"].notna().any():
        out["team_potential"] = split(X["terr_pot_per_rep"].fillna(0.0) * fte_years)
    return out


def calibration(capacity: pd.DataFrame, actual: pd.Series) -> dict[str, float]:
    """How actual bookings fall against predicted capacity quantiles (e.g. of the plan year).

    Parameters
    ----------
    capacity : DataFrame
        ``rep_id, capacity_p10, capacity_p50, capacity_p90``, e.g. from
        :func:`~quotaopt.capacity.predict_capacity`.
    actual : Series
        Bookings per ``rep_id`` (index) over the same period; a rep missing from it
        booked nothing.

    Returns
    -------
    dict
        ``n``; ``median_ratio`` (median of actual / P50: 1 when the P50 is a median);
        ``share_below_p50`` (0.5 when calibrated); ``coverage_p10_p90`` (0.8 when
        calibrated); ``total_ratio`` (sum of actuals / sum of P50s, above 1 for
        skewed outcomes even when calibrated).
    """
    cap = capacity.set_index("rep_id")
    got = actual.reindex(cap.index).fillna(0.0).to_numpy(dtype="float64")
    p10, p50, p90 = (cap[f"capacity_p{q}"].to_numpy(dtype="float64") for q in (10, 50, 90))
    return {"n": float(len(cap)), "median_ratio": float(np.median(got / p50)),
            "share_below_p50": float(np.mean(got < p50)),
            "coverage_p10_p90": float(np.mean((p10 <= got) & (got <= p90))),
            "total_ratio": float(got.sum() / p50.sum())}


def table_records(table: pd.DataFrame) -> dict[str, object]:
    """The backtest table as JSON-ready data (NaN becomes None), for backtest.json.

    Returns
    -------
    dict
        ``year``, ``training_years`` and ``methods`` (one dict per row).
    """
    rows = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in table.astype(object).to_dict(orient="records")]
    return {"year": table.attrs.get("year"), "training_years": table.attrs.get("training_years"), "methods": rows}


def _truth_for(truth: pd.DataFrame, X: pd.DataFrame, year: int, column: str) -> np.ndarray:
    part = truth.loc[truth["year"].astype("int64") == year].set_index(truth.columns[0].strip())
    return part[column].reindex(X.index).to_numpy(dtype="float64")


def backtest(company: CompanyData, year: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
             random_state: int = 0, truth: pd.DataFrame | None = None, **params: object) -> pd.DataFrame:
    """Fit on the years before ``year``, predict ``year``, and score against baselines.

    Parameters
    ----------
    company : CompanyData
    year : int
        Year to score; it and the year before it must have full bookings, plus one
        more year before for training.
    quantiles : sequence of float
        Model quantiles; they must include 0.1, 0.5 and 0.9 (the band scored is P10-P90).
    random_state : int
    truth : DataFrame, optional
        ``rep_id, year, capacity`` (and optionally ``capacity_with_shocks``), e.g. the
        generator's ``truth/capacity.csv``; adds ``truth_wape`` (and
        ``truth_wape_shocks``).
    **params
        Passed to :class:`~quotaopt.capacity.CapacityModel`.

    Returns
    -------
    DataFrame
        One row per method: ``method, n, wape, mdape, bias, coverage_p10_p90`` (NaN for
        baselines) and the truth columns when ``truth`` is given. ``attrs`` holds
        ``year`` and ``training_years``.

    Raises
    ------
    InputError
        ``year`` cannot be backtested with this history.
    """
    seen = observed_years(company)
    if year not in seen or year - 1 not in seen or year - 2 not in seen:
        span = f"{seen[0]}-{seen[-1]}" if seen else "none"
        raise InputError([Problem("bookings.csv", f"cannot backtest {year}: it needs full bookings for {year} and "
                                  f"the two years before it (observed years: {span})", column="year")])
    model = fit_capacity(company, year, quantiles=quantiles, random_state=random_state, **params)  # type: ignore[arg-type]
    X, y = training_set(company, [year], as_of=year)  # the level of the scored year is forecast
    actual = y.to_numpy(dtype="float64")
    q = model.predict_quantiles(X[model_columns(X)], [0.1, 0.5, 0.9])
    # The same rows with the history the baselines need, whatever depth the model had.
    X_base, _ = training_set(company, [year], as_of=year, depth=BASELINE_DEPTH)
    preds = {"model": q[:, 1], **baselines(X_base, company, year)}
    rows = []
    for method, pred in preds.items():
        row: dict[str, object] = {"method": method, "n": len(actual), "wape": wape(pred, actual),
                                  "mdape": mdape(pred, actual), "bias": bias(pred, actual),
                                  "coverage_p10_p90": float("nan")}
        if method == "model":
            row["coverage_p10_p90"] = float(np.mean((q[:, 0] <= actual) & (actual <= q[:, -1])))
        if truth is not None:
            for column, name in (("capacity", "truth_wape"), ("capacity_with_shocks", "truth_wape_shocks")):
                if column in truth.columns:
                    target = _truth_for(truth, X, year, column)
                    ok = np.isfinite(target)
                    row[name] = wape(pred[ok], target[ok]) if ok.any() else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update({"year": year, "training_years": list(model.training_years_)})
    return table
