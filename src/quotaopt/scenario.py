"""The scenario file (contract §2): pydantic models, ``extends`` with deep merge, safe YAML.

Every key has a default declared in its ``Field``; unknown keys, wrong types and
impossible values raise :class:`~quotaopt.errors.InputError` naming the key path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from quotaopt.data_source import DataSource
from quotaopt.errors import InputError, Problem
from quotaopt.measure_names import PLANNED_FAMILIES, parse_measure
from quotaopt.money import MAX_AMOUNT, MAX_UNIT, MIN_UNIT, is_whole_cents
from quotaopt.solvers import backend_problem

__all__ = ["Scenario", "deep_merge", "refuse_unknown_keys", "shown_key", "validate_scenario"]

_KEY = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,64}$")


def shown_key(path: str) -> str:
    """A key path as an error may show it: as is when it looks like a key, else not echoed.

    Examples
    --------
    >>> shown_key("allocation.unit")
    'allocation.unit'
    >>> shown_key("root:x:0:0:root:/root:/bin/bash")
    '(a key of 31 characters, not shown)'
    """
    return path if _KEY.match(path) else f"(a key of {len(path)} characters, not shown)"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: mappings merge key by key, anything else replaces.

    Examples
    --------
    >>> deep_merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}})
    {'a': {'x': 1, 'y': 3}, 'b': 1}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out



Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _ordered_pair(value: tuple[float, float], what: str) -> tuple[float, float]:
    low, high = value
    if low > high:
        raise ValueError(f"{what} low {low} is above high {high}")
    return value


class TargetConfig(_Strict):
    """The company number: an absolute target or growth over the last complete year."""

    company: float | None = Field(
        None, gt=0, le=MAX_AMOUNT, description="Absolute annual company target (currency, up to 1e15). Default: unset."
    )
    growth: float | None = Field(
        None,
        gt=-1.0,
        description="Growth over the last complete year's bookings, used when `company` is "
        "unset. Default: 0.0 when neither is given.",
    )
    over_assignment: float = Field(
        0.0, ge=0.0, le=1.0, description="Sum of rep quotas = target x (1 + this). Default 0."
    )
    reps_at_quota: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Pick the total quota so that this expected share of reps reaches quota "
        "(the company target is that total / (1 + over_assignment)). Default: unset.",
    )
    p_company: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Pick the company target that is met with this chance (simulated). Default: unset.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> TargetConfig:
        given = [k for k in ("company", "growth", "reps_at_quota", "p_company") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of target.company, growth, reps_at_quota or p_company, not {' and '.join(given)}")
        return self


class MeasureTarget(_Strict):
    """The company number of a measure other than revenue: absolute, or growth over last year."""

    company: float | None = Field(None, ge=0, le=MAX_AMOUNT, description="Absolute company total (counts) or "
                                  "company rate in [0, 1] (rates). Default unset.")
    growth: float | None = Field(None, gt=-1.0, description="Growth over the last complete year's value "
                                 "(a rate grows relative to itself, capped at 1). Default 0 when company is unset.")

    @model_validator(mode="after")
    def _one_of(self) -> MeasureTarget:
        if self.company is not None and self.growth is not None:
            raise ValueError("give company or growth, not both")
        return self


class MarketConfig(_Strict):
    """What-if market movement applied to every rep's capacity."""

    growth: float = Field(
        0.0, gt=-1.0, description="Multiplier on capacity: 0.10 = +10%. Default 0."
    )


class CapacityConfig(_Strict):
    """Where capacities come from."""

    model: str = Field(
        "train",
        description="`train` (fit on the history), `given` (capacity.csv in the data "
        "folder) or a path to a trained model folder. Default `train`.",
    )
    quantiles: tuple[float, ...] = Field(
        (0.1, 0.5, 0.9), description="Quantiles to predict; must include 0.1, 0.5 and 0.9."
    )
    seed: int = Field(
        0, description="Seed of the capacity model's own randomness (it draws none at the default "
        "settings); independent of simulation.seed. Default 0."
    )

    @field_validator("quantiles")
    @classmethod
    def _quantiles(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0.0 < q < 1.0 for q in value):
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(value)}")
        if list(value) != sorted(set(value)):
            raise ValueError(f"quantiles must be increasing and distinct, got {list(value)}")
        for needed in (0.1, 0.5, 0.9):
            if not any(abs(q - needed) < 1e-9 for q in value):
                raise ValueError(f"quantiles must include {needed}, got {list(value)}")
        return value


