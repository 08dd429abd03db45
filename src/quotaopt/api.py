"""The public API: one call per CLI command, usable from notebooks.

These functions read inputs, run the library stages and write run folders; the CLI
only parses arguments and prints.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from quotaopt.errors import InfeasibleError, InputError, Problem
from quotaopt.io import (
    Staging,
    WrittenRun,
    check_runs_root,
    csv_bytes,
    json_bytes,
    load_inputs,
    probe_writable,
    publish,
    read_run,
    sha256_bytes,
    write_file_atomic,
    write_run,
)
from quotaopt.planning import Inputs
from quotaopt.result import PlanResult, StoredRun

_VERSIONED = ("quotaopt", "numpy", "pandas", "scipy", "scikit-learn", "pydantic", "highspy", "pulp",
              "ortools", "xlsxwriter", "matplotlib")


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages a run depends on (for the manifest)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def input_hashes(inputs: Inputs) -> dict[str, str]:
    """SHA-256 of every input file: the data files and the scenario with its extends chain."""
    hashes = {f"data/{name}": digest for name, digest in sorted(inputs.company.files.items())}
    if inputs.scenario is not None:
        for path in inputs.scenario.sources:
            hashes[f"scenario/{path.name}"] = sha256_bytes(path.read_bytes())
    return hashes


def default_runs_root(inputs: Inputs) -> Path:
    """``runs/`` beside the scenario file."""
    assert inputs.scenario is not None
    return inputs.scenario.base_dir / "runs"


def result_files(result: PlanResult) -> dict[str, bytes | Callable[[], bytes]]:
    """The files of a run folder, in writing order (reports rendered lazily while staging)."""
    from quotaopt.report import render_html, render_xlsx

    return {
        "plan.csv": csv_bytes(result.plan),
        "plan_periods.csv": csv_bytes(result.periods),
        "units.csv": csv_bytes(result.units),
        "summary.json": json_bytes(result.summary),
        "report.html": lambda: render_html(result),
        "plan.xlsx": lambda: render_xlsx(result),
    }


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures the audit log and the terminal show for a run."""
    keys = ("company_target", "total_quota", "over_assignment", "p_company_target", "expected_payout",
            "cost_of_sales")
    return {k: summary.get(k) for k in keys} | {"solver_status": summary.get("solver", {}).get("status")}


def headline_lines(summary: dict[str, Any], path: Path) -> list[str]:
    """The headline figures of a run as lines for a terminal."""
    s = summary
    solver = s["solver"]
    gap = solver.get("gap")
    status = solver["status"] if gap is None or solver["status"] == "optimal" else f"{solver['status']}, gap {gap:.4%}"
    return [
        f"company target {s['company_target']:,.0f}; total quota {s['total_quota']:,.0f} "
        f"(over-assignment {s['over_assignment']:.1%})",
        *gap_lines(s),
        f"P(company target met) {s['p_company_target']:.1%}; expected payout {s['expected_payout']:,.0f} "
        f"(P10 {s['payout_p10']:,.0f}, P90 {s['payout_p90']:,.0f}); cost of sales {s['cost_of_sales']:.2%}",
        f"solver {solver['backend']}: {status}",
        *exception_lines(s),
        *(f"note: {note}" for note in s.get("allocation_notes", [])),
        f"run folder: {path}",
        f"report: {path / 'report.html'}",
    ]


def gap_lines(summary: dict[str, Any]) -> list[str]:
    """The target-capacity gap and the guardrail warning, for a terminal."""
    gap, shares = summary.get("target_gap"), summary.get("reps_expected") or {}
    lines = []
    if gap and gap.get("capacity_p50"):
        lines.append(f"against capacity P50 {gap['capacity_p50']:,.0f} (P10 {gap['capacity_p10']:,.0f}, "
                     f"P90 {gap['capacity_p90']:,.0f}): target {gap['target_over_p50']:+.1%}, "
                     f"quota {gap['quota_over_p50']:+.1%}")
    if shares:
        lines.append(f"reps expected at >= 100% of quota {shares['ge_100']:.0%}, 80-100% {shares['80_100']:.0%}, "
                     f"< 80% {shares['lt_80']:.0%}")
    guard = summary.get("guardrail") or {}
    if guard.get("below"):
        lines.append(f"warning: {guard['message']}")
    return lines


#: Most exceptions printed; the rest are counted (all are in summary.json and the report).
SHOWN_EXCEPTIONS = 10


def exception_lines(summary: dict[str, Any]) -> list[str]:
    """Soft limits the plan gave way on, one line each, for a terminal."""
    found = summary.get("exceptions") or []
    if not found:
        return []
    total = sum(float(e.get("amount") or 0.0) for e in found)
    lines = [f"exceptions: {len(found)} soft limit(s) gave way ({total:,.0f} in all; allocation.strict: true "
             "would stop instead)"]
    lines += [f"exception: {e['message']}" for e in found[:SHOWN_EXCEPTIONS]]
    if len(found) > SHOWN_EXCEPTIONS:
        lines.append(f"... and {len(found) - SHOWN_EXCEPTIONS} more exception(s) in summary.json")
    return lines


