"""The public API: one call per CLI command, usable from notebooks.

These functions read inputs, run the library stages and write run folders; the CLI
only parses arguments and prints.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from quotaopt.atomic import write_file_atomic
from quotaopt.errors import InputError, Problem
from quotaopt.fsguard import probe_writable
from quotaopt.pipeline import Inputs, load_inputs
from quotaopt.result import PlanResult
from quotaopt.runs import (
    StoredRun,
    WrittenRun,
    check_runs_root,
    csv_bytes,
    json_bytes,
    read_run,
    sha256_bytes,
    write_run,
)

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
        f"P(company target met) {s['p_company_target']:.1%}; expected payout {s['expected_payout']:,.0f} "
        f"(P10 {s['payout_p10']:,.0f}, P90 {s['payout_p90']:,.0f}); cost of sales {s['cost_of_sales']:.2%}",
        f"solver {solver['backend']}: {status}",
        *(f"note: {note}" for note in s.get("allocation_notes", [])),
        f"run folder: {path}",
        f"report: {path / 'report.html'}",
    ]


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
        "data_folder": str(inputs.company.folder.resolve()),
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

    inputs = load_inputs(scenario)
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    check_runs_root(runs_root, "--out" if out is not None else str(runs_root))  # before minutes of work
    if scheduler:
        from quotaopt.parallel import SCHEDULER_TIMEOUT_S, check_scheduler

        check_scheduler(scheduler, scheduler_timeout or SCHEDULER_TIMEOUT_S)
    result = run_plan(inputs, progress=progress, workers=workers, scheduler=scheduler,
                      scheduler_timeout=scheduler_timeout)
    return result, write_result(result, inputs, runs_root, on_stage=progress)


def inputs_of_run(run: StoredRun, overrides: dict[str, Any] | None = None) -> Inputs:
    """Rebuild a run's inputs from its manifest; refuse data that changed since the run.

    Raises
    ------
    InputError
        When a data file's SHA-256 differs from the one the run recorded.
    """
    from quotaopt.data import load_company
    from quotaopt.scenario import deep_merge, validate_scenario

    manifest = run.manifest
    raw = deep_merge(manifest["scenario"], {"data": manifest["data_folder"], **(overrides or {})})
    source = Path(manifest["scenario_file"])
    scenario = validate_scenario(raw, label=f"{run.path}/manifest.json", base_dir=source.parent)
    scenario = scenario.model_copy(update={"source": source, "sources": ()})
    company = load_company(manifest["data_folder"])
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
    summary = round_floats({**run.summary, **simulation_summary(sim, plan_table, inputs.scenario)})
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


def backtest_scenario(scenario: str | Path, year: int, out: str | Path | None = None) -> tuple[Any, Path]:
    """``quotaopt backtest``: fit on years < ``year``, score ``year`` against the baselines.

    Writes ``backtest.json`` beside the scenario's runs (``runs/<scenario>/backtest.json``
    unless ``out`` names the runs folder) and returns the table and that path. Where the
    data folder carries a generator's ``truth/capacity.csv``, P50 is also scored against it.
    """
    from quotaopt.backtest import backtest, table_records

    inputs = load_inputs(scenario)
    assert inputs.scenario is not None
    sc = inputs.scenario
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    target = runs_root / sc.name / "backtest.json"
    probe_writable(target.parent, "--out" if out is not None else str(runs_root))
    table = backtest(inputs.company, year, sc.capacity.quantiles, sc.simulation.seed,
                     truth=_truth_capacity(inputs.company.folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {"scenario": sc.name, "inputs": input_hashes(inputs), **table_records(table)}
    write_file_atomic(target, json_bytes(record))  # a reader sees the old file or the new one
    return table, target


def train_scenario(scenario: str | Path, model_out: str | Path | None = None) -> tuple[Path, dict[str, Any]]:
    """``quotaopt train``: backtest, fit on all complete years, save to ``models/<scenario>/``."""
    from quotaopt.model_store import train_model
    from quotaopt.rolling import capacity_calendar

    inputs = load_inputs(scenario)
    assert inputs.scenario is not None
    sc = inputs.scenario
    folder = Path(model_out) if model_out is not None else Path("models") / sc.name
    probe_writable(folder, "--model-out" if model_out is not None else str(folder))
    # The same calendar the plan's capacity stage will use (rolling.py).
    seen, short = capacity_calendar(inputs.company, inputs.plan_year)
    _, meta = train_model(seen, inputs.plan_year, folder, quantiles=sc.capacity.quantiles,
                          random_state=sc.simulation.seed,
                          metadata={"scenario": sc.name, "inputs": input_hashes(inputs),
                                    "history_months_short": short})
    return folder, meta
