"""The capacity model: anchored on each rep's own rate, candidates weighed by their held-out
record, honest bands, deterministic and independent of row order, ids and the simulation seed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from quotaopt.capacity import (
    CANDIDATES,
    CapacityModel,
    estimate_capacity,
    fit_capacity,
    given_capacity,
    predict_capacity,
    train_model,
)
from quotaopt.capacity._linear import LogRatioHuber
from quotaopt.capacity.records import ModelMetadata
from quotaopt.errors import InputError
from quotaopt.io import (
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    load_company,
    load_model,
    save_model,
)

DATA = Path(__file__).parent / "data"
FAST = {"max_iter": 30, "learning_rate": 0.2}


# -- scikit-learn conventions -------------------------------------------------------

@parametrize_with_checks([LogRatioHuber()])
def test_log_linear_candidate_passes_the_sklearn_checks(estimator, check):
    check(estimator)


def test_params_clone_and_unfitted(company):
    model = CapacityModel(quantiles=(0.2, 0.5, 0.8), max_iter=40, random_state=3)
    params = model.get_params()
    assert params["quantiles"] == (0.2, 0.5, 0.8) and params["max_iter"] == 40 and params["random_state"] == 3
    twin = clone(model)
    assert twin.get_params() == params and twin is not model and not hasattr(twin, "weights_")
    with pytest.raises(NotFittedError):
        model.predict_year(company, 2027)
    with pytest.raises(ValueError, match="unknown candidates"):
        CapacityModel(candidates=("persistence", "magic")).fit(company, 2027)


# -- on a generated company ---------------------------------------------------------

@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory):
    from quotaopt.datasets import generate_company

    folder = generate_company(tmp_path_factory.mktemp("cap") / "co", n_reps=200, years=3, seed=4)
    return load_company(folder)


@pytest.fixture(scope="module")
def fitted(company):
    return fit_capacity(company, 2027, random_state=0)


def test_fit_learns_every_year_with_a_year_before_it(fitted):
    assert fitted.training_years_ == [2025, 2026]
    assert fitted.plan_year_ == 2027
    assert {"lr1", "share", "tenure", "headroom", "terr_headroom"} <= set(fitted.feature_names_in_)
    assert set(fitted.weights_) == set(CANDIDATES)
    assert sum(fitted.weights_.values()) == pytest.approx(1.0, abs=1e-5)
    assert all(w >= 0 for w in fitted.weights_.values())


def test_summary_says_what_was_weighed_and_how(fitted):
    summary = fitted.summary()
    assert summary["change_weights"] == fitted.weights_
    level = summary["level"]
    assert level["year"] == 2027 and sum(level["weights"].values()) == pytest.approx(1.0)
    assert {"random_walk", "last_growth", "drift", "planners"} <= set(level["candidates"])
    row = summary["validation"][0]
    assert {"wape_persistence", "wape_trees", "wape_blend", "wape_blend_forecast_level"} <= set(row)
    json.dumps(summary)  # JSON-ready for summary.json


def test_predict_capacity_covers_active_reps(company, fitted):
    cap = predict_capacity(fitted, company, 2027)
    active = company.active_reps
    employed = active.loc[active["hire_date"] < pd.Timestamp("2028-01-01"), "rep_id"]
    assert cap["rep_id"].tolist() == employed.tolist()
    values = cap[["capacity_p10", "capacity_p50", "capacity_p90"]].to_numpy()
    assert np.all(values > 0) and np.all(np.diff(values, axis=1) >= 0)
    assert cap.attrs["level"]["year"] == 2027


def test_capacity_starts_from_each_reps_own_last_year(company, fitted):
    """Anchored on persistence: P50 ranks reps as last year's bookings do."""
    cap = predict_capacity(fitted, company, 2027).set_index("rep_id")
    b = company.bookings
    last = b.loc[b["date"].dt.year == 2026].groupby("rep_id")["amount"].sum()
    hire = company.reps.set_index("rep_id")["hire_date"]
    steady = [r for r in cap.index if r in last.index and hire[r] <= pd.Timestamp("2025-01-01")]
    rank = cap.loc[steady, "capacity_p50"].rank().corr(last[steady].rank())
    assert rank >= 0.8


