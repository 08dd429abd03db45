"""Tracking process metrics (``track --activities``): actual to date against target, per rep and metric.

For every metric of the scenario's ``activities.metrics`` and every plan rep whose role
has a target there:

- ``sum`` metrics (visits): actual = the rep's rows summed to the as-of date; plan to date =
  the yearly target times the rep's elapsed share of its working days (as revenue's plan to
  date, hire date included); pace = actual / plan to date;
- ``mean`` metrics (conversion, satisfaction): actual = the mean of the rep's rows to the
  as-of date; plan to date = the target (a level is not pro-rated); pace = actual / target,
  or target / actual where ``better: lower`` (collection_days); a rep without rows has no
  pace and is red (nothing recorded is no evidence of the level).

Pace is coloured by the ``tracking`` thresholds, as revenue's. Rows of metrics the scenario
does not name are left out (and counted by the command).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from quotaopt.scenario import ActivitiesConfig
from quotaopt.tracking._status import pace_and_status, plan_to_date, round_significant

__all__ = ["ACTIVITY_STATUS_COLUMNS", "activity_attainment", "activity_status"]

#: Column order of status_activities.csv.
ACTIVITY_STATUS_COLUMNS = ["rep_id", "role", "metric", "target", "plan_to_date", "actual_to_date", "pace", "status"]


def _actual(rows: pd.DataFrame, ids: pd.Series, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Per rep: the sum or mean of its rows, and how many rows it has."""
    grouped = rows.groupby(rows["rep_id"].astype(str))["value"]
    count = grouped.size().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    value = (grouped.sum() if how == "sum" else grouped.mean()).reindex(ids).to_numpy(dtype=np.float64)
    return np.where(count > 0, value, 0.0 if how == "sum" else np.nan), count


def activity_status(activities: pd.DataFrame, config: ActivitiesConfig, rep_ids: pd.Series, roles: pd.Series,
                    hire_dates: pd.Series, plan_year: int, as_of: dt.date, red: float, green: float) -> pd.DataFrame:
    """The rows of status_activities.csv (see the module): by metric name, then rep id.

    Parameters
    ----------
    activities : DataFrame
        ``rep_id, date, metric, value`` of the plan year (``load_activities``).
    config : ActivitiesConfig
        The run's ``activities`` settings.
    rep_ids, roles, hire_dates : Series
        The plan's reps, in plan.csv order (hire NaT = employed all year).

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from quotaopt.scenario import ActivitiesConfig
    >>> config = ActivitiesConfig.model_validate({"metrics": {"visits": {"targets": {"ka": 100}}}})
    >>> rows = pd.DataFrame({"rep_id": ["R1"], "date": [pd.Timestamp("2027-03-01")], "metric": ["visits"],
    ...                      "value": [60.0]})
    >>> out = activity_status(rows, config, pd.Series(["R1"]), pd.Series(["ka"]), pd.Series([pd.NaT]), 2027,
    ...                       dt.date(2027, 12, 31), 0.85, 1.0)
    >>> out[["metric", "target", "actual_to_date", "pace", "status"]].values.tolist()
    [['visits', 100.0, 60.0, 0.6, 'red']]
    """
    ids = rep_ids.astype(str).reset_index(drop=True)
    role = roles.astype(str).reset_index(drop=True)
    upto = activities[pd.to_datetime(activities["date"]) <= pd.Timestamp(as_of)]
    # The rep's elapsed share of its working days in the year (plan_to_date gives it beside any periods).
    flat = pd.DataFrame({"rep_id": ids, "period": f"{plan_year}-Q1", "quota": 0.0})
    _, year_share = plan_to_date(flat, ids, hire_dates.reset_index(drop=True), plan_year, as_of)
    parts = []
    for name, metric in sorted(config.metrics.items()):  # by name: the manifest keeps keys sorted
        target = role.map(metric.targets).to_numpy(dtype=np.float64)
        has = ~np.isnan(target)
        if not has.any():
            continue
        actual, count = _actual(upto[upto["metric"] == name], ids, metric.aggregate)
        if metric.aggregate == "sum":
            plan_td = target * year_share
            pace, status = pace_and_status(plan_td, actual, red, green)
        else:
            plan_td = target
            ratio = actual / target if metric.better == "higher" else target / actual
            pace = round_significant(np.where(count > 0, ratio, np.nan))
            status = np.where(count == 0, "red", np.where(pace < red, "red", np.where(pace >= green, "green",
                                                                                     "yellow"))).astype(object)
        parts.append(pd.DataFrame({"rep_id": ids, "role": role, "metric": name, "target": target,
                                   "plan_to_date": np.round(plan_td, 4), "actual_to_date": np.round(actual, 4),
                                   "pace": pace, "status": status})[has].sort_values("rep_id", kind="stable"))
    if not parts:
        return pd.DataFrame(columns=ACTIVITY_STATUS_COLUMNS)
    return pd.DataFrame(pd.concat(parts, ignore_index=True)[ACTIVITY_STATUS_COLUMNS])


def activity_attainment(activities: pd.DataFrame, config: ActivitiesConfig, rep_id: str, role: str,
                        share: float = 1.0) -> dict[str, float]:
    """Attainment of each ``activity:<metric>`` of one rep over the rows given (``payout --activities``).

    A ``sum`` metric's target is the yearly target times ``share`` (a quarter of it for a
    quarterly plan); a ``mean`` metric's is the level; ``better: lower`` inverts the ratio.
    Metrics without a target for the role, or without rows of the rep, are left out.
    """
    rows = activities[activities["rep_id"].astype(str) == rep_id]
    out: dict[str, float] = {}
    for name, metric in config.metrics.items():
        target = metric.targets.get(role)  # type: ignore[call-overload]
        values = rows.loc[rows["metric"] == name, "value"].to_numpy(dtype=np.float64)
        if target is None or not len(values):
            continue
        if metric.aggregate == "sum":
            out[f"activity:{name}"] = float(values.sum() / (target * share)) if target > 0 else 0.0
        else:
            level = float(values.mean())
            out[f"activity:{name}"] = level / target if metric.better == "higher" else (
                target / level if level > 0 else 0.0)
    return out
