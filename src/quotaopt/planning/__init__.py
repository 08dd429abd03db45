"""Planning: from a company's inputs to a plan (targets, capacity, allocation, periods, simulation).

- :class:`Inputs` -- what a command hands the pipeline (scenario, company, plan year,
  the stored model already read);
- :func:`run_plan` -- the whole pipeline as one :class:`PlanResult` (no disk access);
- the stages it runs, each callable alone: :func:`company_target`,
  :func:`estimate_capacity`, :func:`simulate_stage`, :func:`target_gap`, :func:`guardrail`;
- :func:`assemble` -- the tables and the pieces only a caller knows into a :class:`PlanResult`
  (``plan``, ``simulate`` and re-plans all end there); :class:`Outcome` -- the simulated
  figures it needs, :func:`outcome_of` a simulation;
- :class:`Summary` -- summary.json, defined in one place (its sections beside it);
- :func:`frontier` -- the planning frontier over growth values;
- :func:`with_locks` -- ``allocation.locks`` laid over reps.csv; :func:`capacity_key` and
  :data:`CapacityCache` -- fitted capacities kept between plans (the workbench);
- :class:`PlanResult` and :class:`StoredRun` -- a plan made now, and one read back;
- :func:`apply_overrides` -- quotas typed in plan.xlsx's Overrides sheet, laid over the
  reps as locked quotas (:class:`Overrides`, read by :func:`quotaopt.io.read_overrides`).
"""

from quotaopt.planning._assemble import Outcome, assemble, guardrail, outcome_of, target_gap
from quotaopt.planning._frontier import COLUMNS as FRONTIER_COLUMNS
from quotaopt.planning._frontier import DEFAULT_GROWTH, frontier, growth_values
from quotaopt.planning._overrides import (
    ID_HEADER,
    OVERRIDES_SHEET,
    QUOTA_HEADER,
    Overrides,
    apply_overrides,
    recorded_overrides,
)
from quotaopt.planning._plan import (
    CapacityCache,
    Inputs,
    capacity_key,
    company_target,
    comparable_last,
    distributions,
    estimate_capacity,
    growth_base,
    growth_of,
    growth_text,
    month_weights_of,
    reachable_target,
    run_plan,
    simulate_stage,
    with_locks,
)
from quotaopt.planning._reachability import (
    SHARE_TOL,
    expected_share,
    quota_total_for_share,
    target_for_p_company,
)
from quotaopt.planning._result import (
    PLAN_COLUMNS,
    UNIT_COLUMNS,
    AuditFacts,
    DerivedFrom,
    Manifest,
    OverridesRead,
    PlanResult,
    StoredRun,
    WorkbenchSave,
    round_floats,
)
from quotaopt.planning._summary import ReplanRecord, Summary

__all__ = [
    "DEFAULT_GROWTH", "FRONTIER_COLUMNS", "ID_HEADER", "OVERRIDES_SHEET", "PLAN_COLUMNS", "QUOTA_HEADER", "SHARE_TOL",
    "UNIT_COLUMNS", "CapacityCache", "Inputs", "Overrides", "PlanResult", "apply_overrides", "capacity_key",
    "comparable_last", "recorded_overrides", "with_locks",
    "StoredRun", "company_target", "distributions", "estimate_capacity", "expected_share", "frontier", "growth_base",
    "growth_of", "growth_text", "growth_values", "guardrail", "month_weights_of", "quota_total_for_share",
    "reachable_target", "round_floats", "run_plan", "simulate_stage", "target_for_p_company",
    "target_gap", "Outcome", "ReplanRecord", "Summary", "AuditFacts", "DerivedFrom", "Manifest", "OverridesRead",
    "WorkbenchSave", "assemble", "outcome_of",
]