def write_result(
    result: PlanResult,
    inputs: Inputs,
    runs_root: Path,
    parent_run: str | None = None,
    extra_manifest: dict[str, Any] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> WrittenRun:
    """Write a PlanResult as a run folder with its manifest and audit line."""
    assert inputs.scenario is not None
    manifest = {
        "scenario": inputs.scenario.resolved(),
        "scenario_file": str(inputs.scenario.source),
        "data_folder": str(inputs.company.folder.resolve()) if inputs.company.reads.get("kind") != "database"
        else inputs.company.source,
        "data_read": inputs.company.reads,
        "plan_year": inputs.plan_year,
        "inputs": input_hashes(inputs),
        "versions": package_versions(),
        "seed": inputs.scenario.simulation.seed,
        "timings_s": result.timings,
        "parent_run": parent_run,
        **(extra_manifest or {}),
    }
    return write_run(runs_root, inputs.scenario.name, result_files(result), manifest,
                     audit={"headline": headline(result.summary)}, on_stage=on_stage)


def plan(scenario: str | Path, out: str | Path | None = None, progress: Callable[[str], None] | None = None,
         workers: int = 1, scheduler: str | None = None,
         scheduler_timeout: float | None = None) -> tuple[PlanResult, WrittenRun]:
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

    Returns
    -------
    (PlanResult, WrittenRun)
    """
    from quotaopt.planning import run_plan

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    check_runs_root(runs_root, "--out" if out is not None else str(runs_root))  # before minutes of work
    if scheduler:
        from quotaopt.parallel import SCHEDULER_TIMEOUT_S, check_scheduler

        check_scheduler(scheduler, scheduler_timeout or SCHEDULER_TIMEOUT_S)
    try:
        result = run_plan(inputs, progress=progress, workers=workers, scheduler=scheduler,
                          scheduler_timeout=scheduler_timeout)
    except InfeasibleError as exc:
        raise infeasible_with_details(exc, runs_root, inputs) from None
    return result, write_result(result, inputs, runs_root, on_stage=progress)


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
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / INFEASIBILITY_FILE
    write_file_atomic(target, csv_bytes(diagnosis.details))
    return InfeasibleError(exc.reasons, diagnosis, message=diagnosis.message(growth=exc.growth, details=str(target)))


def frontier_scenario(scenario: str | Path, growths: list[float] | None = None, out: str | Path | None = None,
                      draws: int | None = None, workers: int = 1,
                      progress: Callable[[str], None] | None = None) -> tuple[Any, Path]:
    """``quotaopt frontier``: the planning frontier over growth values, written as CSV and HTML.

    Writes ``frontier.csv`` and ``frontier.html`` into a new folder
    ``<runs>/<scenario>/frontier-<UTC time>/`` (``out`` names the runs folder), built
    beside it and renamed when complete. Returns the table and the folder.
    """
    from datetime import UTC, datetime

    from quotaopt.frontier import DEFAULT_GROWTH, frontier
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
    table = frontier(inputs, growths or list(DEFAULT_GROWTH), workers=workers, progress=progress)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with Staging(runs_root) as staging:
        staging.write("frontier.csv", csv_bytes(table))
        staging.write("frontier.html", render_frontier(table, inputs.scenario.name, inputs.plan_year))
        # The rename reserves the name: two frontiers of the same second land as -2, -3 ...
        final = publish(staging, runs_root / inputs.scenario.name, f"frontier-{stamp}", finalize=lambda name: None)
    return table, final


def inputs_of_run(run: StoredRun, overrides: dict[str, Any] | None = None) -> Inputs:
    """Rebuild a run's inputs from its manifest; refuse data that changed since the run.

    Raises
    ------
    InputError
        When a data file's SHA-256 differs from the one the run recorded.
    """
    from quotaopt.io import load_company
    from quotaopt.scenario import deep_merge, validate_scenario

    manifest = run.manifest
    data = manifest["scenario"].get("data")
    if isinstance(data, dict):  # a data mapping keeps its dialect; a database its URL
        where = {"data": {"path": manifest["data_folder"]}} if data.get("path") else {}
    else:
        where = {"data": manifest["data_folder"]}
    raw = deep_merge(manifest["scenario"], {**where, **(overrides or {})})
    source = Path(manifest["scenario_file"])
    scenario = validate_scenario(raw, label=f"{run.path}/manifest.json", base_dir=source.parent)
    scenario = scenario.model_copy(update={"source": source, "sources": ()})
    company = load_company(scenario.data_source)
    recorded = {k.removeprefix("data/"): v for k, v in manifest["inputs"].items() if k.startswith("data/")}
    changed = sorted(name for name, digest in company.files.items() if recorded.get(name) != digest)
    if changed:
        raise InputError([Problem(str(company.folder / name), f"changed since run {run.run_id} (SHA-256 differs "
                                  "from its manifest); plan again instead") for name in changed])
    return Inputs(scenario=scenario, company=company, plan_year=int(manifest["plan_year"]))


def simulate_run(run_path: str | Path, draws: int | None = None, seed: int | None = None) -> tuple[PlanResult, WrittenRun]:
    """Re-simulate a run's quotas with other draws or seed, into a new run whose parent is it.

    Quotas, periods and units are kept; p_attain, expected payouts and the simulated
    summary figures are recomputed.
    """
    from quotaopt.planning import (
        distributions,
        month_weights_of,
        simulate_stage,
        simulation_summary,
    )
    from quotaopt.result import round_floats

    run = read_run(run_path)
    check_runs_root(run.runs_root, str(run.runs_root))
    simulation: dict[str, Any] = {}
    if draws is not None:
        simulation["draws"] = draws
    if seed is not None:
        simulation["seed"] = seed
    inputs = inputs_of_run(run, {"simulation": simulation} if simulation else None)
    assert inputs.scenario is not None
    company = inputs.company
    history = company.bookings[company.bookings["date"].dt.year < inputs.plan_year]
    hires = company.reps.set_index("rep_id")["hire_date"]
    reps = run.plan.assign(hire_date=run.plan["rep_id"].map(hires))
    units = run.units.assign(parent_id=run.units["parent_id"].where(run.units["parent_id"].notna(), None))
    sim = simulate_stage(inputs.scenario, reps, units, history, inputs.plan_year, float(run.summary["company_target"]),
                         month_weights_of(inputs.company, history))
    plan_table = run.plan.drop(columns=["p_attain", "expected_payout"]).merge(
        sim.reps[["rep_id", "p_attain", "expected_payout"]], on="rep_id", how="left")
    plan_table["p_attain"] = plan_table["p_attain"].round(4)
    plan_table["expected_payout"] = plan_table["expected_payout"].round(2)
    plan_table = plan_table[run.plan.columns]
    unit_table = run.units.drop(columns=["p_attain"]).merge(sim.units[["unit_id", "p_attain"]], on="unit_id", how="left")
    unit_table["p_attain"] = unit_table["p_attain"].round(4)
    unit_table = unit_table[run.units.columns]
    summary = round_floats({**run.summary, **simulation_summary(sim, plan_table, inputs.scenario,
                                                                float(run.summary["company_target"]))})
    result = PlanResult(name=inputs.scenario.name, plan_year=inputs.plan_year, plan=plan_table, periods=run.periods,
                        units=unit_table, summary=summary, distributions=distributions(sim))
    written = write_result(result, inputs, run.runs_root, parent_run=run.run_id,
                           extra_manifest={"derived_from": {"run": run.run_id, "action": "simulate",
                                                            "draws": draws, "seed": seed}})
    return result, written


def _truth_capacity(company_folder: Path) -> Any:
    """The generator's truth/capacity.csv beside a synthetic company, if there is one."""
    import pandas as pd

    path = company_folder / "truth" / "capacity.csv"
    return pd.read_csv(path, dtype={"rep_id": "str"}) if path.is_file() else None


def backtest_scenario(scenario: str | Path, year: int | Sequence[int],
                      out: str | Path | None = None) -> tuple[Any, Path]:
    """``quotaopt backtest``: fit on years < each ``year``, score it against the baselines.

    Several years make a rolling origin: one row per method and year, then the mean.
    Writes ``backtest.json`` beside the scenario's runs (``runs/<scenario>/backtest.json``
    unless ``out`` names the runs folder) and returns the table and that path. Where the
    data folder carries a generator's ``truth/capacity.csv``, P50 is also scored against it.
    """
    from quotaopt.capacity import backtest, table_records

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    sc = inputs.scenario
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    target = runs_root / sc.name / "backtest.json"
    probe_writable(target.parent, "--out" if out is not None else str(runs_root))
    table = backtest(inputs.company, year, sc.capacity.quantiles, sc.capacity.seed,
                     truth=_truth_capacity(inputs.company.folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {"scenario": sc.name, "inputs": input_hashes(inputs), **table_records(table)}
    write_file_atomic(target, json_bytes(record))  # a reader sees the old file or the new one
    return table, target


def train_scenario(scenario: str | Path, model_out: str | Path | None = None) -> tuple[Path, dict[str, Any]]:
    """``quotaopt train``: backtest, fit on all complete years, save to ``models/<scenario>/``."""
    from quotaopt.capacity import capacity_calendar, train_model
    from quotaopt.io import load_model, save_model

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    sc = inputs.scenario
    folder = Path(model_out) if model_out is not None else Path("models") / sc.name
    probe_writable(folder, "--model-out" if model_out is not None else str(folder))
    # The same calendar the plan's capacity stage will use (rolling.py).
    seen, short = capacity_calendar(inputs.company, inputs.plan_year)
    trained = train_model(seen, inputs.plan_year, quantiles=sc.capacity.quantiles, random_state=sc.capacity.seed,
                          metadata={"scenario": sc.name, "inputs": input_hashes(inputs),
                                    "history_months_short": short})
    save_model(trained.model, folder, trained.metadata)
    _, meta = load_model(folder)  # what a plan will read: the saved file, checked
    return folder, meta
