"""Tracking from the pipeline: opportunities in, the chance of making the quarter out.

- :mod:`~quotaopt.tracking.pipeline.conversion`: what past snapshots (or won/lost history)
  teach about an open opportunity's chance to close won within a horizon, its amount and
  its slippage, shrunk toward pooled rates where data is thin;
- :mod:`~quotaopt.tracking.pipeline.forecast`: closed + pipeline + not yet in the pipeline,
  drawn in the tracking's correlated Monte Carlo;
- :mod:`~quotaopt.tracking.pipeline.outlook`: the quarter (``--horizon``) and the year per rep
  and unit, the columns ``track`` adds to status.csv;
- :mod:`~quotaopt.tracking.pipeline.funnel`: the funnel view of status.html.

Reading and checking the file is :func:`quotaopt.io.load_opportunities` (the disk layer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.tracking.pipeline.outlook import (
    QUARTER_COLUMNS,
    Outlook,
    outlook,
    parse_horizon,
    target_quarter,
)

__all__ = ["QUARTER_COLUMNS", "Outlook", "add_quarter_columns", "outlook", "parse_horizon", "target_quarter"]

_MONEY = ("quarter_quota", "quarter_actual", "quarter_p10", "quarter_p50", "quarter_p90", "pipeline_open",
          "pipeline_weighted")


def add_quarter_columns(status: pd.DataFrame, plan: pd.DataFrame, units: pd.DataFrame, view: Outlook) -> pd.DataFrame:
    """status.csv with :data:`QUARTER_COLUMNS` appended (matched by kind and id, rounded for stable bytes)."""
    by_rep = view.reps.set_index(plan["rep_id"].astype("str").to_numpy())
    by_unit = view.units.set_index(units["unit_id"].astype("str").to_numpy())
    is_rep = (status["kind"] == "rep").to_numpy()
    ids = status["id"].astype("str")
    out = status.copy()
    for column in QUARTER_COLUMNS:
        values = np.where(is_rep, ids.map(by_rep[column]).to_numpy(dtype=object),
                          ids.map(by_unit[column]).to_numpy(dtype=object))
        out[column] = values
    for column in _MONEY:
        out[column] = out[column].astype(np.float64).round(2)
    out["p_attain_quarter"] = out["p_attain_quarter"].astype(np.float64).round(4)
    out["pipeline_coverage"] = out["pipeline_coverage"].astype(np.float64).round(4)
    return out
