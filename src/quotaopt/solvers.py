"""The MILP solver backends quotaopt knows, each declared once: name, module, what it reports.

The scenario checks ``allocation.solver.backend`` against this table (a name that is
not here, or whose package is not installed, is an input error naming the ones that
would work), and :func:`quotaopt.allocation.backends.get_backend` imports the module
it names. The table is plain data so that reading a scenario imports no solver.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

__all__ = ["BACKENDS", "BackendInfo", "available", "backend_problem"]


@dataclass(frozen=True)
class BackendInfo:
    """One solver backend.

    Attributes
    ----------
    name : str
        As in ``allocation.solver.backend``.
    module : str
        The quotaopt module whose ``solve(problem, options)`` runs it.
    requires : str
        The third-party package it needs (its import name).
    dual_bound : bool
        Whether it reports a proven bound, so a gap can be given for a time-limited solve.
    solver : str
        What actually solves, in words.
    """

    name: str
    module: str
    requires: str
    dual_bound: bool
    solver: str

    def is_available(self) -> bool:
        """True when its package can be imported here (checked without importing it).

        Examples
        --------
        >>> BACKENDS["highs"].is_available()
        True
        """
        return importlib.util.find_spec(self.requires) is not None


#: Every backend, by name (the default first).
BACKENDS: dict[str, BackendInfo] = {b.name: b for b in (
    BackendInfo("highs", "quotaopt.allocation.backends.highs", "highspy", True, "HiGHS through highspy"),
    BackendInfo("cbc", "quotaopt.allocation.backends.pulp_cbc", "pulp", True,
                "CBC bundled with PuLP (bound read from its log)"),
    BackendInfo("ortools", "quotaopt.allocation.backends.ortools", "ortools", True,
                "SCIP through OR-Tools' MPSolver"),
)}


def available() -> list[str]:
    """Names of the backends whose package is installed, sorted."""
    return sorted(name for name, info in BACKENDS.items() if info.is_available())


def backend_problem(name: str) -> str | None:
    """Why ``name`` cannot be used as a backend here (None when it can).

    Examples
    --------
    >>> backend_problem("highs") is None
    True
    >>> backend_problem("gurobi")
    "unknown solver backend 'gurobi'; expected one of cbc, highs, ortools"
    """
    info = BACKENDS.get(name)
    if info is None:
        return f"unknown solver backend {name!r}; expected one of {', '.join(sorted(BACKENDS))}"
    if not info.is_available():
        return (f"solver backend {name!r} needs the Python package {info.requires!r}, which is not installed; "
                f"installed: {', '.join(available()) or 'none'}")
    return None
