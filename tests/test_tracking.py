"""Tracking: plan to date, pace colours at their boundaries, the conditional forecast, track_run."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt import tracking
from quotaopt.commands import track as track_run
from quotaopt.datasets import generate_company
from quotaopt.errors import InputError
from quotaopt.tracking import rep_forecast, unit_forecast, update
from quotaopt.tracking.pipeline import QUARTER_COLUMNS

from tracking_fixtures import build_run, truth_capacity

AS_OF = "2027-06-30"


# --- pace and colours --------------------------------------------------------------------------

@pytest.mark.parametrize(("actual", "expected"), [(84.9, "red"), (85.0, "yellow"), (99.9, "yellow"),
                                                  (100.0, "green"), (0.0, "red"), (130.0, "green")])
def test_status_follows_the_thresholds_exactly_at_their_boundaries(actual: float, expected: str) -> None:
    pace, status = tracking.pace_and_status(np.array([100.0]), np.array([actual]), red=0.85, green=1.0)
    assert status[0] == expected
    assert pace[0] == pytest.approx(actual / 100.0)


def test_pace_reached_through_floating_point_is_rounded_before_the_comparison() -> None:
    plan = 5 / 7.0
    actual = 0.85 * plan
    assert actual / plan != 0.85  # 0.8499999999999999 unrounded: would be red
    pace, status = tracking.pace_and_status(np.array([plan]), np.array([actual]), 0.85, 1.0)
    assert pace[0] == 0.85 and status[0] == "yellow"
    _, status = tracking.pace_and_status(np.array([plan]), np.array([plan * (1 - 1e-9)]), 0.85, 1.0)
    assert status[0] == "yellow"  # a real shortfall of 1e-9 is not rounded away


def test_zero_plan_to_date_is_green_unless_the_actual_is_negative() -> None:
    pace, status = tracking.pace_and_status(np.array([0.0, 0.0, 0.0]), np.array([0.0, 500.0, -10.0]), 0.85, 1.0)
    assert np.isnan(pace).all()
    assert list(status) == ["green", "green", "red"]


def test_calibration_meeting_for_red_or_more_than_15_percent_off_either_way() -> None:
    pace = np.array([0.80, 0.85, 0.90, 1.15, 1.1500001, 1.5, np.nan])
    status = np.array(["red", "yellow", "yellow", "green", "green", "green", "green"])
    assert list(tracking.calibrate_flags(pace, status)) == [True, False, False, False, True, True, False]


# --- plan to date --------------------------------------------------------------------------------

def _periods(split: str, quota_per_period: float = 1000.0) -> pd.DataFrame:
    from quotaopt.calendar import period_labels

    labels = period_labels(2027, split)
    return pd.DataFrame({"rep_id": "R1", "period": labels, "quota": quota_per_period})


def test_plan_to_date_prorates_the_current_month_by_working_days() -> None:
    # March 2027 has 23 working days; 1-15 March holds 11 of them (1 March is a Monday).
    plan_td, _ = tracking.plan_to_date(_periods("month"), pd.Series(["R1"]), pd.Series([pd.NaT]), 2027,
                                       dt.date(2027, 3, 15))
    assert plan_td[0] == pytest.approx(2000 + 1000 * 11 / 23)


def test_plan_to_date_by_quarter_and_at_period_ends() -> None:
    # Q1 2027: 21 + 20 + 23 = 64 working days, 52 of them by 15 March.
    plan_td, _ = tracking.plan_to_date(_periods("quarter"), pd.Series(["R1"]), pd.Series([pd.NaT]), 2027,
                                       dt.date(2027, 3, 15))
    assert plan_td[0] == pytest.approx(1000 * 52 / 64)
    for day, whole in ((dt.date(2027, 3, 31), 1000.0), (dt.date(2027, 12, 31), 4000.0)):
        plan_td, _ = tracking.plan_to_date(_periods("quarter"), pd.Series(["R1"]), pd.Series([pd.NaT]), 2027, day)
        assert plan_td[0] == pytest.approx(whole)


def test_plan_to_date_by_week_covers_the_year_exactly() -> None:
    periods = _periods("week")
    plan_td, _ = tracking.plan_to_date(periods, pd.Series(["R1"]), pd.Series([pd.NaT]), 2027, dt.date(2027, 12, 31))
    assert plan_td[0] == pytest.approx(periods["quota"].sum())
    # Friday 1 January 2027 is folded into the plan's week 1 (ISO says 2026-W53), which then has
    # 6 working days (1 and 4-8 January): one of them is done on 1 January.
    plan_td, _ = tracking.plan_to_date(periods, pd.Series(["R1"]), pd.Series([pd.NaT]), 2027, dt.date(2027, 1, 1))
    assert plan_td[0] == pytest.approx(1000.0 / 6)


def test_a_new_hire_counts_working_days_from_the_hire_date() -> None:
    # Hired Wednesday 10 March: 4 of its 16 March working days are done by the 15th.
    periods = _periods("month")
    periods.loc[periods["period"] < "2027-03", "quota"] = 0.0
    plan_td, share = tracking.plan_to_date(periods, pd.Series(["R1"]), pd.Series([pd.Timestamp("2027-03-10")]), 2027,
                                           dt.date(2027, 3, 15))
    assert plan_td[0] == pytest.approx(1000 * 4 / 16)
    assert 0 < share[0] < 0.05


def test_actual_to_date_leaves_out_later_rows_and_reps_without_quota() -> None:
    actuals = pd.DataFrame({"date": pd.to_datetime(["2027-01-05", "2027-03-15", "2027-03-16", "2027-02-01"]),
                            "rep_id": ["R1", "R1", "R1", "GONE"], "amount": [100.0, 50.0, 999.0, 70.0]})
    actual, ignored = tracking.actual_to_date(actuals, pd.Series(["R1", "R2"]), dt.date(2027, 3, 15))
    assert list(actual) == [150.0, 0.0]
    assert ignored == {"rows_after_as_of": 1, "rows_without_quota": 1, "amount_without_quota": 70.0}


# --- the conditional forecast --------------------------------------------------------------------

def _world(n: int, seed: int, company: float = 0.1, team: float = 0.1) -> dict[str, np.ndarray]:
    """Reps whose outcome follows the forecast's own model: a known truth to check it against."""
    rng = np.random.default_rng(seed)
    p50 = rng.lognormal(np.log(1e6), 0.4, n)
    sigma, kappa = 0.35, 0.02
    cap = np.column_stack([p50 * np.exp(-1.2816 * sigma), p50, p50 * np.exp(1.2816 * sigma)])
    teams = np.arange(n) % 25
    tau = np.sqrt(sigma**2 - np.log1p(kappa))
    z = (np.sqrt(company) * rng.standard_normal() + np.sqrt(team) * rng.standard_normal(25)[teams]
         + np.sqrt(1 - company - team) * rng.standard_normal(n))
    level = p50 * np.exp(np.log1p(kappa) / 2 + tau * z)
    u = 0.5

    def luck(f: float) -> np.ndarray:
        v = np.log1p(kappa / f)
        return np.exp(rng.normal(-v / 2, np.sqrt(v), n))

    booked = level * u * luck(u)
    final = booked + level * (1 - u) * luck(1 - u)
    quota = p50 * rng.uniform(0.8, 1.3, n)
    return {"cap": cap, "teams": teams, "kappa": np.full(n, kappa), "booked": booked, "final": final,
            "quota": quota, "done": np.full(n, u), "deal": p50 * kappa / 2}


