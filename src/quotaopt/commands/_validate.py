"""``quotaopt validate`` and ``quotaopt payout``: check inputs, explain one payout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quotaopt.incentives import PayoutExplanation, explain_payout, find_plan
from quotaopt.io import load_inputs, load_scenario


@dataclass(frozen=True)
class Validation:
    """What ``quotaopt validate`` found: the data folder and its counts."""

    folder: Path
    #: Where the data came from, as shown: the folder, the workbook or the database URL
    #: without its password.
    source: str
    #: The company's counts (:meth:`quotaopt.company.CompanyData.summary`), led by
    #: ``scenario`` and ``plan_year`` when a scenario file was given.
    summary: dict[str, Any]


def validate(scenario: str | Path) -> Validation:
    """Check a scenario file and its data folder (or a data folder alone).

    Returns
    -------
    Validation

    Raises
    ------
    InputError
        Every problem found, each with its file, row and column.
    """
    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    summary = inputs.company.summary()
    if inputs.scenario is not None:
        summary = {"scenario": inputs.scenario.name, "plan_year": inputs.plan_year, **summary}
    return Validation(inputs.company.folder, inputs.company.source or str(inputs.company.folder), summary)


def payout(scenario: str | Path, plan: str, quota: float, sales: float) -> PayoutExplanation:
    """One payout under a scenario's incentive plan, explained band by band (``.render()`` for text)."""
    loaded = load_scenario(scenario)
    chosen = find_plan(loaded.incentives.plans, plan, label=str(scenario))
    return explain_payout(chosen, quota, sales)