def test_new_hires_get_a_ramping_peer_level_and_a_wider_band(company, fitted):
    cap = predict_capacity(fitted, company, 2027).set_index("rep_id")
    reps = company.reps.set_index("rep_id").loc[cap.index]
    new = reps["hire_date"] >= pd.Timestamp("2027-01-01")
    settled = reps["hire_date"] <= pd.Timestamp("2024-01-01")
    assert new.any(), "the generator always makes a hire starting in the plan year"
    share = ((pd.Timestamp("2028-01-01") - reps["hire_date"]).dt.days / 365).clip(upper=1.0)
    median = cap.loc[settled, "capacity_p50"].groupby(reps.loc[settled, "role"]).median()
    ratio = cap.loc[new, "capacity_p50"] / (reps.loc[new, "role"].map(median) * share[new])
    assert ratio.between(0.1, 1.5).all(), ratio.describe()
    band = cap["capacity_p90"] / cap["capacity_p10"]
    assert band[new].median() > band[settled].median()


def test_same_inputs_same_capacities(company, fitted):
    again = fit_capacity(company, 2027, random_state=0)
    pd.testing.assert_frame_equal(predict_capacity(again, company, 2027), predict_capacity(fitted, company, 2027))
    model, cap = estimate_capacity(company, 2027)
    pd.testing.assert_frame_equal(cap, predict_capacity(fitted, company, 2027))