def test_forecast_is_calibrated_and_beats_pace_on_its_own_model() -> None:
    briers, naive = [], []
    for seed in range(4):
        w = _world(1500, seed)
        post = update(w["cap"], w["booked"], w["done"], w["deal"], w["kappa"], w["teams"], 0.1, 0.1)
        p = rep_forecast(post, w["booked"], w["done"], w["quota"])["p_attain_year"].to_numpy()
        hit = (w["final"] >= w["quota"]).astype(float)
        assert abs(p.mean() - hit.mean()) < 0.04
        briers.append(np.mean((p - hit) ** 2))
        naive.append(np.mean(((w["booked"] / (w["done"] * w["quota"]) >= 1) - hit) ** 2))
    assert np.mean(briers) < 0.8 * np.mean(naive)


def test_forecast_rises_with_what_is_booked_and_is_certain_once_the_quota_is_reached() -> None:
    cap = np.array([[7e5, 1e6, 1.4e6]] * 4)
    booked = np.array([1e5, 4e5, 6e5, 1.2e6])
    post = update(cap, booked, np.full(4, 0.5), np.full(4, 2e4), np.full(4, 0.04), np.zeros(4, int), 0.0, 0.0)
    fc = rep_forecast(post, booked, np.full(4, 0.5), np.full(4, 1e6))
    assert np.all(np.diff(fc["p_attain_year"]) > 0)
    assert fc["p_attain_year"].iloc[-1] == 1.0
    assert np.all(fc["forecast_p10"] <= fc["forecast_p50"]) and np.all(fc["forecast_p50"] <= fc["forecast_p90"])


