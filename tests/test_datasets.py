"""The synthetic company generator: determinism, contract shape, integrity, realism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt.datasets import generate_company
from quotaopt.errors import InputError

DATA_FILES = ("teams", "reps", "bookings", "accounts", "territories")
TRUTH_FILES = ("plan_year_bookings", "capacity", "seasonality", "team_shocks")
COLUMNS = {
    "teams": ["team_id", "parent_id", "name", "target"],
    "reps": ["rep_id", "team_id", "role", "hire_date", "fte", "status", "name", "last_quota", "locked_quota"],
    "bookings": ["date", "rep_id", "amount", "account_id"],
    "accounts": ["account_id", "rep_id", "tier", "potential", "territory_id"],
    "territories": ["territory_id", "potential", "market_growth"],
    "actuals": ["date", "rep_id", "amount", "account_id"],
    "plan_year_bookings": ["date", "rep_id", "amount", "account_id"],
    "capacity": ["rep_id", "year", "capacity", "capacity_with_shocks"],
}


def _read(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{stem}.csv", dtype={"parent_id": str}, keep_default_na=True)


def _all_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_company(tmp_path_factory.mktemp("small") / "co", n_reps=300, seed=11, actuals_through="2027-04-15")


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_company(tmp_path_factory.mktemp("large") / "co", n_reps=1000, seed=4)


@pytest.fixture(scope="module")
def frames(small: Path) -> dict[str, pd.DataFrame]:
    out = {stem: _read(small, stem) for stem in (*DATA_FILES, "actuals")}
    out.update({stem: _read(small / "truth", stem) for stem in TRUTH_FILES})
    return out


# --- determinism --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_give_identical_bytes(tmp_path: Path, fmt: str) -> None:
    kwargs = {"n_reps": 60, "years": 2, "seed": 3, "actuals_through": "2027-02-28", "fmt": fmt}
    a = _all_bytes(generate_company(tmp_path / "a", **kwargs))
    b = _all_bytes(generate_company(tmp_path / "b", **kwargs))
    assert a.keys() == b.keys()
    assert f"bookings.{fmt}" in a and f"truth/plan_year_bookings.{fmt}" in a
    assert a == b


def test_different_seed_differs(tmp_path: Path) -> None:
    a = generate_company(tmp_path / "a", n_reps=60, seed=1)
    b = generate_company(tmp_path / "b", n_reps=60, seed=2)
    assert (a / "bookings.csv").read_bytes() != (b / "bookings.csv").read_bytes()
    assert (a / "truth" / "capacity.csv").read_bytes() != (b / "truth" / "capacity.csv").read_bytes()


def test_parquet_has_the_csv_columns(tmp_path: Path) -> None:
    folder = generate_company(tmp_path / "pq", n_reps=60, seed=5, fmt="parquet")
    for stem in DATA_FILES:
        assert list(pd.read_parquet(folder / f"{stem}.parquet").columns) == COLUMNS[stem]
    assert not list(folder.glob("*.csv"))
    data = pytest.importorskip("quotaopt.io")
    assert len(data.load_company(folder).active_reps) == 60


# --- contract shape and integrity -----------------------------------------------------------


def test_contract_columns_and_truth_files(small: Path, frames: dict[str, pd.DataFrame]) -> None:
    for stem, frame in frames.items():
        if stem in COLUMNS:
            assert list(frame.columns) == COLUMNS[stem], stem
    assert list(frames["seasonality"].columns)[:2] == ["month", "weight"]
    meta = json.loads((small / "truth" / "meta.json").read_text())
    assert meta["plan_year"] == 2027 and meta["history_years"] == [2024, 2025, 2026]
    assert meta["seed"] == 11 and meta["n_reps"] == 300
    assert set(meta["shocks"]) == {"2024", "2025", "2026", "2027"}
    assert frames["teams"]["target"].isna().all() and frames["reps"]["locked_quota"].isna().all()


def test_org_tree(frames: dict[str, pd.DataFrame]) -> None:
    teams, reps = frames["teams"], frames["reps"]
    assert teams["team_id"].is_unique
    roots = teams[teams["parent_id"].isna()]
    assert list(roots["team_id"]) == ["CO"]
    regions = teams[teams["parent_id"] == "CO"]["team_id"]
    assert 3 <= len(regions) <= 8
    leaves = teams[teams["parent_id"].isin(regions)]
    assert len(regions) + len(leaves) + 1 == len(teams)  # depth 3
    assert set(reps["team_id"]) == set(leaves["team_id"])  # reps hang on teams only
    sizes = reps[reps["status"] == "active"].groupby("team_id").size()
    assert sizes.between(6, 15).all() and sizes.sum() == 300
    assert reps["rep_id"].str.fullmatch(r"RP\d{6}").all()
    assert leaves["team_id"].str.fullmatch(r"TM\d{4}").all()


def test_referential_integrity(frames: dict[str, pd.DataFrame]) -> None:
    reps, accounts = frames["reps"], frames["accounts"]
    assert reps["rep_id"].is_unique and accounts["account_id"].is_unique
    for stem in ("bookings", "actuals", "plan_year_bookings"):
        assert frames[stem]["rep_id"].isin(reps["rep_id"]).all(), stem
        assert frames[stem]["account_id"].isin(accounts["account_id"]).all(), stem
    assert accounts["territory_id"].isin(frames["territories"]["territory_id"]).all()
    owners = accounts.merge(reps, on="rep_id", how="left")
    assert (owners["status"] == "active").all()  # departed reps' accounts were handed over
    assert (owners["tier"] == owners["role"]).all()  # ka accounts with ka reps, longtail with longtail
    per_rep = accounts.groupby("rep_id").size()
    assert per_rep.between(10, 40).all()
    assert (frames["territories"]["potential"] >= 0).all()
    assert frames["territories"]["market_growth"].between(-0.03, 0.15).all()
    # each team sells into 1-3 territories of its own
    team_of = accounts.merge(reps[["rep_id", "team_id"]], on="rep_id")
    assert team_of.groupby("team_id")["territory_id"].nunique().between(1, 3).all()
    assert (team_of.groupby("territory_id")["team_id"].nunique() == 1).all()


def test_reps_hires_departures_and_fte(frames: dict[str, pd.DataFrame]) -> None:
    reps, bookings = frames["reps"], frames["bookings"]
    hire_year = reps["hire_date"].str[:4].astype(int)
    departed = reps[reps["status"] == "departed"]
    assert 0.25 * 300 <= len(departed) <= 0.55 * 300  # ~12%/year over 3 years
    # departed reps keep their history (a few who left in early January sold nothing)
    assert departed["rep_id"].isin(bookings["rep_id"]).mean() > 0.9
    assert ((hire_year == 2026) & (reps["status"] == "active")).any()
    plan_hires = reps[hire_year == 2027]
    assert len(plan_hires) >= 1 and (plan_hires["status"] == "active").all()
    assert plan_hires["hire_date"].str[5:7].astype(int).max() <= 4
    assert not plan_hires["rep_id"].isin(bookings["rep_id"]).any()
    assert reps["fte"].between(0.5, 1.0).all() and 0.02 < (reps["fte"] < 1).mean() < 0.16
    active = reps[reps["status"] == "active"]
    assert 0.2 <= (active["role"] == "ka").mean() <= 0.3


def test_last_quota_is_set_like_a_company_would(frames: dict[str, pd.DataFrame]) -> None:
    reps, bookings = frames["reps"], frames["bookings"]
    quota = reps.set_index("rep_id")["last_quota"]
    assert quota[reps.set_index("rep_id")["status"] == "departed"].isna().all()
    given = quota.dropna()
    assert (given % 1000 == 0).all() and len(given) >= 0.95 * 300
    veterans = reps[reps["hire_date"] < "2025-01-01"].set_index("rep_id").index.intersection(given.index)
    prev = bookings[bookings["date"].str.startswith("2025")].groupby("rep_id")["amount"].sum()
    expected = (prev[veterans] * 1.10 / 1000).round() * 1000
    assert np.allclose(given[veterans], expected)
    last = bookings[bookings["date"].str.startswith("2026")].groupby("rep_id")["amount"].sum()
    attainment = (last / given).dropna()
    assert attainment.std() > 0.15 and 0.7 < attainment.median() < 1.4  # uneven, centred


# --- realism -------------------------------------------------------------------------------


def test_potential_is_concentrated_20_80(large: Path) -> None:
    potential = np.sort(_read(large, "accounts")["potential"].to_numpy())[::-1]
    top = potential[: len(potential) // 5].sum() / potential.sum()
    assert 0.72 <= top <= 0.88


def test_ka_share_and_bookings_scale(large: Path) -> None:
    reps, bookings = _read(large, "reps"), _read(large, "bookings")
    active = reps[reps["status"] == "active"]
    assert abs((active["role"] == "ka").mean() - 0.25) < 0.04
    full = reps[(reps["hire_date"] < "2025-01-01") & (reps["status"] == "active")]
    year = bookings[bookings["date"].str.startswith("2026")].groupby("rep_id")["amount"].sum()
    by_role = full.assign(total=full["rep_id"].map(year)).groupby("role")["total"].median()
    assert 300_000 < by_role["longtail"] < by_role["ka"] < 5_000_000
    assert by_role["ka"] > 1.8 * by_role["longtail"]


def test_seasonality_strong_q4_weak_q1(large: Path) -> None:
    bookings = _read(large, "bookings")
    quarter = (bookings["date"].str[5:7].astype(int) - 1) // 3 + 1
    share = bookings.groupby(quarter)["amount"].sum() / bookings["amount"].sum()
    assert share[4] > 0.29 and share[1] < 0.23 and share[4] > 1.3 * share[1]
    weights = _read(large / "truth", "seasonality")
    assert list(weights["month"]) == list(range(1, 13))
    for column in ("weight", "weight_ka", "weight_longtail"):
        assert weights[column].sum() == pytest.approx(1.0, abs=1e-9)
    dates = pd.to_datetime(bookings["date"])
    assert (dates.dt.day_of_week < 5).all()


def test_credit_notes_refund_earlier_deals(large: Path) -> None:
    bookings = _read(large, "bookings")
    credits = bookings[bookings["amount"] < 0]
    assert 0.015 < len(credits) / len(bookings) < 0.035
    deals = bookings[bookings["amount"] > 0]
    pairs = credits.reset_index().merge(deals, on=["rep_id", "account_id"], suffixes=("", "_deal"))
    pairs = pairs[(pairs["date_deal"] <= pairs["date"]) & (pairs["amount_deal"] >= -pairs["amount"] - 0.005)]
    assert pairs["index"].nunique() == len(credits)  # each refunds an earlier, larger deal


def test_signal_is_learnable_but_noisy(large: Path) -> None:
    """Truth explains the plan year well; last year's bookings less so; neither perfectly."""
    plan = _read(large / "truth", "plan_year_bookings").groupby("rep_id")["amount"].sum()
    capacity = _read(large / "truth", "capacity").query("year == 2027").set_index("rep_id")
    reps = _read(large, "reps").set_index("rep_id")
    bookings = _read(large, "bookings")
    last = bookings[bookings["date"].str.startswith("2026")].groupby("rep_id")["amount"].sum()
    vets = reps.index[(reps["hire_date"] < "2025-01-01") & (reps["status"] == "active")]
    actual = plan.reindex(vets).fillna(0.0)

    def wape(pred: pd.Series) -> float:
        return float((actual - pred.reindex(vets)).abs().sum() / actual.sum())

    truth = wape(capacity["capacity_with_shocks"])
    naive = wape(last)
    assert 0.05 < truth < 0.22 and 1.3 * truth < naive < 0.5
    assert np.corrcoef(np.log(last[vets].clip(1)), np.log(actual.clip(1)))[0, 1] > 0.5


