"""quotaopt: an optimization-based sales quota engine.

Learn from history, estimate each rep's capacity, allocate the company target by
MILP over the org tree, decompose it in time, simulate incentives, and track.

The public API is one function per CLI command, named like it (``quotaopt plan`` is
:func:`quotaopt.plan`), the loaders, the results and the errors. Library functions
live in their subpackages (:mod:`quotaopt.capacity`, :mod:`quotaopt.allocation`,
:mod:`quotaopt.periods`, :mod:`quotaopt.incentives`, :mod:`quotaopt.tracking`,
:mod:`quotaopt.planning`). Everything is imported lazily, so ``import quotaopt`` (and
the CLI's ``--help``) stays fast::

    import quotaopt as qo
    result, run = qo.plan("scenarios/example.yaml")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from quotaopt.errors import InfeasibleError, InputError, OutputError, QuotaOptError, SolverError

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from quotaopt.commands import (
        BatchOutcome,
        TrackOutcome,
        backtest,
        batch,
        compare,
        demo,
        frontier,
        payout,
        plan,
        simulate,
        track,
        train,
        validate,
    )
    from quotaopt.datasets import generate_company
    from quotaopt.io import (
        load_actuals,
        load_company,
        load_inputs,
        load_model,
        load_scenario,
        read_run,
    )
    from quotaopt.planning import Inputs, PlanResult, StoredRun, Summary

__version__ = "0.1.0"

_COMMANDS = ("plan", "frontier", "simulate", "track", "train", "backtest", "batch", "compare", "validate", "payout",
             "demo", "BatchOutcome", "TrackOutcome")
_LOADERS = ("load_inputs", "load_scenario", "load_company", "load_actuals", "load_model", "read_run")

#: Public name -> module that defines it.
_LAZY = {
    **dict.fromkeys(_COMMANDS, "quotaopt.commands"),
    **dict.fromkeys(_LOADERS, "quotaopt.io"),
    "Inputs": "quotaopt.planning",
    "PlanResult": "quotaopt.planning",
    "StoredRun": "quotaopt.planning",
    "Summary": "quotaopt.planning",
    "generate_company": "quotaopt.datasets",
}

__all__ = [
    "BatchOutcome", "InfeasibleError", "InputError", "Inputs", "OutputError", "PlanResult", "QuotaOptError",
    "SolverError", "StoredRun", "Summary", "TrackOutcome", "__version__", "backtest", "batch", "compare", "demo", "frontier",
    "generate_company", "load_actuals", "load_company", "load_inputs", "load_model", "load_scenario", "payout",
    "plan", "read_run", "simulate", "track", "train", "validate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quotaopt' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
