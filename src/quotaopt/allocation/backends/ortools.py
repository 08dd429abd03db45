"""OR-Tools: SCIP through the MPSolver engine (the one behind ``pywraplp``).

We reach MPSolver through ``ortools.linear_solver.python.model_builder`` rather than
``pywraplp`` because it takes our sparse arrays in one call
(``fill_model_from_sparse_data``) instead of one Python object per variable and
term; the solver, statuses and parameters are MPSolver's. SCIP rather than CP-SAT:
CP-SAT has no continuous variables and needs integer coefficients, while our rows
carry fractional fairness weights (1 / capacity); scaling them to integers would
change the problem. SCIP runs single-threaded here; its seed is fixed.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import ortools.linear_solver.python.model_builder as mb

from quotaopt.allocation.problem import Problem, Solution, SolveOptions, Status, relative_gap

_S = mb.SolveStatus
#: MPSolver status -> (our status with a usable solution, without one).
STATUS: dict[object, tuple[Status, Status]] = {
    _S.OPTIMAL: ("optimal", "error"),  # MPSolver says OPTIMAL when SCIP reached the gap limit
    _S.FEASIBLE: ("feasible", "error"),  # stopped on a limit with an incumbent
    _S.INFEASIBLE: ("infeasible", "infeasible"),
    _S.UNBOUNDED: ("error", "error"),
    _S.ABNORMAL: ("error", "error"),
    _S.NOT_SOLVED: ("error", "error"),
    _S.MODEL_IS_VALID: ("error", "error"),
    _S.CANCELLED_BY_USER: ("feasible", "error"),
    _S.UNKNOWN_STATUS: ("error", "error"),
    _S.MODEL_INVALID: ("error", "error"),
    _S.INVALID_SOLVER_PARAMETERS: ("error", "error"),
    _S.SOLVER_TYPE_UNAVAILABLE: ("error", "error"),
    _S.INCOMPATIBLE_OPTIONS: ("error", "error"),
}


def _finite(values: np.ndarray) -> np.ndarray:
    # MPSolver spells "no bound" as +-inf too, but only as a float, never NaN.
    return np.asarray(values, dtype=np.float64)


def solve(problem: Problem, options: SolveOptions) -> Solution:
    """Solve ``problem`` with SCIP through OR-Tools.

    Parameters
    ----------
    problem : Problem
    options : SolveOptions
        ``seed``, ``time_limit`` and ``mip_gap`` are passed to SCIP; SCIP is single-threaded.

    Returns
    -------
    Solution
    """
    start = time.perf_counter()
    model = mb.Model()  # type: ignore[no-untyped-call]  # OR-Tools ships no annotations here
    helper: Any = model.helper  # the stubs want a shape-typed float64 array; ours are float64
    helper.fill_model_from_sparse_data(
        _finite(problem.col_lo),
        _finite(problem.col_hi),
        problem.c,
        _finite(problem.row_lo),
        _finite(problem.row_hi),
        problem.A,
    )
    for j in np.flatnonzero(problem.integer):
        model.helper.set_var_integrality(int(j), True)
    model.helper.set_objective_offset(problem.offset)
    solver = mb.Solver("scip")
    if not solver.solver_is_supported():
        return Solution("error", message="OR-Tools was built without SCIP")
    solver.set_time_limit_in_seconds(float(options.time_limit))
    solver.set_solver_specific_parameters(
        f"limits/gap = {float(options.mip_gap)!r}\n"
        f"randomization/randomseedshift = {int(options.seed)}\n"
    )
    native = solver.solve(model)
    elapsed = time.perf_counter() - start
    with_sol, without = STATUS.get(native, ("error", "error"))
    values = np.asarray(solver.values(model.get_variables()), dtype=np.float64) if with_sol in (
        "optimal",
        "feasible",
    ) else None
    has_solution = values is not None and values.size == problem.n_vars and np.isfinite(values).all()
    status: Status = with_sol if has_solution else without
    message = f"SCIP (OR-Tools): {native.name}"
    if status not in ("optimal", "feasible") or values is None:
        return Solution(status, time_s=elapsed, message=message)
    objective = problem.objective_value(values)
    bound = float(solver.best_objective_bound)
    if not np.isfinite(bound):
        bound = objective if status == "optimal" else bound
    gap = relative_gap(objective, bound) if objective - bound > 1e-9 else 0.0
    return Solution(status, values, objective, bound, gap, elapsed, message)
