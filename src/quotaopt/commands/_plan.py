"""``quotaopt plan`` and ``quotaopt frontier``: plan a scenario and write its run folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from quotaopt.commands._runs import default_runs_root, input_hashes, write_result
from quotaopt.errors import InfeasibleError
from quotaopt.io import (
    Staging,
    WrittenRun,
    check_runs_root,
    csv_bytes,
    load_inputs,
    publish,
    write_file_atomic,
)
from quotaopt.parallel import executor
from quotaopt.planning import Inputs, PlanResult


def plan(scenario: str | Path, out: str | Path | None = None, progress: Callable[[str], None] | None = None,
         workers: int = 1, scheduler: str | None = None,
         scheduler_timeout: float | None = None, overrides: str | Path | None = None) -> tuple[PlanResult, WrittenRun]:
    """Run the main job on a scenario file and write its run folder.

    Parameters
    ----------
    scenario : str or Path
        The scenario YAML file.
    out : str or Path, optional
        Parent of the run folders (default ``runs/`` beside the scenario).
    progress : callable, optional
        Called with each stage name as it starts.
    workers : int
        Local workers for the per-unit solves and the chunks of simulation draws.
    scheduler : str, optional
        Address of a Dask scheduler to run those on instead (checked before any work).
        Neither changes the plan.
    scheduler_timeout : float, optional
        Seconds to reach the scheduler, and for a worker to be there (default 30).
    overrides : str or Path, optional
        An edited plan.xlsx: the filled ``new_quota`` cells of its Overrides sheet are
        locked quotas (over reps.csv's ``locked_quota``); the manifest records the file's
        SHA-256 and the quotas read.

    Returns
    -------
    (PlanResult, WrittenRun)

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> result, run = qo.plan(example, out=runs)
    >>> result.summary.solver.status, result.plan_year, len(result.plan), run.path.parent.name
    ('optimal', 2027, 60, 'example')

    With an edited workbook (its Overrides sheet) fed back:

    >>> result, run = qo.plan(example, overrides="edited.xlsx")  # doctest: +SKIP
    """
    from quotaopt.planning import run_plan

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    extra_manifest: dict[str, Any] = {}
    if overrides is not None:
        inputs, extra_manifest = with_overrides(inputs, overrides)
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    check_runs_root(runs_root, "--out" if out is not None else str(runs_root))  # before minutes of work
    runner = executor(workers, scheduler, scheduler_timeout)
    runner.check()  # a scheduler without a worker fails here, before any work
    try:
        result = run_plan(inputs, progress=progress, executor=runner)
    except InfeasibleError as exc:
        raise infeasible_with_details(exc, runs_root, inputs) from None
    return result, write_result(result, inputs, runs_root, on_stage=progress, extra_manifest=extra_manifest)


def with_overrides(inputs: Inputs, workbook: str | Path) -> tuple[Inputs, dict[str, Any]]:
    """The inputs with a workbook's override quotas locked, and what the manifest records of it."""
    import dataclasses

    from quotaopt.io import read_overrides
    from quotaopt.planning import apply_overrides

    assert inputs.scenario is not None
    found = read_overrides(workbook, inputs.company, inputs.scenario.allocation.unit)
    inputs = dataclasses.replace(inputs, company=apply_overrides(inputs.company, found.quotas))
    hashes = {**input_hashes(inputs), f"overrides/{Path(workbook).name}": found.sha256}
    return inputs, {"inputs": hashes, "overrides": found.record()}

#: The per-unit detail of a plan that cannot exist, beside the scenario's runs (replaced each time).
INFEASIBILITY_FILE = "infeasibility.csv"

def infeasible_with_details(exc: InfeasibleError, runs_root: Path, inputs: Inputs) -> InfeasibleError:
    """Write the diagnosis' per-unit table beside the runs; the error names the file in its short message.

    Exit 3 may write this one diagnostic file (never a run folder); it is replaced
    atomically, so a reader sees the last complete one.
    """
    diagnosis = exc.diagnosis
    if diagnosis is None:
        return exc
    assert inputs.scenario is not None
    folder = runs_root / inputs.scenario.name
    target = folder / INFEASIBILITY_FILE
    write_file_atomic(target, csv_bytes(diagnosis.details), parents=True)
    return InfeasibleError(exc.reasons, diagnosis, message=diagnosis.message(growth=exc.growth, details=str(target)))

def frontier(scenario: str | Path, growths: list[float] | None = None, out: str | Path | None = None,
                      draws: int | None = None, workers: int = 1,
                      progress: Callable[[str], None] | None = None) -> tuple[Any, Path]:
    """``quotaopt frontier``: the planning frontier over growth values, written as CSV and HTML.

    Writes ``frontier.csv`` and ``frontier.html`` into a new folder
    ``<runs>/<scenario>/frontier-<UTC time>/`` (``out`` names the runs folder), built
    beside it and renamed when complete. Returns the table and the folder.
    """
    from datetime import UTC, datetime

    from quotaopt.planning import DEFAULT_GROWTH
    from quotaopt.planning import frontier as frontier_table
    from quotaopt.report.frontier_html import render_frontier

    overrides = {"simulation": {"draws": draws}} if draws is not None else None
    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    if overrides and inputs.scenario is not None:
        from quotaopt.io import load_scenario

        inputs = Inputs(scenario=load_scenario(scenario, overrides), company=inputs.company,
                        plan_year=inputs.plan_year, model=inputs.model)
    assert inputs.scenario is not None
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    check_runs_root(runs_root, "--out" if out is not None else str(runs_root))  # before the frontier's plans
    table = frontier_table(inputs, growths or list(DEFAULT_GROWTH), executor(workers), progress=progress)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with Staging(runs_root) as staging:
        staging.write("frontier.csv", csv_bytes(table))
        staging.write("frontier.html", render_frontier(table, inputs.scenario.name, inputs.plan_year))
        # The rename reserves the name: two frontiers of the same second land as -2, -3 ...
        final = publish(staging, runs_root / inputs.scenario.name, f"frontier-{stamp}", finalize=lambda name: None)
    return table, final