def test_row_order_and_renamed_reps_do_not_move_anyone(company, tmp_path: Path):
    """Folds and training order come from each rep's data, sums from a fixed order."""
    base = estimate_capacity(company, 2027)[1].set_index("rep_id")
    folder = tmp_path / "shuffled"
    shutil.copytree(company.folder, folder)
    rng = np.random.default_rng(0)
    for name in ("bookings.csv", "reps.csv", "accounts.csv"):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame.iloc[rng.permutation(len(frame))].to_csv(folder / name, index=False)
    shuffled = estimate_capacity(load_company(folder), 2027)[1].set_index("rep_id")
    pd.testing.assert_frame_equal(shuffled.loc[base.index], base)

    renamed = tmp_path / "renamed"
    shutil.copytree(company.folder, renamed)
    old = base.index[len(base) // 2]
    for name in ("bookings.csv", "reps.csv", "accounts.csv"):
        text = (renamed / name).read_text()
        (renamed / name).write_text(text.replace(old, "ZZ_RENAMED"))
    moved = estimate_capacity(load_company(renamed), 2027)[1].set_index("rep_id")
    others = base.index.drop(old)
    pd.testing.assert_frame_equal(moved.loc[others], base.loc[others])
    pd.testing.assert_series_equal(moved.loc["ZZ_RENAMED"], base.loc[old], check_names=False)


def test_predict_refuses_missing_feature_files(company, fitted):
    bare = load_company(company.folder)
    bare.accounts = None
    with pytest.raises(InputError, match="accounts.csv"):
        predict_capacity(fitted, bare, 2027)


def test_too_little_history_is_an_input_error(company):
    with pytest.raises(InputError, match="too little history"):
        fit_capacity(company, 2025)


def test_plan_year_must_follow_the_history(company, fitted):
    with pytest.raises(InputError, match="needs full bookings of 2027"):
        predict_capacity(fitted, company, 2028)


def test_extra_quantiles_get_their_own_columns(company, fitted):
    cap = predict_capacity(fitted, company, 2027, quantiles=[0.025, 0.25])
    columns = ["capacity_p2.5", "capacity_p10", "capacity_p25", "capacity_p50", "capacity_p90"]
    assert cap.columns.tolist() == ["rep_id", *columns]
    assert np.all(np.diff(cap[columns].to_numpy(), axis=1) >= 0)


# -- where persistence is the truth, the plan uses persistence --------------------------

def _steady_company(folder: Path, reps: int = 30, years: int = 5, growth: float = 0.0, noise: float = 0.0) -> Path:
    """Each rep books the same amount every month of every year (times the company growth)."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    (folder / "teams.csv").write_text("team_id,parent_id\nCO,\nT1,CO\nT2,CO\n")
    size = np.exp(rng.normal(12, 1, reps))
    rows = ["rep_id,team_id,role,hire_date"] + [f"R{i:02d},T{1 + i % 2},longtail,2015-01-01" for i in range(reps)]
    (folder / "reps.csv").write_text("\n".join(rows) + "\n")
    lines = ["date,rep_id,amount"]
    for k, year in enumerate(range(2026 - years + 1, 2027)):
        for i in range(reps):
            amount = size[i] * np.exp(growth * k + noise * rng.normal()) / 12
            lines += [f"{year}-{m:02d}-15,R{i:02d},{amount:.2f}" for m in range(1, 13)]
    (folder / "bookings.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_a_company_where_last_year_is_right_gets_last_year(tmp_path: Path):
    company = load_company(_steady_company(tmp_path / "steady"))
    model, cap = estimate_capacity(company, 2027)
    b = company.bookings
    last = b.loc[b["date"].dt.year == 2026].groupby("rep_id")["amount"].sum()
    np.testing.assert_allclose(cap.set_index("rep_id")["capacity_p50"], last.reindex(cap["rep_id"]), rtol=0.01)


def test_a_steady_growth_is_carried_forward(tmp_path: Path):
    company = load_company(_steady_company(tmp_path / "growing", growth=0.06, noise=0.02))
    model, cap = estimate_capacity(company, 2027)
    b = company.bookings
    last = b.loc[b["date"].dt.year == 2026].groupby("rep_id")["amount"].sum()
    ratio = cap.set_index("rep_id")["capacity_p50"].sum() / last.sum()
    assert 1.02 < ratio < 1.09, model.summary()["level"]


# -- a small company -------------------------------------------------------------------

def test_a_15_rep_company_keeps_its_reps_apart():
    """With few rep-years the model leans on each rep's own record, never one value for all."""
    company = load_company(DATA / "company15")
    model, cap = estimate_capacity(company, 2027)
    cap = cap.set_index("rep_id")
    b = company.bookings
    last = b.loc[b["date"].dt.year == 2026].groupby("rep_id")["amount"].sum()
    booked = [r for r in cap.index if last.get(r, 0) > 0]
    assert cap.loc[booked, "capacity_p50"].rank().corr(last[booked].rank(), method="spearman") >= 0.8
    assert cap["capacity_p50"].nunique() == len(cap)
    assert model.weights_["persistence"] > 0.3  # 15 rows of evidence move it only so far


# -- model store -------------------------------------------------------------------

def test_save_load_roundtrip_and_hash_check(company, fitted, tmp_path: Path):
    folder = tmp_path / "models" / "m1"
    save_model(fitted, folder, ModelMetadata(backtest=[{"year": 2026, "wape": 0.3}]))
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["training_years"] == [2025, 2026] and meta["backtest"] == [{"year": 2026, "wape": 0.3}]
    assert len(meta["model_sha256"]) == 64 and "lr1" in meta["features"]
    model, loaded_meta = load_model(folder)
    assert loaded_meta.record() == meta
    pd.testing.assert_frame_equal(predict_capacity(model, company, 2027), predict_capacity(fitted, company, 2027))

    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256 mismatch"):
        load_model(folder)


class Evil:
    """Stands in for any class a crafted model file could name."""

    def __init__(self) -> None:
        self.payload = "anything"


def _store(folder: Path, obj: object) -> Path:
    import skops.io as sio

    from quotaopt.io import sha256_file

    folder.mkdir()
    sio.dump(obj, folder / MODEL_FILE)
    meta = {"model_sha256": sha256_file(folder / MODEL_FILE), "format_version": FORMAT_VERSION}
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    return folder


def test_load_refuses_untrusted_types(tmp_path: Path):
    with pytest.raises(InputError, match="not trusted.*Evil"):
        load_model(_store(tmp_path / "evil", Evil()))


def test_load_refuses_an_older_format(company, fitted, tmp_path: Path):
    """A version-2 model predicted rates outright; this one predicts the change from an anchor."""
    folder = tmp_path / "old"
    save_model(fitted, folder, ModelMetadata())
    meta = json.loads((folder / METADATA_FILE).read_text())
    (folder / METADATA_FILE).write_text(json.dumps({**meta, "format_version": 2}))
    with pytest.raises(InputError, match="format_version 2.*retrain"):
        load_model(folder)


def test_load_refuses_other_estimators(tmp_path: Path):
    from sklearn.linear_model import LinearRegression

    folder = _store(tmp_path / "other", LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))
    with pytest.raises(InputError, match="expected a CapacityModel"):
        load_model(folder)