def test_capacity_truth_covers_every_rep_year(frames: dict[str, pd.DataFrame], small: Path) -> None:
    reps, capacity, shocks = frames["reps"], frames["capacity"], frames["team_shocks"]
    plan_reps = capacity[capacity["year"] == 2027]["rep_id"]
    assert set(plan_reps) == set(reps[reps["status"] == "active"]["rep_id"])
    assert set(capacity["year"]) == {2024, 2025, 2026, 2027}
    assert (capacity["capacity"] > 0).all()
    meta = json.loads((small / "truth" / "meta.json").read_text())
    company = capacity["year"].astype(str).map({y: s["company"] for y, s in meta["shocks"].items()})
    joined = capacity.merge(reps[["rep_id", "team_id"]], on="rep_id").merge(shocks, on=["team_id", "year"])
    expected = joined["capacity"] * company.to_numpy() * joined["shock"]
    assert np.allclose(joined["capacity_with_shocks"], expected, rtol=1e-6, atol=0.02)
    # plan-year deals go to active reps only, inside the plan year
    plan = frames["plan_year_bookings"]
    assert plan["date"].str.startswith("2027").all()
    assert plan["rep_id"].isin(reps[reps["status"] == "active"]["rep_id"]).all()
    assert frames["bookings"]["date"].str[:4].isin(["2024", "2025", "2026"]).all()


