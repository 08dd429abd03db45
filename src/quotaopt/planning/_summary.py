"""summary.json, defined in one place: the :class:`Summary` model and its sections.

Every run's summary (``plan``, ``simulate``, ``track --replan``) is built by
:func:`quotaopt.planning.assemble` and validated against these models before it is
written, and :func:`quotaopt.io.read_run` validates it again when a run is read back,
so a key that is misspelt, missing where it is required or of the wrong type is caught
where it is made, never by a reader downstream. docs/CONTRACT.md §4 says what each key
means; the field docs here say the same in brief.

Sections are optional where the plan may not have them (``assignment`` only with
assignment on, ``measures`` only with more than revenue, ``replan`` only on a re-plan);
a key that a run did not set is not written (the file shows what the run made, and
older runs read back unchanged). Numbers keep the type they were made with (``int``
stays ``int``), so the file's bytes do not depend on the model.

Examples
--------
>>> s = Summary.model_validate({"scenario": "demo", "plan_year": 2026, "company_target": 100.0})
>>> s.plan_year, s.record()
(2026, {'scenario': 'demo', 'plan_year': 2026, 'company_target': 100.0})
>>> Summary.model_validate({"scenario": "demo", "plan_year": 2026, "company_target": 1.0, "colour": "red"})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Summary
colour
  Extra inputs are not permitted [type=extra_forbidden, input_value='red', input_type=str]
...
"""

from __future__ import annotations

from pydantic import Field

from quotaopt.assignment.records import (
    AssignmentGroups,
    AssignmentSolver,
    AssignmentSummary,
    BeforeAfter,
    ReasonFigures,
)
from quotaopt.capacity.records import CapacitySummary, LevelRecord
from quotaopt.measures.records import CountMeasure, LineMeasure, MeasureSummary, RateMeasure
from quotaopt.records import LimitExceptionRecord, Number, TargetBasis
from quotaopt.records import Record as Section

__all__ = [
    "AssignmentGroups", "AssignmentSolver", "AssignmentSummary", "BeforeAfter", "CapacitySummary", "CountMeasure", "Fairness",
    "Guardrail", "LevelRecord", "LimitExceptionRecord", "LineMeasure", "MeasureSummary", "Moved", "Ratchet",
    "RateMeasure", "ReasonFigures", "Recalibration", "Relaxed", "ReplanRecord", "RepsExpected",
    "SimulationSettings", "SolverSummary", "Summary", "TargetBasis", "TargetGap", "UnitMoved",
]

class RepsExpected(Section):
    """Share of reps expected at >= 100%, 80-100% and < 80% of quota."""

    ge_100: float
    between_80_100: float = Field(alias="80_100")
    lt_80: float


class TargetGap(Section):
    """The target and the total quota against the sums of capacity P10/P50/P90 and simulated bookings."""

    company_target: Number
    total_quota: Number
    capacity_p10: Number
    capacity_p50: Number
    capacity_p90: Number
    target_over_p50: float | None = None
    quota_over_p50: float | None = None
    bookings_p10: float | None = None
    bookings_p50: float | None = None
    bookings_p90: float | None = None
    reps_expected: RepsExpected


class Guardrail(Section):
    """``allocation.guardrail``: is the expected share of reps at quota below the minimum?"""

    min_share_at_quota: float
    share_at_quota: float
    below: bool
    message: str | None


class Fairness(Section):
    """Spread of stretch (quota / capacity P50) and of the chance of reaching quota."""

    stretch_min: float
    stretch_max: float
    stretch_mean: float
    stretch_std: float
    stretch_spread: float
    p_attain_min: float
    p_attain_max: float


class SimulationSettings(Section):
    """The Monte Carlo's draws and seed."""

    draws: int
    seed: int


