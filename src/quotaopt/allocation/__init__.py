"""Allocation: split the company target over the team tree and every rep by MILP.

See docs/allocation.md for the formulation. The public entry point is :func:`allocate`.
"""

from quotaopt.allocation.engine import AllocationResult, allocate
from quotaopt.allocation.fairness import p_attain
from quotaopt.allocation.problem import Problem, Solution, SolveOptions
from quotaopt.allocation.solver_report import ProblemSizes, SolverReport, SolveTimings

__all__ = [
    "AllocationResult", "Problem", "ProblemSizes", "Solution", "SolveOptions", "SolverReport", "SolveTimings", "allocate",
    "p_attain",
]