class SolverConfig(_Strict):
    """MILP solver settings; fixed threads keep results reproducible."""

    backend: str = Field("highs", description="One of quotaopt.solvers.BACKENDS (highs, cbc, ortools). Default highs.")
    time_limit: float = Field(60.0, gt=0, description="Seconds per solve. Default 60.")
    mip_gap: float = Field(1e-4, ge=0, le=1, description="Relative MIP gap. Default 1e-4.")
    threads: int = Field(1, ge=1, le=256, description="Solver threads. Default 1.")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        problem = backend_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class GuardrailConfig(_Strict):
    """Warnings about a plan that sets too many reps up to miss."""

    min_share_at_quota: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Warn (screen, report banner, summary flag) when the expected share of reps "
        "reaching quota is below this. Default 0.5.",
    )


class AllocationConfig(_Strict):
    """How the target is split over units and reps (see docs/allocation.md)."""

    unit: float = Field(
        1000.0,
        ge=MIN_UNIT,
        le=MAX_UNIT,
        description="Quotas are whole multiples of this: a whole number of cents from 0.01 to 1e9. Default 1000.",
    )
    stretch: tuple[float, float] = Field(
        (0.8, 1.3), description="Bounds of quota / capacity_p50 per rep. Default [0.8, 1.3]."
    )
    max_change: float | None = Field(
        None,
        ge=0,
        description="|quota - last_quota| <= max_change x last_quota. Default unset (no limit).",
    )
    max_change_conflict: Literal["stretch", "error"] = Field(
        "stretch",
        description="When a rep's max_change and stretch bands do not overlap: 'stretch' keeps "
        "the stretch band and gives the rep the quota nearest last_quota inside it (reported); "
        "'error' stops the plan as infeasible. Default stretch.",
    )
    flex: float = Field(
        0.05, ge=0, le=1, description="A unit's total may move +-flex from its top-down share."
    )
    ka_share: tuple[Fraction, Fraction] | None = Field(
        None,
        description="Share of a unit's quota carried by its ka reps, in units with both "
        "roles. Default unset (no constraint).",
    )
    ramp: tuple[Fraction, ...] = Field(
        (0.25, 0.5, 0.75, 1.0),
        min_length=1,
        description="New-hire quota share by quarter of tenure. Default [0.25, 0.5, 0.75, 1.0].",
    )
    fairness: Literal["stretch", "chance"] = Field("stretch", description="Default stretch.")
    locks: dict[str, Annotated[float, Field(ge=0, le=MAX_AMOUNT)] | None] = Field(
        default_factory=dict,
        description="Quotas the planners fix by rep: rep_id -> amount (a whole multiple of unit), or null to "
        "unlock a rep that reps.csv locks. Wins over reps.csv locked_quota. Default: none.",
    )
    strict: bool = Field(
        False,
        description="false: stretch, flex, ka_share and max_change give way (least first, listed as "
        "exceptions) when the total cannot be carried within them; true: any limit that cannot hold "
        "stops the plan (exit 3). Default false.",
    )
    guardrail: GuardrailConfig = Field(default_factory=GuardrailConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)

    @field_validator("unit")
    @classmethod
    def _whole_cents(cls, value: float) -> float:
        if not is_whole_cents(value):
            raise ValueError(f"unit must be a whole number of cents (e.g. 0.01, 0.05, 1, 1000), got {value!r}")
        return value

    @field_validator("stretch")
    @classmethod
    def _stretch(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0:
            raise ValueError(f"stretch low must be >= 0, got {value[0]}")
        return _ordered_pair(value, "stretch")

    @field_validator("ka_share")
    @classmethod
    def _ka_share(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if value is None else _ordered_pair(value, "ka_share")

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(value):
            raise ValueError(f"ramp must not decrease, got {list(value)}")
        return value


class PeriodsConfig(_Strict):
    """Annual -> quarter -> month -> week decomposition."""

    split: Literal["quarter", "month", "week"] = Field("month", description="Default month.")
    seasonality: Literal["learned", "flat"] | tuple[float, float, float, float] = Field(
        "learned",
        description="`learned` from history, `flat`, or four quarter weights summing to 1.",
    )
    win_rate: float | None = Field(
        None, gt=0, le=1, description="Adds deals and touches per period. Default unset."
    )

    @field_validator("seasonality")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            if any(w < 0 for w in value):
                raise ValueError(f"quarter weights must be >= 0, got {list(value)}")
            if abs(sum(value) - 1.0) > 1e-6:
                raise ValueError(f"quarter weights must sum to 1, got {sum(value):g}")
        return value


class Tier(_Strict):
    """One attainment band [from, to) and its rate."""

    from_: float = Field(..., alias="from", ge=0)
    to: float | None = Field(None, description="Upper end; unset on the last band only.")
    rate: float = Field(..., ge=0)


class AppliesTo(_Strict):
    """Which reps a plan covers; unset keys match everyone."""

    role: Literal["ka", "longtail"] | None = None
    team_id: str | None = None


class CoefficientRule(_Strict):
    """The coefficient rule: a payout multiplier that moves in whole steps of attainment.

    ``coefficient(a) = base_rate + increment x floor((a - base) / step)`` for ``a >= floor``
    (so it falls by ``increment`` for each step begun below ``base``), ``below_floor`` under
    ``floor``; never below 0.
    """

    base: float = Field(0.8, ge=0, description="Attainment that earns base_rate. Default 0.8.")
    base_rate: float = Field(1.0, ge=0, description="The standard coefficient. Default 1.0.")
    step: float = Field(0.05, gt=0, description="Attainment per step. Default 0.05.")
    increment: float = Field(0.2, ge=0, description="Coefficient added per whole step above base "
                             "(taken per step begun below it). Default 0.2.")
    floor: float = Field(0.7, ge=0, description="Under this attainment the protective rate applies. Default 0.7.")
    below_floor: float = Field(0.0, ge=0, description="The coefficient under floor (the protective "
                               "reduction). Default 0 (nothing paid).")

    @model_validator(mode="after")
    def _order(self) -> CoefficientRule:
        if self.floor > self.base:
            raise ValueError(f"floor {self.floor} is above base {self.base}")
        return self


PayMode = Literal["marginal", "retroactive", "step", "coefficient"]


def _check_curve(mode: str, tiers: tuple[Tier, ...], has_rule: bool) -> None:
    """Tiers that tile their range, given exactly when the mode reads them."""
    if mode == "coefficient":
        if tiers:
            raise ValueError("mode coefficient takes a `coefficient` block, not tiers")
        return
    if has_rule:
        raise ValueError(f"`coefficient` is for mode coefficient, not mode {mode}")
    if not tiers:
        raise ValueError(f"mode {mode} needs tiers")
    for i, (a, b) in enumerate(zip(tiers, tiers[1:], strict=False)):
        if a.to is None:
            raise ValueError(f"tiers[{i}] has no 'to' but is not the last band")
        if b.from_ < a.to:
            raise ValueError(f"tiers[{i}] and tiers[{i + 1}] overlap ({a.to} > {b.from_})")
        if b.from_ > a.to:
            raise ValueError(f"gap between tiers[{i}] and tiers[{i + 1}] ({a.to} to {b.from_})")
    for i, t in enumerate(tiers):
        if t.to is not None and t.to <= t.from_:
            raise ValueError(f"tiers[{i}] ends at {t.to}, not above its start {t.from_}")


class Gate(_Strict):
    """A component pays only when another measure's attainment reaches ``min``."""

    measure: str = Field("revenue", description="The measure gated on. Default revenue.")
    min: float = Field(..., ge=0, description="Attainment it must reach, e.g. 0.8.")


class Component(_Strict):
    """One weighted measure of a scorecard plan: its own curve, threshold, cap and gate."""

    measure: str = Field(..., min_length=1, description="A planned measure (scenario `measures`) or "
                         "a process metric `activity:<metric>`.")
    weight: float = Field(..., gt=0, le=1, description="Share of the target incentive; weights sum to 1.")
    mode: PayMode = Field("marginal", description="Default marginal.")
    tiers: tuple[Tier, ...] = Field((), description="Bands, as for a plan (not with mode coefficient).")
    coefficient: CoefficientRule | None = Field(None, description="The rule of mode coefficient "
                                                "(default: its documented defaults).")
    threshold: float = Field(0.0, ge=0, description="Below this attainment the component pays 0. Default 0.")
    cap: float | None = Field(None, gt=0, description="Attainment above this earns nothing more. Default unset.")
    gate: Gate | None = Field(None, description="Pay only when this gate holds. Default unset.")

    @model_validator(mode="after")
    def _check(self) -> Component:
        _check_curve(self.mode, self.tiers, self.coefficient is not None)
        return self


class IncentivePlan(_Strict):
    """A tiered incentive plan (contract §2, payout rules), or a weighted scorecard of components."""

    name: str = Field(..., min_length=1)
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    kind: Literal["bonus", "commission"] = Field("bonus", description="Default bonus.")
    target_incentive: float = Field(
        0.0, ge=0, description="Annual on-target bonus (bonus plans). Default 0."
    )
    period: Literal["quarter", "year"] = Field("year", description="Default year.")
    mode: PayMode = Field("marginal", description="Default marginal.")
    tiers: tuple[Tier, ...] = Field((), description="Bands; required unless mode coefficient or components.")
    coefficient: CoefficientRule | None = Field(None, description="The rule of mode coefficient.")
    threshold: float = Field(0.0, ge=0, description="Below this attainment nothing is paid.")
    cap: float | None = Field(None, gt=0, description="Attainment above this earns nothing more.")
    components: tuple[Component, ...] = Field(
        (), description="A scorecard: target_incentive x sum of weight x curve(attainment of its measure). "
        "Default none (the plan's own curve on revenue)."
    )

    @field_validator("components")
    @classmethod
    def _weights(cls, value: tuple[Component, ...]) -> tuple[Component, ...]:
        if value:
            total = sum(c.weight for c in value)
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"component weights must sum to 1, got {total:g}")
            measures = [c.measure for c in value]
            dup = sorted({m for m in measures if measures.count(m) > 1})
            if dup:
                raise ValueError(f"each measure may be one component only, repeated: {dup}")
        return value

    @model_validator(mode="after")
    def _check(self) -> IncentivePlan:
        if self.mode == "step" and self.kind != "bonus":
            raise ValueError("mode step is for bonus plans only")
        if self.components:
            if self.kind != "bonus":
                raise ValueError("components are for bonus plans (target_incentive x weighted curves)")
            own = [k for k in ("tiers", "coefficient", "cap") if getattr(self, k)] + (
                ["threshold"] if self.threshold else [])
            if own:
                raise ValueError(f"a plan with components sets {', '.join(own)} per component, not on the plan")
            return self
        _check_curve(self.mode, self.tiers, self.coefficient is not None)
        return self


class TeamBonus(_Strict):
    """Paid to every rep of a unit whose total attainment reaches the threshold."""

    threshold: float = Field(1.0, ge=0, description="Default 1.0.")
    per_rep: float = Field(0.0, ge=0, description="Default 0 (no team bonus).")


class IncentivesConfig(_Strict):
    """Incentive plans; a rep no plan applies to earns no payout."""

    plans: tuple[IncentivePlan, ...] = Field(default_factory=tuple)
    team_bonus: TeamBonus = Field(default_factory=TeamBonus)

    @model_validator(mode="after")
    def _unique(self) -> IncentivesConfig:
        names = [p.name for p in self.plans]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"plan names must be unique, repeated: {dup}")
        return self


