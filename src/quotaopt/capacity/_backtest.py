"""Backtest: fit the capacity model on years before ``Y``, predict ``Y``, score it against simple methods.

What is scored: every rep employed at some point in ``Y`` -- hires during ``Y``
included, since quotas are set for them too -- except a departed rep's last booking
year (probably partial; the same rule keeps it out of training). The target is the
rep's net bookings in ``Y``.

Methods, all scored on the same reps:

* ``model`` -- the :class:`~quotaopt.capacity._model.CapacityModel` P50 (and its P10-P90
  band), fitted as for a plan year: the company level of ``Y`` is forecast.
* ``model_realised_level`` -- the same model given the company level of ``Y`` as it
  happened: the rep part alone, so rep skill and the level forecast are scored apart.
* ``last_year`` -- bookings in ``Y - 1``.
* ``last_year_grown`` -- that times the company's trailing growth (``Y - 1`` over
  ``Y - 2``, on reps employed all of both years).
* ``naive_average`` -- the mean of the two.
* ``auto_ets`` -- statsforecast's AutoETS on each rep's yearly bookings (it falls back to
  the last value on series too short for it).
* ``team_equal`` -- the team's ``Y - 1`` bookings, grown, split equally per FTE-year
  among the team's scored reps; ``team_potential`` splits it by account potential
  (accounts.csv) or territory potential per rep.

A baseline that has nothing to say about a rep (a new hire has no ``Y - 1``) gives the
median of the established reps of the same role, times the share of ``Y`` employed, so
every method is scored on every rep.

Metrics: ``wape`` = sum |p - y| / sum |y|; ``mdape`` = median |p - y| / |y| over reps
with y != 0; ``bias`` = sum (p - y) / sum |y|; ``coverage_p10_p90`` = share of reps with
P10 <= y <= P90 (model rows). With the generator's ``truth`` (rep_id, year, capacity[,
capacity_with_shocks]), ``truth_wape`` scores each method against the true expected
bookings instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from quotaopt.capacity._calendar import observed_years
from quotaopt.capacity._estimate import fit_capacity
from quotaopt.capacity._features import training_rows
from quotaopt.capacity._model import CompanyView
from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.metrics import wape


def mdape(pred: np.ndarray, actual: np.ndarray) -> float:
    """Median absolute percentage error over the rows with a non-zero actual."""
    nz = actual != 0
    return float(np.median(np.abs(pred[nz] - actual[nz]) / np.abs(actual[nz]))) if nz.any() else float("nan")


def bias(pred: np.ndarray, actual: np.ndarray) -> float:
    """Signed total error over total absolute actual (positive = over-forecast)."""
    denom = float(np.abs(actual).sum())
    return float((pred - actual).sum() / denom) if denom > 0 else float("nan")


def _fill_new(values: np.ndarray, established: np.ndarray, ka: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Reps a baseline knows nothing about: role median of established reps x share of the year."""
    out = values.astype("float64").copy()
    pick = established & np.isfinite(values)
    overall = float(np.median(values[pick])) if pick.any() else 0.0
    for role in (0.0, 1.0):
        mine = pick & (ka == role)
        median = float(np.median(values[mine])) if mine.any() else overall
        fill = np.isnan(out) & (ka == role)
        out[fill] = median * share[fill]
    return np.nan_to_num(out)


