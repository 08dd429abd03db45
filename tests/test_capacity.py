"""CapacityModel: scikit-learn conventions, non-crossing quantiles, determinism,
sensible predictions for new hires, the model store's hash check, given capacities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from quotaopt.capacity import CapacityModel, fit_capacity, given_capacity, predict_capacity
from quotaopt.data import load_company
from quotaopt.errors import InputError
from quotaopt.features import rep_year_features
from quotaopt.model_store import (
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    load_model,
    save_model,
    train_model,
)

FAST = {"max_iter": 25, "learning_rate": 0.2, "min_samples_leaf": 5}


def _data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative data with missing values and a few negative targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random(n) < 0.2, 1] = np.nan
    y = 1000.0 * np.exp(0.8 * X[:, 0] + 0.3 * rng.normal(size=n))
    y[:3] = [-50.0, 0.0, -5.0]  # credit notes can make a year negative
    return X, y


# -- scikit-learn conventions -------------------------------------------------------

@parametrize_with_checks([CapacityModel(n_folds=2, **FAST), CapacityModel(method="quantile", **FAST)])
def test_sklearn_estimator_checks(estimator, check):
    """The whole sklearn.utils.estimator_checks suite (none excluded)."""
    check(estimator)


def test_params_clone_and_unfitted():
    model = CapacityModel(quantiles=(0.2, 0.5, 0.8), max_iter=40, random_state=3)
    params = model.get_params()
    assert params["quantiles"] == (0.2, 0.5, 0.8) and params["max_iter"] == 40 and params["random_state"] == 3
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    assert not hasattr(twin, "estimators_")
    X, _ = _data()
    with pytest.raises(NotFittedError):
        model.predict(X)
    with pytest.raises(NotFittedError):
        model.predict_quantiles(X)


def test_bad_parameters_are_refused_at_fit():
    X, y = _data()
    with pytest.raises(ValueError, match="quantiles"):
        CapacityModel(quantiles=(0.5, 0.1)).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        CapacityModel(method="magic").fit(X, y)
    with pytest.raises(ValueError, match="linear_weight"):
        CapacityModel(linear_weight=1.5, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="level_error"):
        CapacityModel(**FAST).fit(X, y, level_error=np.zeros(3))


def test_auto_blend_weight_follows_the_out_of_fold_error():
    X, y = _data()
    auto = CapacityModel(n_folds=3, **FAST).fit(X, y)
    assert auto.linear_weight_ in np.round(np.linspace(0, 1, 11), 1)
    # The data are log-linear in X[:, 0]: the linear part must get most of the weight.
    assert auto.linear_weight_ >= 0.5
    assert CapacityModel(n_folds=3, linear_weight=0.0, **FAST).fit(X, y).linear_ is None
    assert CapacityModel(n_folds=3, linear_weight=0.3, **FAST).fit(X, y).linear_weight_ == 0.3


@pytest.mark.parametrize("method", ["conformal", "quantile"])
def test_level_error_widens_the_band_not_the_median(method):
    """A company-level forecast error of +-20% on every row: wider band, same middle."""
    X, y = _data(400)
    plain = CapacityModel(method=method, n_folds=3, linear_weight=0.0, **FAST).fit(X, y)
    wide = CapacityModel(method=method, n_folds=3, linear_weight=0.0, **FAST).fit(X, y, level_error=np.full(400, 0.2))
    q0, q1 = plain.predict_quantiles(X), wide.predict_quantiles(X)
    assert np.median(q1[:, 2] / q1[:, 0]) > 1.1 * np.median(q0[:, 2] / q0[:, 0])
    assert np.median(q1[:, 1] / q0[:, 1]) == pytest.approx(1.0, abs=0.05)
    zero = CapacityModel(method=method, n_folds=3, **FAST).fit(X, y, level_error=np.zeros(400))
    np.testing.assert_allclose(zero.predict_quantiles(X), CapacityModel(method=method, n_folds=3, **FAST).fit(X, y).predict_quantiles(X))


@pytest.mark.parametrize("method", ["conformal", "quantile"])
def test_quantiles_never_cross_and_predict_is_p50(method):
    X, y = _data()
    model = CapacityModel(method=method, n_folds=3, **FAST).fit(X, y)
    q = model.predict_quantiles(X)
    assert q.shape == (len(X), 3)
    assert np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_allclose(model.predict(X), q[:, 1])


@settings(max_examples=25, deadline=None)
@given(
    levels=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=9, unique=True),
    shift=st.floats(-5, 5),
)
def test_conformal_any_quantiles_never_cross(levels, shift):
    model = _fitted_conformal()
    X, _ = _data(50, seed=9)
    q = model.predict_quantiles(X + shift, sorted(levels))
    assert np.all(np.diff(q, axis=1) >= 0)


_CACHE: dict[str, CapacityModel] = {}


def _fitted_conformal() -> CapacityModel:
    if "m" not in _CACHE:
        X, y = _data()
        _CACHE["m"] = CapacityModel(n_folds=3, **FAST).fit(X, y)
    return _CACHE["m"]


def test_same_seed_same_model():
    X, y = _data()
    a = CapacityModel(n_folds=3, random_state=7, **FAST).fit(X, y).predict_quantiles(X)
    b = CapacityModel(n_folds=3, random_state=7, **FAST).fit(X, y).predict_quantiles(X)
    np.testing.assert_array_equal(a, b)


def test_exposure_scales_predictions():
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(exposure=1.0)
    model = CapacityModel(exposure_feature="exposure", n_folds=3, **FAST).fit(frame, y)
    half = frame.assign(exposure=0.5)
    np.testing.assert_allclose(model.predict(half), 0.5 * model.predict(frame))
    with pytest.raises(ValueError, match="exposure"):
        model.fit(frame.drop(columns="exposure"), y)


# -- on a generated company ---------------------------------------------------------

@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory):
    datasets = pytest.importorskip("quotaopt.datasets")
    folder = datasets.generate_company(tmp_path_factory.mktemp("cap") / "co", n_reps=200, years=3, seed=4)
    return load_company(folder)


@pytest.fixture(scope="module")
def fitted(company):
    return fit_capacity(company, 2027, random_state=0)


def test_fit_capacity_uses_complete_years(fitted):
    assert fitted.training_years_ == [2025, 2026]
    assert fitted.history_depth_ == 2  # what the 2026 rows had
    assert "exposure" in fitted.feature_names_in_ and "year" not in fitted.feature_names_in_
    assert not {"level", "level_forecast", "base_level"} & set(fitted.feature_names_in_)


def test_predict_capacity_covers_active_reps(company, fitted):
    cap = predict_capacity(fitted, company, 2027)
    active = company.active_reps
    employed = active.loc[active["hire_date"] < pd.Timestamp("2028-01-01"), "rep_id"]
    assert cap["rep_id"].tolist() == employed.tolist()
    values = cap[["capacity_p10", "capacity_p50", "capacity_p90"]].to_numpy()
    assert np.all(values > 0) and np.all(np.diff(values, axis=1) >= 0)


def test_new_hires_and_one_year_reps_get_sensible_predictions(company, fitted):
    """A hire's P50 sits near a ramping peer's level; one year of history anchors a rep."""
    feats = rep_year_features(company, 2027)
    feats = feats.loc[feats.index.isin(company.active_reps["rep_id"])]
    cap = predict_capacity(fitted, company, 2027).set_index("rep_id")
    p50 = cap["capacity_p50"].reindex(feats.index)
    established = (feats["hist_years"] >= 2) & (feats["share1"] >= 1) & (feats["tenure"] >= 2)
    role_median = p50[established].groupby(feats.loc[established, "role_ka"]).median()
    new = feats["hist_years"] == 0
    assert new.any(), "the generator always makes a hire starting in the plan year"
    ratio = p50[new] / (feats.loc[new, "role_ka"].map(role_median) * feats.loc[new, "share"])
    # Ramping (a quarter of full speed in the first quarter) and unknown skill: between
    # a fifth and the full level of an established peer, never zero, never above.
    assert ratio.between(0.2, 1.1).all(), ratio.describe()
    band = (cap["capacity_p90"] / cap["capacity_p10"]).reindex(feats.index)
    assert band[new].median() > band[established].median()  # less known, wider band
    one = (feats["hist_years"] == 1) & (feats["share1"] >= 1)
    if one.any():
        anchor = p50[one] / (feats.loc[one, "rel1"] * feats.loc[one, "base_level"] * feats.loc[one, "level"])
        assert anchor.between(0.4, 2.5).all(), anchor.describe()


def test_predict_refuses_missing_feature_files(company, fitted, tmp_path: Path):
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


# -- model store -------------------------------------------------------------------

def test_save_load_roundtrip_and_hash_check(company, fitted, tmp_path: Path):
    folder = tmp_path / "models" / "m1"
    save_model(fitted, folder, {"backtest": {"wape": 0.3}})
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["training_years"] == [2025, 2026] and meta["backtest"] == {"wape": 0.3}
    assert len(meta["model_sha256"]) == 64 and "exposure" in meta["features"]
    model, loaded_meta = load_model(folder)
    assert loaded_meta == meta
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

    from quotaopt.data import sha256_file

    folder.mkdir()
    sio.dump(obj, folder / MODEL_FILE)
    meta = {"model_sha256": sha256_file(folder / MODEL_FILE), "format_version": FORMAT_VERSION}
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    return folder


def test_load_refuses_untrusted_types(tmp_path: Path):
    with pytest.raises(InputError, match="not trusted.*Evil"):
        load_model(_store(tmp_path / "evil", Evil()))


def test_load_refuses_an_older_format(company, fitted, tmp_path: Path):
    """A model of version 1 read money at last year's level, not in index units."""
    folder = tmp_path / "old"
    save_model(fitted, folder, {})
    meta = json.loads((folder / METADATA_FILE).read_text())
    (folder / METADATA_FILE).write_text(json.dumps({**meta, "format_version": 1}))
    with pytest.raises(InputError, match="format_version 1.*retrain"):
        load_model(folder)


