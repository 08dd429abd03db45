"""quotaopt: an optimization-based sales quota engine.

Learn from history, estimate each rep's capacity, allocate the company target by
MILP over the org tree, decompose it in time, simulate incentives, and track.
"""

from quotaopt.errors import InfeasibleError, InputError, QuotaOptError, SolverError

__version__ = "0.1.0"

__all__ = [
    "InfeasibleError",
    "InputError",
    "QuotaOptError",
    "SolverError",
    "__version__",
]