class CorrelationConfig(_Strict):
    """Correlation of rep outcomes through shared company and team shocks."""

    company: float = Field(0.3, ge=0, le=1, description="Default 0.3.")
    team: float = Field(0.2, ge=0, le=1, description="Default 0.2.")

    @model_validator(mode="after")
    def _total(self) -> CorrelationConfig:
        if self.company + self.team > 1.0:
            raise ValueError(f"company + team correlation must be <= 1, got {self.company + self.team:g}")
        return self


class SimulationConfig(_Strict):
    """Monte Carlo settings."""

    draws: int = Field(10000, ge=1, le=10_000_000, description="Default 10000.")
    seed: int = Field(7, ge=0, description="Default 7.")
    correlation: CorrelationConfig = Field(default_factory=CorrelationConfig)


class TrackingConfig(_Strict):
    """Status thresholds on pace = actual / plan to date."""

    red: float = Field(0.85, ge=0, description="Pace below this is red. Default 0.85.")
    green: float = Field(1.0, ge=0, description="Pace at or above this is green. Default 1.0.")
    stages: list[str] = Field(
        ["qualify", "discover", "propose", "commit"], min_length=1,
        description="Open stages of the CRM pipeline in funnel order, as opportunities.csv names them "
        "(case-insensitive; won and lost are statuses, not stages). Default qualify, discover, propose, commit.",
    )

    @model_validator(mode="after")
    def _order(self) -> TrackingConfig:
        if self.red > self.green:
            raise ValueError(f"tracking.red {self.red} is above tracking.green {self.green}")
        names = [s.strip().lower() for s in self.stages]
        if "" in names or len(set(names)) < len(names) or {"won", "lost", "open"} & set(names):
            raise ValueError(f"tracking.stages {self.stages} must be distinct, non-empty stage names other than "
                             "open, won and lost")
        return self


