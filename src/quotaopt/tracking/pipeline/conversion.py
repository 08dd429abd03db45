"""Learned conversion: the chance an open opportunity closes won within a horizon, and for how much.

**From snapshots** (an opportunities file with several ``snapshot_date`` values): every row
of an opportunity open at a past snapshot ``t`` (at least :data:`LEARN_LAG_DAYS` before the
as-of date, so the horizons that matter have played out) is one example. Its outcome is
read from the opportunity's latest row: won on its close date for its amount, lost, or
still open (not won yet). The examples fall in cells of *role x stage x due bucket*, the
bucket being how far the close date the CRM showed at ``t`` lay ahead (:data:`DUE_EDGES`:
past it, within 30 days, ...). ``P(won within H | cell)`` is the share of the cell's
examples won within ``H`` days of their snapshot, so slippage (closing later than the CRM
said, or never) is learned as it happened, overdue opportunities included. Thin cells are
shrunk toward their parents with :data:`PRIOR_ROWS` pseudo-examples: role x stage x bucket
-> stage x bucket -> stage -> everything. For a quarter, the examples whose snapshot stood as
many days (within :data:`PHASE_DAYS`) before the end of *its* quarter form one more level
below that, shrunk toward it: deals close differently in a quarter's last weeks (the
quarter-end push) than in its first. The won amount over the CRM amount (per role x
stage, shrunk the same way) scales the amount.

**From won/lost history** (one snapshot): a lost opportunity keeps the stage it died in, a
won one passed every stage, so ``P(win | stage s) = won / (won + lost at a stage >= s)``,
per role and shrunk the same way. No slippage can be learned then: an open opportunity
closes on its close date, or within the horizon when that date has passed.

**Bookings not yet in the pipeline.** A booking ``x`` days into a horizon of ``h`` days
comes from an opportunity created after the as-of date when its age at close is below
``x``; with bookings spread evenly over the horizon the share is the amount-weighted mean
of ``max(0, 1 - age / h)`` over won opportunities (per role, shrunk to all roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from quotaopt.tracking.records import ConversionSummary

#: Edges (days from the snapshot to the close date it showed) of the due buckets:
#: bucket 0 is past the close date, then [0, 30), [30, 60), [60, 120), 120 and more.
DUE_EDGES = (0.0, 30.0, 60.0, 120.0)
#: Snapshots at least this many days before the as-of date teach (their outcomes are known).
LEARN_LAG_DAYS = 91
#: Pseudo-examples a cell borrows from its parent (shrinkage toward pooled rates).
PRIOR_ROWS = 30.0
#: Examples count as the same phase of their quarter when their days to its end differ by at most this.
PHASE_DAYS = 10
#: The won amount over the CRM amount is kept within this range.
RATIO_RANGE = (0.2, 5.0)

Method = Literal["snapshots", "won_lost", "none"]


def due_bucket(due_days: np.ndarray) -> np.ndarray:
    """Bucket index of days from a snapshot to its close date (0 = already past)."""
    return np.searchsorted(np.asarray(DUE_EDGES), np.asarray(due_days, dtype=np.float64), side="right")


def _shrunk(hits: np.ndarray, counts: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """``(hits + K parent) / (counts + K)``: a cell's rate pulled toward its parent's by K pseudo-rows."""
    return (hits + PRIOR_ROWS * parent) / (counts + PRIOR_ROWS)


def shrink_cube(hits: np.ndarray, counts: np.ndarray, overall: float) -> np.ndarray:
    """Rates of a (roles, stages, buckets) cube of hit and example counts, each shrunk to its parent.

    role x stage x bucket -> stage x bucket -> stage -> ``overall``.
    """
    stage_h, stage_n = hits.sum(axis=(0, 2)), counts.sum(axis=(0, 2))
    p_stage = _shrunk(stage_h, stage_n, np.full(stage_h.shape, overall))
    sb_h, sb_n = hits.sum(axis=0), counts.sum(axis=0)
    p_sb = _shrunk(sb_h, sb_n, p_stage[:, None])
    return np.asarray(_shrunk(hits, counts, p_sb[None, :, :]))


@dataclass(frozen=True)
class Conversion:
    """What the pipeline's history teaches (see the module notes).

    Attributes
    ----------
    method : {"snapshots", "won_lost", "none"}
        What it was learned from; ``none``: nothing to learn from (no pipeline forecast).
    roles, stages : tuple of str
    examples : DataFrame
        ``role, stage, bucket, phase`` (days from the snapshot to its quarter's end), ``days`` (to a
        win, inf when not won) and ``ratio``
        (won over CRM amount; NaN when not won): the snapshot examples.
    funnel : ndarray
        (roles, stages) shrunk win chance from won/lost history (method ``won_lost``).
    ratio : ndarray
        (roles, stages) shrunk won-over-CRM amount.
    ages : DataFrame
        ``role, age, amount`` of won opportunities (age at close, days).
    """

    method: Method
    roles: tuple[str, ...]
    stages: tuple[str, ...]
    examples: pd.DataFrame
    funnel: np.ndarray
    ratio: np.ndarray
    ages: pd.DataFrame

    def win_table(self, horizon_days: float, phase_days: float | None = None) -> np.ndarray:
        """(roles, stages, buckets) shrunk ``P(won within horizon_days)`` (method ``snapshots``).

        With ``phase_days`` (days from the as-of date to its quarter's end), the examples of the
        same phase of their quarter are shrunk toward the table of all examples.
        """
        shape = (len(self.roles), len(self.stages), len(DUE_EDGES) + 1)
        ex = self.examples
        cell = np.ravel_multi_index((ex["role"].to_numpy(), ex["stage"].to_numpy(), ex["bucket"].to_numpy()), shape)
        days = ex["days"].to_numpy()
        won = (np.isfinite(days) & (days <= horizon_days)).astype(np.float64)
        size = int(np.prod(shape))
        counts = np.bincount(cell, minlength=size).reshape(shape).astype(np.float64)
        hits = np.bincount(cell, weights=won, minlength=size).reshape(shape)
        overall = float(won.mean()) if len(won) else 0.0
        table = shrink_cube(hits, counts, overall)
        if phase_days is None:
            return table
        same = np.abs(ex["phase"].to_numpy() - phase_days) <= PHASE_DAYS
        counts_p = np.bincount(cell[same], minlength=size).reshape(shape).astype(np.float64)
        hits_p = np.bincount(cell[same], weights=won[same], minlength=size).reshape(shape)
        return np.asarray(_shrunk(hits_p, counts_p, table))

    def win_probability(self, role: np.ndarray, stage: np.ndarray, due_days: np.ndarray,
                        horizon_days: float, phase_days: float | None = None) -> np.ndarray:
        """Per open opportunity: the chance it closes won within ``horizon_days`` of the as-of date.

        Parameters
        ----------
        role, stage : ndarray of int
            Codes into :attr:`roles` and :attr:`stages`.
        due_days : ndarray
            Days from the as-of date to the close date the CRM shows (negative: past it).
        phase_days : float, optional
            Days from the as-of date to its quarter's end (see :meth:`win_table`).
        """
        if self.method == "none":
            return np.zeros(len(role))
        if self.method == "snapshots":
            return np.asarray(self.win_table(horizon_days, phase_days)[role, stage, due_bucket(due_days)])
        return np.asarray(self.funnel[role, stage] * (np.asarray(due_days) <= horizon_days))

    def fresh_share(self, horizon_days: float) -> np.ndarray:
        """Per role: the share of the horizon's bookings from opportunities not yet created."""
        if self.ages.empty or horizon_days <= 0:
            return np.ones(len(self.roles))
        part = np.clip(1.0 - self.ages["age"].to_numpy(dtype=np.float64) / horizon_days, 0.0, 1.0)
        weight = self.ages["amount"].to_numpy(dtype=np.float64)
        role = self.ages["role"].to_numpy()
        overall = float(np.sum(part * weight) / np.sum(weight)) if weight.sum() > 0 else 1.0
        hits = np.bincount(role, weights=part * weight, minlength=len(self.roles))
        mass = np.bincount(role, weights=weight, minlength=len(self.roles))
        # Shrunk by amount: K pseudo-rows of the role's mean won amount.
        mean = np.divide(mass, np.maximum(np.bincount(role, minlength=len(self.roles)), 1))
        return np.asarray((hits + PRIOR_ROWS * mean * overall) / (mass + PRIOR_ROWS * mean + 1e-12))

    def summary(self, horizon_days: float, phase_days: float | None = None) -> ConversionSummary:
        """For track.json: method, examples and, per stage (all roles), the learned chances."""
        out: dict[str, Any] = {"method": self.method, "examples": int(len(self.examples))}
        if self.method == "snapshots":
            table = self.win_table(horizon_days, phase_days)
            ex = self.examples
            per_stage = np.bincount(ex["stage"], minlength=len(self.stages)).astype(float)
            ever = self.win_table(np.inf)
            slip = ex[np.isfinite(ex["days"])]
            out["by_stage"] = {s: {"examples": int(per_stage[i]),
                                   "p_win_ever": round(float(ever[:, i, :].mean()), 4),
                                   "p_win_in_horizon_by_due_bucket": [round(float(v), 4)
                                                                     for v in table[:, i, :].mean(axis=0)]}
                               for i, s in enumerate(self.stages)}
            out["due_bucket_edges_days"] = list(DUE_EDGES)
            out["median_days_to_win"] = None if slip.empty else float(np.median(slip["days"]))
        elif self.method == "won_lost":
            out["by_stage"] = {s: {"p_win_ever": round(float(self.funnel[:, i].mean()), 4)}
                               for i, s in enumerate(self.stages)}
        out["amount_ratio_by_stage"] = {s: round(float(self.ratio[:, i].mean()), 4) for i, s in enumerate(self.stages)}
        out["fresh_share"] = {r: round(float(v), 4) for r, v in zip(self.roles, self.fresh_share(horizon_days),
                                                                     strict=True)}
        return ConversionSummary.model_validate(out)


def with_column(frame: pd.DataFrame, name: str, values: np.ndarray) -> pd.DataFrame:
    """``frame.assign(name=values)`` sharing the other columns (``assign`` copies a million-row frame)."""
    columns: dict[str, Any] = {c: frame[c] for c in frame.columns}
    columns[name] = pd.Series(np.asarray(values), index=frame.index)
    return pd.DataFrame(columns, index=frame.index, copy=False)


def with_codes(opps: pd.DataFrame) -> pd.DataFrame:
    """The rows with ``oid``, an integer code per opportunity id (lookups on millions of rows by integer)."""
    if "oid" in opps.columns:
        return opps
    return with_column(opps, "oid", pd.factorize(opps["opportunity_id"])[0].astype(np.int64))


def latest_rows(opps: pd.DataFrame) -> pd.DataFrame:
    """Each opportunity's latest row (its outcome when won or lost), in ``oid`` order."""
    opps = with_codes(opps)
    codes = opps["oid"].to_numpy()
    snap = opps["snapshot_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((snap, codes))
    last = order[np.append(codes[order][1:] != codes[order][:-1], True)] if len(order) else order
    return opps.iloc[last]


def outcome_of(last: pd.DataFrame, n_codes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ``oid``: won (bool), the latest close date and amount (arrays indexed by code)."""
    won = np.zeros(n_codes, dtype=bool)
    close = np.full(n_codes, np.datetime64("NaT"), dtype="datetime64[ns]")
    amount = np.zeros(n_codes)
    codes = last["oid"].to_numpy()
    won[codes] = (last["status"] == "won").to_numpy()
    close[codes] = last["close_date"].to_numpy(dtype="datetime64[ns]")
    amount[codes] = last["amount"].to_numpy(dtype=np.float64)
    return won, close, amount


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    delta = pd.to_timedelta(later.to_numpy() - earlier.to_numpy())
    return np.asarray(delta / pd.Timedelta(days=1), dtype=np.float64)


def _ratio_cube(role: np.ndarray, stage: np.ndarray, ratio: np.ndarray, n_roles: int, n_stages: int) -> np.ndarray:
    ok = np.isfinite(ratio)
    shape = (n_roles, n_stages, 1)
    cell = np.ravel_multi_index((role[ok], stage[ok], np.zeros(int(ok.sum()), dtype=np.int64)), shape)
    size = n_roles * n_stages
    r = np.clip(ratio[ok], *RATIO_RANGE)
    counts = np.bincount(cell, minlength=size).reshape(shape).astype(np.float64)
    sums = np.bincount(cell, weights=r, minlength=size).reshape(shape)
    overall = float(r.mean()) if len(r) else 1.0
    return shrink_cube(sums, counts, overall)[:, :, 0]


def learn_conversion(opps: pd.DataFrame, role_of: pd.Series, roles: tuple[str, ...], stages: tuple[str, ...],
                     as_of: pd.Timestamp) -> Conversion:
    """Learn the conversion from an opportunities table (rows dated after ``as_of`` already removed).

    Parameters
    ----------
    opps : DataFrame
        From :func:`quotaopt.io.load_opportunities`, ``snapshot_date`` filled (the as-of date
        where the file had none).
    role_of : Series
        Role per rep id (every rep of reps.csv).
    roles, stages : tuple of str
        Role and stage codes, in order.
    as_of : Timestamp

    Returns
    -------
    Conversion

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"opportunity_id": ["a", "b"], "rep_id": "r", "amount": 10.0,
    ...     "stage_index": [1, 0], "status": ["won", "lost"], "close_date": pd.Timestamp("2027-02-01"),
    ...     "created_date": pd.Timestamp("2027-01-01"), "snapshot_date": pd.Timestamp("2027-03-01")})
    >>> conv = learn_conversion(opps, pd.Series({"r": "ka"}), ("ka",), ("early", "late"), pd.Timestamp("2027-03-01"))
    >>> conv.method
    'won_lost'
    """
    code = {r: i for i, r in enumerate(roles)}
    n_roles, n_stages = len(roles), len(stages)
    role_all = opps["rep_id"].map(role_of).map(code).fillna(0).to_numpy(dtype=np.int64)
    opps = with_column(with_codes(opps), "role_code", role_all)
    last = latest_rows(opps)
    won_last = last[last["status"] == "won"]
    ages = pd.DataFrame({"role": won_last["role_code"].to_numpy(),
                         "age": _days(won_last["close_date"], won_last["created_date"]),
                         "amount": won_last["amount"].to_numpy(dtype=np.float64)})
    ages = ages[np.isfinite(ages["age"]) & (ages["amount"] > 0)].reset_index(drop=True)
    empty_examples = pd.DataFrame({"role": [], "stage": [], "bucket": [], "phase": [], "days": [], "ratio": []})
    ones = np.ones((n_roles, n_stages))
    cutoff = as_of - pd.Timedelta(days=LEARN_LAG_DAYS)
    past = opps[(opps["status"] == "open") & (opps["snapshot_date"] <= cutoff)]
    if len(past):
        won_of, close_of, amount_of = outcome_of(last, int(opps["oid"].max()) + 1)
        code_past = past["oid"].to_numpy()
        won = won_of[code_past]
        close = pd.Series(close_of[code_past], index=past.index)
        days = np.where(won, _days(close, past["snapshot_date"]), np.inf)
        ratio = np.where(won, amount_of[code_past] / np.maximum(past["amount"].to_numpy(dtype=np.float64), 1e-9),
                         np.nan)
        ratio = np.where(past["amount"].to_numpy() > 0, ratio, np.nan)
        examples = pd.DataFrame({
            "role": past["role_code"].to_numpy(), "stage": past["stage_index"].to_numpy(dtype=np.int64),
            "bucket": due_bucket(_days(past["close_date"], past["snapshot_date"])),
            "phase": _days(past["snapshot_date"].dt.to_period("Q").dt.end_time.dt.normalize(), past["snapshot_date"]),
            "days": days, "ratio": ratio}).reset_index(drop=True)
        return Conversion("snapshots", roles, stages, examples, ones,
                          _ratio_cube(examples["role"].to_numpy(), examples["stage"].to_numpy(),
                                      examples["ratio"].to_numpy(), n_roles, n_stages), ages)
    closed = last[last["status"].isin(["won", "lost"])]
    if closed.empty:
        return Conversion("none", roles, stages, empty_examples, np.zeros((n_roles, n_stages)), ones, ages)
    # Reached stage s: won ones (every stage) and lost ones that died at s or later.
    role = closed["role_code"].to_numpy()
    died = closed["stage_index"].to_numpy(dtype=np.int64)
    is_won = (closed["status"] == "won").to_numpy()
    reached = np.zeros((n_roles, n_stages, 1))
    wins = np.zeros((n_roles, n_stages, 1))
    for s in range(n_stages):
        at = is_won | (died >= s)
        reached[:, s, 0] = np.bincount(role[at], minlength=n_roles)
        wins[:, s, 0] = np.bincount(role[is_won], minlength=n_roles)
    funnel = shrink_cube(wins, reached, float(is_won.mean()))[:, :, 0]
    return Conversion("won_lost", roles, stages, empty_examples, funnel, ones, ages)
