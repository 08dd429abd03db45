"""HiGHS through highspy: the default backend.

The arrays of a :class:`Problem` go to HiGHS in one ``passModel`` call (no Python
object per variable). Status, objective, dual bound and gap are read from HiGHS
itself. We use ``highspy._core._Highs`` rather than the ``highspy.Highs`` wrapper:
the wrapper adds callback plumbing we do not need and prints a banner on stdout.
"""

from __future__ import annotations

import time

import numpy as np
from highspy import HighsModelStatus as MS
from highspy import _core

from quotaopt.allocation.problem import Problem, Solution, SolveOptions, Status, relative_gap

#: Native model status -> (our status with a usable solution, our status without one).
STATUS: dict[MS, tuple[Status, Status]] = {
    MS.kOptimal: ("optimal", "error"),
    MS.kInfeasible: ("infeasible", "infeasible"),
    # Our problems are bounded, so "unbounded or infeasible" can only be infeasible.
    MS.kUnboundedOrInfeasible: ("infeasible", "infeasible"),
    MS.kTimeLimit: ("feasible", "error"),
    MS.kIterationLimit: ("feasible", "error"),
    MS.kSolutionLimit: ("feasible", "error"),
    MS.kInterrupt: ("feasible", "error"),
    MS.kHighsInterrupt: ("feasible", "error"),  # type: ignore[attr-defined]  # missing from the stubs
    MS.kObjectiveBound: ("feasible", "error"),
    MS.kObjectiveTarget: ("feasible", "error"),
    MS.kMemoryLimit: ("feasible", "error"),
    MS.kUnknown: ("feasible", "error"),
    MS.kUnbounded: ("error", "error"),
    MS.kNotset: ("error", "error"),
    MS.kLoadError: ("error", "error"),
    MS.kModelError: ("error", "error"),
    MS.kPresolveError: ("error", "error"),
    MS.kSolveError: ("error", "error"),
    MS.kPostsolveError: ("error", "error"),
    MS.kModelEmpty: ("optimal", "optimal"),
}

_ROWWISE = 2  # HiGHS MatrixFormat::kRowwise
_scheduler_threads: list[int] = []


def _set_threads(h: _core._Highs, threads: int) -> None:
    # HiGHS keeps one global thread pool per process; a different count needs a reset,
    # otherwise HiGHS warns and keeps the old pool.
    if _scheduler_threads and _scheduler_threads[0] != threads:
        _core._Highs.resetGlobalScheduler(True)
        _scheduler_threads.clear()
    if not _scheduler_threads:
        _scheduler_threads.append(threads)
    h.setOptionValue("threads", int(threads))


def solve(problem: Problem, options: SolveOptions) -> Solution:
    """Solve ``problem`` with HiGHS.

    Parameters
    ----------
    problem : Problem
    options : SolveOptions
        ``threads``, ``seed``, ``time_limit`` and ``mip_gap`` are passed to HiGHS.

    Returns
    -------
    Solution
        ``feasible`` (never ``optimal``) when HiGHS stopped on a limit with an incumbent.
    """
    start = time.perf_counter()
    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    _set_threads(h, options.threads)
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if not problem.integer.any():
        # A pure LP. Interior point (the default) with crossover was 5-10x faster than the
        # dual simplex on the elastic model's many near-tied slack columns (7.7 s against
        # 42 s for 122,000 columns at 100,000 reps); the assignment's many small
        # relaxations ask for the simplex (2x faster there).
        h.setOptionValue("solver", options.lp_algorithm)
    if not options.presolve:
        h.setOptionValue("presolve", "off")
    if not options.scale:
        h.setOptionValue("simplex_scale_strategy", 0)
    A = problem.A
    n, m = problem.n_vars, problem.n_rows
    h.passModel(
        n,
        m,
        int(A.nnz),
        _ROWWISE,
        1,  # minimise
        problem.offset,
        problem.c,
        problem.col_lo,
        problem.col_hi,
        problem.row_lo,
        problem.row_hi,
        A.indptr[:-1].astype(np.int32),
        A.indices.astype(np.int32),
        A.data,
        problem.integer.astype(np.int32),
    )
    if problem.start is not None and problem.integer.any():
        incumbent = _core.HighsSolution()
        incumbent.col_value = problem.start.tolist()
        incumbent.value_valid = True
        h.setSolution(incumbent)  # HiGHS checks it; an infeasible start is dropped, never trusted
    h.run()
    native = h.getModelStatus()
    info = h.getInfo()
    has_solution = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    with_sol, without = STATUS.get(native, ("error", "error"))
    status: Status = with_sol if has_solution else without
    elapsed = time.perf_counter() - start
    message = f"HiGHS: {h.modelStatusToString(native)}"
    if status not in ("optimal", "feasible"):
        return Solution(status=status, time_s=elapsed, message=message)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    if problem.integer.any() and native != MS.kModelEmpty:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else relative_gap(objective, bound)
    else:
        bound, gap = objective, 0.0
    if objective - bound <= 1e-9:
        gap = 0.0
    return Solution(status, x, objective, bound, gap, elapsed, message)