class ActivityMetric(_Strict):
    """One process metric of ``activities.csv``: how its rows add up and its yearly target per role."""

    aggregate: Literal["sum", "mean"] = Field(
        "sum", description="sum: the rows add up (visits; the target is the year's total, pro-rated by working "
        "days); mean: their average (conversion, satisfaction; the target is the level). Default sum.")
    better: Literal["higher", "lower"] = Field(
        "higher", description="lower: less is better (collection_days): pace = target / actual. Default higher.")
    targets: dict[Literal["ka", "longtail"], Annotated[float, Field(ge=0, le=MAX_AMOUNT)]] = Field(
        default_factory=dict, description="Target per role (ka, longtail); a role left out has none. Default none.")

    @model_validator(mode="after")
    def _positive_lower(self) -> ActivityMetric:
        if self.better == "lower" and any(v <= 0 for v in self.targets.values()):
            raise ValueError("a lower-is-better target must be above 0 (pace = target / actual)")
        return self


class ActivitiesConfig(_Strict):
    """Process metrics tracked beside the plan (``track --activities``) and paid on (``activity:<metric>``)."""

    metrics: dict[Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")],
                  ActivityMetric] = Field(
        default_factory=dict, description="By metric name as activities.csv writes it. Default none.")


class ReplanConfig(_Strict):
    """How ``track --replan`` re-optimises the rest of the year."""

    ratchet: Literal["none", "allow"] = Field(
        "none",
        description="none: a rep at or ahead of pace (actual >= plan to date) never gets a higher "
        "remaining quota than its plan had; allow: anyone's remaining quota may rise (the re-plan "
        "of quotaopt 0.x). Default none.",
    )


