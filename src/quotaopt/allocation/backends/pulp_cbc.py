"""CBC through PuLP (the CBC binary bundled with PuLP).

PuLP builds one Python object per variable and term, so this backend is slow to
build (tens of microseconds a rep); it exists as an independent check on HiGHS.
PuLP reports "Optimal" when CBC stopped on the time limit with an incumbent, so we
read CBC's own ``Result -`` line, objective and lower bound from its log instead.
"""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from quotaopt.allocation.problem import Problem, Solution, SolveOptions, Status, relative_gap

#: CBC's "Result - ..." line -> (our status with a usable solution, without one).
STATUS: dict[str, tuple[Status, Status]] = {
    "Optimal solution found": ("optimal", "error"),
    "Stopped on time limit": ("feasible", "error"),
    "Stopped on iteration limit": ("feasible", "error"),
    "Stopped on node limit": ("feasible", "error"),
    "Stopped on solution limit": ("feasible", "error"),
    "Stopped on ctrl-c": ("feasible", "error"),
    "Problem proven infeasible": ("infeasible", "infeasible"),
    "Linear relaxation infeasible": ("infeasible", "infeasible"),
    "Integer infeasible": ("infeasible", "infeasible"),
    "Linear relaxation unbounded": ("error", "error"),
    "Problem proven unbounded": ("error", "error"),
    "Stopped on difficulties": ("error", "error"),
}

_NUMBER = r"([-+0-9.eE]+|-?inf|nan)"


def _cbc_path() -> str:
    from pulp.apis import coin_api

    return str(coin_api.PULP_CBC_CMD.pulp_cbc_path)


def _build(problem: Problem):  # type: ignore[no-untyped-def]
    import pulp

    lp = pulp.LpProblem("quotaopt", pulp.LpMinimize)
    xs = []
    for j in range(problem.n_vars):
        lo, hi = problem.col_lo[j], problem.col_hi[j]
        xs.append(
            lp.add_variable(
                f"x{j}",
                lowBound=None if np.isneginf(lo) else float(lo),
                upBound=None if np.isposinf(hi) else float(hi),
                cat=pulp.LpInteger if problem.integer[j] else pulp.LpContinuous,
            )
        )
    nz = np.flatnonzero(problem.c)
    lp += pulp.LpAffineExpression([(xs[j], float(problem.c[j])) for j in nz]) + problem.offset
    A = problem.A
    for i in range(problem.n_rows):
        sl = slice(A.indptr[i], A.indptr[i + 1])
        expr = pulp.LpAffineExpression(
            [(xs[j], float(v)) for j, v in zip(A.indices[sl], A.data[sl], strict=True)]
        )
        lo, hi = problem.row_lo[i], problem.row_hi[i]
        if lo == hi:
            lp += expr == float(lo), f"r{i}"
            continue
        if np.isfinite(lo):
            lp += expr >= float(lo), f"r{i}lo"
        if np.isfinite(hi):
            lp += expr <= float(hi), f"r{i}hi"
    return lp, xs


def _parse_log(text: str) -> tuple[str, float, float]:
    result = re.search(r"^Result - (.+?)\s*$", text, flags=re.MULTILINE)
    if result is None and re.search(r"^Problem is infeasible", text, flags=re.MULTILINE):
        # CBC's presolve proved infeasibility before branch and bound printed a result.
        return "Problem proven infeasible", float("nan"), float("nan")
    if result is None:
        # A model without integer columns is solved by CLP alone, which prints no Result line.
        lp = re.search(rf"^Optimal - objective value {_NUMBER}", text, flags=re.MULTILINE)
        if lp is not None:
            value = float(lp.group(1))
            return "Optimal solution found", value, value
    objective = re.search(rf"^Objective value:\s+{_NUMBER}", text, flags=re.MULTILINE)
    bound = re.search(rf"^Lower bound:\s+{_NUMBER}", text, flags=re.MULTILINE)
    return (
        result.group(1) if result else "",
        float(objective.group(1)) if objective else float("nan"),
        float(bound.group(1)) if bound else float("nan"),
    )


def solve(problem: Problem, options: SolveOptions) -> Solution:
    """Solve ``problem`` with CBC through PuLP.

    Parameters
    ----------
    problem : Problem
    options : SolveOptions
        ``threads``, ``seed``, ``time_limit`` and ``mip_gap`` are passed to CBC.

    Returns
    -------
    Solution
    """
    import pulp

    start = time.perf_counter()
    lp, xs = _build(problem)
    with tempfile.TemporaryDirectory(prefix="quotaopt-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        solver = pulp.COIN_CMD(
            path=_cbc_path(),
            msg=False,
            timeLimit=float(options.time_limit),
            gapRel=float(options.mip_gap),
            threads=int(options.threads) if options.threads > 1 else None,
            options=[f"randomSeed {options.seed + 1}", f"randomCbcSeed {options.seed + 1}"],
            logPath=str(log),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                lp.solve(solver)
            except pulp.PulpSolverError as exc:
                return Solution("error", time_s=time.perf_counter() - start, message=f"CBC: {exc}")
        result, objective, bound = _parse_log(log.read_text(errors="replace"))
    elapsed = time.perf_counter() - start
    # PuLP's sol_status distinguishes "stopped with an incumbent" (2) from no solution (0).
    has_solution = lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    key = next((k for k in STATUS if result.startswith(k)), None)
    with_sol, without = STATUS.get(key, ("error", "error")) if key else ("error", "error")
    status: Status = with_sol if has_solution else without
    message = f"CBC: {result or 'no result line'}"
    if status not in ("optimal", "feasible"):
        return Solution(status, time_s=elapsed, message=message)
    x = np.array([v.varValue if v.varValue is not None else np.nan for v in xs], dtype=np.float64)
    if np.isnan(x).any():
        return Solution("error", time_s=elapsed, message=message + " (missing values)")
    objective = problem.objective_value(x)
    if status == "optimal" or not np.isfinite(bound):
        # CBC prints no lower bound when it proves optimality; it is the objective within the gap.
        bound = objective if status == "optimal" else bound
    gap = relative_gap(objective, bound) if objective - bound > 1e-9 else 0.0
    return Solution(status, x, objective, bound, gap, elapsed, message)
