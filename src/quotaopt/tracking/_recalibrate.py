"""``track --replan --recalibrate``: reset the company target to what the year can still give.

A re-plan keeps the annual target by default. When the market moved (the source
method's "competitor cut prices, growth target lowered from 25% to 18%"), holding it
only spreads a shortfall nobody can close over the reps who are left; recalibration
resets it, on the record:

- by default to the **forecast P50** of the company's bookings for the year (actuals to
  date plus the forecast of the rest, :mod:`quotaopt.tracking._forecast`), the target
  the year is as likely to beat as to miss;
- or to a **growth** given on the command line, over the same base the plan's
  ``target.growth`` uses (the last complete year's bookings before the plan year).

The total quota keeps the parent's coverage (total quota / target). Periods that have
started keep their quotas, so the new total is the frozen part plus a remaining part in
whole multiples of ``allocation.unit``. The reason is required: old and new target,
basis and reason are written to the run (manifest, summary.json ``replan.recalibration``)
and to ``runs/audit.jsonl``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.planning import Summary
from quotaopt.scenario import Scenario


@dataclass(frozen=True)
class Recalibration:
    """A company target reset at a re-plan.

    Attributes
    ----------
    from_target, to_target : float
        The parent's company target and the new one.
    basis : str
        ``forecast_p50`` or ``growth``.
    growth : float or None
        The growth given (``basis == "growth"``).
    reason : str
        Why, as given with ``--reason``.
    from_total_quota, to_total_quota : float
        The parent's total quota and the new one (same coverage, whole units).
    """

    from_target: float
    to_target: float
    basis: str
    growth: float | None
    reason: str
    from_total_quota: float
    to_total_quota: float

    def record(self) -> dict[str, Any]:
        """As plain data (manifest, summary and audit log)."""
        out = asdict(self)
        for key in ("from_target", "to_target", "from_total_quota", "to_total_quota"):
            out[key] = round(float(out[key]), 2)
        return out


def check_request(recalibrate: bool, growth: float | None, reason: str | None) -> None:
    """Refuse options that do not fit together (InputError naming the option)."""
    if not recalibrate:
        for name, value in (("--growth", growth), ("--reason", reason)):
            if value is not None:
                raise InputError([Problem(name, "only applies with --recalibrate (a target reset at a re-plan)")])
        return
    if reason is None or not reason.strip():
        raise InputError([Problem("--reason", "--recalibrate changes the company target: say why with --reason "
                                  '"..." (it goes to the audit log)')])
    if growth is not None and not (math.isfinite(growth) and growth > -1.0):
        raise InputError([Problem("--growth", f"must be a number above -1 (e.g. 0.18 for +18%), got {growth!r}")])


def new_target(scenario: Scenario, company: CompanyData, plan_year: int, forecast_p50: float,
               growth: float | None) -> tuple[float, str]:
    """The recalibrated company target and its basis (``forecast_p50`` or ``growth``)."""
    if growth is None:
        return float(forecast_p50), "forecast_p50"
    from quotaopt.planning import company_target

    grown = scenario.model_copy(update={"target": scenario.target.model_copy(update={"company": None,
                                                                                        "growth": growth})})
    target, _ = company_target(grown, company, plan_year)
    return float(target), "growth"


def recalibrate(summary: Summary, scenario: Scenario, company: CompanyData, plan_year: int,
                forecast_p50: float, frozen_total: float, growth: float | None, reason: str) -> Recalibration:
    """The new target and total quota of a recalibrated re-plan.

    Parameters
    ----------
    summary : Summary
        The parent run's summary.json (company target, total quota).
    scenario : Scenario
        The parent's resolved scenario (``allocation.unit``, the growth base).
    company : CompanyData
    plan_year : int
    forecast_p50 : float
        The company's forecast P50 for the year at the as-of date.
    frozen_total : float
        Quota already in started periods (kept).
    growth : float, optional
        A growth over the last complete year instead of the forecast.
    reason : str

    Returns
    -------
    Recalibration

    Raises
    ------
    InputError
        The new total would leave less than nothing for the rest of the year (naming
        ``--growth`` or the forecast, and the smallest target that works).
    """
    unit = float(scenario.allocation.unit)
    old_target = float(summary.company_target or 0.0)
    old_total = float(summary.total_quota or 0.0)
    coverage = old_total / old_target if old_target > 0 else 1.0 + scenario.target.over_assignment
    target, basis = new_target(scenario, company, plan_year, forecast_p50, growth)
    remaining = math.floor((target * coverage - frozen_total) / unit + 0.5) * unit
    if remaining < 0:
        smallest = frozen_total / coverage
        source = f"--growth {growth:g}" if growth is not None else "the forecast P50"
        raise InputError([Problem("--growth" if growth is not None else "--recalibrate",
                                  f"{source} gives a company target of {target:,.0f}, but {frozen_total:,.0f} of quota "
                                  f"is already in periods that have started: the smallest target that works is "
                                  f"{smallest:,.0f}")])
    return Recalibration(old_target, target, basis, growth, reason.strip(), old_total, frozen_total + remaining)
