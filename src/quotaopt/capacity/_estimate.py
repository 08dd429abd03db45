"""Capacity: what each rep can be expected to book in the plan year, with honest quantiles.

:func:`fit_capacity` trains a :class:`~quotaopt.capacity._model.CapacityModel` on the
history and :func:`predict_capacity` applies it to the plan year; :func:`given_capacity`
takes capacities set by hand (capacity.csv).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from quotaopt.capacity._calendar import observed_years, too_little_history, training_years
from quotaopt.capacity._features import POOL_COLUMNS, TERRITORY_COLUMNS
from quotaopt.capacity._model import CapacityModel, CompanyView
from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem

#: Spread in log units assumed when capacity.csv leaves p10 or p90 empty:
#: a lognormal with sigma 0.2 gives p10 = 0.77 x p50 and p90 = 1.29 x p50.
GIVEN_SIGMA = 0.2
_Z90 = 1.2815515655446004  # standard normal 90% quantile
#: Smallest capacity handed downstream, as a share of the median P50 (quotas divide by it).
FLOOR_SHARE = 0.001


def fit_capacity(company: CompanyData, plan_year: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 random_state: int = 0, *, view: CompanyView | None = None, **params: Any) -> CapacityModel:
    """Train a :class:`CapacityModel` on every observed year before ``plan_year``.

    Each training year needs the year before it for history, so two full years of
    bookings are the minimum.

    Parameters
    ----------
    company : CompanyData
    plan_year : int
    quantiles : sequence of float
        Levels the model returns by default.
    random_state : int
        ``capacity.seed``: passed to the boosting (the model draws nothing at these settings).
    view : CompanyView, optional
        The company as the model reads it, when the caller has it already.
    **params
        Other :class:`CapacityModel` parameters.

    Raises
    ------
    InputError
        Too little history to train.
    """
    if not training_years(company, plan_year):
        raise InputError([too_little_history(plan_year)])
    model = CapacityModel(quantiles=tuple(quantiles), random_state=random_state, **params)
    try:
        return model.fit(company, plan_year, view=view)
    except ValueError as exc:  # e.g. every rep was hired after the history ends
        if "too few training rep-years" not in str(exc):
            raise
        rows = int(str(exc).split("(")[-1].rstrip(")"))
        raise InputError([too_little_history(plan_year, rows=rows)]) from None


def _floor(q: np.ndarray, mid: int) -> np.ndarray:
    """Strictly positive, non-crossing capacities (quotas divide by them).

    Each quantile is floored at the typical rep's band shape scaled to FLOOR_SHARE of
    the median P50, so a rep predicted at or below zero (e.g. a history of credit notes)
    keeps a band of the usual relative width rather than P10 = P50 = P90, which would
    claim certainty about the least known rep of all.
    """
    positive = q[:, mid] > 0
    if not positive.any():
        return np.maximum.accumulate(np.maximum(q, 1.0), axis=1)
    shape = np.median(q[positive] / q[positive, mid:mid + 1], axis=0)
    floors = FLOOR_SHARE * float(np.median(q[positive, mid])) * np.maximum(shape, FLOOR_SHARE)
    return np.maximum.accumulate(np.maximum(q, floors[None, :]), axis=1)


def capacity_column(q: float) -> str:
    """Output column of quantile ``q``: 0.1 -> ``capacity_p10``, 0.025 -> ``capacity_p2.5``."""
    return f"capacity_p{round(q * 100, 6):g}"


def predict_capacity(model: CapacityModel, company: CompanyData, plan_year: int,
                     quantiles: Sequence[float] | None = None, *, view: CompanyView | None = None) -> pd.DataFrame:
    """Capacity quantiles of every active rep employed during ``plan_year``.

    Parameters
    ----------
    model : CapacityModel
        Fitted, e.g. by :func:`fit_capacity` or loaded from a model folder.
    company : CompanyData
    plan_year : int
        Must follow the last complete year of bookings (its features need it).
    quantiles : sequence of float, optional
        Levels to return besides 0.1, 0.5 and 0.9 (default: the model's own).
    view : CompanyView, optional
        The company as the model reads it, when the caller has it already.

    Returns
    -------
    DataFrame
        ``rep_id, capacity_p10, capacity_p50, capacity_p90`` (and a ``capacity_pXX``
        column per extra quantile), in reps.csv order; all values > 0 (floored at
        0.1% of the median P50) and non-decreasing across quantiles. Active reps hired
        after ``plan_year`` are not employed in it and are left out. ``attrs["level"]``
        records the company-level forecast used.

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
    view = CompanyView.of(company) if view is None else view
    panel = view.panel
    active = pd.Index(panel.ids).isin(company.active_reps["rep_id"].astype(str))
    rows = np.flatnonzero(panel.employed(plan_year) & (panel.share(plan_year) > 0) & active)
    missing = [c for c in model.feature_names_in_ if c in POOL_COLUMNS + TERRITORY_COLUMNS
               and not _available(view, c)]
    if missing:
        files = sorted({"accounts.csv" for c in missing} | {"territories.csv" for c in missing
                                                             if c in TERRITORY_COLUMNS})
        raise InputError([Problem(", ".join(files), f"the capacity model needs features this data cannot give "
                                  f"({', '.join(missing[:5])}); supply the file or retrain")])
    wanted = model.quantiles if quantiles is None else quantiles
    levels = sorted({0.1, 0.5, 0.9} | {round(float(q), 9) for q in wanted})
    ids, q, forecast = model.predict_year(company, plan_year, levels, rows=rows, view=view)
    q = _floor(q, levels.index(0.5))
    order = {rep: i for i, rep in enumerate(company.reps["rep_id"].astype(str))}
    out = pd.DataFrame({"rep_id": ids})
    for j, level in enumerate(levels):
        out[capacity_column(level)] = q[:, j]
    out["_order"] = out["rep_id"].map(order)
    out = out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    out.attrs["level"] = None if forecast is None else forecast.record()
    return out


def estimate_capacity(company: CompanyData, plan_year: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                      random_state: int = 0) -> tuple[CapacityModel, pd.DataFrame]:
    """:func:`fit_capacity` then :func:`predict_capacity` on one reading of the company.

    Examples
    --------
    >>> import tempfile
    >>> from quotaopt.io import load_company
    >>> from quotaopt.datasets import generate_company
    >>> company = load_company(generate_company(tempfile.mkdtemp(), n_reps=30, years=3, seed=2, end_year=2026))
    >>> model, capacity = estimate_capacity(company, 2027)
    >>> bool((capacity["capacity_p10"] <= capacity["capacity_p50"]).all())
    True
    """
    view = CompanyView.of(company)
    model = fit_capacity(company, plan_year, quantiles, random_state, view=view)
    return model, predict_capacity(model, company, plan_year, view=view)


def _available(view: CompanyView, column: str) -> bool:
    if column in POOL_COLUMNS:
        return view.pools.owned is not None
    return view.pools.territory is not None


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
