"""Solver backends: each maps a :class:`~quotaopt.allocation.problem.Problem` to a
:class:`~quotaopt.allocation.problem.Solution` and owns the table from its native
status codes to ours; native codes never leave the backend module."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from quotaopt.allocation.problem import Problem, Solution, SolveOptions

Backend = Callable[[Problem, SolveOptions], Solution]

#: Backend name (as in ``allocation.solver.backend``) -> module implementing ``solve``.
MODULES: dict[str, str] = {
    "highs": "quotaopt.allocation.backends.highs",
    "cbc": "quotaopt.allocation.backends.pulp_cbc",
    "ortools": "quotaopt.allocation.backends.ortools",
}


def get_backend(name: str) -> Backend:
    """Return the ``solve(problem, options)`` function of a backend.

    Parameters
    ----------
    name : {'highs', 'cbc', 'ortools'}

    Raises
    ------
    ValueError
        For an unknown name.
    """
    try:
        module = importlib.import_module(MODULES[name])
    except KeyError:
        raise ValueError(f"unknown solver backend {name!r}; expected one of {sorted(MODULES)}") from None
    solve: Backend = module.solve
    return solve


__all__ = ["MODULES", "Backend", "get_backend"]
