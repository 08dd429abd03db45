"""Opportunities behind the generated bookings: a CRM pipeline with stages, slippage and losses.

Every positive deal the sales simulation books (:mod:`quotaopt.datasets.sales`) is a *won*
opportunity: it closes on the deal's date for the deal's amount. Around the won ones the
generator adds the *lost* ones a funnel needs, and gives each opportunity a life:

- **Cycle.** Created a lognormal number of days before it resolves (median
  :data:`CYCLE_MEDIAN_DAYS` by role); it enters the stages of :data:`STAGES` at fixed
  shares of its cycle (jittered), so a won opportunity passes every stage.
- **Losses.** Each won deal brings ``Poisson((1 - w) / w)`` lost ones of a similar size and
  time, ``w`` = :data:`WIN_RATE` by role; a lost one drops out at a stage drawn from
  :data:`LOST_AT` (most die early). The true chance to win from a stage is therefore far
  above the CRM's stage probability (:data:`CRM_PROBABILITY`) late in the funnel and near
  it early on: a rule that trusts the CRM column is biased, as it is in real CRMs.
- **Slippage.** The close date the CRM shows is the planned one: for a share
  :data:`SLIP_SHARE` of opportunities the real close comes an exponential number of days
  (mean :data:`SLIP_MEAN_DAYS`) later. Most reps push a passed close date by
  :data:`PUSH_DAYS`; a share :data:`LAZY_SHARE` of opportunities keeps the stale date, so
  open opportunities past their close date exist, as they do in every CRM.
- **Amounts.** The CRM amount of a won deal is its booked amount times a lognormal
  ratio (deals shrink a little in negotiation: mean :data:`AMOUNT_RATIO`).

:func:`snapshots` turns this into the contract's opportunities table at an as-of date:
weekly snapshots (every seventh day back from the as-of date) of the open opportunities, and at the
as-of date every opportunity known then, open, won or lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.datasets.org import make_ids

#: Open stages in funnel order (the scenario default of ``tracking.stages``).
STAGES = ("qualify", "discover", "propose", "commit")
#: The CRM's own probability per stage (what a rep's CRM shows by default).
CRM_PROBABILITY = (0.10, 0.25, 0.50, 0.75)
#: Share of a won opportunity's cycle after which it enters each stage.
STAGE_CUTS = (0.0, 0.3, 0.55, 0.8)
#: Overall share of opportunities won, by role.
WIN_RATE = {"ka": 0.30, "longtail": 0.40}
#: Share of lost opportunities lost at each stage.
LOST_AT = (0.50, 0.25, 0.15, 0.10)
CYCLE_MEDIAN_DAYS = {"ka": 70.0, "longtail": 35.0}
CYCLE_SIGMA = 0.5
SLIP_SHARE, SLIP_MEAN_DAYS = 0.45, 21.0
PUSH_DAYS, LAZY_SHARE = 14, 0.35
AMOUNT_RATIO, AMOUNT_SIGMA = 1.08, 0.15
#: Weekly snapshots written before the as-of date.
SNAPSHOT_WEEKS = 39
#: Closed opportunities of the as-of snapshot go back this many days.
HISTORY_DAYS = 400


@dataclass(frozen=True)
class Opportunities:
    """Every simulated opportunity (one row each), with its whole life."""

    rep: np.ndarray
    account: np.ndarray
    created: np.ndarray  # datetime64[D]
    resolved: np.ndarray  # datetime64[D]: won or lost on this day
    planned_close: np.ndarray  # datetime64[D]: the close date first entered in the CRM
    entries: np.ndarray  # (n, len(STAGES)) datetime64[D]: day each stage was entered (far future: never)
    won: np.ndarray
    amount_won: np.ndarray  # booked amount (0 for lost ones)
    amount_crm: np.ndarray  # amount the CRM shows while open
    lazy: np.ndarray  # the close date is never pushed


def _lognormal_days(median: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.maximum(np.round(median * np.exp(CYCLE_SIGMA * rng.standard_normal(len(median)))), 3).astype(np.int64)


def simulate_opportunities(deals: dict[str, np.ndarray], ka_rep: np.ndarray, years: set[int],
                           rng: np.random.Generator) -> Opportunities:
    """Won opportunities from the positive deals of ``years`` (indices), plus the lost ones.

    Parameters
    ----------
    deals : dict of ndarray
        :attr:`quotaopt.datasets.sales.Sales.deals`.
    ka_rep : ndarray of bool
        Per rep index: a key-account rep.
    years : set of int
        Year indices whose deals become opportunities.
    """
    pick = np.flatnonzero(np.isin(deals["year"], sorted(years)) & (deals["amount"] > 0))
    pick = pick[np.argsort(deals["seq"][pick], kind="stable")]
    rep, close, amount = deals["rep"][pick], deals["date"][pick], deals["amount"][pick]
    ka = ka_rep[rep]
    median = np.where(ka, CYCLE_MEDIAN_DAYS["ka"], CYCLE_MEDIAN_DAYS["longtail"])
    cycle = _lognormal_days(median, rng)
    created = close - cycle
    slip = np.where(rng.random(len(pick)) < SLIP_SHARE, np.round(rng.exponential(SLIP_MEAN_DAYS, len(pick))), 0)
    planned = np.maximum(close - slip.astype(np.int64), created + 1)

    # Lost companions: near a won deal of the same rep, in time and size.
    win = np.where(ka, WIN_RATE["ka"], WIN_RATE["longtail"])
    n_lost = rng.poisson((1.0 - win) / win)
    src = np.repeat(np.arange(len(pick)), n_lost)
    l_created = created[src] + rng.integers(-30, 31, len(src))
    l_cycle = _lognormal_days(median[src], rng)
    l_stage = rng.choice(len(STAGES), size=len(src), p=np.asarray(LOST_AT))
    cuts = np.append(np.asarray(STAGE_CUTS), 1.0)
    share = cuts[l_stage] + rng.random(len(src)) * (cuts[l_stage + 1] - cuts[l_stage])
    l_resolved = l_created + np.maximum(np.round(l_cycle * share).astype(np.int64), 1)
    l_amount = np.round(amount[src] * np.exp(0.5 * rng.standard_normal(len(src)) - 0.125), 2)

    n_won, n_all = len(pick), len(pick) + len(src)
    resolved = np.concatenate([close, l_resolved])
    created_all = np.concatenate([created, l_created])
    full_cycle = np.concatenate([cycle, l_cycle])
    jitter = np.where(np.arange(len(STAGES)) == 0, 0.0, rng.uniform(-0.08, 0.08, (n_all, len(STAGES))))
    at = np.clip(np.asarray(STAGE_CUTS)[None, :] + jitter, 0.0, 0.95)
    entries = created_all[:, None] + np.round(at * full_cycle[:, None]).astype(np.int64)
    stage_reached = np.concatenate([np.full(n_won, len(STAGES) - 1), l_stage])
    never = np.arange(len(STAGES))[None, :] > stage_reached[:, None]
    entries = np.where(never, np.datetime64("9000-01-01", "D"), np.minimum(entries, resolved[:, None]))
    ratio = np.exp(AMOUNT_SIGMA * rng.standard_normal(n_won) - AMOUNT_SIGMA**2 / 2) * AMOUNT_RATIO
    return Opportunities(
        rep=np.concatenate([rep, rep[src]]),
        account=np.concatenate([deals["account"][pick], deals["account"][pick][src]]),
        created=created_all, resolved=resolved,
        planned_close=np.concatenate([planned, l_created + l_cycle]),
        entries=entries,
        won=np.arange(n_all) < n_won,
        amount_won=np.concatenate([amount, np.zeros(len(src))]),
        amount_crm=np.concatenate([np.round(amount * ratio, 2), np.maximum(l_amount, 0.01)]),
        lazy=rng.random(n_all) < LAZY_SHARE,
    )


def _shown_close(opp: Opportunities, rows: np.ndarray, day: np.datetime64) -> np.ndarray:
    """The close date the CRM shows on ``day``: planned, or pushed by PUSH_DAYS steps once passed."""
    planned = opp.planned_close[rows]
    late = (day - planned).astype(np.int64)
    steps = np.where((late > 0) & ~opp.lazy[rows], -(-late // PUSH_DAYS), 0)
    return planned + steps * PUSH_DAYS


def _stage_on(opp: Opportunities, rows: np.ndarray, day: np.datetime64) -> np.ndarray:
    return np.maximum((opp.entries[rows] <= day).sum(axis=1) - 1, 0)


def _iso(values: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)


def opportunity_ids(opp: Opportunities) -> np.ndarray:
    """Ids in order of creation (then rep), stable whatever the as-of date."""
    order = np.lexsort((opp.rep, opp.created))
    ids = np.empty(len(order), dtype=object)
    ids[order] = make_ids("OP", len(order), 8)
    return ids


def snapshots(opp: Opportunities, as_of: np.datetime64, rep_ids: np.ndarray, account_ids: np.ndarray,
              weeks: int = SNAPSHOT_WEEKS) -> pd.DataFrame:
    """The contract's opportunities table as the CRM holds it on ``as_of``.

    The as-of snapshot lists every opportunity created by then and resolved no more than
    :data:`HISTORY_DAYS` before (open, won or lost; a closed one shows its close day and,
    when won, its booked amount); the ``weeks`` weekly snapshots before it list the
    opportunities open then.
    """
    ids = opportunity_ids(opp)
    frames = []
    for k in range(weeks, -1, -1):
        day = as_of - np.timedelta64(7 * k, "D")
        known = opp.created <= day
        if k == 0:
            rows = np.flatnonzero(known & (opp.resolved >= day - HISTORY_DAYS))
        else:
            rows = np.flatnonzero(known & (opp.resolved > day))
        closed = opp.resolved[rows] <= day
        won = closed & opp.won[rows]
        stage = _stage_on(opp, rows, day)
        status = np.where(won, "won", np.where(closed, "lost", "open"))
        probability = np.where(won, 1.0, np.where(closed, 0.0, np.asarray(CRM_PROBABILITY)[stage]))
        frames.append(pd.DataFrame({
            "snapshot_date": np.datetime_as_string(day, unit="D"),
            "opportunity_id": ids[rows],
            "rep_id": rep_ids[opp.rep[rows]],
            "account_id": account_ids[opp.account[rows]],
            "amount": np.where(won, opp.amount_won[rows], opp.amount_crm[rows]),
            "stage": np.asarray(STAGES, dtype=object)[stage],
            "status": status,
            "probability": probability,
            "created_date": _iso(opp.created[rows]),
            "close_date": _iso(np.where(closed, opp.resolved[rows], _shown_close(opp, rows, day))),
        }).sort_values("opportunity_id", kind="stable"))
    return pd.concat(frames, ignore_index=True)


def truth_table(opp: Opportunities, rep_ids: np.ndarray) -> pd.DataFrame:
    """Every opportunity's real outcome (``truth/opportunities``): won or lost, when, for how much."""
    ids = opportunity_ids(opp)
    frame = pd.DataFrame({
        "opportunity_id": ids, "rep_id": rep_ids[opp.rep], "won": opp.won, "resolved_date": _iso(opp.resolved),
        "planned_close_date": _iso(opp.planned_close), "created_date": _iso(opp.created),
        "amount_won": opp.amount_won, "amount_crm": opp.amount_crm, "lazy": opp.lazy,
    })
    return frame.sort_values("opportunity_id", kind="stable").reset_index(drop=True)
