"""Solving the groups: the relaxation of a chunk, rounding and local search, MILPs where needed.

Groups share nothing, so they are cut into chunks of about :data:`CHUNK_PAIRS` candidate
pairs and mapped over workers (the allocation's process pool, or a Dask client's map).
Inside a chunk:

1. each group's LP relaxation, through the backend (dual simplex): a proven lower bound;
2. a whole assignment from it (:mod:`._search`), evaluated exactly, and improved by local
   search on the groups with the largest gap until the chunk is within ``mip_gap``.

Then, while the whole assignment (one block-diagonal MILP) is not within ``mip_gap`` of
its bound, the groups with the largest gap in money are solved as MILPs by the backend
(time-limited, in parallel), raising their bound and keeping the better assignment
(:func:`quotaopt.assignment._assign.solve_groups`). Deciding this over the whole
assignment, not per chunk, was 4x less MILP time at 3,000 reps: MILPs of groups of
3,000-4,000 pairs mostly end on their time limit having moved the bound by a fraction.

Measured on generated companies (docs/assignment.md): a HiGHS MILP per team took 0.25-0.5
CPU seconds, the relaxation and search a few milliseconds, within the gap on most groups.
A chunk's status is ``optimal`` when its objective is proven within ``mip_gap``, else
``feasible`` with its gap; never ``optimal`` on a time limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.decompose import Stats
from quotaopt.allocation.problem import SolveOptions, relative_gap
from quotaopt.assignment._model import Groups, build_problem, start_point
from quotaopt.assignment._search import improve, objective, repair, round_relaxation
from quotaopt.errors import SolverError

#: Candidate pairs per task handed to a worker.
CHUNK_PAIRS = 40_000
#: Absolute objective difference (scaled money) below which a group counts as solved exactly.
_ABS = 1e-6
# Lexicographic mode: the first stage's cost may grow by this much while priority improves.
_HOLD_ABS, _HOLD_REL = 1e-6, 1e-6


@dataclass(frozen=True)
class Task:
    """One chunk of groups and how to solve it (top-level, so process pools can pickle it)."""

    groups: Groups
    backend: str
    options: SolveOptions
    lexicographic: bool
    milp: bool = False
    #: MILPs: the current owner (rep index) of each free account, where the backend may start.
    start: np.ndarray | None = None


@dataclass
class ChunkResult:
    """The chosen pair of every free account of a chunk, and the figures per group."""

    f_acc: np.ndarray
    f_group: np.ndarray  # local group of each account (an index into gid)
    rep: np.ndarray
    gid: np.ndarray
    objective: np.ndarray  # per group, in money (scaled back)
    bound: np.ndarray
    stats: Stats


def _gap(objective: float, bound: float) -> float:
    return 0.0 if objective - bound <= _ABS else relative_gap(objective, bound)


def _milp(gs: Groups, priority: bool, solve: object, options: SolveOptions, what: str,
          start: np.ndarray | None = None) -> tuple[np.ndarray | None, float, float, str]:
    """One group's MILP: (choice or None, proven bound, seconds, message); ``start``: a choice to start from."""
    problem, cols = build_problem(gs, priority)
    if start is not None:
        # The heuristics' assignment as the first incumbent: HiGHS then stops as soon as its
        # bound is within the gap of it (236 MILPs at 10,000 reps: 19.9 -> 14.5 CPU s).
        problem = replace(problem, start=start_point(gs, cols, problem.n_vars, start))
    solution = solve(problem, options)  # type: ignore[operator]
    if solution.status == "infeasible":  # staying put (or any candidate) is always feasible
        raise SolverError(f"{what}: the backend found the assignment infeasible ({solution.message})")
    if not solution.usable or solution.x is None:
        return None, -np.inf, solution.time_s, solution.message
    bound = float(solution.bound) if np.isfinite(solution.bound) else -np.inf
    return round_relaxation(gs, solution.x[cols.x]), bound, solution.time_s, solution.message


