"""Annual quotas -> quarters -> months -> ISO weeks, with seasonality, ramp and exact rounding.

Rules (contract §2 ``periods`` and §4 ``plan_periods.csv``):

- Month weights come from the seasonality setting: ``learned`` (a row of
  :func:`quotaopt.periods.learn_month_weights`, looked up by the rep's ``group_by``
  column, else ``__all__``, else flat), ``flat`` (1/12 each) or four quarter weights
  (months inside a quarter then follow the learned row if one is given, else 1/3 each).
- Weeks split each month by working days (Monday-Friday; no public holidays). Week
  labels are ISO weeks of the plan year; the few plan-year days that ISO assigns to the
  neighbouring year (e.g. Fri 1 Jan 2027 is 2026-W53) are folded into the plan year's
  first or last ISO week, so every label carries the plan year.
- New hires: no quota before the hire date (the hire month counts its working days from
  the hire date on); each month is weighted by ``ramp[quarter of tenure]``, tenure
  counted in calendar months from the hire month. The annual quota itself is taken as
  given (the allocation already sized it for the ramp); the ramp only shapes it.
- Rounding is hierarchical (year -> quarters -> months -> week pieces) to whole
  ``unit``s by largest remainder, so every level sums exactly to the level above and
  each rep's periods to its quota. Remainders are chosen with error feedback across the
  reps of a team (a rep's tie-breaks lean toward periods the team's earlier reps
  rounded down), so a team's period totals stay within about one unit of its exact
  seasonal split instead of piling every rep's extra unit on the same months. "Earlier"
  is the order of :func:`quotaopt.ordering.data_order` (largest quota first, then hire
  date and role, the id last), so shuffled rows or a renamed rep move no other rep's
  periods. A quota
  that is not a whole number of units keeps its remainder in its largest period.
- With ``win_rate`` set: ``deals = quota / average deal size`` and
  ``touches = deals / win_rate`` per period (2 decimals). A rep without a deal size
  history takes the median of its role, else of everyone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from quotaopt.calendar import PlanCalendar, month_tenure, period_labels, ramp_share
from quotaopt.errors import InputError, Problem
from quotaopt.money import amounts, split_whole
from quotaopt.ordering import data_order
from quotaopt.periods._seasonality import ALL
from quotaopt.scenario import PeriodsConfig

_EPS = 1e-9
#: The order reps are rounded in within a team (quotaopt.ordering); quota largest first.
PERIOD_ORDER = ("team_id", "quota", "hire_date", "role")


def _round_rows(values: np.ndarray, totals: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Round each row of non-negative ``values`` to integers summing to ``totals``.

    Largest remainder per row; remainders are ranked after adding the group's carried
    rounding error, so rows of one group (processed in order) share out their extra units.
    """
    n, k = values.shape
    base = np.floor(values + _EPS)
    frac = values - base
    need = np.rint(totals - base.sum(axis=1)).astype(np.int64)
    out = base.astype(np.int64)
    if n == 0 or k == 0:
        return out
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    sorted_groups = inverse[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - first
    carry = np.zeros((inverse.max() + 1, k))
    cols = np.arange(k)
    for pos in range(int(position.max()) + 1):
        rows = np.flatnonzero(position == pos)
        g = inverse[rows]
        score = np.where(frac[rows] > _EPS, frac[rows] + carry[g], -np.inf)
        rank = np.empty_like(rows, shape=(len(rows), k))
        ranked = np.argsort(-score, axis=1, kind="stable")
        rank[np.arange(len(rows))[:, None], ranked] = cols
        out[rows] += rank < need[rows, None]
        carry[g] += values[rows] - out[rows]
    return out


def _month_shape(
    reps: pd.DataFrame, config: PeriodsConfig, month_weights: pd.DataFrame | None, group_by: str
) -> np.ndarray:
    """Seasonal month weights per rep (reps x 12), each row summing to 1."""
    n = len(reps)
    flat = np.full((n, 12), 1.0 / 12)
    if month_weights is None or config.seasonality == "flat":
        learned = flat
    else:
        mw = month_weights.reindex(columns=range(1, 13)).astype(float)
        mw = mw.div(mw.sum(axis=1), axis=0)
        default = mw.loc[ALL].to_numpy() if ALL in mw.index else np.full(12, 1.0 / 12)
        keys = reps[group_by].astype(str) if group_by in reps else pd.Series([ALL] * n)
        learned = np.array([mw.loc[k].to_numpy() if k in mw.index else default for k in keys])
        learned = np.nan_to_num(learned, nan=1.0 / 12)
    if config.seasonality in ("learned", "flat"):
        return learned
    quarters = np.asarray(config.seasonality, dtype=np.float64)
    within = learned.reshape(n, 4, 3)
    qsum = within.sum(axis=2, keepdims=True)
    within = np.where(qsum > 0, within / np.where(qsum > 0, qsum, 1.0), 1.0 / 3)
    return (within * quarters[None, :, None]).reshape(n, 12)


def _ramp_factors(hire: pd.Series, plan_year: int, ramp: Sequence[float]) -> np.ndarray:
    """ramp[quarter of tenure] per rep and month (reps x 12); 0 before the hire month."""
    tenure = month_tenure(hire, plan_year)
    factor = np.where(tenure < 0, 0.0, ramp_share(tenure // 3, ramp))
    ramped = ramp_share(np.array([len(ramp)]), ramp)[0]  # the last share: no hire date counts as ramped
    return np.where(hire.notna().to_numpy()[:, None], factor, ramped)


def _deal_sizes(reps: pd.DataFrame, avg_deal_size: pd.Series | None) -> np.ndarray:
    sizes = (avg_deal_size if avg_deal_size is not None else pd.Series(dtype=float)).astype(float)
    sizes = sizes[sizes > 0]
    per_rep = reps["rep_id"].map(sizes)
    if "role" in reps:
        role_median = reps.assign(s=per_rep).groupby("role")["s"].transform("median")
        per_rep = per_rep.fillna(role_median)
    per_rep = per_rep.fillna(sizes.median() if len(sizes) else np.nan)
    if per_rep.isna().any():
        raise InputError([Problem("scenario", "periods.win_rate is set but no rep has a positive average "
                                  "deal size in the history", column="periods.win_rate")])
    return per_rep.to_numpy(dtype=np.float64)


def decompose(
    quotas: pd.DataFrame,
    plan_year: int,
    config: PeriodsConfig,
    unit: float,
    month_weights: pd.DataFrame | None,
    ramp: Sequence[float],
    avg_deal_size: pd.Series | None = None,
    group_by: str = "role",
) -> pd.DataFrame:
    """Split each rep's annual quota over the plan year's periods.

    Parameters
    ----------
    quotas : DataFrame
        ``rep_id, team_id, quota`` and optionally ``role``, ``hire_date``.
    plan_year : int
        The plan year.
    config : PeriodsConfig
        ``split``, ``seasonality`` and ``win_rate``.
    unit : float
        Period quotas are whole multiples of this (``allocation.unit``).
    month_weights : DataFrame or None
        From :func:`~quotaopt.periods.learn_month_weights`; None means flat.
    ramp : sequence of float
        New-hire quota share by quarter of tenure (``allocation.ramp``).
    avg_deal_size : Series, optional
        ``rep_id -> average deal size``; needed when ``config.win_rate`` is set.
    group_by : str
        Column of ``quotas`` whose value selects the ``month_weights`` row.

    Returns
    -------
    DataFrame
        ``rep_id, period, quota[, deals, touches]``, sorted by rep then period; each
        rep's periods sum exactly to its quota.

    Raises
    ------
    InputError
        A negative or non-finite quota, or a positive quota with no working day after
        the hire date in the plan year.
    """
    if unit <= 0:
        raise ValueError(f"unit must be > 0, got {unit}")
    reps = quotas.assign(rep_id=quotas["rep_id"].astype(str), team_id=quotas["team_id"].astype(str))
    # Rounding errors are carried from rep to rep within a team, so the reps go in an order set
    # by their data (largest quota first), not by id: renaming one rep moves no other's periods.
    reps = reps.iloc[data_order(reps, PERIOD_ORDER, "rep_id", descending=("quota",))].reset_index(drop=True)
    q = reps["quota"].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(q) | (q < 0)
    if bad.any():
        raise InputError([Problem("plan", f"rep {r}: quota must be a finite number >= 0, got {v}")
                          for r, v in zip(reps["rep_id"][bad], q[bad], strict=True)])
    cal = PlanCalendar.build(plan_year)
    n = len(reps)
    hire = pd.to_datetime(reps["hire_date"]) if "hire_date" in reps else pd.Series(pd.NaT, index=reps.index)
    hire_day = (hire.dt.year == plan_year) * (hire.dt.day_of_year.fillna(1) - 1)
    hire_idx = np.where(hire.dt.year > plan_year, len(cal.days), hire_day).astype(np.int64)
    month_wd = cal.workdays_from(cal.month_start, cal.month_end, np.zeros(1, dtype=np.int64))[0]
    avail = cal.workdays_from(cal.month_start, cal.month_end, hire_idx) / month_wd
    eff = _month_shape(reps, config, month_weights, group_by) * _ramp_factors(hire, plan_year, ramp) * avail
    total = eff.sum(axis=1)
    stuck = (q > 0) & (total <= 0)
    if stuck.any():
        raise InputError([Problem("plan", f"rep {r}: quota {v:,.0f} but no working day in {plan_year} after its "
                                  "hire date (or every month weighted 0)")
                          for r, v in zip(reps["rep_id"][stuck], q[stuck], strict=True)])
    share = eff / np.where(total > 0, total, 1.0)[:, None]
    n_units, residual = split_whole(q, unit)  # whole multiples counted exactly despite float noise
    team = pd.factorize(reps["team_id"])[0]

    # Year -> quarters -> months, each level rounded with team-level error feedback.
    qshare = share.reshape(n, 4, 3).sum(axis=2)
    uq = _round_rows(n_units[:, None] * qshare, n_units, team)
    within = share.reshape(n, 4, 3) / np.where(qshare > 0, qshare, 1.0)[:, :, None]
    um = _round_rows((uq[:, :, None] * within).reshape(n * 4, 3), uq.reshape(-1),
                     np.repeat(team * 4, 4) + np.tile(np.arange(4), n)).reshape(n, 12)
    if config.split == "quarter":
        units, ideal, labels = uq, qshare, period_labels(plan_year, "quarter")
    elif config.split == "month":
        units, ideal, labels = um, share, period_labels(plan_year, "month")
    else:
        units, ideal, labels = _weeks(cal, um, share, hire_idx, team)
    out = amounts(units, unit).astype(np.float64)
    # A quota that is not a whole number of units keeps the remainder in its largest period.
    top = np.argmax(ideal, axis=1)
    out[np.arange(n), top] += residual
    by_id = np.argsort(reps["rep_id"].to_numpy(), kind="stable")  # the file lists reps by id
    out = out[by_id]
    frame = pd.DataFrame({
        "rep_id": np.repeat(reps["rep_id"].to_numpy()[by_id], len(labels)),
        "period": np.tile(np.asarray(labels, dtype=object), n),
        "quota": out.reshape(-1),
    })
    frame["period"] = frame["period"].astype(str)
    if config.win_rate is not None:
        size = np.repeat(_deal_sizes(reps, avg_deal_size)[by_id], len(labels))
        frame["deals"] = np.round(frame["quota"].to_numpy() / size, 2)
        frame["touches"] = np.round(frame["quota"].to_numpy() / size / config.win_rate, 2)
    return frame


def _weeks(
    cal: PlanCalendar, um: np.ndarray, share: np.ndarray, hire_idx: np.ndarray, team: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split month units into month-week pieces by working days, then sum pieces per week."""
    n = len(um)
    piece_wd = cal.workdays_from(cal.piece_start, cal.piece_end, hire_idx).astype(np.float64)
    month_wd = np.zeros((n, 12))
    np.add.at(month_wd.T, cal.piece_month, piece_wd.T)
    slot = np.zeros(len(cal.piece_month), dtype=np.int64)
    for m in range(12):
        idx = np.flatnonzero(cal.piece_month == m)
        slot[idx] = np.arange(len(idx))
    width = int(slot.max()) + 1
    frac = np.zeros((n, 12, width))
    denom = month_wd[:, cal.piece_month]
    frac[:, cal.piece_month, slot] = np.divide(piece_wd, denom, out=np.zeros_like(piece_wd), where=denom > 0)
    values = (um[:, :, None] * frac).reshape(n * 12, width)
    groups = np.repeat(team * 12, 12) + np.tile(np.arange(12), n)
    pieces = _round_rows(values, um.reshape(-1), groups).reshape(n, 12, width)[:, cal.piece_month, slot]
    n_weeks = len(cal.week_labels)
    units = np.zeros((n, n_weeks), dtype=np.int64)
    np.add.at(units.T, cal.piece_week, pieces.T)
    ideal = np.zeros((n, n_weeks))
    np.add.at(ideal.T, cal.piece_week, (share[:, cal.piece_month] * frac[:, cal.piece_month, slot]).T)
    return units, ideal, list(cal.week_labels)


def quarter_quotas(
    quotas: pd.DataFrame,
    plan_year: int,
    config: PeriodsConfig,
    unit: float,
    month_weights: pd.DataFrame | None,
    ramp: Sequence[float],
    group_by: str = "role",
) -> pd.DataFrame:
    """Each rep's quarter quotas as columns ``quota_q1..quota_q4`` (for the simulator).

    Rounding is hierarchical, so these are exactly the quarter sums of any month or week
    decomposition made with the same inputs.
    """
    cfg = config.model_copy(update={"split": "quarter", "win_rate": None})
    long = decompose(quotas, plan_year, cfg, unit, month_weights, ramp, group_by=group_by)
    wide = long.assign(q=long["period"].str[-1].astype(int)).pivot(index="rep_id", columns="q", values="quota")
    wide.columns = [f"quota_q{c}" for c in wide.columns]
    return wide.reset_index()