def test_train_model_keeps_the_backtest_of_the_very_model_it_saves(company, tmp_path: Path):
    trained = train_model(company, 2027, metadata=ModelMetadata(scenario="s"))
    save_model(trained.model, tmp_path / "models" / "fy27", trained.metadata)
    model, meta = load_model(tmp_path / "models" / "fy27")
    assert meta.scenario == "s" and meta.plan_year == 2027
    assert meta.backtest == model.validation_ and meta.backtest is not None and meta.backtest[-1]["year"] == 2026
    assert meta.model is not None and meta.model.change_weights == model.weights_
    assert meta.candidates == list(model.candidates)
    assert json.loads((tmp_path / "models" / "fy27" / METADATA_FILE).read_text()) == meta.record()
    assert isinstance(model, CapacityModel) and model.training_years_ == [2025, 2026]


def test_load_missing_folder_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "nothing")


# -- given capacities --------------------------------------------------------------

def test_given_capacity_fills_spread_and_names_missing_reps(company):
    company = load_company(company.folder)
    active = company.active_reps["rep_id"].tolist()
    cap = pd.DataFrame({"rep_id": active, "p50": 100_000.0, "p10": np.nan, "p90": np.nan})
    cap.loc[0, "p10"] = 80_000.0  # only p10 given: p90 mirrors it on the log scale
    company.capacity = cap
    out = given_capacity(company).set_index("rep_id")
    assert out.loc[active[0], "capacity_p90"] == pytest.approx(125_000.0)
    assert out.loc[active[1], "capacity_p10"] == pytest.approx(100_000.0 / np.exp(0.2 * 1.2815515655446004))
    assert (out["capacity_p10"] <= out["capacity_p50"]).all() and (out["capacity_p50"] <= out["capacity_p90"]).all()
    company.capacity = cap.iloc[1:]
    with pytest.raises(InputError, match=f"capacity.csv.*{active[0]}"):
        given_capacity(company)
    company.capacity = None
    with pytest.raises(InputError, match="capacity.csv"):
        given_capacity(company)


def test_a_rep_predicted_below_zero_keeps_a_band_of_the_usual_shape() -> None:
    from quotaopt.capacity import FLOOR_SHARE
    from quotaopt.capacity._estimate import _floor

    q = np.array([[80.0, 100.0, 130.0], [160.0, 200.0, 260.0], [70.0, 100.0, 140.0], [-50.0, -20.0, -5.0]])
    out = _floor(q, 1)
    np.testing.assert_array_equal(out[:3], q[:3])  # reps above the floor are untouched
    floor = FLOOR_SHARE * 100.0  # of the median P50
    assert out[3, 1] == pytest.approx(floor)
    assert out[3, 0] == pytest.approx(0.8 * floor) and out[3, 2] == pytest.approx(1.3 * floor)