class EligibilityConfig(_Strict):
    """Who may be given key accounts (see docs/assignment.md)."""

    ka: tuple[Literal["role", "tenure", "seniority"], ...] = Field(
        ("role",),
        min_length=1,
        description="Criteria a rep must all meet to be given key (tier ka) accounts: role (role ka), "
        "tenure (at least min_tenure_years on 1 January of the plan year), seniority (reps.csv "
        "seniority at least min_seniority). Everyone else is given long-tail accounts. Default [role].",
    )
    min_tenure_years: float = Field(2.0, ge=0, description="With ka: [tenure]. Default 2.")
    min_seniority: float | None = Field(None, description="With ka: [seniority] (required there). Default unset.")

    @model_validator(mode="after")
    def _seniority(self) -> EligibilityConfig:
        if "seniority" in self.ka and self.min_seniority is None:
            raise ValueError("eligibility.ka names seniority: set eligibility.min_seniority too")
        return self


class PriorityConfig(_Strict):
    """Top sellers get first choice of the key accounts nobody owns."""

    by: Literal["attainment", "capacity"] = Field(
        "attainment",
        description="Rank by last complete year's attainment (bookings / last_quota; reps without one rank "
        "last) or by capacity P50 before the assignment. Default attainment.",
    )
    mode: Literal["weighted", "lexicographic"] = Field(
        "weighted",
        description="weighted: one objective where giving an unowned key account to a lower-ranked rep "
        "costs weight x its potential x the rank gap; lexicographic: balance and continuity first, then, "
        "holding them, the best placement for the top sellers. Default weighted.",
    )
    weight: float = Field(
        0.5, ge=0, le=10,
        description="weighted mode: cost of giving an unowned key account to the lowest-ranked instead of "
        "the top seller, per unit of its potential, against 1 per unit of potential off a fair share. Default 0.5.",
    )


class AssignmentSolverConfig(SolverConfig):
    """The assignment MILPs' solver: the quota backends, a looser gap and a shorter limit."""

    time_limit: float = Field(
        2.0, gt=0,
        description="Seconds per group MILP (one pool's accounts of one tier), solved only where the relaxation, "
        "rounding and local search leave more than mip_gap. Default 2.",
    )
    mip_gap: float = Field(0.01, ge=0, le=1, description="Relative gap of the whole assignment (the sum of the "
                           "group models against the sum of their bounds). Default 0.01.")


