"""summary.json's ``assignment`` section: what the books before quotas moved, and how balanced they are.

Examples
--------
>>> BeforeAfter(before=0.4, after=0.1).record()
{'before': 0.4, 'after': 0.1}
"""

from __future__ import annotations

from quotaopt.records import Number, Record

__all__ = ["AssignmentGroups", "AssignmentSolver", "AssignmentSummary", "BeforeAfter", "ReasonFigures"]


class BeforeAfter(Record):
    """A figure before and after the assignment."""

    before: Number | None
    after: Number | None


class ReasonFigures(Record):
    """Accounts given a new owner for one reason, and their potential."""

    accounts: int
    potential: Number


class AssignmentGroups(Record):
    """How the groups (pool x tier) ended: how many, how many within ``mip_gap``, the worst."""

    count: int
    within_gap: int
    worst_gap: Number
    worst_unit: str | None


class AssignmentSolver(Record):
    """How the assignment solves did."""

    backend: str
    status: str
    objective: Number | None = None
    bound: Number | None = None
    gap: Number | None = None
    mip_gap: Number | None = None
    n_solves: int | None = None
    n_vars: int | None = None
    n_rows: int | None = None
    time_limited: int | None = None
    groups: AssignmentGroups | None = None


class AssignmentSummary(Record):
    """The ``assignment`` block: what the books before quotas moved, and how balanced they are."""

    mode: str
    band: Number
    max_moved: Number
    pools: int
    accounts: int
    decisions: int
    accounts_moved: int
    potential_moved: Number
    revenue_moved: Number
    accounts_assigned: int
    potential_assigned: Number
    by_reason: dict[str, ReasonFigures]
    balance_spread: BeforeAfter
    balance_worst: BeforeAfter
    within_band: BeforeAfter
    exceptions: int
    solver: AssignmentSolver
    capacity_p50: BeforeAfter | None = None
    capacity_spread: BeforeAfter | None = None
    capacity_rescored: bool | None = None
