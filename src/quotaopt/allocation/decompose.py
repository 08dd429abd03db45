"""Solving: the lexicographic two-stage solve, and units solved separately.

Once stage A has fixed every unit's ka and longtail totals, units share no variable or
row. Every unit is then solved either by :mod:`~quotaopt.allocation.exact` (default:
exact, vectorised over all units, no MILP) or, with ``unit_solver="milp"``, as its own
small two-stage MILP through the configured backend. Groups of units (*chunks*) go
through the command's :class:`~quotaopt.parallel.Executor` (this process, a local pool,
or a Dask cluster); a chunk's arrays are built in one vectorised pass and shipped once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.exact import ExactInfeasible, solve_exact
from quotaopt.allocation.formulation import (
    CHANGE_PENALTY,
    Block,
    build_problem,
    stage_one_cost,
    unit_max,
)
from quotaopt.allocation.problem import (
    STATUSES,
    Problem,
    Solution,
    SolveOptions,
    Status,
    relative_gap,
)
from quotaopt.errors import SolverError
from quotaopt.parallel import preload

#: Reps per task handed to the executor (each unit inside is still its own model).
CHUNK_REPS = 500
# Stage two may not let a unit's largest deviation grow by more than this.
_FIX_ABS, _FIX_REL = 1e-7, 1e-6


class StageInfeasible(Exception):
    """A backend proved a model infeasible (the caller turns this into an explanation)."""


@dataclass
class Stats:
    """Solver figures of one or many solves, summed."""

    status: Status = "optimal"
    objective: float = 0.0
    bound: float = 0.0
    time_s: float = 0.0  # time inside the backends (build of their own objects included)
    build_s: float = 0.0  # time building our arrays
    n_vars: int = 0
    n_rows: int = 0
    n_solves: int = 0
    messages: list[str] = field(default_factory=list)

    def add(self, other: Stats) -> None:
        """Accumulate ``other`` into this."""
        self.status = worst(self.status, other.status)
        self.objective += other.objective
        self.bound += other.bound
        self.time_s += other.time_s
        self.build_s += other.build_s
        self.n_vars += other.n_vars
        self.n_rows += other.n_rows
        self.n_solves += other.n_solves
        self.messages += [m for m in other.messages if m not in self.messages][:5]

    @property
    def gap(self) -> float:
        """Relative gap of the summed objective over the summed bound."""
        return 0.0 if self.objective - self.bound <= 1e-9 else relative_gap(self.objective, self.bound)


def worst(a: Status, b: Status) -> Status:
    """The less favourable of two statuses."""
    return STATUSES[max(STATUSES.index(a), STATUSES.index(b))]


def checked(solution: Solution, what: str, backend: str) -> Solution:
    """Raise on an unusable solution: StageInfeasible, or SolverError (exit 4)."""
    if solution.status == "infeasible":
        raise StageInfeasible(what)
    if not solution.usable:
        raise SolverError(f"{backend} stopped without a usable solution for {what} ({solution.message})")
    return solution


def lexicographic(problem: Problem, cols: dict[str, np.ndarray], blk: Block, backend: str,
                  options: SolveOptions, what: str) -> tuple[np.ndarray, Stats]:
    """Minimise the sum of unit maxima, then, with each unit's maximum held, the stage-two costs.

    The hold is each unit's largest deviation *recomputed* at stage one's integer
    values (not the solver's D, which meets its rows only to tolerance), so stage one's
    incumbent is always feasible for stage two. If stage two stops without a solution
    we keep stage one's (status ``feasible``).
    """
    solve = get_backend(backend)
    D = cols["D"]
    first = checked(solve(problem.with_objective(stage_one_cost(problem, D)), options), what, backend)
    assert first.x is not None
    held = np.maximum(unit_max(blk, cols, first.x), first.x[D])
    hi = problem.col_hi.copy()
    hi[D] = np.minimum(hi[D], held + _FIX_ABS + _FIX_REL * np.abs(held))
    second = solve(problem.with_col_bounds(problem.col_lo, hi), options)
    x = second.x if second.usable and second.x is not None else first.x
    status = worst(first.status, second.status if second.usable else "feasible")
    stats = Stats(status, first.objective / blk.scale, first.bound / blk.scale, first.time_s + second.time_s, 0.0,
                  problem.n_vars, problem.n_rows, 2, [first.message, second.message])
    return x, stats


@dataclass
class BlockResult:
    """Raw values of one chunk (floats as the solver returned them) and its figures."""

    reps: np.ndarray
    q: np.ndarray
    stats: Stats


def solve_block(task: tuple[Block, str, SolveOptions]) -> BlockResult:
    """Solve every unit of a chunk as its own MILP (top-level, so process pools can pickle it).

    One model per unit, not one block-diagonal model per chunk: branch and bound on
    independent components multiplies their trees, so a 400-rep chunk took seconds
    where its 30 units take ~10 ms each.
    """
    blk, backend, options = task
    total = Stats()
    q = np.zeros(blk.reps.size)
    offset = 0
    for part in blk.split():
        start = time.perf_counter()
        problem, cols = build_problem(part)
        built = time.perf_counter() - start
        x, stats = lexicographic(problem, cols, part, backend, options, f"unit {part.units[0]}")
        stats.build_s = built
        total.add(stats)
        q[offset:offset + part.reps.size] = x[cols["q"]]
        offset += part.reps.size
    return BlockResult(blk.reps, q, total)


def solve_block_exact(task: tuple[Block, str, SolveOptions]) -> BlockResult:
    """Solve every unit of a chunk with the exact unit solver (no MILP; same signature as solve_block)."""
    blk = task[0]
    start = time.perf_counter()
    try:
        q, largest = solve_exact(blk, CHANGE_PENALTY)
    except ExactInfeasible as exc:
        raise StageInfeasible(str(exc)) from None
    objective = float(largest.sum())
    stats = Stats("optimal", objective, objective, time.perf_counter() - start, 0.0, 0, 0, 0,
                  ["exact unit solver"])
    return BlockResult(blk.reps, q.astype(float), stats)


def chunk_units(sizes: np.ndarray, units: np.ndarray, chunk_reps: int) -> list[np.ndarray]:
    """Cut ``units`` (in order) into consecutive groups of about ``chunk_reps`` reps."""
    if units.size == 0:
        return []
    cum = np.cumsum(sizes[units])
    group = (cum - 1) // max(1, chunk_reps)
    cuts = np.flatnonzero(np.diff(group)) + 1
    return np.split(units, cuts)


# Unit MILPs run in worker processes: have them import the default backend as they start.
preload("quotaopt.allocation.backends.highs")
