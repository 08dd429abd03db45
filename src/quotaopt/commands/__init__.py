"""One function per CLI command: read inputs through :mod:`quotaopt.io`, run the stages, write.

``quotaopt <command>`` in the shell and ``quotaopt.commands.<command>`` in Python do the
same thing; :mod:`quotaopt.cli` only parses arguments and prints. These are the only
functions that decide where files go; everything below them takes frames and typed
results.

- :func:`plan`, :func:`frontier` -- a scenario planned into a run folder;
- :func:`simulate` -- a run re-simulated with other draws or seed;
- :func:`track` -- a run against actuals at a date, optionally re-planned;
- :func:`train`, :func:`backtest` -- the capacity model saved, or scored on past years;
- :func:`batch`, :func:`compare` -- many scenarios planned, runs side by side;
  :func:`compare_by_rep` -- every rep and unit that moved between runs, and why;
- :func:`validate`, :func:`payout` -- inputs checked, one payout explained;
- :func:`analyze` -- the history view of a scenario's data (analysis.html), by measure too;
- :func:`demo` -- the sample company written and planned.
"""

from quotaopt.commands._analyze import AnalysisOutcome, analyze
from quotaopt.commands._batch import BatchOutcome, BatchTask, batch, batch_exit_code, outcome_rows
from quotaopt.commands._capacity import backtest, train
from quotaopt.commands._compare import HEADLINE_ROWS, compare, compare_by_rep
from quotaopt.commands._compare_reps import RepComparison, compare_reps
from quotaopt.commands._demo import EXAMPLE_GENERATOR, EXAMPLE_SCENARIO, demo, write_example
from quotaopt.commands._plan import INFEASIBILITY_FILE, frontier, infeasible_with_details, plan
from quotaopt.commands._runs import (
    default_runs_root,
    headline,
    input_hashes,
    inputs_of_run,
    package_versions,
    result_files,
    write_result,
)
from quotaopt.commands._simulate import simulate
from quotaopt.commands._track import (
    REPLAN_FACTS,
    TrackOutcome,
    track,
    write_replan,
    write_track_folder,
)
from quotaopt.commands._validate import Validation, payout, validate

__all__ = [
    "AnalysisOutcome", "EXAMPLE_GENERATOR", "EXAMPLE_SCENARIO", "HEADLINE_ROWS", "INFEASIBILITY_FILE", "REPLAN_FACTS", "BatchOutcome",
    "BatchTask", "RepComparison", "TrackOutcome", "Validation", "analyze", "backtest", "batch", "batch_exit_code",
    "compare", "compare_by_rep", "compare_reps", "default_runs_root", "demo",
    "frontier", "headline", "infeasible_with_details", "input_hashes", "inputs_of_run", "outcome_rows",
    "package_versions", "payout", "plan", "result_files", "simulate", "track", "train", "validate", "write_example", "write_replan",
    "write_result", "write_track_folder",
]
