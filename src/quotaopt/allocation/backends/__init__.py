"""Solver backends: each maps a :class:`~quotaopt.allocation.problem.Problem` to a
:class:`~quotaopt.allocation.problem.Solution` and owns the table from its native
status codes to ours; native codes never leave the backend module."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from quotaopt.allocation.problem import Problem, Solution, SolveOptions
from quotaopt.solvers import BACKENDS, BackendInfo, backend_problem

Backend = Callable[[Problem, SolveOptions], Solution]



def get_backend(name: str) -> Backend:
    """Return the ``solve(problem, options)`` function of a backend.

    Parameters
    ----------
    name : str
        A name of :data:`quotaopt.solvers.BACKENDS` (``highs``, ``cbc``, ``ortools``).

    Raises
    ------
    ValueError
        For an unknown name, or one whose package is not installed.
    """
    problem = backend_problem(name)
    if problem is not None:
        raise ValueError(problem)
    module = importlib.import_module(BACKENDS[name].module)
    solve: Backend = module.solve
    return solve


__all__ = ["BACKENDS", "Backend", "BackendInfo", "get_backend"]