def test_load_refuses_other_estimators(tmp_path: Path):
    from sklearn.linear_model import LinearRegression

    folder = _store(tmp_path / "other", LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))
    with pytest.raises(InputError, match="expected a CapacityModel"):
        load_model(folder)


def test_train_model_writes_backtest_and_model(company, tmp_path: Path):
    model, meta = train_model(company, 2027, tmp_path / "models" / "fy27", metadata={"scenario": "s"})
    assert meta["scenario"] == "s" and meta["plan_year"] == 2027
    assert meta["backtest"]["year"] == 2026 and meta["backtest"]["methods"][0]["method"] == "model"
    assert json.loads((tmp_path / "models" / "fy27" / METADATA_FILE).read_text()) == meta
    assert isinstance(model, CapacityModel) and model.training_years_ == [2025, 2026]


def test_load_missing_folder_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "nothing")


# -- given capacities --------------------------------------------------------------

def test_given_capacity_fills_spread_and_names_missing_reps(company):
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
    from quotaopt.capacity import FLOOR_SHARE, _floor

    q = np.array([[80.0, 100.0, 130.0], [160.0, 200.0, 260.0], [70.0, 100.0, 140.0], [-50.0, -20.0, -5.0]])
    out = _floor(q, 1)
    np.testing.assert_array_equal(out[:3], q[:3])  # reps above the floor are untouched
    floor = FLOOR_SHARE * 100.0  # of the median P50
    assert out[3, 1] == pytest.approx(floor)
    # The typical band is 0.8 / 1.3 of the P50 (medians of the ratios), not a single point.
    assert out[3, 0] == pytest.approx(0.8 * floor) and out[3, 2] == pytest.approx(1.3 * floor)
