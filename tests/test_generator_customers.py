"""The generator's new customers, churn and process metrics: revenue untouched, a known truth to test against."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from quotaopt.datasets import generate_company
from quotaopt.errors import InputError

SAME = ("reps.csv", "teams.csv", "accounts.csv", "territories.csv", "truth/capacity.csv", "truth/team_shocks.csv",
        "truth/seasonality.csv")


def _deals(folder: Path) -> pd.DataFrame:
    frames = [pd.read_csv(folder / "bookings.csv"), pd.read_csv(folder / "truth" / "plan_year_bookings.csv")]
    out = pd.concat(frames, ignore_index=True)
    return out.assign(year=pd.to_datetime(out["date"]).dt.year)


def test_churn_moves_only_accounts_and_every_booking_falls_in_its_account_life(tmp_path: Path) -> None:
    plain = generate_company(tmp_path / "plain", n_reps=50, years=3, seed=5)
    churned = generate_company(tmp_path / "churn", n_reps=50, years=3, seed=5, churn=0.2)
    for name in SAME:
        assert (plain / name).read_bytes() == (churned / name).read_bytes(), name
    a, b = _deals(plain), _deals(churned)
    pd.testing.assert_frame_equal(a.drop(columns="account_id"), b.drop(columns="account_id"))
    assert (a["account_id"] != b["account_id"]).mean() > 0.3
    life = pd.read_csv(churned / "truth" / "account_life.csv", dtype={"start_year": "Int64", "end_year": "Int64"})
    booked = b.merge(life, on="account_id", how="left", validate="many_to_one")
    assert booked["start_year"].notna().all()  # a prospect never acquired never buys
    assert (booked["year"] >= booked["start_year"]).all()
    assert (booked["end_year"].isna() | (booked["year"] <= booked["end_year"])).all()
    # Credit notes refund their deal on its account: every account's net bookings stay >= 0 per rep.
    assert (b.groupby(["account_id", "rep_id"])["amount"].sum() > -0.01).all()
    # The truth is a steady book: about 20% of the active accounts stop each year, as many start.
    years = list(range(2024, 2028))
    stops = life["end_year"].value_counts().reindex(years[:-1], fill_value=0)
    starts = life["start_year"].value_counts().reindex(years, fill_value=0)
    active = [int(((life["start_year"] <= y) & (life["end_year"].isna() | (life["end_year"] >= y))).sum())
              for y in years]
    assert max(active) / min(active) < 1.1
    assert 0.14 < stops[2024] / active[0] < 0.26
    assert abs(int(starts[2025]) - int(stops[2024])) <= 0.15 * int(stops[2024]) + 3
    meta = json.loads((churned / "truth" / "meta.json").read_text())
    assert meta["churn"] == 0.2 and meta["customers"]["churn"] == 0.2
    assert "churn" not in json.loads((plain / "truth" / "meta.json").read_text())


def test_new_customers_in_the_history_are_the_truths_acquisitions(tmp_path: Path) -> None:
    folder = generate_company(tmp_path / "c", n_reps=80, years=3, seed=2, churn=0.15)
    deals = _deals(folder)
    life = pd.read_csv(folder / "truth" / "account_life.csv", dtype={"start_year": "Int64", "end_year": "Int64"})
    first = deals[deals["amount"] > 0].groupby("account_id")["year"].min()
    started = life.set_index("account_id")["start_year"].reindex(first.index)
    # An account first booked after the history's first year was acquired in that year or before it
    # (a small account may wait a year for its first deal).
    later = first[first > 2024]
    assert (started[later.index] <= later).all()
    assert (started[later.index] == later).mean() > 0.6
    acquired = life.loc[life["start_year"] == 2026, "account_id"]
    assert first.reindex(acquired).eq(2026).mean() > 0.4  # most acquisitions buy in their first year
    # Churn shows in the repurchase rate: about `churn` of 2025's buyers stopped for good.
    bought = deals[deals["amount"] > 0].groupby("year")["account_id"].apply(set)
    stopped = set(life.loc[life["end_year"] == 2025, "account_id"])
    lost = len(bought[2025] & stopped) / len(bought[2025])
    assert 0.08 < lost < 0.2 and not bought[2026] & stopped


def test_activities_follow_bookings_and_their_truth(tmp_path: Path) -> None:
    plain = generate_company(tmp_path / "plain", n_reps=120, years=2, seed=9, actuals_through="2027-06-30")
    folder = generate_company(tmp_path / "act", n_reps=120, years=2, seed=9, actuals_through="2027-06-30",
                              activities=True)
    assert not (plain / "activities.csv").exists()
    for name in (*SAME, "bookings.csv", "actuals.csv", "truth/plan_year_bookings.csv"):
        assert (plain / name).read_bytes() == (folder / name).read_bytes(), name
    acts = pd.read_csv(folder / "activities.csv", dtype={"rep_id": str})
    assert list(acts.columns) == ["rep_id", "date", "metric", "value"]
    assert set(acts["metric"]) == {"visits", "conversion", "collection_days", "satisfaction"}
    assert pd.to_datetime(acts["date"]).dt.year.between(2025, 2026).all()
    by_metric = acts.groupby("metric")["value"]
    assert by_metric.min()["conversion"] >= 0 and by_metric.max()["conversion"] <= 1
    assert by_metric.min()["satisfaction"] >= 1 and by_metric.max()["satisfaction"] <= 5
    assert (acts.loc[acts["metric"] == "visits", "value"] % 1 == 0).all()
    plan = pd.read_csv(folder / "activities_actuals.csv")
    assert pd.to_datetime(plan["date"]).between("2027-01-01", "2027-06-30").all()
    # Visits go with bookings: rep-years that book more visit more (and collect faster).
    acts["year"] = pd.to_datetime(acts["date"]).dt.year
    wide = acts.pivot_table(index=["rep_id", "year"], columns="metric", values="value", aggfunc="sum")
    deals = _deals(folder)
    booked = deals.groupby([deals["rep_id"].astype(str), "year"])["amount"].sum()
    role = pd.read_csv(folder / "reps.csv", dtype={"rep_id": str}).set_index("rep_id")["role"]
    means = acts.pivot_table(index=["rep_id", "year"], columns="metric", values="value", aggfunc="mean")
    for frame in (wide, means):
        frame["role"] = role.reindex(frame.index.get_level_values("rep_id")).to_numpy()
    for name in ("ka", "longtail"):  # within a role (roles visit and book at their own scales)
        joined = wide[wide["role"] == name].join(booked.rename("bookings"), how="inner")
        assert stats.spearmanr(joined["visits"], joined["bookings"]).statistic > 0.6, name
        joined = means[means["role"] == name].join(booked.rename("bookings"), how="inner")
        assert stats.spearmanr(joined["conversion"], joined["bookings"]).statistic > 0.2, name
        assert stats.spearmanr(joined["collection_days"], joined["bookings"]).statistic < -0.1, name
    # The realised values follow truth/activity_levels.
    truth = pd.read_csv(folder / "truth" / "activity_levels.csv", dtype={"rep_id": str})
    truth = truth[truth["year"] < 2027]  # the history (the plan year is in truth/plan_year_activities)
    visits = truth[truth["metric"] == "visits"].set_index(["rep_id", "year"])["expected"]
    realised = wide["visits"].reindex(visits.index).fillna(0.0)
    assert realised.sum() / visits.sum() == pytest.approx(1.0, abs=0.03)
    conv = truth[truth["metric"] == "conversion"].set_index(["rep_id", "year"])["expected"]
    assert np.abs(means["conversion"].reindex(conv.index).dropna() - conv.reindex(
        means["conversion"].dropna().index)).mean() < 0.03
    again = generate_company(tmp_path / "again", n_reps=120, years=2, seed=9, actuals_through="2027-06-30",
                             activities=True)
    assert (again / "activities.csv").read_bytes() == (folder / "activities.csv").read_bytes()


@pytest.mark.parametrize("churn", [0.6, -0.1, True, "x"])
def test_bad_churn_is_refused(tmp_path: Path, churn: object) -> None:
    with pytest.raises(InputError, match="churn"):
        generate_company(tmp_path / "x", n_reps=5, churn=churn)  # type: ignore[arg-type]