class AssignmentConfig(_Strict):
    """Accounts assigned to reps before quotas are set (see docs/assignment.md)."""

    mode: Literal["off", "unowned_only", "rebalance"] = Field(
        "off",
        description="off: accounts.csv owners stand; unowned_only: accounts without an active owner (an empty "
        "rep_id, a departed owner or one on leave) are assigned, the rest stay; rebalance: any unlocked account "
        "may move. Default off.",
    )
    band: float = Field(
        0.2, gt=0, le=1,
        description="Soft: each rep's book potential within +-band of their fair share (fte x ramp share of "
        "their unit's potential of their tier). Default 0.2.",
    )
    workload_band: float | None = Field(
        0.5, gt=0,
        description="Soft: each rep's number of accounts within +-this of their fair share of the count; "
        "null: no limit. Default 0.5.",
    )
    max_moved: float = Field(
        0.2, ge=0, le=1,
        description="At most this share of a rep's current book potential (of each tier) moves to others "
        "(rebalance). Always holds. Default 0.2.",
    )
    move_penalty: float = Field(
        1.0, ge=0,
        description="Cost of moving an account away from its owner, per unit of its last complete year's "
        "revenue, against 1 per unit of potential off a fair share. Default 1.",
    )
    pools: tuple[str, ...] = Field(
        (),
        description="Units (teams.csv team_id) whose whole subtree shares one pool of accounts; every other "
        "unit's reps share their own unit's accounts. Default none.",
    )
    ka_pools: tuple[str, ...] = Field(
        (),
        description="Units (teams.csv team_id) whose whole subtree shares one pool of key accounts and of the reps "
        "eligible for them; the long tail stays with each unit (or its pools). Default none.",
    )
    eligibility: EligibilityConfig = Field(default_factory=EligibilityConfig)
    priority: PriorityConfig = Field(default_factory=PriorityConfig)
    strict: bool = Field(
        False,
        description="false: a band that cannot hold gives way (listed as exceptions); true: it stops the plan "
        "(exit 3) naming the band that would hold. Default false.",
    )
    solver: AssignmentSolverConfig = Field(default_factory=AssignmentSolverConfig)


