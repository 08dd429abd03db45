"""Periods and seasonality: exact sums, calendar rules, ramp, rounding, learned weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotaopt.calendar import period_labels, period_of
from quotaopt.errors import InputError
from quotaopt.periods import (
    ALL,
    average_deal_size,
    decompose,
    learn_month_weights,
    learn_quarter_noise,
    quarter_quotas,
    quarter_weights,
    seasonality_backtest,
)
from quotaopt.scenario import PeriodsConfig

RAMP = (0.25, 0.5, 0.75, 1.0)
SEASON = np.array([0.055, 0.065, 0.085, 0.070, 0.075, 0.095, 0.065, 0.060, 0.095, 0.080, 0.095, 0.160])


def reps_frame(quotas: list[float], teams: list[str] | None = None, hires: Sequence[str | None] | None = None,
               roles: list[str] | None = None) -> pd.DataFrame:
    n = len(quotas)
    return pd.DataFrame({
        "rep_id": [f"R{i:03d}" for i in range(n)],
        "team_id": teams or ["T1"] * n,
        "role": roles or ["ka"] * n,
        "hire_date": pd.to_datetime(pd.Series(list(hires or ["2015-01-01"] * n), dtype=object)),
        "quota": quotas,
    })


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot(index="rep_id", columns="period", values="quota")


def month_weights(row: np.ndarray, key: str = "ka") -> pd.DataFrame:
    return pd.DataFrame([row, row], index=[key, ALL], columns=range(1, 13))


# --- decompose ---------------------------------------------------------------------------


def test_labels_and_exact_sums_for_every_split() -> None:
    reps = reps_frame([120_000, 50_000, 100_500])
    for split, count, first, last in (("quarter", 4, "2027-Q1", "2027-Q4"), ("month", 12, "2027-01", "2027-12"),
                                      ("week", 52, "2027-W01", "2027-W52")):
        out = decompose(reps, 2027, PeriodsConfig(split=split, seasonality="flat"), 1000, None, RAMP)
        assert list(out.columns) == ["rep_id", "period", "quota"]
        assert out.groupby("rep_id")["quota"].size().eq(count).all()
        assert out["period"].iloc[0] == first and out["period"].iloc[count - 1] == last
        assert out.groupby("rep_id")["quota"].sum().to_dict() == {"R000": 120_000, "R001": 50_000, "R002": 100_500}
        assert list(out["rep_id"]) == sorted(out["rep_id"]) and (out["quota"] >= 0).all()


def test_learned_weights_shape_months_within_a_unit() -> None:
    out = wide(decompose(reps_frame([1_200_000]), 2027, PeriodsConfig(split="month"), 1000, month_weights(SEASON), RAMP))
    np.testing.assert_allclose(out.iloc[0].to_numpy(), 1_200_000 * SEASON, atol=1000)
    assert out.iloc[0, -1] == pytest.approx(192_000, abs=1000)


def test_quarter_weights_with_months_by_learned_shape() -> None:
    cfg = PeriodsConfig(split="month", seasonality=(0.3, 0.2, 0.3, 0.2))
    out = wide(decompose(reps_frame([1_000_000]), 2027, cfg, 1000, month_weights(SEASON), RAMP)).iloc[0].to_numpy()
    np.testing.assert_array_equal(out.reshape(4, 3).sum(axis=1), [300_000, 200_000, 300_000, 200_000])
    within = SEASON[:3] / SEASON[:3].sum()
    np.testing.assert_allclose(out[:3], 300_000 * within, atol=1000)
    flat = wide(decompose(reps_frame([1_200_000]), 2027, cfg, 1000, None, RAMP)).iloc[0].to_numpy()
    np.testing.assert_array_equal(flat[:3], [120_000] * 3)


def test_weeks_follow_working_days_and_fold_into_the_plan_year() -> None:
    out = decompose(reps_frame([260_000]), 2027, PeriodsConfig(split="week", seasonality="flat"), 1000, None, RAMP)
    q = out.set_index("period")["quota"]
    # 2027 has 261 working days; Fri 1 Jan (ISO 2026-W53) folds into 2027-W01 (6 working days).
    assert q.index[0] == "2027-W01" and len(q) == 52
    assert q.sum() == 260_000
    assert q["2027-W01"] > q["2027-W02"] * 1.1
    full = q.drop(["2027-W01", "2027-W05", "2027-W09", "2027-W13", "2027-W22", "2027-W26", "2027-W31",
                   "2027-W35", "2027-W39", "2027-W44", "2027-W48", "2027-W52"], errors="ignore")
    assert full.max() - full.min() <= 2000  # whole weeks inside one month differ only by month size


def test_team_rounding_spreads_extra_units() -> None:
    # Ten identical reps of 100 units on flat months: 8.33 units a month each. Plain largest
    # remainder would give every rep +1 in Jan-Apr (team: 90 vs 83.3); error feedback spreads them.
    out = decompose(reps_frame([100_000] * 10), 2027, PeriodsConfig(split="month", seasonality="flat"), 1000, None,
                    RAMP)
    team = out.groupby("period")["quota"].sum().to_numpy() / 1000
    assert np.abs(team - 1000 / 12).max() <= 1.0
    assert (out.groupby("rep_id")["quota"].sum() == 100_000).all()


def test_month_and_week_splits_agree_with_quarter_totals() -> None:
    reps = reps_frame([123_000, 77_000, 5_000], teams=["A", "A", "B"], hires=["2020-01-01", "2027-02-17", None])
    mw = month_weights(SEASON)
    qq = quarter_quotas(reps, 2027, PeriodsConfig(split="week"), 1000, mw, RAMP).set_index("rep_id")
    months = decompose(reps, 2027, PeriodsConfig(split="month"), 1000, mw, RAMP)
    by_q = months.assign(q=months["period"].str[5:7].astype(int).sub(1) // 3 + 1)
    agg = by_q.pivot_table(index="rep_id", columns="q", values="quota", aggfunc="sum")
    np.testing.assert_array_equal(agg.to_numpy(), qq[["quota_q1", "quota_q2", "quota_q3", "quota_q4"]].to_numpy())


def test_new_hire_ramp_and_no_quota_before_hire() -> None:
    reps = reps_frame([60_000, 60_000], hires=["2027-04-01", "2026-11-16"])
    out = wide(decompose(reps, 2027, PeriodsConfig(split="month", seasonality="flat"), 100, None, RAMP))
    apr = out.loc["R000"].to_numpy()
    assert (apr[:3] == 0).all() and apr.sum() == 60_000
    # Tenure quarters Apr-Jun 0.25, Jul-Sep 0.5, Oct-Dec 0.75 (flat months, whole months employed).
    shape = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3])
    np.testing.assert_allclose(apr[3:], 60_000 * shape / shape.sum(), atol=200)
    nov = out.loc["R001"].to_numpy()
    # Hired 16 Nov 2026: Jan is tenure month 2 (0.25), Feb-Apr 0.5, May-Jul 0.75, then 1.0.
    shape = np.array([0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(nov, 60_000 * shape / shape.sum(), atol=200)
    mid = wide(decompose(reps_frame([31_000], hires=["2027-03-15"]), 2027,
                         PeriodsConfig(split="week", seasonality="flat"), 100, None, RAMP))
    assert mid.loc[:, :"2027-W10"].to_numpy().sum() == 0 and mid.loc[:, "2027-W11"].iloc[0] > 0


def test_errors_and_residuals() -> None:
    with pytest.raises(InputError, match="no working day"):
        decompose(reps_frame([10_000], hires=["2028-02-01"]), 2027, PeriodsConfig(), 1000, None, RAMP)
    zero = decompose(reps_frame([0], hires=["2028-02-01"]), 2027, PeriodsConfig(), 1000, None, RAMP)
    assert (zero["quota"] == 0).all()
    with pytest.raises(InputError, match="quota must be"):
        decompose(reps_frame([-5.0]), 2027, PeriodsConfig(), 1000, None, RAMP)
    odd = wide(decompose(reps_frame([12_345.5]), 2027, PeriodsConfig(split="quarter", seasonality="flat"), 1000,
                         None, RAMP)).iloc[0]
    assert odd.sum() == pytest.approx(12_345.5) and odd.iloc[0] == pytest.approx(3345.5)


def test_deals_and_touches() -> None:
    reps = reps_frame([120_000, 60_000, 60_000], roles=["ka", "ka", "longtail"])
    sizes = pd.Series({"R000": 10_000.0, "R002": 5_000.0})
    out = decompose(reps, 2027, PeriodsConfig(split="quarter", seasonality="flat", win_rate=0.25), 1000, None, RAMP,
                    avg_deal_size=sizes)
    r0 = out[out["rep_id"] == "R000"].iloc[0]
    assert r0["deals"] == 3.0 and r0["touches"] == 12.0
    r1 = out[out["rep_id"] == "R001"].iloc[0]
    assert r1["deals"] == 1.5  # no history: the median of its role (ka: 10,000)
    with pytest.raises(InputError, match="win_rate"):
        decompose(reps, 2027, PeriodsConfig(win_rate=0.2), 1000, None, RAMP, avg_deal_size=None)


def test_period_of_matches_labels() -> None:
    dates = pd.Series(pd.to_datetime(["2027-01-01", "2027-01-04", "2027-03-31", "2027-12-31", "2026-06-01"]))
    assert list(period_of(dates, 2027, "week")) == ["2027-W01", "2027-W01", "2027-W13", "2027-W52", None]
    assert list(period_of(dates, 2027, "month"))[:3] == ["2027-01", "2027-01", "2027-03"]
    assert list(period_of(dates, 2027, "quarter"))[2:4] == ["2027-Q1", "2027-Q4"]
    assert period_labels(2026, "week")[-1] == "2026-W53"  # 2026 has 53 ISO weeks


@settings(max_examples=60, deadline=None)
@given(
    quotas=st.lists(st.integers(0, 400).map(lambda u: u * 1000.0) | st.floats(0, 4e5), min_size=1, max_size=12),
    split=st.sampled_from(["quarter", "month", "week"]),
    season=st.sampled_from(["learned", "flat", (0.3, 0.2, 0.3, 0.2), (0.0, 0.5, 0.25, 0.25)]),
    hire_days=st.lists(st.integers(-900, 360), min_size=12, max_size=12),
    year=st.sampled_from([2026, 2027, 2028]),
)
def test_periods_sum_exactly(quotas: list[float], split: str, season: object, hire_days: list[int],
                             year: int) -> None:
    n = len(quotas)
    hires = [str((pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=d)).date()) for d in hire_days[:n]]
    reps = reps_frame(quotas, teams=[f"T{i % 3}" for i in range(n)], hires=hires)
    cfg = PeriodsConfig(split=split, seasonality=season)  # type: ignore[arg-type]
    out = decompose(reps, year, cfg, 1000, month_weights(SEASON), RAMP)
    sums = out.groupby("rep_id")["quota"].sum().reindex(reps["rep_id"]).to_numpy()
    np.testing.assert_allclose(sums, quotas, rtol=0, atol=1e-6)
    assert (out["quota"] >= 0).all()
    whole = out["quota"].to_numpy() / 1000
    exact = np.isclose(np.asarray(quotas) % 1000, 0)
    mask = np.repeat(exact, len(out) // n)
    assert np.allclose(whole[mask], np.round(whole[mask]))


# --- seasonality -----------------------------------------------------------------------


def synthetic_bookings(n: int, seed: int, start: str = "2022-01-01", years: int = 4,
                       reps: tuple[str, ...] = ("a", "b", "c", "d")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 365 * years, n * 3), unit="D")
    keep = rng.random(len(day)) < SEASON[day.month - 1] / SEASON.max()
    day = day[keep][:n]
    return pd.DataFrame({"date": day, "rep_id": rng.choice(list(reps), len(day)),
                         "amount": rng.lognormal(8, 0.5, len(day))})


def test_learned_weights_recover_a_known_shape() -> None:
    b = synthetic_bookings(40_000, 1)
    w = learn_month_weights(b, {"a": "ka", "b": "ka", "c": "longtail", "d": "longtail"})
    assert list(w.index) == ["ka", "longtail", ALL]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w.loc[ALL].to_numpy(), SEASON / SEASON.sum(), atol=0.006)
    np.testing.assert_allclose(quarter_weights(w.loc[ALL].to_numpy()), (SEASON / SEASON.sum()).reshape(4, 3).sum(axis=1),
                               atol=0.01)


def test_partial_years_do_not_bias_the_shape() -> None:
    b = synthetic_bookings(40_000, 2, start="2022-07-01", years=3)
    w = learn_month_weights(b).loc[ALL].to_numpy()
    np.testing.assert_allclose(w, SEASON / SEASON.sum(), atol=0.008)


def test_thin_groups_shrink_toward_the_pooled_shape_and_none_is_flat() -> None:
    big = synthetic_bookings(30_000, 3)
    rng = np.random.default_rng(4)
    thin = pd.DataFrame({"date": pd.to_datetime(["2023-02-10"] * 5 + ["2024-08-03"] * 3), "rep_id": "z",
                         "amount": rng.uniform(100, 200, 8)})
    b = pd.concat([big, thin], ignore_index=True)
    groups = {"a": "big", "b": "big", "c": "big", "d": "big", "z": "thin", "nobody": "empty"}
    w = learn_month_weights(b, groups, shrink=100)
    pooled = w.loc[ALL].to_numpy()
    assert np.abs(w.loc["thin"].to_numpy() - pooled).max() < 0.05  # 8 bookings barely move it
    raw = learn_month_weights(b, groups, shrink=0)
    assert raw.loc["thin"].to_numpy()[1] > 0.4  # unshrunk: all in Feb and Aug
    np.testing.assert_allclose(w.loc["empty"].to_numpy(), pooled)
    empty = learn_month_weights(b.iloc[:0])
    np.testing.assert_allclose(empty.loc[ALL].to_numpy(), 1 / 12)
    assert average_deal_size(thin)["z"] == pytest.approx(thin["amount"].mean())


def test_quarter_noise_recovers_a_known_log_sd() -> None:
    rng = np.random.default_rng(0)
    w, tau, rows = np.array([0.2, 0.3, 0.2, 0.3]), 0.3, []
    for rep in range(300):
        for year in range(2020, 2025):
            e = w * np.exp(tau * rng.standard_normal(4))
            rows += [(pd.Timestamp(year, 3 * q + 1, 15), f"r{rep}", 1e5 * e[q] / e.sum()) for q in range(4)]
            rows += [(pd.Timestamp(year, m, 3), f"r{rep}", 0.0) for m in (2, 5, 8, 11)]
    b = pd.DataFrame(rows, columns=["date", "rep_id", "amount"])
    mw = pd.DataFrame([np.repeat(w / 3, 3)], index=[ALL], columns=range(1, 13))
    assert learn_quarter_noise(b, month_weights=mw) == pytest.approx(tau, rel=0.05)
    assert learn_quarter_noise(b.iloc[:0]) == 0.0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from quotaopt.datasets import generate_company

    return generate_company(tmp_path_factory.mktemp("season") / "co", n_reps=300, years=4, seed=11)


def test_generated_company_backtest_beats_flat(generated: Path) -> None:
    """Acceptance: learned month quotas vs a flat 1/12 split, backtesting the last history year.

    Monthly quotas are scaled to the actual annual total of each rep, then compared with
    actual monthly bookings. Aggregated to roles and to the company the learned split's
    WAPE is far more than 30% below flat's. Per rep-month the deal-level noise (a few
    Poisson deals a month) dominates: even the generator's *true* weights only reach
    ~11% there, so that level is reported, not asserted.
    """
    b = pd.read_csv(generated / "bookings.csv", parse_dates=["date"])
    roles = pd.read_csv(generated / "reps.csv").set_index("rep_id")["role"]
    res = seasonality_backtest(b, 2026, roles)
    assert res["company_wape_learned"] <= 0.7 * res["company_wape_flat"]
    assert res["group_wape_learned"] <= 0.7 * res["group_wape_flat"]
    assert res["wape_learned"] < res["wape_flat"]
    truth = pd.read_csv(generated / "truth" / "seasonality.csv")
    learned = learn_month_weights(b, roles)
    np.testing.assert_allclose(learned.loc["ka"].to_numpy(), truth["weight_ka"].to_numpy(), atol=0.012)
    assert 0.1 < learn_quarter_noise(b, roles, learned) < 0.8