def _relax(gs: Groups, weighted: bool, solve: object, options: SolveOptions, stats: Stats,
           groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LP relaxation of ``groups``: (bound per group, x over all pairs); -inf where it failed or was not solved."""
    bound = np.full(gs.n_groups, -np.inf)
    x = np.zeros(gs.p_f.size)
    lp_options = replace(options, lp_algorithm="simplex", presolve=False, scale=False)
    p_group = gs.f_group[gs.p_f]
    for g in map(int, groups):
        start = time.perf_counter()
        problem, cols = build_problem(gs.take(np.array([g])), weighted)
        stats.build_s += time.perf_counter() - start
        relaxed = replace(problem, integer=np.zeros(problem.n_vars, dtype=bool))
        lp = solve(relaxed, lp_options)  # type: ignore[operator]
        stats.time_s += lp.time_s
        stats.n_solves += 1
        stats.n_vars += problem.n_vars
        stats.n_rows += problem.n_rows
        if lp.usable and lp.x is not None:
            bound[g] = float(problem.c @ lp.x)
            x[p_group == g] = lp.x[cols.x]
    return bound, x


def solve_chunk(task: Task) -> ChunkResult:
    """Solve every group of a chunk: heuristically, or (``task.milp``) each as a MILP."""
    gs, options = task.groups, task.options
    solve = get_backend(task.backend)
    weighted = not task.lexicographic
    cost = gs.p_move + (gs.p_prio if weighted else 0.0)
    stats = Stats()
    scale = gs.scale
    if task.milp:
        bound = np.full(gs.n_groups, -np.inf)
        value = np.full(gs.n_groups, np.inf)
        choice = _stay(gs) if task.start is None else _choice_of(gs, task.start)
        for g in range(gs.n_groups):
            pairs = _pairs_of(gs, g)
            found, bound[g], seconds, message = _milp(gs.take(np.array([g])), weighted, solve, options,
                                                      f"assignment group {int(gs.gid[g])}",
                                                      None if task.start is None
                                                      else choice[gs.f_group == g] - pairs.start)
            stats.time_s += seconds
            stats.n_solves += 1
            stats.messages = [m for m in dict.fromkeys([*stats.messages, message])][:5]
            if found is not None:
                choice[gs.f_group == g] = pairs.start + found
        value = objective(gs, choice, cost)
    else:
        # A group where everyone keeps their book at no cost (every cost is >= 0) is solved:
        # no relaxation, no search (about 5% of the groups of a generated company).
        stay = _stay(gs)
        free = objective(gs, stay, cost) <= _ABS
        bound, x = _relax(gs, weighted, solve, options, stats, np.flatnonzero(~free))
        bound[free] = 0.0
        x[stay[free[gs.f_group]]] = 1.0  # whole already: nothing for rounding and repair to do
        choice = repair(gs, x, round_relaxation(gs, x), cost)
        choice = np.where((np.isfinite(bound) & ~free)[gs.f_group], choice, stay)
        value = objective(gs, choice, cost)
        # Local search on the largest gap in money first, until the chunk is within the gap:
        # a group already close costs nothing more. MILPs come later, where the whole
        # assignment still needs them (solve_groups).
        for g in map(int, np.argsort(-(value - bound) * scale, kind="stable")):
            if _gap(float((value * scale).sum()), float((bound * scale).sum())) <= options.mip_gap:
                break
            if value[g] - bound[g] <= _ABS:
                continue
            choice = improve(gs, choice, cost, np.array([g]))
            value[g] = objective(gs, choice, cost)[g]
    if task.lexicographic:
        choice = _priority_stage(gs, choice, cost, value, solve, options, stats)
    finite = np.where(np.isfinite(bound), bound, 0.0)
    stats.objective = float((value * scale).sum())
    stats.bound = float((np.maximum(finite, 0.0) * scale).sum())
    stats.status = "optimal" if _gap(stats.objective, stats.bound) <= options.mip_gap else "feasible"
    return ChunkResult(f_acc=gs.f_acc, f_group=gs.f_group, rep=gs.p_rep[choice], gid=gs.gid, objective=value * scale,
                       bound=np.maximum(finite, 0.0) * scale, stats=stats)


def _pairs_of(gs: Groups, g: int) -> slice:
    f = np.flatnonzero(gs.f_group == g)
    start = int(np.searchsorted(gs.p_f, f[0]))
    stop = int(np.searchsorted(gs.p_f, f[-1], side="right"))
    return slice(start, stop)


def _choice_of(gs: Groups, rep: np.ndarray) -> np.ndarray:
    """The pair of each free account whose rep is ``rep`` (its owner where ``rep`` is no candidate)."""
    hit = gs.p_rep == rep[gs.p_f]
    key = hit.astype(float) + 0.5 * gs.p_home
    order = np.lexsort((-key, gs.p_f))
    first = np.flatnonzero(np.r_[True, np.diff(gs.p_f[order]) != 0])
    return order[first]


def _stay(gs: Groups) -> np.ndarray:
    """Each account with its owner where that is a candidate, else its first candidate."""
    key = gs.p_home.astype(float)
    order = np.lexsort((-key, gs.p_f))
    first = np.flatnonzero(np.r_[True, np.diff(gs.p_f[order]) != 0])
    return order[first]


def _priority_stage(gs: Groups, choice: np.ndarray, cost: np.ndarray, value: np.ndarray, solve: object,
                    options: SolveOptions, stats: Stats) -> np.ndarray:
    """Lexicographic mode: holding each group's first-stage cost, the best placement for top sellers."""
    with_priority = np.unique(gs.f_group[gs.p_f[gs.p_prio > 0]])
    for g in map(int, with_priority):
        part = gs.take(np.array([g]))
        problem, cols = build_problem(part, priority=False)
        hold = value[g] + _HOLD_ABS + _HOLD_REL * abs(value[g])
        second = problem.with_rows(problem.c.reshape(1, -1), np.array([-np.inf]), np.array([hold]))
        c2 = np.zeros(problem.n_vars)
        c2[cols.x] = part.p_prio
        solution = solve(second.with_objective(c2), options)  # type: ignore[operator]
        stats.time_s += solution.time_s
        stats.n_solves += 1
        if not solution.usable or solution.x is None:
            continue  # the first stage's assignment stands
        found = round_relaxation(part, solution.x[cols.x])
        pairs = _pairs_of(gs, g)
        candidate = choice.copy()
        candidate[np.flatnonzero(gs.f_group == g)] = pairs.start + found
        first = objective(gs, candidate, cost)[g]
        if first <= hold and gs.p_prio[candidate].sum() <= gs.p_prio[choice].sum():
            choice = candidate
    return choice
