"""Solving: the lexicographic two-stage solve, and units solved separately in parallel.

Once stage A has fixed every unit's ka and longtail totals, units share no variable or
row, so groups of units (*chunks*) are solved independently through a pluggable
``map_fn(func, items) -> results`` (``map``, a process pool, or a Dask client later).
A chunk is a unit of *work* (its arrays are built in one vectorised pass and shipped
to a worker once); inside, every unit is its own small model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.formulation import Block, build_problem, stage_one_cost
from quotaopt.allocation.problem import (
    STATUSES,
    Problem,
    Solution,
    SolveOptions,
    Status,
    relative_gap,
)
from quotaopt.errors import SolverError

MapFn = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]
#: Reps per task handed to ``map_fn`` (each unit inside is still its own model).
CHUNK_REPS = 2000
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


def lexicographic(problem: Problem, D: np.ndarray, backend: str, options: SolveOptions,
                  what: str) -> tuple[np.ndarray, Stats]:
    """Minimise the sum of unit maxima, then, with each unit's maximum held, the stage-two costs.

    The first stage's incumbent satisfies the second stage's extra bounds, so stage two
    always has a solution to return; if it stops without one we keep stage one's.
    """
    solve = get_backend(backend)
    first = checked(solve(problem.with_objective(stage_one_cost(problem, D)), options), what, backend)
    assert first.x is not None
    hi = problem.col_hi.copy()
    held = first.x[D]
    hi[D] = np.minimum(hi[D], held + _FIX_ABS + _FIX_REL * np.abs(held))
    second = solve(problem.with_col_bounds(problem.col_lo, hi), options)
    x = second.x if second.usable and second.x is not None else first.x
    status = worst(first.status, second.status if second.usable else "feasible")
    stats = Stats(status, first.objective, first.bound, first.time_s + second.time_s, 0.0,
                  problem.n_vars, problem.n_rows, 2, [first.message, second.message])
    return x, stats


@dataclass
class BlockResult:
    """Raw values of one chunk (floats as the solver returned them) and its figures."""

    reps: np.ndarray
    q: np.ndarray
    stats: Stats


def solve_block(task: tuple[Block, str, SolveOptions]) -> BlockResult:
    """Solve every unit of a chunk, one model per unit (top-level, so process pools can pickle it).

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
        x, stats = lexicographic(problem, cols["D"], backend, options, f"unit {part.units[0]}")
        stats.build_s = built
        total.add(stats)
        q[offset:offset + part.reps.size] = x[cols["q"]]
        offset += part.reps.size
    return BlockResult(blk.reps, q, total)


def chunk_units(sizes: np.ndarray, units: np.ndarray, chunk_reps: int) -> list[np.ndarray]:
    """Cut ``units`` (in order) into consecutive groups of about ``chunk_reps`` reps."""
    if units.size == 0:
        return []
    cum = np.cumsum(sizes[units])
    group = (cum - 1) // max(1, chunk_reps)
    cuts = np.flatnonzero(np.diff(group)) + 1
    return np.split(units, cuts)


def default_map(workers: int) -> MapFn:
    """``map`` when ``workers <= 1``, else a local process pool of ``workers`` processes.

    The pool uses the ``spawn`` start method: forking a process that already runs
    solver thread pools is not safe.
    """
    if workers <= 1:
        return lambda func, items: [func(item) for item in items]

    def pool_map(func: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        chunksize = max(1, len(items) // (workers * 4))
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as ex:
            return list(ex.map(func, items, chunksize=chunksize))

    return pool_map
