"""quotaopt: an optimization-based sales quota engine.

Learn from history, estimate each rep's capacity, allocate the company target by
MILP over the org tree, decompose it in time, simulate incentives, and track.

The public functions are imported lazily, so ``import quotaopt`` (and the CLI's
``--help``) stays fast::

    import quotaopt as qo
    result, run = qo.plan("scenarios/example.yaml")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from quotaopt.errors import InfeasibleError, InputError, QuotaOptError, SolverError

__version__ = "0.1.0"

#: Public name -> module that defines it.
_LAZY = {
    "plan": "quotaopt.api",
    "simulate_run": "quotaopt.api",
    "load_inputs": "quotaopt.io",
    "load_scenario": "quotaopt.io",
    "load_company": "quotaopt.io",
    "load_actuals": "quotaopt.io",
    "read_run": "quotaopt.io",
    "compare_runs": "quotaopt.compare",
    "run_batch": "quotaopt.batch",
    "track_run": "quotaopt.track_api",
    "generate_company": "quotaopt.datasets",
    "backtest": "quotaopt.capacity",
    "CapacityModel": "quotaopt.capacity",
    "allocate": "quotaopt.allocation",
    "decompose": "quotaopt.periods",
    "payout": "quotaopt.incentives",
    "explain_payout": "quotaopt.incentives",
    "simulate": "quotaopt.incentives",
}

__all__ = ["InfeasibleError", "InputError", "QuotaOptError", "SolverError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quotaopt' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
