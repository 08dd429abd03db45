"""One way from a plan's tables to a :class:`PlanResult`: :func:`assemble`.

``plan``, ``simulate`` and ``track --replan`` all end here, so the figures that follow
from the tables (total quota, over-assignment, binding counts, fairness, the
target-capacity gap, the guardrail) are computed the same way for each, and every
summary is checked against :class:`~quotaopt.planning.Summary` where it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.incentives import SimulationFigures, SimulationResult
from quotaopt.money import amount, count_units
from quotaopt.planning._result import PlanResult, round_floats
from quotaopt.planning._summary import Summary
from quotaopt.scenario import Scenario

__all__ = ["Outcome", "assemble", "guardrail", "outcome_of", "payouts_of", "shares_of", "target_gap"]


@dataclass(frozen=True)
class Outcome:
    """What the simulation (or a re-plan's posterior) says of a plan.

    Attributes
    ----------
    p_company_target : float
        Chance that the company books at least its target.
    reps_expected : dict
        ``ge_100``, ``80_100``, ``lt_80``: expected shares of reps.
    payouts : dict
        ``expected_payout``, ``payout_p10``, ``payout_p50``, ``payout_p90``, ``cost_of_sales``.
    company_draws : ndarray, optional
        Simulated company bookings per draw (the gap then shows their P10/P50/P90).
    simulation : dict, optional
        ``draws`` and ``seed`` the figures were simulated with (None: keep the base run's).
    components : dict, optional
        Scorecard plans: plan -> component measure -> expected payout per year.
    """

    p_company_target: float
    reps_expected: dict[str, float]
    payouts: dict[str, float]
    company_draws: np.ndarray | None = None
    simulation: dict[str, int] | None = None
    components: dict[str, dict[str, float]] | None = None


def outcome_of(sim: SimulationResult, scenario: Scenario) -> Outcome:
    """The :class:`Outcome` of a Monte Carlo run of the plan."""
    return Outcome(
        p_company_target=sim.summary.p_company_target,
        reps_expected=shares_of(sim.summary),
        payouts=payouts_of(sim.summary),
        company_draws=(sim.draws or {}).get("company_bookings"),
        simulation={"draws": scenario.simulation.draws, "seed": scenario.simulation.seed},
        components=sim.summary.component_cost)


def shares_of(figures: SimulationFigures) -> dict[str, float]:
    """summary.json's ``reps_expected`` of a simulation."""
    return {"ge_100": figures.share_ge_100, "80_100": figures.share_80_100, "lt_80": figures.share_lt_80}


def payouts_of(figures: SimulationFigures) -> dict[str, float]:
    """summary.json's payout figures of a simulation."""
    return {"expected_payout": figures.expected_payout, "payout_p10": figures.payout_p10,
            "payout_p50": figures.payout_p50, "payout_p90": figures.payout_p90,
            "cost_of_sales": figures.cost_of_sales}


def target_gap(plan: pd.DataFrame, target: float, company_draws: Any, shares: dict[str, float]) -> dict[str, Any]:
    """The company target and the quota total against what the reps can sell (contract §4).

    Capacity sums are the reps' own P10 / P50 / P90 added up; the company's simulated
    bookings (``company_draws``, correlated, so narrower than the summed P10-P90) are
    given beside them when there are any.

    Examples
    --------
    >>> plan = pd.DataFrame({"capacity_p10": [8.0], "capacity_p50": [10.0], "capacity_p90": [12.0], "quota": [11.0]})
    >>> gap = target_gap(plan, 10.0, None, {"ge_100": 0.4, "80_100": 0.4, "lt_80": 0.2})
    >>> round(gap["quota_over_p50"], 3), "bookings_p50" in gap
    (0.1, False)
    """
    p10, p50, p90 = (float(plan[f"capacity_{q}"].sum()) for q in ("p10", "p50", "p90"))
    quota = float(plan["quota"].sum())
    draws = np.asarray([] if company_draws is None else company_draws, dtype=float)
    booked = {f"bookings_{k}": float(np.quantile(draws, q)) for k, q in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))} \
        if draws.size else {}
    return {
        "company_target": target, "total_quota": quota,
        "capacity_p10": p10, "capacity_p50": p50, "capacity_p90": p90,
        "target_over_p50": target / p50 - 1.0 if p50 > 0 else None,
        "quota_over_p50": quota / p50 - 1.0 if p50 > 0 else None,
        **booked, "reps_expected": shares,
    }


