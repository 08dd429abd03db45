"""Backtest: metrics by hand, the table's shape, baselines' invariants, and the
acceptance run on a generated company of 1,000 reps and 4 years."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt.capacity import (
    backtest,
    baselines,
    bias,
    calibration,
    estimate_capacity,
    mdape,
    table_records,
)
from quotaopt.capacity._features import training_rows
from quotaopt.capacity._model import CompanyView
from quotaopt.errors import InputError
from quotaopt.io import load_company
from quotaopt.metrics import wape

datasets = pytest.importorskip("quotaopt.datasets")


def test_calibration_by_hand():
    cap = pd.DataFrame({"rep_id": ["a", "b", "c", "d"], "capacity_p10": [50.0, 50, 50, 50],
                        "capacity_p50": [100.0, 100, 100, 100], "capacity_p90": [150.0, 150, 150, 150]})
    got = calibration(cap, pd.Series({"a": 40.0, "b": 90.0, "c": 120.0}))  # d booked nothing
    assert got == pytest.approx({"n": 4, "median_ratio": 0.65, "share_below_p50": 0.75,
                                 "coverage_p10_p90": 0.5, "total_ratio": 250 / 400})


def test_metrics_by_hand():
    actual = np.array([100.0, 200.0, 0.0, -50.0])
    pred = np.array([110.0, 150.0, 10.0, -50.0])
    assert wape(pred, actual) == pytest.approx((10 + 50 + 10 + 0) / 350)
    assert bias(pred, actual) == pytest.approx((10 - 50 + 10 + 0) / 350)
    assert mdape(pred, actual) == pytest.approx(0.1)  # median of 0.1, 0.25, 0 (zero actual skipped)
    assert np.isnan(wape(pred[2:3], actual[2:3]))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    folder = datasets.generate_company(tmp_path_factory.mktemp("bt") / "co", n_reps=300, years=3, seed=5)
    return load_company(folder), pd.read_csv(folder / "truth" / "capacity.csv", dtype={"rep_id": "str"})


def test_backtest_table(small):
    company, truth = small
    table = backtest(company, 2026, truth=truth)
    assert table["method"].tolist() == ["model", "model_realised_level", "last_year", "last_year_grown",
                                        "naive_average", "auto_ets", "team_equal", "team_potential"]
    assert {"wape", "mdape", "bias", "coverage_p10_p90", "truth_wape", "truth_wape_shocks"} <= set(table.columns)
    assert table["n"].nunique() == 1 and table["n"].iloc[0] > 250
    by = table.set_index("method")
    assert 0.0 <= by.loc["model", "coverage_p10_p90"] <= 1.0
    assert by.drop(["model", "model_realised_level"])["coverage_p10_p90"].isna().all()
    assert np.isfinite(table[["wape", "mdape", "bias", "truth_wape"]].to_numpy()).all()
    assert table.attrs["training_years"] == [2025]
    # The model beats simply repeating last year even with one training year.
    assert by.loc["model", "wape"] < by.loc["last_year", "wape"]
    # backtest.json says which candidates the model weighed and how.
    record = table_records(table)
    weighed = record["model"]["2026"]
    assert set(weighed["change_weights"]) == {"persistence", "trees", "linear", "smoothing"}
    assert "random_walk" in weighed["level"]["weights"]
    json.dumps(record)


def test_backtest_over_several_years_is_a_rolling_origin(tmp_path: Path):
    folder = datasets.generate_company(tmp_path / "co", n_reps=120, years=4, seed=6)
    table = backtest(load_company(folder), [2025, 2026])
    assert table["year"].tolist()[:8] == [2025] * 8 and table["year"].tolist()[8:16] == [2026] * 8
    mean = table.loc[table["year"] == "mean"].set_index("method")
    one = table.loc[table["year"] != "mean"]
    assert mean.loc["model", "wape"] == pytest.approx(one.loc[one["method"] == "model", "wape"].mean())
    assert table.attrs["years"] == [2025, 2026] and set(table.attrs["model"]) == {"2025", "2026"}
    assert table.attrs["model"]["2025"]["training_years"] == [2024]


def test_backtest_is_deterministic(small):
    company, _ = small
    a = backtest(company, 2026, random_state=1)
    b = backtest(company, 2026, random_state=1)
    pd.testing.assert_frame_equal(a, b)


def test_backtest_needs_history(small):
    company, _ = small
    with pytest.raises(InputError, match="cannot backtest 2025"):
        backtest(company, 2025)


def test_baselines_split_team_totals(small):
    company, _ = small
    view = CompanyView.of(company)
    panel = view.panel
    rows = training_rows(panel, view.index, view.pools, 2026).rows
    preds = baselines(company, view, rows, 2026)
    s1, s2 = panel.share(2025)[rows], panel.share(2024)[rows]
    b1, b2 = panel.booked(2025)[rows], panel.booked(2024)[rows]
    both = (s1 >= 1) & (s2 >= 1)
    growth = b1[both].sum() / b2[both].sum()
    has = s1 > 0
    np.testing.assert_allclose(preds["last_year"][has], b1[has])
    np.testing.assert_allclose(preds["last_year_grown"][has], growth * b1[has])
    np.testing.assert_allclose(preds["naive_average"], 0.5 * (preds["last_year"] + preds["last_year_grown"]))
    b = company.bookings
    last = b.loc[b["date"].dt.year == 2025]
    team_of = company.reps.set_index("rep_id")["team_id"]
    total = last.groupby(last["rep_id"].map(team_of))["amount"].sum() * growth
    team = pd.Series(panel.team_ids[panel.team[rows]])
    for method in ("team_equal", "team_potential"):
        split = pd.Series(preds[method]).groupby(team).sum()
        np.testing.assert_allclose(split, total.reindex(split.index), rtol=1e-9)
    # Hires of the scored year get the role median x share instead of nothing.
    assert (preds["last_year"][~has] > 0).all() and (preds["auto_ets"][~has] > 0).all()


@pytest.mark.slow
def test_acceptance_1000_reps_4_years(tmp_path: Path):
    """The issue's bar: >= 20% lower WAPE than the best baseline, an honest P10-P90 band,
    and still no worse than the baselines without accounts.csv and territories.csv."""
    folder = datasets.generate_company(tmp_path / "co", n_reps=1000, years=4, seed=0)
    truth = pd.read_csv(folder / "truth" / "capacity.csv", dtype={"rep_id": "str"})
    table = backtest(load_company(folder), 2026, truth=truth).set_index("method")
    model, base = table.loc["model"], table.drop(["model", "model_realised_level"])
    assert model["wape"] <= 0.8 * base["wape"].min(), table
    assert 0.7 <= model["coverage_p10_p90"] <= 0.9, table
    assert model["truth_wape"] < base["truth_wape"].min(), table

    bare = tmp_path / "bare"
    shutil.copytree(folder, bare)
    (bare / "accounts.csv").unlink()
    (bare / "territories.csv").unlink()
    table = backtest(load_company(bare), 2026).set_index("method")
    assert "team_potential" not in table.index
    assert table.loc["model", "wape"] <= table.drop(["model", "model_realised_level"])["wape"].min(), table


@pytest.mark.slow
def test_plan_year_p50_is_calibrated(tmp_path: Path):
    """The plan-year P50 is near the median of what reps then book, and the band holds ~80%.

    The generator draws a company-wide shock for the plan year that no model can
    foresee; the actuals are divided by it (truth/meta.json) so that one seed judges
    the forecast rather than the year's luck. This company's last history year was an
    unlucky one (shock 0.92): the level forecast weighs reversion against momentum by
    their record (real levels keep their momentum, generated ones revert), so it keeps
    part of that luck and the P50 sits a few percent low -- within 10%, where a model
    that replayed the last year's luck in full missed by 10-15%.
    """
    folder = datasets.generate_company(tmp_path / "co", n_reps=1000, years=3, seed=7)
    company = load_company(folder)
    _, capacity = estimate_capacity(company, 2027)
    plan = pd.read_csv(folder / "truth" / "plan_year_bookings.csv", dtype={"rep_id": "str"})
    shock = json.loads((folder / "truth" / "meta.json").read_text())["shocks"]["2027"]["company"]
    got = calibration(capacity, plan.groupby("rep_id")["amount"].sum() / shock)
    assert 0.9 <= got["median_ratio"] <= 1.1, got
    assert 0.35 <= got["share_below_p50"] <= 0.65, got
    assert 0.7 <= got["coverage_p10_p90"] <= 0.9, got
