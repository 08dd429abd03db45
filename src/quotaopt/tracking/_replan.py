"""Re-plan the rest of the year after tracking: past periods stay, the rest is re-optimised.

Rules (contract §5 ``track --replan``):

- **Frozen periods**: every period that has started on or before the as-of date keeps
  its quota (the period in progress was already communicated to the rep). Everything
  after is re-optimised.
- **What is allocated**: the company's remaining quota, ``total quota - frozen quota``,
  so the annual plan adds up to the same company total (or to the recalibrated one). Each rep's remaining capacity
  is the posterior forecast of what it books over the unfrozen periods
  (:mod:`quotaopt.tracking._forecast`: its updated level x the expected share of the
  year in those periods).
- **Same constraints on the remaining part**: ``stretch`` bounds remaining quota /
  remaining capacity P50; ``max_change`` bounds the change of the remaining quota
  against the parent's remaining quota; ``flex``, ``ka_share``, ``unit`` and
  ``fairness`` as in the plan; a locked rep keeps its annual quota; a unit with a fixed
  target in teams.csv keeps its annual total. The new-hire ``ramp`` is not applied a
  second time: it already shapes both the remaining capacity and the parent's
  remaining quota that ``max_change`` holds the new quota to.
- **When stretch and max_change cannot both hold** for a rep (its remaining capacity
  moved more than the two windows allow, e.g. a rep at 40% pace), max_change wins: a
  re-plan must not move anyone's remaining quota by more than promised. Such reps are
  listed under ``stretch_relaxed`` in the manifest and audit log.
- **No ratchet** (``replan.ratchet: none``, the default): a rep at or ahead of pace gets
  no higher remaining quota than its plan had (:mod:`quotaopt.tracking._limits`).
- **What cannot be carried becomes exceptions**: a company behind plan that keeps its
  target asks more of its reps than stretch allows; the soft limits give way and every
  one that does is listed (summary.json ``exceptions``), rather than exit 3. Only hard
  limits still make a re-plan infeasible; ``allocation.strict: true`` restores exit 3.
- **Recalibration** (``--recalibrate``): the company target is reset to what the
  forecast supports, or to a growth given, with a reason (:mod:`quotaopt.tracking._recalibrate`);
  without it the annual total stays.
- **Periods**: a rep's new remaining quota is split over the unfrozen periods in the
  proportions of its parent's quotas there (seasonality and ramp kept), by working
  days when the parent had nothing there; whole ``unit`` multiples, largest remainder.

The result is checked again (rule 3: never trust a status alone) before it is written.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.calendar import day_index, hire_index, period_spans, year_days
from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem, SolverError
from quotaopt.money import amounts, count_units, split_whole
from quotaopt.names import name_columns
from quotaopt.planning import (
    PLAN_COLUMNS,
    UNIT_COLUMNS,
    Outcome,
    PlanResult,
    ReplanRecord,
    StoredRun,
    assemble,
)
from quotaopt.planning._assemble import payouts_of
from quotaopt.scenario import AllocationConfig, Scenario
from quotaopt.tracking import _status as tracking
from quotaopt.tracking._assess import Assessment, hire_dates
from quotaopt.tracking._forecast import unit_forecast
from quotaopt.tracking._limits import ahead_of_pace, carry, ratchet_ceiling
from quotaopt.tracking._recalibrate import recalibrate

_TOL = 1e-6


@dataclass(frozen=True)
class RecalibrationRequest:
    """``--recalibrate``: the growth to reset the target to (None = the forecast P50) and why."""

    growth: float | None
    reason: str


def frozen_labels(labels: list[str], plan_year: int, as_of: dt.date) -> list[bool]:
    """For each period label: True when the period has started on or before ``as_of``."""
    starts, _ = period_spans(labels, plan_year)
    return [bool(s <= day_index(as_of, plan_year)) for s in starts]


def split_remaining(amount: np.ndarray, weights: np.ndarray, unit: float) -> np.ndarray:
    """Split each row's amount over columns by ``weights`` in whole units, summing exactly.

    Largest remainder; a part of ``amount`` that is not a whole unit goes to the
    heaviest column; rows with all-zero weights spread evenly.
    """
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / w.shape[1])
    units, rest = split_whole(amount, unit)
    ideal = units[:, None] * w
    base = np.floor(ideal + 1e-9)
    need = (units - base.sum(axis=1)).astype(np.int64)
    rank = np.argsort(np.argsort(-(ideal - base), axis=1, kind="stable"), axis=1, kind="stable")
    out = amounts((base + (rank < need[:, None])).astype(np.int64), unit).astype(np.float64)
    out[np.arange(len(out)), np.argmax(w, axis=1)] += rest
    return out


def _reconcile(cap: np.ndarray, remaining: np.ndarray, locked: np.ndarray, config: AllocationConfig,
               unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Let max_change win where it cannot meet stretch on a rep's remaining part.

    A rep far behind (or ahead) can have a remaining capacity whose stretch window lies
    wholly outside the max_change window around its parent's remaining quota. In a
    re-plan the promise not to move a rep's quota by more than max_change comes first:
    the capacity the allocation sees is moved just enough for the stretch window to
    reach the nearest whole-unit max_change bound. Returns the capacities (3, reps) and
    a mask of the reps whose stretch bound was relaxed that way.
    """
    lo_s, hi_s = config.stretch
    mc = config.max_change
    out = cap.copy()
    if mc is None:
        return out, np.zeros(len(remaining), dtype=bool)
    has = (remaining > 0) & ~np.isfinite(locked)
    lo_mc = np.ceil((1.0 - mc) * remaining / unit - 1e-9) * unit
    hi_mc = np.floor((1.0 + mc) * remaining / unit + 1e-9) * unit
    p50 = cap[1]
    raise_to = np.where(has & (lo_mc > hi_s * p50) & (hi_s > 0), lo_mc / max(hi_s, 1e-12) * (1 + 1e-9), p50)
    lower_to = np.where(has & (hi_mc < lo_s * p50) & (lo_s > 0), hi_mc / max(lo_s, 1e-12) * (1 - 1e-9), raise_to)
    relaxed = lower_to != p50
    scale = np.divide(lower_to, p50, out=np.ones_like(p50), where=p50 > 0)
    out = out * scale[None, :]
    return out, relaxed