def test_actuals_through_cuts_the_plan_year(frames: dict[str, pd.DataFrame]) -> None:
    actuals, plan = frames["actuals"], frames["plan_year_bookings"]
    assert len(actuals) > 0 and actuals["date"].max() <= "2027-04-15"
    assert actuals["date"].min() >= "2027-01-01"
    assert len(actuals) == (plan["date"] <= "2027-04-15").sum()
    assert not (frames["bookings"]["date"] > "2026-12-31").any()


def test_no_actuals_without_actuals_through(large: Path) -> None:
    assert not (large / "actuals.csv").exists()


# --- argument errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n_reps": 0}, "n_reps"),
        ({"years": 0}, "years"),
        ({"fmt": "xlsx"}, "fmt"),
        ({"actuals_through": "2026-05-01"}, "outside the plan year"),
        ({"actuals_through": "May 1st"}, "not a date"),
    ],
)
def test_bad_arguments_are_input_errors(tmp_path: Path, kwargs: dict, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        generate_company(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_refuses_a_non_empty_folder_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "co"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        generate_company(out, n_reps=10)
    assert (out / "keep.txt").exists()
    # overwrite replaces only what an earlier generate wrote (#14: it deleted any folder)
    with pytest.raises(InputError, match="not written by quotaopt generate"):
        generate_company(out, n_reps=10, overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    generate_company(out, n_reps=10)
    (out / "scratch.txt").write_text("left over")
    generate_company(out, n_reps=10, overwrite=True)
    assert not (out / "scratch.txt").exists() and (out / "reps.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["co"]  # no temp folder left behind


# --- the project's own loader ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["sixty", "large"])
def test_generated_folders_pass_load_company(tmp_path: Path, large: Path, which: str) -> None:
    data = pytest.importorskip("quotaopt.io")
    folder = large if which == "large" else generate_company(tmp_path / "co", n_reps=60, seed=2027, actuals_through="2027-03-31")
    company = data.load_company(folder)
    assert len(company.active_reps) == (1000 if which == "large" else 60)
    assert company.history_years == [2024, 2025, 2026]
    if which == "sixty":
        actuals = data.load_actuals(folder / "actuals.csv", company, 2027)
        assert len(actuals) > 0