class SolverSummary(Section):
    """How the allocation solver did (:meth:`quotaopt.allocation.SolverReport.record`).

    A plan always has ``backend`` and ``status``; the figures are absent where no model
    was solved (quotas set by a rule).
    """

    backend: str
    status: str
    objective: float | None = None
    gap: float | None = None
    bound: float | None = None
    n_vars: int | None = None
    n_rows: int | None = None
    n_solves: int | None = None
    mode: str | None = None
    unit_solver: str | None = None
    fairness: str | None = None
    max_deviation: float | None = None
    sum_max_deviation: float | None = None
    total_deviation: float | None = None
    linearisation_error: float | None = None
    #: Money each soft family gave (elastic allocation).
    elastic: dict[str, float] | None = None


class Moved(Section):
    """A rep's remaining quota before and after the re-plan."""

    rep_id: str
    from_: Number = Field(alias="from")
    to: Number


class UnitMoved(Section):
    """A unit's quota before and after the re-plan."""

    unit_id: str
    from_: Number = Field(alias="from")
    to: Number


class Relaxed(Section):
    """A rep whose stretch bound gave way to max_change on the remaining part."""

    rep_id: str
    remaining_capacity_p50: Number
    parent_remaining_quota: Number


class Ratchet(Section):
    """The no-ratchet rule in numbers."""

    rule: str | bool
    reps_ahead_of_pace: int
    reps_ahead_raised: int
    reps_held_at_ceiling: int
    reps_ahead: list[str]


class Recalibration(Section):
    """A company target reset at a re-plan (``--recalibrate``)."""

    from_target: Number
    to_target: Number
    basis: str
    growth: Number | None
    reason: str
    from_total_quota: Number
    to_total_quota: Number


class ReplanRecord(Section):
    """What a re-plan changed against its parent."""

    parent_run: str
    as_of: str
    frozen_periods: list[str]
    reps: int
    reps_changed: int
    quota_moved: Number
    remaining_quota: Number
    largest_increases: list[Moved]
    largest_decreases: list[Moved]
    units_changed: list[UnitMoved]
    total_quota: Number
    stretch_relaxed: list[Relaxed]
    ratchet: Ratchet
    exceptions: int
    recalibration: Recalibration | None


class Summary(Section):
    """The content of summary.json (docs/CONTRACT.md §4): deterministic, no timings, no run id.

    Attributes
    ----------
    scenario : str
    plan_year : int
    company_target : float
        The target the plan was made for (before over-assignment).
    total_quota : int or float
        Sum of the reps' quotas, in whole ``allocation.unit``.
    p_company_target : float
        Simulated chance that the company books at least its target.
    reps_expected : RepsExpected
    target_gap, guardrail, fairness, solver, capacity, simulation : sections
    exceptions : list of LimitExceptionRecord
        Every soft limit that gave way.
    measures, assignment, replan : sections, optional
        Only where the run has them.
    """

    scenario: str
    plan_year: int
    company_target: Number
    target_basis: TargetBasis | None = None
    total_quota: Number | None = None
    over_assignment: float | None = None
    over_assignment_requested: Number | None = None
    reps: int | None = None
    units: int | None = None
    p_company_target: float | None = None
    expected_payout: Number | None = None
    payout_p10: Number | None = None
    payout_p50: Number | None = None
    payout_p90: Number | None = None
    cost_of_sales: Number | None = None
    payout_basis: str | None = None
    reps_expected: RepsExpected | None = None
    target_gap: TargetGap | None = None
    guardrail: Guardrail | None = None
    fairness: Fairness | None = None
    simulation: SimulationSettings | None = None
    #: Scorecard plans only: plan -> component measure -> its expected payout per year.
    incentive_components: dict[str, dict[str, Number]] | None = None
    solver: SolverSummary | None = None
    capacity: CapacitySummary | None = None
    #: How many reps each limit bound (``binding`` of plan.csv).
    binding_counts: dict[str, int] | None = None
    #: Reps whose max_change yielded to stretch.
    allocation_notes: list[str] | None = None
    exceptions: list[LimitExceptionRecord] | None = None
    allocation_strict: bool | None = None
    bookings_credit_notes: int | None = None
    measures: dict[str, MeasureSummary] | None = None
    assignment: AssignmentSummary | None = None
    replan: ReplanRecord | None = None
