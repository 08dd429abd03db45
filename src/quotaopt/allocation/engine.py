"""``allocate``: check, build, solve, verify and explain one allocation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.decompose import (
    CHUNK_REPS,
    BlockResult,
    StageInfeasible,
    Stats,
    checked,
    chunk_units,
    solve_block,
    solve_block_exact,
)
from quotaopt.allocation.diagnose import diagnose
from quotaopt.allocation.elastic import layers, solve_elastic
from quotaopt.allocation.exceptions import LimitException, find_exceptions
from quotaopt.allocation.explain import (
    binding,
    max_change_notes,
    precheck,
    rep_conflicts,
)
from quotaopt.allocation.fairness import deviations, fair_line, linearisation_error
from quotaopt.allocation.formulation import make_block
from quotaopt.allocation.inputs import Prepared, prepare
from quotaopt.allocation.monolithic import solve_monolithic
from quotaopt.allocation.problem import SolveOptions
from quotaopt.allocation.relax import relax, widen_conflicts
from quotaopt.allocation.solver_report import ProblemSizes, SolverReport, SolveTimings
from quotaopt.allocation.targets import (
    STAGE_A_SCALE,
    Pools,
    Shares,
    pools,
    shares,
    unit_totals_problem,
)
from quotaopt.allocation.verify import integrality, verify_plan
from quotaopt.errors import InfeasibleError, SolverError
from quotaopt.ordering import data_order
from quotaopt.org_tree import OrgTree
from quotaopt.parallel import Executor
from quotaopt.scenario import AllocationConfig

UnitSolver = Literal["exact", "milp"]
#: What puts reps in their canonical order (quotaopt.ordering), most significant first.
REP_ORDER = ("team_id", "role", "capacity_p50", "capacity_p10", "capacity_p90", "fte", "hire_date", "last_quota",
             "locked_quota")
#: Reps per chunk of the exact unit solver (vectorised: bigger is cheaper, up to memory).
EXACT_CHUNK_REPS = 50_000


@dataclass
class AllocationResult:
    """The plan: per rep, per unit, and how the solver did.

    Attributes
    ----------
    reps : DataFrame
        rep_id, team_id, quota, stretch, binding, lower_bound, upper_bound (caller's rep order).
    units : DataFrame
        unit_id, parent_id, level, quota, capacity_p50, share, flex_used, target (root first).
    solver : SolverReport
        Status and termination reason, objective (sum over units of the largest
        deviation), bound, gap, sizes and timings.
    company_total_requested : float
    company_total : float
        The requested total rounded to the nearest whole multiple of ``unit``.
    notes : list of str
        Reps whose ``max_change`` yielded to stretch (as in strict mode), in business words.
    exceptions : list of LimitException
        Every soft limit the plan breaks because the total could not be carried within
        them (empty when every limit holds; always empty with ``allocation.strict``).
    """

    reps: pd.DataFrame
    units: pd.DataFrame
    solver: SolverReport
    company_total_requested: float
    company_total: float
    notes: list[str] = field(default_factory=list)
    exceptions: list[LimitException] = field(default_factory=list)


def _options(config: AllocationConfig) -> SolveOptions:
    s = config.solver
    return SolveOptions(time_limit=s.time_limit, mip_gap=s.mip_gap, threads=s.threads, seed=0)


def _stage_a(prep: Prepared, pool: Pools, share: Shares, backend: str,
             options: SolveOptions) -> tuple[np.ndarray, Stats]:
    start = time.perf_counter()
    problem, _ = unit_totals_problem(prep, pool, share)
    problem = problem.with_objective(problem.c * STAGE_A_SCALE)
    built = time.perf_counter() - start
    exact = replace(options, mip_gap=0.0)
    sol = checked(get_backend(backend)(problem, exact), "the unit totals", backend)
    assert sol.x is not None
    K, _ = integrality(sol.x[problem.names["K"]])
    L, _ = integrality(sol.x[problem.names["L"]])
    # Stage A's own objective (fair intervals, flex) is not the plan's fairness objective.
    stats = Stats(sol.status, 0.0, 0.0, sol.time_s, built, problem.n_vars, problem.n_rows, 1, [sol.message])
    return K + L, stats


def _decomposed(prep: Prepared, pool: Pools, share: Shares, backend: str, options: SolveOptions,
                executor: Executor, chunk_reps: int | None,
                unit_solver: UnitSolver, totals: tuple[np.ndarray, Stats] | None = None) -> tuple[np.ndarray, Stats]:
    """Stage A (unless ``totals`` gives the pool totals already), then every unit on its own."""
    R, stats = totals if totals is not None else _stage_a(prep, pool, share, backend, options)
    units = np.flatnonzero(pool.n_reps > 0)
    exact = unit_solver == "exact"
    size = chunk_reps or (EXACT_CHUNK_REPS if exact else CHUNK_REPS)
    start = time.perf_counter()
    blocks = [make_block(prep, pool, c, R[c]) for c in chunk_units(pool.n_reps, units, size)]
    stats.build_s += time.perf_counter() - start
    # The exact solver does a 100,000-rep company in about a second: starting worker
    # processes would cost more than they save, so it runs here unless a cluster waits.
    run = executor if (executor.remote or not exact) else Executor()
    func = solve_block_exact if exact else solve_block
    results: list[BlockResult] = run.map(func, [(blk, backend, options) for blk in blocks])
    q_raw = np.zeros(prep.n_reps)
    for res in results:
        q_raw[res.reps] = res.q
        stats.add(res.stats)
    return q_raw, stats


def allocate(reps: pd.DataFrame, teams: pd.DataFrame, company_total: float, config: AllocationConfig,
             plan_year: int, *, decompose: bool = True, executor: Executor | None = None,
             chunk_reps: int | None = None, unit_solver: UnitSolver = "exact",
             org: OrgTree | None = None) -> AllocationResult:
    """Split the company total over the team tree and every active rep.

    Parameters
    ----------
    reps : DataFrame
        Active reps: rep_id, team_id, role, fte, hire_date, last_quota, locked_quota,
        capacity_p10, capacity_p50, capacity_p90 (capacities already reflect fte and tenure).
    teams : DataFrame
        team_id, parent_id (empty on the root), target (NaN = not fixed).
    company_total : float
        Target for the sum of rep quotas (already including over-assignment).
    config : AllocationConfig
    plan_year : int
    decompose : bool
        Fix unit totals first, then solve units separately (default); False solves one model.
    executor : Executor, optional
        Where the per-unit MILPs (``unit_solver="milp"``) run (:mod:`quotaopt.parallel`;
        default: this process). The exact unit solver is vectorised and runs in this
        process unless the executor is a cluster. Never changes the plan.
    chunk_reps : int, optional
        About how many reps one task handed to the executor holds (default 2,000 for
        ``milp``, 50,000 for ``exact``).
    unit_solver : {'exact', 'milp'}
        How units with fixed totals are solved: ``exact`` (default; the proven optimum of
        both stages, no MILP, see docs/allocation.md) or one small two-stage MILP per unit
        through ``config.solver.backend``. Stage A and the monolithic model always use
        the backend.
    org : OrgTree, optional
        The tree of ``teams`` when the caller has built it already (built here otherwise).

    Returns
    -------
    AllocationResult

    Raises
    ------
    InputError
        Bad frames or values (exit 2).
    InfeasibleError
        With business reasons: which constraint of which unit must give, by how much (exit 3).
    SolverError
        No usable solution, or a solution that breaks a constraint (exit 4).
    """
    # Reps in an order set by their data, not by row or id: ties (who takes the last whole
    # unit) and float sums then do not move when rows are shuffled or another rep renamed.
    order = data_order(reps, REP_ORDER, "rep_id") if "rep_id" in reps.columns else np.arange(len(reps))
    result = _allocate(reps.iloc[order], teams, company_total, config, plan_year, decompose=decompose,
                       executor=executor or Executor(), chunk_reps=chunk_reps, unit_solver=unit_solver, org=org)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    result.reps = result.reps.iloc[back].reset_index(drop=True)  # the caller's rep order, as documented
    return result


def _allocate(reps: pd.DataFrame, teams: pd.DataFrame, company_total: float, config: AllocationConfig,
              plan_year: int, *, decompose: bool, executor: Executor, chunk_reps: int | None,
              unit_solver: UnitSolver, org: OrgTree | None = None) -> AllocationResult:
    """:func:`allocate` on reps already in their canonical order."""
    start = time.perf_counter()
    prep = prepare(reps, teams, company_total, config, plan_year, org=org)
    pool = pools(prep)
    share = shares(prep, pool)
    backend, options = config.solver.backend, _options(config)
    solve = _Solve(backend, options, decompose, executor, chunk_reps, unit_solver)
    reasons = precheck(prep, pool, share)
    if not reasons:
        try:
            q, stats = solve(prep, pool, share)
            return _result(prep, pool, share, q, stats, backend, solve.method, time.perf_counter() - start)
        except StageInfeasible:
            pass
    if config.strict:
        diagnosis = diagnose(prep, pool, share, backend, options)
        raise InfeasibleError(diagnosis.reasons, diagnosis)
    return _elastic(prep, pool, share, solve, start)


@dataclass
class _Solve:
    """How to solve a prepared problem: decomposed (stage A, then units) or monolithic."""

    backend: str
    options: SolveOptions
    decompose: bool
    executor: Executor
    chunk_reps: int | None
    unit_solver: UnitSolver

    @property
    def method(self) -> str:
        return self.unit_solver if self.decompose else "monolithic"

    def __call__(self, prep: Prepared, pool: Pools, share: Shares,
                 totals: tuple[np.ndarray, Stats] | None = None) -> tuple[np.ndarray, Stats]:
        """Quotas (scaled, verified) and solver figures; StageInfeasible when none exist."""
        if self.decompose:
            q_raw, stats = _decomposed(prep, pool, share, self.backend, self.options, self.executor,
                                       self.chunk_reps, self.unit_solver, totals)
            unit_totals = None
        else:
            q_raw, t_raw, stats = solve_monolithic(prep, pool, share, self.backend, self.options)
            unit_totals, _ = integrality(t_raw)
        q, off = integrality(q_raw)
        problems = verify_plan(prep, share, q, unit_totals)
        if off > 1e-5:
            problems.insert(0, f"quotas are not whole multiples of unit (off by up to {off:.2g} units)")
        if problems:
            raise SolverError(f"{self.backend} returned a plan that breaks {len(problems)} constraint(s): "
                              + "; ".join(problems[:3]))
        return q, stats


def _elastic(prep: Prepared, pool: Pools, share: Shares, solve: _Solve, start: float) -> AllocationResult:
    """Soft limits give way: the least relaxation (elastic.py), then the plan within it."""
    prep_w, widened = widen_conflicts(prep)
    if prep_w.bounds.conflict.any():  # max_change against stretch, with max_change_conflict: error
        raise InfeasibleError(rep_conflicts(prep_w))
    pool_w = pools(prep_w)
    lay = layers(prep_w)
    try:
        totals = solve_elastic(prep_w, pool_w, share, lay, solve.backend, solve.options)
    except StageInfeasible:  # no plan at the hard limits (locks, fixed targets, the company total)
        diagnosis = diagnose(prep_w, pool_w, share, solve.backend, solve.options)
        raise InfeasibleError(diagnosis.reasons, diagnosis) from None
    prep_r, share_r = relax(prep_w, pool_w, share, lay, totals)
    pool_r = pools(prep_r)
    q, stats = solve(prep_r, pool_r, share_r, (totals.R, totals.stats))
    found = find_exceptions(prep_w, pool_w, share, lay, q, widened)
    result = _result(prep_r, pool_r, share_r, q, stats, solve.backend, solve.method, time.perf_counter() - start)
    result.exceptions = found
    result.solver = replace(result.solver, elastic={side: round(v * prep.unit, 2) for side, v in totals.given.items()})
    return result


def _result(prep: Prepared, pool: Pools, share: Shares, q: np.ndarray, stats: Stats, backend: str,
            method: str, elapsed: float) -> AllocationResult:
    unit, tree, cfg = prep.unit, prep.tree, prep.config
    quota = q * unit
    free = ~prep.is_locked
    dev = np.zeros(prep.n_reps)
    units_free = prep.rep_unit[free]
    b = prep.bounds
    dev[free] = deviations(cfg.fairness, q[free].astype(float), units_free, tree.n,
                           prep.p10[free], prep.p50[free], prep.p90[free],
                           b.lo_int[free].astype(float), b.hi_int[free].astype(float))
    largest = np.zeros(tree.n)
    np.maximum.at(largest, prep.rep_unit, dev)
    rep_frame = pd.DataFrame({
        "rep_id": prep.rep_ids, "team_id": tree.ids[prep.rep_unit], "quota": quota,
        "stretch": quota / (prep.p50 * unit), "binding": binding(prep, pool, q),
        "lower_bound": prep.bounds.lo_int * unit, "upper_bound": prep.bounds.hi_int * unit,
    })
    direct = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=tree.n)
    totals = np.rint(tree.subtree_sum(direct))
    fixed = np.isfinite(tree.fixed)
    fixed[0] = True
    share_cur = share.unit * unit
    flex_used = np.where(~fixed & (share.unit > 0), (totals - share.unit) / np.maximum(share.unit, 1e-12), 0.0)
    parent_ids = np.where(tree.parent >= 0, tree.ids[np.maximum(tree.parent, 0)], None)
    unit_frame = pd.DataFrame({
        "unit_id": tree.ids, "parent_id": parent_ids, "level": tree.level, "quota": totals * unit,
        "capacity_p50": share.cap_sub * unit, "share": share_cur, "flex_used": flex_used,
        "target": tree.target,
    })
    chance_error = None
    if cfg.fairness == "chance" and free.any():
        direct = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=tree.n)
        blk = make_block(prep, pool, np.flatnonzero(pool.n_reps > 0), R=np.rint(direct[pool.n_reps > 0]))
        chance_error = _chance_error(prep, q, blk)
    solver = SolverReport(
        backend=backend, status=stats.status, termination=tuple(stats.messages), objective=float(stats.objective),
        bound=float(stats.bound), gap=float(stats.gap), sizes=ProblemSizes(stats.n_vars, stats.n_rows, stats.n_solves),
        timings=SolveTimings(elapsed, stats.build_s, stats.time_s),
        mode="monolithic" if method == "monolithic" else "decomposed", unit_solver=method, fairness=cfg.fairness,
        max_deviation=float(dev.max()) if dev.size else 0.0, sum_max_deviation=float(largest.sum()),
        total_deviation=float(dev.sum()), linearisation_error=chance_error)
    return AllocationResult(rep_frame, unit_frame, solver, prep.company_requested, float(prep.company * unit),
                            max_change_notes(prep, q))


def _chance_error(prep: Prepared, q: np.ndarray, blk: Any) -> float:
    """Largest gap between the model's linearised chance deviation and the exact one."""
    free = ~blk.locked
    reps = blk.reps[free]
    group = blk.rep_unit[free]
    # Free totals of the plan: the exact point the decomposed path linearised around.
    totals = np.bincount(group, weights=q[reps].astype(float), minlength=blk.n_units)
    lo, hi = prep.bounds.lo_int[reps].astype(float), prep.bounds.hi_int[reps].astype(float)
    line = fair_line("chance", group, blk.n_units, totals, prep.p10[reps], prep.p50[reps], prep.p90[reps], lo, hi)
    return linearisation_error(line, q[reps].astype(float), totals, group, blk.n_units,
                               prep.p10[reps], prep.p50[reps], prep.p90[reps], lo, hi)