def guardrail(scenario: Scenario, share_at_quota: float) -> dict[str, Any]:
    """``allocation.guardrail``: is the expected share of reps at quota below the minimum?"""
    minimum = scenario.allocation.guardrail.min_share_at_quota
    below = share_at_quota < minimum
    message = (f"only {share_at_quota:.0%} of reps are expected to reach quota, below the guardrail "
               f"{minimum:.0%} (allocation.guardrail.min_share_at_quota): the target asks more than most reps "
               "can sell; lower it, or pick it with target.reps_at_quota") if below else None
    return {"min_share_at_quota": minimum, "share_at_quota": share_at_quota, "below": below, "message": message}


def _fairness(plan: pd.DataFrame) -> dict[str, float]:
    stretch = plan["stretch"].to_numpy(dtype=float)
    p = plan["p_attain"].to_numpy(dtype=float)
    return {
        "stretch_min": round(float(stretch.min()), 4),
        "stretch_max": round(float(stretch.max()), 4),
        "stretch_mean": round(float(stretch.mean()), 4),
        "stretch_std": round(float(stretch.std()), 4),
        "stretch_spread": round(float(stretch.max() - stretch.min()), 4),
        "p_attain_min": round(float(p.min()), 4),
        "p_attain_max": round(float(p.max()), 4),
    }


def assemble(scenario: Scenario, plan_year: int, plan: pd.DataFrame, periods: pd.DataFrame, units: pd.DataFrame,
             outcome: Outcome, *, sections: dict[str, Any], base: Summary | None = None,
             drop: tuple[str, ...] = (), target: float | None = None, **result: Any) -> PlanResult:
    """A :class:`PlanResult` whose summary is built and validated in one place.

    Parameters
    ----------
    scenario : Scenario
    plan_year : int
    plan, periods, units : DataFrame
        plan.csv, the revenue periods and units.csv as they will be written.
    outcome : Outcome
        The simulated (or posterior) figures of the plan.
    sections : dict
        The summary keys only the caller knows (``company_target`` when it is set or
        changed, ``target_basis``, ``solver``, ``capacity``, ``exceptions``, ``replan`` ...).
    base : Summary, optional
        The summary this run derives from (``simulate``, a re-plan): its keys are kept
        unless recomputed here, given in ``sections`` or named in ``drop``.
    drop : tuple of str
        Keys of ``base`` that no longer hold (a re-plan's ``allocation_notes``).
    target : float, optional
        The company target unrounded, as the plan was made for it (default: the summary's
        ``company_target``, which is rounded to cents).
    **result
        The other :class:`PlanResult` fields (``distributions``, ``timings``, ``measures`` ...).

    Returns
    -------
    PlanResult

    Raises
    ------
    pydantic.ValidationError
        The summary does not fit :class:`Summary` (a defect, not a user mistake).
    """
    content: dict[str, Any] = {k: v for k, v in (base.record() if base is not None else {}).items() if k not in drop}
    content.update(sections)
    target = float(content.get("company_target") or 0.0) if target is None else target
    unit = scenario.allocation.unit
    total_quota = amount(int(count_units(plan["quota"], unit).sum()), unit)  # summed in whole units: exact
    shares = outcome.reps_expected
    content.update({
        "scenario": content.get("scenario", scenario.name),
        "plan_year": plan_year,
        "total_quota": total_quota,
        "over_assignment": total_quota / target - 1.0 if target > 0 else None,
        "reps": len(plan),
        "units": len(units),
        "p_company_target": outcome.p_company_target,
        **outcome.payouts,
        "reps_expected": shares,
        "target_gap": target_gap(plan, target, outcome.company_draws, shares),
        "guardrail": guardrail(scenario, shares["ge_100"]),
        "fairness": _fairness(plan),
        "binding_counts": {str(k): int(v) for k, v in plan["binding"].value_counts().sort_index().items()},
    })
    if outcome.simulation is not None:
        content["simulation"] = outcome.simulation
    if outcome.components is not None:
        content["incentive_components"] = outcome.components
    summary = Summary.model_validate(round_floats(content))
    return PlanResult(name=str(content["scenario"]), plan_year=plan_year, plan=plan, periods=periods, units=units,
                      summary=summary, **result)