def test_a_team_behind_pulls_down_a_teammate_without_actuals() -> None:
    cap = np.array([[7e5, 1e6, 1.4e6]] * 6)
    done = np.array([0.5] * 5 + [0.0])  # the last rep has not started: nothing to read from it
    booked = np.array([2.5e5] * 5 + [0.0])  # the others are at half pace
    prior = update(cap, booked, np.zeros(6), np.full(6, 2e4), np.full(6, 0.04), np.zeros(6, int), 0.0, 0.5)
    post = update(cap, booked, done, np.full(6, 2e4), np.full(6, 0.04), np.zeros(6, int), 0.0, 0.5)
    assert post.mean[-1] < prior.mean[-1] - 0.1
    alone = update(cap, booked, done, np.full(6, 2e4), np.full(6, 0.04), np.zeros(6, int), 0.0, 0.0)
    assert alone.mean[-1] == pytest.approx(prior.mean[-1])


def test_nothing_booked_in_the_first_days_leaves_the_plan_s_forecast() -> None:
    # 200 reps, 50 deals a year each, as of 1 January (0.2% of the year done) with
    # nothing booked. Half a deal over 0.2% of the year once read as a level 80 times the
    # plan; pooled over the company it put every forecast at 3.7 times the plan.
    cap = np.array([[7e5, 1e6, 1.4e6]] * 200)
    teams = np.arange(200) % 10
    args = (np.full(200, 2e4), np.full(200, 0.04), teams, 0.3, 0.2)
    prior = update(cap, np.zeros(200), np.zeros(200), *args)
    early = update(cap, np.zeros(200), np.full(200, 0.002), *args)
    np.testing.assert_allclose(early.mean, prior.mean)
    # Once about three deals were due (6% of the year), an empty pipeline does count, downwards.
    later = update(cap, np.zeros(200), np.full(200, 0.07), *args)
    assert np.all(later.mean < prior.mean - 0.5)


def test_unit_draws_agree_with_the_closed_form_for_a_one_rep_unit() -> None:
    w = _world(40, 9)
    post = update(w["cap"], w["booked"], w["done"], w["deal"], w["kappa"], w["teams"], 0.1, 0.1)
    reps = rep_forecast(post, w["booked"], w["done"], w["quota"])
    member = np.eye(40, dtype=bool)[:, :5]
    units = unit_forecast(post, w["booked"], w["done"], member, w["quota"][:5], draws=4000, seed=1)
    assert np.allclose(units["p_attain_year"], reps["p_attain_year"][:5], atol=0.03)
    assert np.allclose(units["forecast_p50"], reps["forecast_p50"][:5], rtol=0.02)
    again = unit_forecast(post, w["booked"], w["done"], member, w["quota"][:5], draws=4000, seed=1)
    assert again.equals(units)


# --- track_run end to end ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("track")
    data = generate_company(base / "data", n_reps=40, seed=2, actuals_through=AS_OF)
    return build_run(base, data, truth_capacity(data), stretch=1.05), data


