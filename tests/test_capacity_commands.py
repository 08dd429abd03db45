"""Capacity as a user meets it: plan, train and backtest from the CLI, the capacity seed kept
apart from the simulation seed, a small company that plans, real-looking panels as companies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.datasets.panel import panel_company, period_start
from quotaopt.io import load_company
from quotaopt.periods import ALL, learn_month_weights

DATA = Path(__file__).parent / "data"


def _scenario(folder: Path, name: str, data: Path, extra: str = "") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ndata: {data}\nplan_year: 2027\n{extra}")
    return path


def _plan(scenario: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return max((out / scenario.stem).iterdir(), key=lambda p: p.stat().st_mtime)


def test_the_simulation_seed_leaves_every_quota_alone(tmp_path: Path) -> None:
    """capacity.seed is the model's own; simulation.seed only moves the simulation."""
    data = DATA / "company15"
    first = _plan(_scenario(tmp_path, "s7", data, "simulation: {draws: 500, seed: 7}\n"), tmp_path / "runs")
    second = _plan(_scenario(tmp_path, "s8", data, "simulation: {draws: 500, seed: 8}\n"), tmp_path / "runs")
    a, b = pd.read_csv(first / "plan.csv"), pd.read_csv(second / "plan.csv")
    quota_columns = ["rep_id", "capacity_p10", "capacity_p50", "capacity_p90", "quota", "stretch", "binding"]
    pd.testing.assert_frame_equal(a[quota_columns], b[quota_columns])
    assert not a["p_attain"].equals(b["p_attain"])  # the seed still does its own job


def test_a_15_rep_company_plans_at_the_default_settings(tmp_path: Path) -> None:
    run = _plan(_scenario(tmp_path, "small", DATA / "company15"), tmp_path / "runs")
    plan = pd.read_csv(run / "plan.csv")
    assert plan["capacity_p50"].nunique() == len(plan)
    summary = json.loads((run / "summary.json").read_text())
    capacity = summary["capacity"]
    assert set(capacity["change_weights"]) == {"persistence", "trees", "linear", "smoothing"}
    assert capacity["level"]["year"] == 2027 and "random_walk" in capacity["level"]["weights"]


def test_train_prints_the_backtest_of_the_model_it_saves(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "small", DATA / "company15")
    out = tmp_path / "models" / "small"
    result = CliRunner().invoke(main, ["train", str(scenario), "--model-out", str(out)])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "metadata.json").read_text())
    for row in meta["backtest"]:
        assert f"backtest {row['year']}: WAPE {row['wape_blend']:.3f}" in result.output
    assert "change candidates: " in result.output and "persistence 0." in result.output
    # Planning with the saved model gives the capacities the training run would have.
    trained = _plan(_scenario(tmp_path, "saved", DATA / "company15", f"capacity: {{model: {out}}}\n"),
                    tmp_path / "runs")
    fresh = _plan(_scenario(tmp_path, "fresh", DATA / "company15"), tmp_path / "runs")
    columns = ["capacity_p10", "capacity_p50", "capacity_p90"]
    pd.testing.assert_frame_equal(pd.read_csv(trained / "plan.csv")[columns], pd.read_csv(fresh / "plan.csv")[columns])


def test_backtest_over_several_years_from_the_cli(tmp_path: Path) -> None:
    from quotaopt.datasets import generate_company

    data = generate_company(tmp_path / "co", n_reps=60, years=4, seed=3)
    scenario = _scenario(tmp_path, "bt", data)
    result = CliRunner().invoke(main, ["backtest", str(scenario), "--years", "2025", "2026", "--out",
                                       str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "runs" / "bt" / "backtest.json").read_text())
    assert record["years"] == [2025, 2026]
    years = {row["year"] for row in record["methods"]}
    assert years == {2025, 2026, "mean"}
    methods = {row["method"] for row in record["methods"]}
    assert {"model", "model_realised_level", "last_year", "last_year_grown", "auto_ets", "naive_average"} <= methods
    assert set(record["model"]) == {"2025", "2026"}
    missing = CliRunner().invoke(main, ["backtest", str(scenario)])
    assert missing.exit_code == 2 and "--year" in missing.output


def test_seasonality_of_random_dates_is_flat() -> None:
    """Shrunk by its own noise: three years of uniformly random dates give a flat year."""
    rng = np.random.default_rng(0)
    n = 3000
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 3, n), unit="D")
    bookings = pd.DataFrame({"date": dates, "rep_id": rng.choice(["a", "b", "c"], n),
                             "amount": rng.lognormal(8, 1, n)})
    weights = learn_month_weights(bookings, {"a": "ka", "b": "longtail", "c": "longtail"})
    np.testing.assert_allclose(weights.to_numpy(), 1 / 12, atol=0.004)
    # A real shape with as much data survives the shrinkage.
    month = dates.month.to_numpy()
    keep = rng.random(n) < np.where(np.isin(month, [3, 6, 9, 12]), 1.0, 0.4)
    shaped = learn_month_weights(bookings.loc[keep]).loc[ALL]
    assert shaped[[3, 6, 9, 12]].mean() > 0.12 and shaped[[1, 2, 4, 5, 7, 8, 10, 11]].mean() < 0.07


def test_a_real_panel_plays_a_company(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "state": ["New South Wales"] * 8 + ["Tasmania"] * 8,
        "quarter": [f"{y} Q{q}" for y in (2020, 2021) for q in range(1, 5)] * 2,
        "takings": [100.0, 90, 110, 120, 105, 95, 115, 125, 10, 9, 11, 12, np.nan, 9.5, 11.5, 12.5],
        "group": ["big"] * 8 + ["small"] * 8,
    })
    folder = panel_company(frame, tmp_path / "co", entity="state", period="quarter", value="takings", team="group",
                           freq="quarter", ka_share=0.5)
    company = load_company(folder)
    assert company.reps["rep_id"].tolist() == ["NEW_SOUTH_WALES", "TASMANIA"]
    assert company.reps["role"].tolist() == ["ka", "longtail"]
    assert set(company.teams["team_id"]) == {"CO", "BIG", "SMALL"}
    b = company.bookings
    # Each quarter over its three months, to the cent; a missing quarter books nothing.
    assert b.groupby(b["date"].dt.year)["amount"].sum().round(2).to_dict() == {2020: 462.0, 2021: 473.5}
    assert len(b) == 15 * 3
    until = load_company(panel_company(frame, tmp_path / "cut", entity="state", period="quarter", value="takings",
                                       freq="quarter", until=2020))
    assert until.bookings["date"].dt.year.max() == 2020
    assert period_start(pd.Series(["1998 Q4"]), "quarter").astype(str).tolist() == ["1998-10"]


@pytest.mark.parametrize("name", ["company15"])
def test_the_shipped_test_company_validates(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    shutil.copytree(DATA / name, folder)
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, "v", folder))])
    assert result.exit_code == 0, result.output