def _alloc_frames(run: StoredRun, company: CompanyData, rest_cap: np.ndarray, frozen_q: np.ndarray,
                  member: sp.csr_matrix, config: AllocationConfig,
                  ceiling: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The allocation inputs for the remaining part of the year, and the reps whose stretch gave way.

    ``ceiling`` is each rep's highest remaining quota (NaN = none): the no-ratchet rule.
    """
    plan = run.plan
    unit = float(config.unit)
    quota = plan["quota"].to_numpy(dtype=np.float64)
    remaining = quota - frozen_q
    reps_csv = company.reps.set_index(company.reps["rep_id"].astype("str"))
    ids = plan["rep_id"].astype("str")
    locked = reps_csv["locked_quota"].reindex(ids).to_numpy(dtype=np.float64)
    floor = 1e-3 * unit  # capacities must be > 0; a rep with nothing left to book gets a token one
    cap, relaxed = _reconcile(np.maximum(rest_cap, floor), remaining, locked, config, unit)
    reps = pd.DataFrame({
        "rep_id": ids.to_numpy(), "team_id": plan["team_id"].astype("str").to_numpy(),
        "role": plan["role"].astype("str").to_numpy(),
        "fte": reps_csv["fte"].reindex(ids).fillna(1.0).to_numpy(dtype=np.float64),
        "hire_date": pd.NaT,
        "last_quota": np.where(remaining > 0, remaining, np.nan),
        "locked_quota": np.where(np.isfinite(locked), remaining, np.nan),
        "capacity_p10": cap[0], "capacity_p50": cap[1], "capacity_p90": cap[2],
        "capacity_p50_forecast": np.maximum(rest_cap[1], floor), "stretch_relaxed": relaxed,
        "max_quota": ceiling,
    })
    teams = company.teams[["team_id", "parent_id", "target"]].copy()
    annual = run.units.set_index(run.units["unit_id"].astype("str"))["quota"].astype(float)
    frozen_unit = pd.Series(member.T @ frozen_q, index=run.units["unit_id"].astype("str"))
    fixed = teams["target"].notna().to_numpy()
    ids_t = teams["team_id"].astype("str")
    teams["target"] = np.where(fixed, annual.reindex(ids_t).to_numpy() - frozen_unit.reindex(ids_t).to_numpy(), np.nan)
    return reps, teams, relaxed


def _periods(run: StoredRun, labels: list[str], frozen: list[bool], new_rest: np.ndarray, hire_idx: np.ndarray,
             plan_year: int, unit: float) -> pd.DataFrame:
    """Frozen periods as they were, the new remaining quota over the others."""
    periods = run.periods.assign(rep_id=run.periods["rep_id"].astype("str"), period=run.periods["period"].astype("str"))
    ids = run.plan["rep_id"].astype("str")
    wide = periods.pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum",
                               fill_value=0.0).reindex(index=ids, columns=labels, fill_value=0.0)
    open_cols = [i for i, f in enumerate(frozen) if not f]
    weights = wide.to_numpy(dtype=np.float64)[:, open_cols]
    starts, ends = period_spans(labels, plan_year)
    _, cum = year_days(plan_year)
    first = np.maximum(starts[open_cols][None, :], hire_idx[:, None])
    workdays = np.clip(cum[np.maximum(first, ends[open_cols][None, :])] - cum[first], 0, None).astype(float)
    weights = np.where(weights.sum(axis=1, keepdims=True) > 0, weights, workdays)
    new = wide.to_numpy(dtype=np.float64).copy()
    new[:, open_cols] = split_remaining(new_rest, weights, unit)
    out = pd.DataFrame({"rep_id": np.repeat(ids.to_numpy(), len(labels)), "period": np.tile(labels, len(ids)),
                        "quota": new.reshape(-1)})
    for extra in ("deals", "touches"):
        if extra in periods.columns:
            per = periods.groupby("rep_id")[[extra, "quota"]].sum()
            ratio = (per[extra] / per["quota"].where(per["quota"] > 0)).reindex(ids).fillna(0.0).to_numpy()
            out[extra] = np.round(out["quota"].to_numpy() * np.repeat(ratio, len(labels)), 2)
    # The frozen rows are copied, not recomputed: identical bytes to the parent's.
    old = periods.set_index(["rep_id", "period"])
    keep = out["period"].isin([lab for lab, f in zip(labels, frozen, strict=True) if f]).to_numpy()
    keys = pd.MultiIndex.from_arrays([out["rep_id"], out["period"]])
    for column in out.columns[2:]:
        if column in old.columns:
            values = out[column].to_numpy(dtype=np.float64, copy=True)
            values[keep] = old[column].reindex(keys[keep]).to_numpy(dtype=np.float64)
            out[column] = values
    return out


def verify_replan(run: StoredRun, plan: pd.DataFrame, periods: pd.DataFrame, units: pd.DataFrame,
                  frozen_set: set[str], member: sp.csr_matrix, total: float | None = None,
                  ceiling: np.ndarray | None = None) -> list[str]:
    """Every invariant of a re-plan; returns the broken ones (empty when all hold).

    ``total`` is the company total the re-plan must add up to (default: the parent's);
    ``ceiling`` the highest annual quota of each rep (NaN = none: the no-ratchet rule).
    """
    problems = []
    old = run.periods.assign(rep_id=run.periods["rep_id"].astype("str"), period=run.periods["period"].astype("str"))
    old_f = old[old["period"].isin(frozen_set)].set_index(["rep_id", "period"])["quota"].sort_index()
    new_f = periods[periods["period"].isin(frozen_set)].set_index(["rep_id", "period"])["quota"].sort_index()
    if not old_f.index.equals(new_f.index) or not np.array_equal(old_f.to_numpy(), new_f.to_numpy()):
        problems.append("a past period's quota changed")
    sums = periods.groupby("rep_id")["quota"].sum().reindex(plan["rep_id"])
    if not np.allclose(sums.to_numpy(), plan["quota"].to_numpy(dtype=float), rtol=0, atol=_TOL):
        problems.append("a rep's periods do not sum to its quota")
    expected = float(run.plan["quota"].sum()) if total is None else float(total)
    if abs(float(plan["quota"].sum()) - expected) > _TOL:
        problems.append(f"the company total is {float(plan['quota'].sum()):,.0f}, not {expected:,.0f}")
    if ceiling is not None:
        over = np.isfinite(ceiling) & (plan["quota"].to_numpy(dtype=float) > np.nan_to_num(ceiling) + _TOL)
        if over.any():
            problems.append(f"{int(over.sum())} rep(s) ahead of pace got a higher quota "
                            f"(e.g. {plan['rep_id'].iloc[int(np.flatnonzero(over)[0])]})")
    subtree = member.T @ plan["quota"].to_numpy(dtype=float)
    if not np.allclose(subtree, units["quota"].to_numpy(dtype=float), rtol=0, atol=_TOL):
        problems.append("a unit's quota is not the sum of its reps")
    return problems


def replan(run: StoredRun, company: CompanyData, scenario: Scenario, assessment: Assessment,
           as_of: dt.date, recalibration: RecalibrationRequest | None = None) -> tuple[PlanResult, ReplanRecord]:
    """Re-optimise the periods after the as-of date (see the module notes).

    Parameters
    ----------
    run : StoredRun
        The tracked run (the parent).
    company : CompanyData
        Its data folder.
    scenario : Scenario
        The parent's resolved scenario (same constraints; ``replan.ratchet``).
    assessment : Assessment
        From :func:`quotaopt.tracking.assess` at ``as_of``.
    as_of : date
    recalibration : RecalibrationRequest, optional
        Reset the company target (``--recalibrate``): growth (None = the forecast P50)
        and reason.

    Returns
    -------
    (PlanResult, change) : tuple
        The new plan and what changed (summary.json's ``replan`` section, also written to
        the manifest and audit log).

    Raises
    ------
    InputError
        Every period has already started (nothing left to re-plan), or a recalibrated
        target below what the started periods already hold.
    InfeasibleError
        A hard limit cannot hold (locked quotas, fixed unit targets, the ratchet
        ceiling), or any limit with ``allocation.strict: true`` (with the reasons).
    SolverError
        The solver failed, or the re-plan breaks an invariant.

    Examples
    --------
    A run tracked at mid-year, re-planned with its target reset to the forecast:

    >>> result, change = replan(run, company, scenario, assessment, dt.date(2027, 6, 30),
    ...                         RecalibrationRequest(None, "competitor cut prices"))  # doctest: +SKIP
    >>> change.recalibration.to_target  # doctest: +SKIP
    """
    start = time.perf_counter()
    plan_year = int(run.manifest.plan_year or run.summary.plan_year)
    unit = float(scenario.allocation.unit)
    labels = sorted(pd.unique(run.periods["period"].astype("str")))
    frozen = frozen_labels(labels, plan_year, as_of)
    if all(frozen):
        raise InputError([Problem("--as-of", f"every period of {plan_year} has started by {as_of.isoformat()}: "
                                  "nothing left to re-plan")])
    frozen_set = {lab for lab, f in zip(labels, frozen, strict=True) if f}
    plan = run.plan.reset_index(drop=True)
    ids = plan["rep_id"].astype("str")
    periods = run.periods.assign(rep_id=run.periods["rep_id"].astype("str"), period=run.periods["period"].astype("str"))
    frozen_q = periods[periods["period"].isin(frozen_set)].groupby("rep_id")["quota"].sum().reindex(ids, fill_value=0.0)
    frozen_q_arr = frozen_q.to_numpy(dtype=np.float64)
    quota = plan["quota"].to_numpy(dtype=np.float64)
    hires = hire_index(hire_dates(plan, company), plan_year)
    # Expected share of the year in the unfrozen periods: the parent's shape, else working days.
    first_open = int(period_spans([lab for lab in labels if lab not in frozen_set][:1], plan_year)[0][0])
    _, cum = year_days(plan_year)
    days_before = tracking.elapsed_share(np.array([0]), np.array([len(cum) - 1]), hires, first_open - 1, cum)[:, 0]
    share = np.where(quota > 0, np.divide(quota - frozen_q_arr, quota, out=np.zeros_like(quota), where=quota > 0),
                     1.0 - days_before)
    post = assessment.posterior
    member = tracking.unit_members(run.units, plan["team_id"], run.org)
    ahead = ahead_of_pace(assessment.plan_to_date, assessment.actual)
    ceiling = ratchet_ceiling(quota - frozen_q_arr, ahead, scenario.replan.ratchet)
    reps_in, teams_in, _ = _alloc_frames(run, company, post.quantiles(share), frozen_q_arr, member,
                                         scenario.allocation, ceiling)
    recal = None
    remaining_total = float((quota - frozen_q_arr).sum())
    if recalibration is not None:
        root = assessment.status[(assessment.status["kind"] == "unit") & (assessment.status["level"] == 0)]
        recal = recalibrate(run.summary, scenario, company, plan_year, float(root["forecast_p50"].iloc[0]),
                            float(frozen_q_arr.sum()), recalibration.growth, recalibration.reason)
        remaining_total = recal.to_total_quota - float(frozen_q_arr.sum())
    alloc, exceptions = carry(reps_in, teams_in, remaining_total, scenario.allocation, plan_year)
    new_rest = alloc.reps.set_index("rep_id")["quota"].reindex(ids).to_numpy(dtype=np.float64)
    if abs(new_rest.sum() - remaining_total) > _TOL:
        raise SolverError(f"re-plan: the remaining quotas add up to {new_rest.sum():,.0f}, not {remaining_total:,.0f} "
                          f"(the remaining total is not a whole multiple of allocation.unit {unit:g})")
    new_periods = _periods(run, labels, frozen, new_rest, hires, plan_year, unit)
    new_quota = frozen_q_arr + new_rest
    limits = {"ratchet": scenario.replan.ratchet, "ahead": ahead, "ceiling": ceiling, "exceptions": exceptions,
              "recalibration": recal}
    result, change = _assemble(run, scenario, assessment, plan, new_quota, new_periods, alloc, member, frozen_set,
                               as_of, reps_in, limits)
    annual_ceiling = np.where(np.isfinite(ceiling), frozen_q_arr + np.nan_to_num(ceiling), np.nan)
    problems = verify_replan(run, result.plan, result.periods, result.units, frozen_set, member,
                             total=float(frozen_q_arr.sum()) + remaining_total, ceiling=annual_ceiling)
    if problems:
        raise SolverError("re-plan breaks " + "; ".join(problems))
    result.timings = {"replan": round(time.perf_counter() - start, 4),
                      "solver_s": float(alloc.solver.timings.time_s)}
    return result, change


def _assemble(run: StoredRun, scenario: Scenario, assessment: Assessment, plan: pd.DataFrame, new_quota: np.ndarray,
              new_periods: pd.DataFrame, alloc: Any, member: sp.csr_matrix, frozen_set: set[str], as_of: dt.date,
              reps_in: pd.DataFrame, limits: dict[str, Any]) -> tuple[PlanResult, ReplanRecord]:
    """Tables, summary and change record of the new run (``limits``: ratchet, exceptions, recalibration)."""
    post, actual, done = assessment.posterior, assessment.actual, assessment.done
    rest = np.clip(1.0 - done, 0.0, 1.0)
    annual = actual[None, :] + post.quantiles(rest)
    p_attain = post.prob_at_least(rest, new_quota - actual)
    new_plan = plan.copy()
    new_plan["capacity_p10"], new_plan["capacity_p50"], new_plan["capacity_p90"] = (np.round(a, 2) for a in annual)
    unit = float(scenario.allocation.unit)
    new_plan["quota"] = amounts(count_units(new_quota, unit), unit)
    new_plan["stretch"] = np.round(new_quota / annual[1], 4)
    last = new_plan["last_quota"].astype(float)
    new_plan["change"] = (new_plan["quota"] / last - 1.0).where(last > 0).round(4)
    new_plan["p_attain"] = np.round(p_attain, 4)
    new_plan["binding"] = alloc.reps.set_index("rep_id")["binding"].reindex(plan["rep_id"].astype("str")).to_numpy()
    sections: dict[str, Any] = {}
    recal = limits["recalibration"]
    if recal is not None:
        sections["company_target"] = round(recal.to_target, 2)
        sections["target_basis"] = {"kind": f"recalibrated ({recal.basis})", "growth": recal.growth,
                                    "from_target": round(recal.from_target, 2), "reason": recal.reason,
                                    "as_of": as_of.isoformat()}
    target = float(sections.get("company_target", run.summary.company_target) or 0.0)
    units_quota = member.T @ new_quota
    root = int(np.flatnonzero(run.units["level"].to_numpy() == 0)[0])
    quotas = np.concatenate([units_quota, [target]])
    with_target = sp.hstack([member, member[:, [root]]], format="csr")
    fc = unit_forecast(post, actual, done, with_target, quotas, scenario.simulation.draws, scenario.simulation.seed)
    units = run.units.copy()
    units["quota"] = amounts(count_units(units_quota, unit), unit)
    units["capacity_p50"] = np.round(member.T @ annual[1], 2)
    units["p_attain"] = fc["p_attain_year"].to_numpy()[:-1].round(4)
    units = units[[c for c in name_columns(UNIT_COLUMNS, units) if c in units]]  # runs before names had none
    p80 = post.prob_at_least(rest, 0.8 * new_quota - actual)
    pay = _payouts(scenario, new_plan, new_periods, units, target, run.summary.plan_year)
    new_plan["expected_payout"] = pay.reps.set_index("rep_id")["expected_payout"].reindex(
        new_plan["rep_id"]).round(2).to_numpy()
    # The chance figures come from the posterior; the payouts from the simulator on its bands.
    outcome = Outcome(p_company_target=float(fc["p_attain_year"].iloc[-1]),
                      reps_expected={"ge_100": float(p_attain.mean()), "80_100": float((p80 - p_attain).mean()),
                                     "lt_80": float(1.0 - p80.mean())},
                      payouts=payouts_of(pay.summary))
    change = _change(run, new_plan, units, frozen_set, as_of, reps_in, limits)
    sections.update({
        "solver": alloc.solver.record(),
        "capacity": {"model": "posterior after actuals", "as_of": as_of.isoformat(),
                     "total_p50": float(annual[1].sum()), "actual_to_date": float(actual.sum())},
        "exceptions": limits["exceptions"],
        "payout_basis": ("simulated on each rep's updated annual band (actuals + forecast); "
                         "quarters already booked are not pinned"),
        "replan": change,
    })
    result = assemble(scenario, run.summary.plan_year,
                      new_plan[[c for c in name_columns(PLAN_COLUMNS, new_plan) if c in new_plan]], new_periods,
                      units, outcome, sections=sections, base=run.summary, drop=("allocation_notes",), target=target)
    return result, change


def _payouts(scenario: Scenario, plan: pd.DataFrame, periods: pd.DataFrame, units: pd.DataFrame, target: float,
             plan_year: int) -> Any:
    """Expected payouts of the new quotas (the simulator, on the updated annual bands)."""
    from quotaopt.incentives import QUARTER_COLUMNS, simulate

    labels = sorted(pd.unique(periods["period"]))
    starts, _ = period_spans(labels, plan_year)
    jan1 = pd.Timestamp(f"{plan_year}-01-01")
    quarter = {lab: int((jan1 + pd.Timedelta(days=int(s))).quarter) for lab, s in zip(labels, starts, strict=True)}
    by_q = (periods.assign(q=periods["period"].map(quarter))
            .pivot_table(index="rep_id", columns="q", values="quota", aggfunc="sum", fill_value=0.0)
            .reindex(columns=[1, 2, 3, 4], fill_value=0.0))
    by_q.columns = list(QUARTER_COLUMNS)
    sim_input = plan.merge(by_q, left_on="rep_id", right_index=True, how="left")
    return simulate(sim_input, units, scenario.incentives, scenario.simulation, target)


def _change(run: StoredRun, new_plan: pd.DataFrame, units: pd.DataFrame, frozen_set: set[str], as_of: dt.date,
            reps_in: pd.DataFrame, limits: dict[str, Any]) -> ReplanRecord:
    """What the re-plan changed against its parent (manifest, audit log, summary)."""
    old = run.plan["quota"].to_numpy(dtype=float)
    new = new_plan["quota"].to_numpy(dtype=float)
    delta = new - old
    order = np.argsort(delta, kind="stable")
    ids = new_plan["rep_id"].astype("str").to_numpy()

    def rows(idx: np.ndarray) -> list[dict[str, Any]]:
        return [{"rep_id": str(ids[i]), "from": int(old[i]), "to": int(new[i])} for i in idx if delta[i] != 0]

    unit_delta = units["quota"].to_numpy(dtype=float) - run.units["quota"].to_numpy(dtype=float)
    gave = reps_in[reps_in["stretch_relaxed"]]
    relaxed = [{"rep_id": str(rep), "remaining_capacity_p50": round(float(cap), 2), "parent_remaining_quota": float(last)}
               for rep, cap, last in zip(gave["rep_id"], gave["capacity_p50_forecast"].to_numpy(dtype=float),
                                         gave["last_quota"].to_numpy(dtype=float), strict=True)]
    return ReplanRecord.model_validate({
        "parent_run": run.run_id, "as_of": as_of.isoformat(),
        "frozen_periods": sorted(frozen_set), "reps": len(ids),
        "reps_changed": int((delta != 0).sum()), "quota_moved": float(np.abs(delta).sum() / 2.0),
        "remaining_quota": float(reps_in["last_quota"].fillna(0.0).sum()),
        "largest_increases": rows(order[::-1][:5]), "largest_decreases": rows(order[:5]),
        "units_changed": [{"unit_id": str(u), "from": int(a), "to": int(b)}
                          for u, a, b, d in zip(units["unit_id"], run.units["quota"], units["quota"], unit_delta,
                                                strict=True) if d != 0],
        "total_quota": int(new.sum()),
        # Reps whose stretch bound gave way to max_change on the remaining part (see _reconcile).
        "stretch_relaxed": relaxed,
        "ratchet": _ratchet(limits, reps_in, new - run.plan["quota"].to_numpy(dtype=float)),
        "exceptions": len(limits["exceptions"]),
        "recalibration": None if limits["recalibration"] is None else limits["recalibration"].record(),
    })


def _ratchet(limits: dict[str, Any], reps_in: pd.DataFrame, delta: np.ndarray) -> dict[str, Any]:
    """The no-ratchet rule in numbers: reps ahead of pace, how many were held at their remaining quota."""
    ahead, ceiling = limits["ahead"], limits["ceiling"]
    held = np.isfinite(ceiling) & (np.abs(delta) < 0.5)
    return {"rule": limits["ratchet"], "reps_ahead_of_pace": int(ahead.sum()),
            "reps_ahead_raised": int((ahead & (delta > 0.5)).sum()),
            "reps_held_at_ceiling": int(held.sum()),
            "reps_ahead": sorted(str(r) for r in reps_in["rep_id"].to_numpy()[ahead])[:50]}