def test_track_writes_status_and_a_self_contained_page(tracked: tuple[Path, Path]) -> None:
    run, data = tracked
    out = track_run(run, data / "actuals.csv", AS_OF, draws=300)
    assert out.track_path == run / f"track-{AS_OF}"
    assert sorted(p.name for p in out.track_path.iterdir()) == ["status.csv", "status.html", "track.json"]
    status = pd.read_csv(out.track_path / "status.csv", dtype={"id": "str", "parent_id": "str"})
    assert list(status.columns) == tracking.STATUS_COLUMNS + QUARTER_COLUMNS  # the quarter's columns follow
    plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})
    units = pd.read_csv(run / "units.csv", dtype={"unit_id": "str"})
    assert sorted(status.loc[status["kind"] == "rep", "id"]) == sorted(plan["rep_id"])
    assert sorted(status.loc[status["kind"] == "unit", "id"]) == sorted(units["unit_id"])
    # Colours follow the thresholds; units add up their reps; the root holds the company.
    has = status["plan_to_date"] > 0
    assert (status.loc[has & (status["pace"] < 0.85), "status"] == "red").all()
    assert (status.loc[has & (status["pace"] >= 1.0), "status"] == "green").all()
    reps = status[status["kind"] == "rep"]
    root = status[(status["kind"] == "unit") & (status["level"] == 0)].iloc[0]
    assert root["actual_to_date"] == pytest.approx(reps["actual_to_date"].sum(), abs=0.05)
    actuals = pd.read_csv(data / "actuals.csv")
    assert root["actual_to_date"] == pytest.approx(actuals["amount"].sum(), abs=0.05)
    assert status["p_attain_year"].between(0, 1).all()
    page = (out.track_path / "status.html").read_text(encoding="utf-8")
    assert "<style>" in page and "<script" not in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert root["id"] in page and "Calibration meeting" in page
    # The chance comes with the forecast's range, for every unit and rep and the company card.
    from quotaopt.allocation.explain import amount

    assert "Forecast P10\u2013P90" in page
    band = f"{amount(root['forecast_p10'])}\u2013{amount(root['forecast_p90'])}"
    assert page.count(band) >= 2
    assert page.count("\u2013") >= len(status)
    meta = json.loads((out.track_path / "track.json").read_text())
    assert meta["as_of"] == AS_OF and meta["thresholds"]["red"] == 0.85


def test_same_inputs_give_the_same_status_bytes(tracked: tuple[Path, Path]) -> None:
    run, data = tracked
    first = track_run(run, data / "actuals.csv", AS_OF, draws=300)
    before = (first.track_path / "status.csv").read_bytes()
    second = track_run(run, data / "actuals.csv", dt.date(2027, 6, 30), draws=300)
    assert (second.track_path / "status.csv").read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".track")]


@pytest.mark.parametrize(("row", "column", "needle"), [
    ("2027-02-01,NOBODY,100,", "rep_id", "unknown id"),
    ("2026-12-31,{rep},100,", "date", "outside the plan year"),
    ("2027-02-01,{rep},lots,", "amount", "not a number"),
])
def test_bad_actuals_are_refused_with_file_and_row(tracked: tuple[Path, Path], tmp_path: Path, row: str,
                                                   column: str, needle: str) -> None:
    run, data = tracked
    rep = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})["rep_id"].iloc[0]
    bad = tmp_path / "actuals.csv"
    bad.write_text("date,rep_id,amount,account_id\n2027-01-04," + rep + ",10,\n" + row.format(rep=rep) + "\n")
    target = run / "track-2027-03-31"
    with pytest.raises(InputError) as err:
        track_run(run, bad, "2027-03-31")
    assert err.value.exit_code == 2
    assert f"actuals.csv:3:{column}:" in str(err.value) and needle in str(err.value)
    assert not target.exists()


def test_as_of_outside_the_plan_year_is_refused(tracked: tuple[Path, Path]) -> None:
    run, data = tracked
    with pytest.raises(InputError, match="--as-of.*outside the plan year"):
        track_run(run, data / "actuals.csv", "2028-01-01")
    with pytest.raises(InputError, match="not a date"):
        track_run(run, data / "actuals.csv", "30/06/2027")
