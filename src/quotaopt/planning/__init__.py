"""Planning: from a company's inputs to a plan (targets, capacity, allocation, periods, simulation).

- :class:`Inputs` -- what a command hands the pipeline (scenario, company, plan year,
  the stored model already read);
- :func:`run_plan` -- the whole pipeline as one :class:`PlanResult` (no disk access);
- the stages it runs, each callable alone: :func:`company_target`,
  :func:`estimate_capacity`, :func:`simulate_stage`, :func:`simulation_summary`,
  :func:`target_gap`, :func:`guardrail`;
- :func:`frontier` -- the planning frontier over growth values;
- :func:`with_locks` -- ``allocation.locks`` laid over reps.csv; :func:`capacity_key` and
  :data:`CapacityCache` -- fitted capacities kept between plans (the workbench);
- :class:`PlanResult` and :class:`StoredRun` -- a plan made now, and one read back.
"""

from quotaopt.planning._frontier import COLUMNS as FRONTIER_COLUMNS
from quotaopt.planning._frontier import DEFAULT_GROWTH, frontier, growth_values
from quotaopt.planning._plan import (
    CapacityCache,
    Inputs,
    capacity_key,
    company_target,
    distributions,
    estimate_capacity,
    growth_base,
    growth_of,
    growth_text,
    guardrail,
    month_weights_of,
    reachable_target,
    run_plan,
    simulate_stage,
    simulation_summary,
    target_gap,
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
    PlanResult,
    StoredRun,
    round_floats,
)

__all__ = [
    "DEFAULT_GROWTH", "FRONTIER_COLUMNS", "CapacityCache", "capacity_key", "with_locks", "PLAN_COLUMNS", "SHARE_TOL", "UNIT_COLUMNS", "Inputs", "PlanResult",
    "StoredRun", "company_target", "distributions", "estimate_capacity", "expected_share", "frontier", "growth_base",
    "growth_of", "growth_text", "growth_values", "guardrail", "month_weights_of", "quota_total_for_share",
    "reachable_target", "round_floats", "run_plan", "simulate_stage", "simulation_summary", "target_for_p_company",
    "target_gap",
]
