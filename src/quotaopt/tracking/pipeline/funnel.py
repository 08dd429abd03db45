"""The funnel view of status.html: weekly stage conversion by unit, and stalled opportunities.

- **Conversion heatmap.** Between two consecutive snapshots an opportunity open at stage
  ``s`` *advances* when the later snapshot shows it at a later stage or it was won by then.
  The learned rate of a stage is its advance share over every pair of snapshots in the file;
  a cell (week, unit) shows how many advanced against how many the learned rates expected
  (ratio 1 = as usual, below 1 = slower), for the last :data:`HEATMAP_WEEKS` weeks and the
  units just below the top of the tree.
- **Stalled.** An open opportunity has been in its stage since the first snapshot that shows
  it there; the usual time in a stage is the :data:`STALL_QUANTILE` quantile of how long the
  opportunities that left it stayed (entered inside the file's snapshots, so the time is
  known). Past that it is stalled. With one snapshot only the age since created can be
  read, against the same quantile of the won opportunities' cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quotaopt.tracking.pipeline.conversion import latest_rows, outcome_of, with_codes

HEATMAP_WEEKS = 13
STALL_QUANTILE = 0.9
#: Stalled rows listed on the page (status.csv's sibling stalled.csv holds them all).
STALLED_SHOWN = 200


@dataclass
class Funnel:
    """Heatmap cells, stalled opportunities and the usual days per stage.

    Attributes
    ----------
    heatmap : DataFrame
        ``week, unit_id, opportunities, advanced, expected, ratio``.
    stalled : DataFrame
        ``rep_id, opportunity_id, stage, days_in_stage, usual_days, amount, close_date``,
        longest stalled first.
    usual_days : dict
        Stage -> days (the quantile), where known.
    basis : str
        ``snapshots`` or ``age`` (one snapshot: age since created).
    """

    heatmap: pd.DataFrame = field(default_factory=pd.DataFrame)
    stalled: pd.DataFrame = field(default_factory=pd.DataFrame)
    usual_days: dict[str, float] = field(default_factory=dict)
    basis: str = "snapshots"


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    delta = pd.to_timedelta(later.to_numpy() - earlier.to_numpy())
    return pd.Series(np.asarray(delta / pd.Timedelta(days=1), dtype=np.float64), index=later.index)


def _heatmap(opps: pd.DataFrame, unit_of: pd.Series, won_on: np.ndarray) -> pd.DataFrame:
    dates = np.sort(opps["snapshot_date"].unique())
    if len(dates) < 2:
        return pd.DataFrame(columns=["week", "unit_id", "opportunities", "advanced", "expected", "ratio"])
    snap = np.searchsorted(dates, opps["snapshot_date"].to_numpy())
    codes = opps["oid"].to_numpy()
    # The stage of each opportunity at each snapshot, looked up by one integer key.
    key = pd.Index(codes * len(dates) + snap)
    stage = opps["stage_index"].to_numpy()
    rows = np.flatnonzero((opps["status"] == "open").to_numpy() & (snap < len(dates) - 1))
    found = key.get_indexer(pd.Index(codes[rows] * len(dates) + snap[rows] + 1))
    stage_then = np.where(found >= 0, stage[np.maximum(found, 0)], -1)
    later = dates[snap[rows] + 1]
    won_by = won_on[codes[rows]]
    advanced = (stage_then > stage[rows]) | (~np.isnat(won_by) & (won_by <= later))
    frame = pd.DataFrame({"week": dates[snap[rows]], "stage": stage[rows],
                          "unit_id": opps["rep_id"].to_numpy()[rows], "advanced": advanced.astype(float)})
    frame["unit_id"] = frame["unit_id"].map(unit_of).fillna("")
    frame["expected"] = frame.groupby("stage")["advanced"].transform("mean")
    recent = frame[frame["week"] >= dates[max(0, len(dates) - 1 - HEATMAP_WEEKS)]]
    cells = recent.groupby(["week", "unit_id"]).agg(opportunities=("advanced", "size"), advanced=("advanced", "sum"),
                                                   expected=("expected", "sum")).reset_index()
    cells["ratio"] = np.divide(cells["advanced"], cells["expected"], out=np.full(len(cells), np.nan),
                               where=cells["expected"].to_numpy() > 0)
    cells["week"] = pd.to_datetime(cells["week"]).dt.strftime("%Y-%m-%d")
    return pd.DataFrame(cells)


def funnel_view(opps: pd.DataFrame, open_now: pd.DataFrame, unit_of: pd.Series, stages: tuple[str, ...],
                as_of: pd.Timestamp) -> Funnel:
    """Heatmap and stalled opportunities from the opportunity rows up to the as-of date.

    Parameters
    ----------
    opps : DataFrame
        Rows up to the as-of date, ``snapshot_date`` filled.
    open_now : DataFrame
        The open opportunities of the latest snapshot (plan reps).
    unit_of : Series
        Rep id -> the unit its heatmap column is.
    stages : tuple of str
    as_of : Timestamp
    """
    columns = ["rep_id", "opportunity_id", "stage", "days_in_stage", "usual_days", "amount", "close_date"]
    opps = with_codes(opps)
    won_of, close_of, _ = outcome_of(latest_rows(opps), int(opps["oid"].max()) + 1 if len(opps) else 0)
    won_on = np.where(won_of, close_of, np.datetime64("NaT"))
    heatmap = _heatmap(opps, unit_of, won_on)
    snapshots = opps["snapshot_date"].nunique()
    basis = "snapshots" if snapshots > 1 else "age"
    if basis == "snapshots":
        seen = opps[opps["status"] == "open"]
        entered = seen.groupby(["oid", "stage_index"], sort=True)["snapshot_date"].min().reset_index()
        entered["left"] = entered.groupby("oid")["snapshot_date"].shift(-1)
        entered["left"] = entered["left"].fillna(pd.Series(won_on[entered["oid"].to_numpy()], index=entered.index))
        known = entered[entered["snapshot_date"] > opps["snapshot_date"].min()].dropna(subset=["left"])
        usual = known.assign(days=_days(known["left"], known["snapshot_date"])).groupby("stage_index")["days"].quantile(
            STALL_QUANTILE)
        n_stages = len(stages)
        since = pd.Series(entered["snapshot_date"].to_numpy(),
                          index=entered["oid"].to_numpy() * n_stages + entered["stage_index"].to_numpy())
        start = since.reindex(open_now["oid"].to_numpy() * n_stages + open_now["stage_index"].to_numpy())
        in_stage = _days(pd.Series(as_of, index=open_now.index), pd.Series(start.to_numpy(), index=open_now.index))
        limit = open_now["stage_index"].map(usual)
    else:
        won = opps[opps["status"] == "won"]
        cycle = _days(won["close_date"], won["created_date"]).dropna()
        usual = pd.Series({i: float(cycle.quantile(STALL_QUANTILE)) for i in range(len(stages))} if len(cycle) else {},
                          dtype=float)
        in_stage = _days(pd.Series(as_of, index=open_now.index), open_now["created_date"])
        limit = open_now["stage_index"].map(usual)
    stalled_mask = (in_stage > limit).fillna(False).to_numpy(dtype=bool) if len(open_now) else np.zeros(0, dtype=bool)
    # Only the stalled rows are taken (and their dates written out): the open pipeline runs to 500,000.
    rows = np.flatnonzero(stalled_mask)
    stalled = pd.DataFrame({
        "rep_id": open_now["rep_id"].to_numpy()[rows], "opportunity_id": open_now["opportunity_id"].to_numpy()[rows],
        "stage": open_now["stage"].to_numpy()[rows], "days_in_stage": in_stage.to_numpy()[rows],
        "usual_days": limit.to_numpy(dtype=float)[rows], "amount": open_now["amount"].to_numpy(dtype=float)[rows],
        "close_date": pd.to_datetime(open_now["close_date"].iloc[rows]).dt.strftime("%Y-%m-%d").to_numpy(),
    }, columns=columns, index=rows) if len(open_now) else pd.DataFrame(columns=columns)
    stalled = stalled.sort_values(["days_in_stage", "opportunity_id"], ascending=[False, True], kind="stable")
    return Funnel(heatmap, stalled.reset_index(drop=True),
                  {stages[int(i)]: round(float(v), 1) for i, v in usual.items() if 0 <= int(i) < len(stages)}, basis)