def _auto_ets(view: CompanyView, rows: np.ndarray, year: int) -> np.ndarray:
    """statsforecast AutoETS per rep on the yearly bookings of the observed years before ``year``."""
    panel = view.panel
    cols = [j for j, y in enumerate(panel.years) if y < year]
    out = np.full(len(rows), np.nan)
    if not cols:
        return out
    shares = np.column_stack([panel.share(int(panel.years[j]))[rows] for j in cols])
    values = np.where(shares > 0, panel.total[rows][:, cols], np.nan)
    rep, step = np.nonzero(np.isfinite(values))
    if len(rep) == 0:
        return out
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Naive

    frame = pd.DataFrame({"unique_id": rep.astype("int64"), "ds": step.astype("int64") + 1,
                          "y": values[rep, step]})
    model = StatsForecast(models=[AutoETS(model="ZZN")], freq=1, n_jobs=1, fallback_model=Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecast = model.forecast(df=frame, h=1)
    column = [c for c in forecast.columns if c not in ("unique_id", "ds")][0]
    got = forecast.set_index("unique_id")[column]
    out[got.index.to_numpy(dtype="int64")] = got.to_numpy(dtype="float64")
    return out


def baselines(company: CompanyData, view: CompanyView, rows: np.ndarray, year: int) -> dict[str, np.ndarray]:
    """Predictions of the simple methods for ``rows`` (panel positions) in ``year``.

    Returns
    -------
    dict
        Method name -> predictions aligned with ``rows``.
    """
    panel = view.panel
    share = panel.share(year)[rows]
    share1, share2 = panel.share(year - 1)[rows], panel.share(year - 2)[rows]
    b1 = np.where(share1 > 0, panel.booked(year - 1)[rows], np.nan)
    b2 = np.where(share2 > 0, panel.booked(year - 2)[rows], np.nan)
    full_both = (share1 >= 1.0) & (share2 >= 1.0) & np.isfinite(b1) & np.isfinite(b2)
    prev, prev2 = b1[full_both].sum(), b2[full_both].sum()
    growth = float(prev / prev2) if full_both.any() and prev2 > 0 else 1.0
    ka = panel.ka[rows]
    established = share1 >= 1.0
    last = _fill_new(b1, established, ka, share)
    grown = _fill_new(b1 * growth, established, ka, share)
    out = {"last_year": last, "last_year_grown": grown, "naive_average": 0.5 * (last + grown),
           "auto_ets": _fill_new(_auto_ets(view, rows, year), established, ka, share)}
    # Team totals include reps who left since: their bookings were part of the team's year.
    team = panel.team[rows]
    team_total = np.bincount(panel.team, weights=np.nan_to_num(panel.booked(year - 1)),
                             minlength=len(panel.team_ids)) * growth
    fte_years = panel.fte[rows] * share

    def split(weight: np.ndarray) -> np.ndarray:
        weight = np.clip(np.nan_to_num(weight), 0.0, None)
        sums = np.bincount(team, weights=weight, minlength=len(panel.team_ids))
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(sums[team] > 0, weight / sums[team], 0.0)
        return team_total[team] * part

    out["team_equal"] = split(fte_years)
    if view.pools.owned is not None and np.isfinite(view.pools.owned["pot"].to_numpy()[rows]).any():
        out["team_potential"] = split(view.pools.owned["pot"].to_numpy()[rows] * fte_years)
    elif view.pools.territory is not None:
        out["team_potential"] = split(view.pools.territory["terr_pot_per_rep"].to_numpy()[rows] * fte_years)
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
        ``n``; ``median_ratio`` (median of actual / P50); ``share_below_p50`` (0.5 when
        calibrated); ``coverage_p10_p90`` (0.8 when calibrated); ``total_ratio``.
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
        ``years``, ``training_years``, ``methods`` (one dict per row) and ``model``
        (per scored year: the candidates the model weighed and how).
    """
    rows = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in table.astype(object).to_dict(orient="records")]
    return {"years": table.attrs.get("years"), "training_years": table.attrs.get("training_years"),
            "methods": rows, "model": table.attrs.get("model")}


def _truth_for(truth: pd.DataFrame, ids: np.ndarray, year: int, column: str) -> np.ndarray:
    part = truth.loc[truth["year"].astype("int64") == year].set_index(truth.columns[0].strip())
    part.index = part.index.astype(str)
    return part[column].reindex(ids).to_numpy(dtype="float64")


def _check_year(company: CompanyData, year: int) -> None:
    seen = observed_years(company)
    if year not in seen or year - 1 not in seen or year - 2 not in seen:
        span = f"{seen[0]}-{seen[-1]}" if seen else "none"
        raise InputError([Problem("bookings.csv", f"cannot backtest {year}: it needs full bookings for {year} and "
                                  f"the two years before it (observed years: {span})", column="year")])


def backtest(company: CompanyData, year: int | Sequence[int], quantiles: Sequence[float] = (0.1, 0.5, 0.9),
             random_state: int = 0, truth: pd.DataFrame | None = None, **params: object) -> pd.DataFrame:
    """Fit on the years before each scored year, predict it, and score against the simple methods.

    Parameters
    ----------
    company : CompanyData
    year : int or sequence of int
        Year(s) to score (a rolling origin when several); each and the two years
        before it must have full bookings.
    quantiles : sequence of float
    random_state : int
    truth : DataFrame, optional
        ``rep_id, year, capacity`` (and optionally ``capacity_with_shocks``), e.g. the
        generator's ``truth/capacity.csv``; adds ``truth_wape`` (and ``truth_wape_shocks``).
    **params
        Passed to :class:`~quotaopt.capacity.CapacityModel`.

    Returns
    -------
    DataFrame
        One row per year and method: ``year, method, n, wape, mdape, bias,
        coverage_p10_p90`` (NaN for the simple methods) and the truth columns when
        ``truth`` is given; with several years, one ``mean`` row per method after them.
        ``attrs`` holds ``years``, ``training_years`` and ``model`` (the candidates
        weighed and their weights, per year).

    Raises
    ------
    InputError
        A year cannot be backtested with this history.
    """
    years = [int(year)] if isinstance(year, (int, np.integer)) else sorted({int(y) for y in year})
    for y in years:
        _check_year(company, y)
    view = CompanyView.of(company)
    tables, models, training = [], {}, {}
    for y in years:
        model = fit_capacity(company, y, quantiles=quantiles, random_state=random_state, view=view,
                             **params)  # type: ignore[arg-type]
        rows = training_rows(view.panel, view.index, view.pools, y).rows
        actual = view.panel.booked(y)[rows]
        ids, q, _ = model.predict_year(company, y, [0.1, 0.5, 0.9], rows=rows, view=view)
        realised = view.index.realised_growth(y)
        rep_part = (model.predict_year(company, y, [0.1, 0.5, 0.9], rows=rows, view=view, growth=realised)[1]
                    if realised is not None else q)
        preds: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
            "model": (q[:, 1], q), "model_realised_level": (rep_part[:, 1], rep_part)}
        preds.update({k: (v, None) for k, v in baselines(company, view, rows, y).items()})
        records = []
        for method, (pred, band) in preds.items():
            row: dict[str, object] = {"year": y, "method": method, "n": len(actual), "wape": wape(pred, actual),
                                      "mdape": mdape(pred, actual), "bias": bias(pred, actual),
                                      "coverage_p10_p90": float("nan")}
            if band is not None:
                row["coverage_p10_p90"] = float(np.mean((band[:, 0] <= actual) & (actual <= band[:, -1])))
            if truth is not None:
                for column, name in (("capacity", "truth_wape"), ("capacity_with_shocks", "truth_wape_shocks")):
                    if column in truth.columns:
                        target = _truth_for(truth, ids, y, column)
                        ok = np.isfinite(target)
                        row[name] = wape(pred[ok], target[ok]) if ok.any() else float("nan")
            records.append(row)
        tables.append(pd.DataFrame(records))
        models[y] = model.summary()
        training[y] = list(model.training_years_)
    table = pd.concat(tables, ignore_index=True)
    if len(years) > 1:
        numeric = [c for c in table.columns if c not in ("year", "method")]
        mean = table.groupby("method", sort=False)[numeric].mean().reset_index()
        mean.insert(0, "year", "mean")
        table = pd.concat([table.astype({"year": object}), mean], ignore_index=True)
    table.attrs.update({"years": years, "year": years[-1], "training_years": training[years[-1]],
                        "model": {str(y): models[y] for y in years}})
    return table
