"""``quotaopt train`` and ``quotaopt backtest``: the capacity model, fitted and saved, or scored on past years."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quotaopt.capacity.records import ModelMetadata
from quotaopt.commands._runs import default_runs_root, input_hashes
from quotaopt.io import (
    json_bytes,
    load_inputs,
    load_truth_capacity,
    probe_writable,
    write_file_atomic,
)


def backtest(scenario: str | Path, year: int | Sequence[int],
                      out: str | Path | None = None) -> tuple[Any, Path]:
    """``quotaopt backtest``: fit on years < each ``year``, score it against the baselines.

    Several years make a rolling origin: one row per method and year, then the mean.
    Writes ``backtest.json`` beside the scenario's runs (``runs/<scenario>/backtest.json``
    unless ``out`` names the runs folder) and returns the table and that path. Where the
    data folder carries a generator's ``truth/capacity.csv``, P50 is also scored against it.
    """
    from quotaopt.capacity import backtest as backtest_years
    from quotaopt.capacity import table_records

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    sc = inputs.scenario
    runs_root = Path(out) if out is not None else default_runs_root(inputs)
    target = runs_root / sc.name / "backtest.json"
    probe_writable(target.parent, "--out" if out is not None else str(runs_root))
    table = backtest_years(inputs.company, year, sc.capacity.quantiles, sc.capacity.seed,
                     truth=load_truth_capacity(inputs.company.folder))
    record = {"scenario": sc.name, "inputs": input_hashes(inputs), **table_records(table)}
    write_file_atomic(target, json_bytes(record), parents=True)  # a reader sees the old file or the new one
    return table, target

def train(scenario: str | Path, model_out: str | Path | None = None) -> tuple[Path, ModelMetadata]:
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
                          metadata=ModelMetadata(scenario=sc.name, inputs=input_hashes(inputs),
                                                 history_months_short=short))
    save_model(trained.model, folder, trained.metadata)
    _, meta = load_model(folder)  # what a plan will read: the saved file, checked
    return folder, meta