class Scenario(_Strict):
    """A resolved scenario file (after ``extends``)."""

    name: str = Field("scenario", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$",
                      description="Names the run folder (runs/<name>/) and the model folder (models/<name>/); "
                      "letters, digits, '.', '_' and '-', not only dots.")
    data: str | DataSource = Field("data", description="Data folder (or .xlsx workbook), relative to the scenario "
                                   "file; or a mapping naming the source (path or url) and the dialect of its files.")
    plan_year: int | None = Field(
        None, ge=1900, le=2200, description="Default: the year after the last booking."
    )
    measures: tuple[str, ...] = Field(
        ("revenue",), min_length=1,
        description="What to plan: revenue (always), revenue:<product_line>, new_customers, "
        "repurchase_rate, deals. Default [revenue].",
    )
    measure_targets: dict[str, MeasureTarget] = Field(
        default_factory=dict,
        description="Company targets of new_customers, repurchase_rate and deals, by measure name. "
        "Default: each at its last complete year's value (growth 0).",
    )
    target: TargetConfig = Field(default_factory=TargetConfig)
    market: MarketConfig = Field(default_factory=MarketConfig)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    periods: PeriodsConfig = Field(default_factory=PeriodsConfig)
    incentives: IncentivesConfig = Field(default_factory=IncentivesConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    replan: ReplanConfig = Field(default_factory=ReplanConfig)
    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    activities: ActivitiesConfig = Field(default_factory=ActivitiesConfig)

    # Where the file was read from; not a key of the file.
    base_dir: Path = Field(default=Path("."), exclude=True)
    source: Path | None = Field(default=None, exclude=True)
    sources: tuple[Path, ...] = Field(default=(), exclude=True, description="The file and its extends chain.")

    @field_validator("name")
    @classmethod
    def _not_only_dots(cls, value: str) -> str:
        if set(value) == {"."}:
            raise ValueError(f"name must not be only dots (it names a folder, and {value!r} is the folder itself "
                             "or its parent)")
        return value

    @field_validator("measures")
    @classmethod
    def _measures(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            if parse_measure(text).family not in PLANNED_FAMILIES:
                raise ValueError(f"{text!r} is a process metric: it is tracked and paid on, not planned")
        if "revenue" not in value:
            raise ValueError(f"measures must include revenue (plan.csv is the revenue plan), got {list(value)}")
        dup = sorted({m for m in value if value.count(m) > 1})
        if dup:
            raise ValueError(f"measures repeated: {dup}")
        return value

    @property
    def data_source(self) -> DataSource:
        """Where the company is read from, its ``path`` resolved against the scenario file's folder."""
        source = self.data if isinstance(self.data, DataSource) else DataSource(path=self.data)
        if source.path is None:
            return source
        return source.model_copy(update={"path": str((self.base_dir / source.path).resolve())})

    @property
    def data_dir(self) -> Path:
        """The data folder (or workbook), resolved against the scenario file's folder; for a database, that folder."""
        path = self.data_source.path
        return Path(path) if path is not None else self.base_dir

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain data (what the manifest records)."""
        return self.model_dump(mode="json", by_alias=True)


# Pydantic inserts validator and union-member names into error locations; users never wrote them.
_PYDANTIC_LOC_NOISE = ("function-", "literal[", "tagged-union", "tuple[", "list[")


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif isinstance(item, str) and item.startswith(_PYDANTIC_LOC_NOISE):
            continue
        else:
            parts.append("from" if item == "from_" else shown_key(str(item)))
    return ".".join(parts) or "(top level)"


def _got(value: Any) -> str:
    """The offending value as an error shows it: short, one line."""
    if isinstance(value, dict | list) or value is None:
        return ""
    text = repr(value)
    return f" (got {text if len(text) <= 60 else text[:57] + '...'})"


def _problems(exc: ValidationError, label: str, only_unknown: bool = False) -> list[Problem]:
    problems = []
    for err in exc.errors():
        unknown = err["type"] == "extra_forbidden"
        if only_unknown and not unknown:
            continue
        # An unknown key's value is never echoed: it may be any line of any file.
        msg = "unknown key" if unknown else err["msg"].removeprefix("Value error, ") + _got(err.get("input"))
        problems.append(Problem(label, msg, column=_loc(tuple(err["loc"]))))
    return problems


def _unknown_measures(scenario: Scenario, label: str) -> list[Problem]:
    """Component and gate measures planned (``measures``) or process metrics; measure_targets of planned ones."""
    problems = []
    for name, goal in scenario.measure_targets.items():
        where = f"measure_targets.{shown_key(name)}"
        if name not in scenario.measures:
            problems.append(Problem(label, f"not a planned measure (measures: {list(scenario.measures)})",
                                    column=where))
        elif parse_measure(name).family in ("revenue", "revenue_line"):
            problems.append(Problem(label, "revenue takes `target`, and product lines split the revenue quota "
                                    "(no target of their own)", column=where))
        elif parse_measure(name).family == "repurchase_rate" and goal.company is not None and goal.company > 1:
            problems.append(Problem(label, f"a rate must lie in [0, 1], got {goal.company:g}",
                                    column=f"{where}.company"))
    for i, plan in enumerate(scenario.incentives.plans):
        for j, comp in enumerate(plan.components):
            keyed = [("measure", comp.measure)] + ([("gate.measure", comp.gate.measure)] if comp.gate else [])
            for key, text in keyed:
                where = f"incentives.plans[{i}].components[{j}].{key}"
                try:
                    family = parse_measure(text).family
                except ValueError as exc:
                    problems.append(Problem(label, str(exc), column=where))
                    continue
                if family != "activity" and text not in scenario.measures:
                    problems.append(Problem(label, f"measure {text!r} is not planned (measures: "
                                            f"{list(scenario.measures)})", column=where))
    return problems


def refuse_unknown_keys(raw: dict[str, Any], label: str) -> None:
    """A parent file's unknown keys, reported under the parent's own name."""
    try:
        Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc, label, only_unknown=True)
        if problems:
            raise InputError(problems) from None


def validate_scenario(raw: dict[str, Any], label: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate a scenario mapping (``extends`` already applied).

    Raises
    ------
    InputError
        One problem per bad key, each naming the key path.
    """
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_problems(exc, label)) from None
    problems = _unknown_measures(scenario, label)
    if problems:
        raise InputError(problems)
    if base_dir is not None:
        scenario = scenario.model_copy(update={"base_dir": base_dir})
    return scenario
