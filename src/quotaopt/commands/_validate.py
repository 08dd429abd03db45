"""``quotaopt validate`` and ``quotaopt payout``: check inputs, explain one payout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quotaopt.company import CompanySummary
from quotaopt.errors import InputError, Problem
from quotaopt.incentives import (
    PayoutExplanation,
    ScorecardExplanation,
    explain_payout,
    explain_scorecard,
    find_plan,
    read_attainments,
)
from quotaopt.io import load_inputs, load_scenario
from quotaopt.measures.plan import check_measure_inputs
from quotaopt.scenario import IncentivePlan


class ValidationSummary(CompanySummary):
    """The company's counts, led by the scenario and plan year when a scenario file was given."""

    scenario: str | None = None
    plan_year: int | None = None


@dataclass(frozen=True)
class Validation:
    """What ``quotaopt validate`` found: the data folder and its counts."""

    folder: Path
    #: Where the data came from, as shown: the folder, the workbook or the database URL
    #: without its password.
    source: str
    #: The company's counts (:meth:`quotaopt.company.CompanyData.summary`), led by
    #: ``scenario`` and ``plan_year`` when a scenario file was given.
    summary: ValidationSummary


def validate(scenario: str | Path) -> Validation:
    """Check a scenario file and its data folder (or a data folder alone).

    Returns
    -------
    Validation

    Raises
    ------
    InputError
        Every problem found, each with its file, row and column.

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> found = qo.validate(example)
    >>> found.summary.scenario, found.summary.plan_year, found.summary.reps
    ('example', 2027, 80)
    """
    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    if inputs.scenario is not None and len(inputs.scenario.measures) > 1:
        check_measure_inputs(inputs.scenario, inputs.company, inputs.plan_year)
    lead = {"scenario": inputs.scenario.name, "plan_year": inputs.plan_year} if inputs.scenario is not None else {}
    summary = ValidationSummary.model_validate({**lead, **inputs.company.summary().record()})
    return Validation(inputs.company.folder, inputs.company.source or str(inputs.company.folder), summary)


def payout(scenario: str | Path, plan: str, quota: float | None, sales: float | None,
           attainments: Sequence[str] = (), activities_path: str | Path | None = None,
           rep: str | None = None) -> PayoutExplanation | ScorecardExplanation:
    """One payout under a scenario's incentive plan, explained band by band (``.render()`` for text).

    A scorecard plan (``components``) reads each measure's attainment from ``attainments``
    (``MEASURE=A``; revenue may come from ``quota`` and ``sales``) and is explained
    component by component. With ``activities_path`` and ``rep`` each ``activity:<metric>``
    the plan reads and ``attainments`` does not give is that rep's attainment over the file's
    rows (plan year) against its role's target in ``activities.metrics``
    (:func:`quotaopt.tracking.activity_attainment`; a quarterly plan counts a quarter of a
    ``sum`` metric's yearly target).

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> print(qo.payout(example, "ka", 100_000, 120_000).render().splitlines()[1])
    quota 100,000.00  sales 120,000.00  attainment 120.00%
    """
    loaded = load_scenario(scenario)
    chosen = find_plan(loaded.incentives.plans, plan, label=str(scenario))
    if (activities_path is None) != (rep is None):
        raise InputError([Problem("payout", "give --activities and --rep together", column="--activities")])
    if chosen.components:
        pairs = list(attainments)
        if activities_path is not None and rep is not None:
            pairs += _activity_pairs(scenario, chosen, activities_path, rep, pairs)
        return explain_scorecard(chosen, read_attainments(chosen, pairs, quota, sales))
    if quota is None or sales is None or attainments:
        raise InputError([Problem(str(scenario), f"plan {plan!r} is paid on revenue: give --quota and --sales"
                                  + (", not --attainment" if attainments else ""), column="--plan")])
    return explain_payout(chosen, quota, sales)


def _activity_pairs(scenario: str | Path, plan: IncentivePlan, path: str | Path, rep: str,
                    given: Sequence[str]) -> list[str]:
    """``activity:<metric>=A`` for each activity the plan reads and ``given`` lacks, from the rep's rows."""
    from quotaopt.incentives import ScorecardCurve
    from quotaopt.io import load_activities
    from quotaopt.tracking import activity_attainment

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    reps = inputs.company.reps.set_index(inputs.company.reps["rep_id"].astype(str))
    if rep not in reps.index:
        raise InputError([Problem("payout", f"rep {rep[:60]!r} is not in reps.csv", column="--rep")])
    rows = load_activities(path, inputs.company, inputs.plan_year)
    found = activity_attainment(rows, inputs.scenario.activities, rep, str(reps.loc[rep, "role"]),
                                share=0.25 if plan.period == "quarter" else 1.0)
    named = {pair.partition("=")[0] for pair in given}
    return [f"{m}={a!r}" for m, a in found.items() if m in ScorecardCurve.from_plan(plan).measures and m not in named]
