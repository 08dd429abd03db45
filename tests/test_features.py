"""Features per rep and year: hand-computed values, no look-ahead, optional files,
the company level (established reps, realised for training years, forecast otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt.data import load_company
from quotaopt.errors import InputError
from quotaopt.features import (
    company_index,
    employed_share,
    history_depth,
    level_factor,
    model_columns,
    observed_years,
    rep_year_features,
    training_set,
)

from conftest import write_tiny_company


def _company(tmp_path: Path, reps: list[tuple], amounts: dict[tuple[str, int], float], extra: bool = True) -> Path:
    """A company with one booking per rep and month; ``amounts[(rep, year)]`` is the year's total."""
    data = tmp_path / "data"
    data.mkdir(parents=True)
    (data / "teams.csv").write_text("team_id,parent_id\nCO,\nT1,CO\nT2,CO\n")
    lines = ["rep_id,team_id,role,hire_date,fte,status,last_quota"]
    lines += [",".join(str(v) for v in rep) for rep in reps]
    (data / "reps.csv").write_text("\n".join(lines) + "\n")
    rows = ["date,rep_id,amount,account_id"]
    for (rep, year), total in amounts.items():
        hire = next(r[3] for r in reps if r[0] == rep)
        months = [m for m in range(1, 13) if hire <= f"{year}-{m:02d}-28" <= "2026-06-30"]
        for m in months:
            rows.append(f"{year}-{m:02d}-28,{rep},{total / len(months):.4f},A_{rep}")
    (data / "bookings.csv").write_text("\n".join(rows) + "\n")
    acc = ["account_id,rep_id,tier,potential,territory_id"]
    acc += [f"A_{r[0]},{r[0]},{r[2]},{1_000_000 if r[2] == 'ka' else 200_000},{'X' if r[1] == 'T1' else 'Y'}" for r in reps]
    (data / "accounts.csv").write_text("\n".join(acc) + "\n")
    (data / "territories.csv").write_text("territory_id,potential,market_growth\nX,5000000,0.05\nY,3000000,0.05\n")
    if not extra:
        (data / "accounts.csv").unlink()
        (data / "territories.csv").unlink()
    return data


REPS = [
    ("R1", "T1", "ka", "2018-01-01", 1, "active", 1_100_000),
    ("R2", "T1", "longtail", "2019-05-01", 1, "active", 330_000),
    ("R3", "T2", "longtail", "2024-07-01", 0.5, "active", 100_000),
    ("R4", "T2", "ka", "2020-01-01", 1, "departed", ""),
    ("R5", "T2", "longtail", "2026-04-01", 1, "active", ""),
]
AMOUNTS = {
    ("R1", 2023): 1_000_000, ("R1", 2024): 1_100_000, ("R1", 2025): 1_210_000,
    ("R2", 2023): 300_000, ("R2", 2024): 330_000, ("R2", 2025): 363_000,
    ("R3", 2024): 50_000, ("R3", 2025): 120_000,
    ("R4", 2023): 800_000, ("R4", 2024): 880_000,
    ("R5", 2026): 10.0,  # bookings stop in June: 2026 is a partial, unobserved year
}


@pytest.fixture
def hand(tmp_path: Path):
    return load_company(_company(tmp_path, REPS, AMOUNTS))


def test_employed_share_counts_days_after_hire():
    hires = pd.Series(pd.to_datetime(["2020-01-01", "2025-07-02", "2026-01-01", "2024-12-31"]))
    share = employed_share(hires, 2025)
    assert share.tolist() == pytest.approx([1.0, 183 / 365, 0.0, 1.0])


def test_observed_years_need_january_to_december(hand):
    assert observed_years(hand) == [2023, 2024, 2025]


def test_company_index_chains_same_rep_growth(hand):
    # R1, R2, R4 grow 10% a year; R3 (hired mid 2024) is not in the 2024/2025 link.
    index = company_index(hand)
    assert index.to_dict() == pytest.approx({2023: 1.0, 2024: 1.1, 2025: 1.21})


def test_one_mega_deal_does_not_move_the_company_level(tmp_path: Path):
    """A rep whose year jumps 100-fold (a mega-deal, a typo) is left out of the link."""
    rng = np.random.default_rng(0)
    reps = [(f"E{i}", "T1", "longtail", "2018-01-01", 1, "active", 100_000) for i in range(20)]
    amounts = {(f"E{i}", y): 100_000 * 1.05 ** (y - 2023) * float(np.exp(rng.normal(0, 0.1)))
               for i in range(20) for y in (2023, 2024, 2025)}
    clean = company_index(load_company(_company(tmp_path / "clean", reps, amounts)))
    amounts[("E0", 2025)] = 100 * amounts[("E0", 2025)]
    index = company_index(load_company(_company(tmp_path / "mega", reps, amounts)))
    assert index[2025] / index[2024] == pytest.approx(clean[2025] / clean[2024], rel=0.08)
    # Nor does a rep who booked nothing the year before and a fortune this year.
    amounts[("E1", 2024)] = 0.0
    amounts[("E1", 2025)] = 10_000_000.0
    again = company_index(load_company(_company(tmp_path / "zero", reps, amounts)))
    assert again[2025] / again[2024] == pytest.approx(clean[2025] / clean[2024], rel=0.08)


def test_company_index_leaves_out_ramping_reps(tmp_path: Path):
    """Reps in their first year ramp up: their growth is not the company's."""
    reps = [(f"E{i}", "T1", "longtail", "2018-01-01", 1, "active", 100_000) for i in range(10)]
    reps += [(f"N{i}", "T2", "longtail", "2024-01-01", 1, "active", 100_000) for i in range(5)]
    amounts = {(f"E{i}", y): 100_000 * 1.05 ** (y - 2023) for i in range(10) for y in (2023, 2024, 2025)}
    amounts |= {(f"N{i}", y): v for i in range(5) for y, v in ((2024, 50_000), (2025, 100_000))}
    index = company_index(load_company(_company(tmp_path, reps, amounts)))
    # The hires doubled from 2024 to 2025 but the company grew 5%; with fewer than
    # ten established reps the link would have used everyone employed both years.
    assert index.to_dict() == pytest.approx({2023: 1.0, 2024: 1.05, 2025: 1.05**2})


def test_level_factor_carries_the_trend(hand):
    # Market growth 5% from territories; levels 1, 1.1, 1.21 carried to 2026 and
    # averaged, relative to 2025's level.
    index = company_index(hand)
    expected = np.exp(np.mean(np.log([1.0, 1.1, 1.21]) + np.log(1.05) * np.array([3, 2, 1])) - np.log(1.21))
    assert level_factor(hand, index, 2026) == pytest.approx(expected)


def test_shrunk_slope_weights_the_slope_by_its_reliability():
    from quotaopt.company_level import LEVEL_NOISE_SD, TREND_PRIOR_SD, shrunk_slope

    # Two points on a line: no residual, so the noise is the prior alone and the
    # slope (0.1) keeps tau2 / (tau2 + sigma2 / 0.5) of itself.
    years = np.array([2024.0, 2025.0])
    weight = TREND_PRIOR_SD**2 / (TREND_PRIOR_SD**2 + LEVEL_NOISE_SD**2 / 0.5)
    assert shrunk_slope(years, np.array([0.0, 0.1])) == pytest.approx(0.1 * weight)
    # More years on the same line keep more of the slope, never all of it.
    kept = [shrunk_slope(np.arange(n, dtype=float), 0.1 * np.arange(n)) / 0.1 for n in (2, 3, 5, 10)]
    assert all(a < b < 1.0 for a, b in zip(kept[:-1], kept[1:], strict=True))
    # Noisy levels around the same line keep less than clean ones.
    noisy = shrunk_slope(np.arange(5, dtype=float), 0.1 * np.arange(5) + np.array([0.2, -0.2, 0.2, -0.2, 0.2]))
    assert noisy / 0.1 < kept[2]
    assert shrunk_slope(np.array([2025.0]), np.array([0.3])) == 0.0


def test_trend_without_territories_is_the_shrunk_slope(hand):
    import dataclasses

    from quotaopt.company_level import shrunk_slope, trend_growth

    bare = dataclasses.replace(hand, territories=None, accounts=None)
    index = company_index(bare)
    expected = shrunk_slope(index.index.to_numpy(dtype=float), np.log(index.to_numpy()))
    assert trend_growth(bare, index, 2026) == pytest.approx(expected)
    assert 0.0 < expected < np.log(1.1)  # the levels grow 10% a year; the trend is shrunk


def test_plan_year_rows_and_history(hand):
    feats = rep_year_features(hand, 2026)
    # R4 departed after 2024 (last booking) so has no 2026 row; R5 is hired in 2026.
    assert sorted(feats.index) == ["R1", "R2", "R3", "R5"]
    r1 = feats.loc["R1"]
    assert r1["b1"] == pytest.approx(1_210_000, rel=1e-6)
    assert r1["b2"] == pytest.approx(1_100_000, rel=1e-6)
    # The model for 2026 learns from 2025, whose rows had two years of history (2023,
    # 2024): the plan year gets no more, so 2023 is left out.
    assert r1["share"] == 1.0 and r1["role_ka"] == 1.0 and r1["hist_years"] == 2 and np.isnan(r1["rel3"])
    # Rates in index units (bookings / company level of their year): R1 grew exactly
    # like the company, so every year reads the same.
    assert r1["base_level"] == pytest.approx(1.21)
    assert r1["rel1"] == pytest.approx(1_000_000, rel=1e-6)
    assert r1["rel2"] == pytest.approx(1_000_000, rel=1e-6)
    assert r1["growth"] == pytest.approx(0.0, abs=1e-9)
    assert r1["attainment"] == pytest.approx(1_210_000 / 1_100_000, rel=1e-6)
    # R3: half a year in 2024 annualised; fte 0.5 scales exposure, which turns index
    # units back into money at the level expected for 2026.
    r3 = feats.loc["R3"]
    assert r3["share2"] == pytest.approx(184 / 366)
    assert r3["b2"] == pytest.approx(50_000, rel=1e-6)
    assert r3["rel2"] == pytest.approx(50_000 / (184 / 366) / 1.1, rel=1e-6)
    assert r3["exposure"] == pytest.approx(0.5 * 1.21 * r3["level"])
    assert r3["level"] == r3["level_forecast"] == pytest.approx(level_factor(hand, company_index(hand), 2026))
    # R5: a hire during the plan year has no history, negative tenure, a partial year.
    r5 = feats.loc["R5"]
    assert np.isnan(r5["b1"]) and np.isnan(r5["rel1"]) and r5["hist_years"] == 0
    assert r5["tenure"] < 0 and 0.7 < r5["share"] < 0.8
    assert r5["pot"] == 200_000 and r5["n_lt"] == 1


def test_history_depth_can_be_asked_for(hand):
    assert history_depth(hand, 2026) == 2 and history_depth(hand, 2024) == 1
    r1 = rep_year_features(hand, 2026, depth=3).loc["R1"]
    assert r1["hist_years"] == 3 and r1["rel3"] == pytest.approx(1_000_000, rel=1e-6)
    assert r1["rel_mean"] == pytest.approx(1_000_000, rel=1e-6)


def test_training_rows_carry_the_realised_level(hand):
    """A training year is scaled by the level it had; the forecast it would have had is kept."""
    index = company_index(hand)
    X, _ = training_set(hand, [2024, 2025])
    rows = X.loc[X["year"] == 2025]
    assert rows["level"].to_numpy() == pytest.approx(1.1)  # 1.21 / 1.1, as it happened
    assert rows["level_forecast"].to_numpy() == pytest.approx(level_factor(hand, index, 2025))
    assert rows["base_level"].to_numpy() == pytest.approx(1.1)
    # Scored like a plan year (backtest): the level is forecast from the years before.
    scored, _ = training_set(hand, [2025], as_of=2025)
    assert scored["level"].to_numpy() == pytest.approx(level_factor(hand, index, 2025))
    assert (scored["level"] == scored["level_forecast"]).all()
    assert not {"level", "level_forecast", "base_level"} & set(model_columns(X))


def test_pool_and_territory_columns(hand):
    feats = rep_year_features(hand, 2026)
    assert {"pot", "n_ka", "ka_share", "booked_pot1", "terr_pot_per_rep", "market_growth", "white_space"} <= set(feats.columns)
    # Territory X holds R1 and R2 (main territory), Y holds R3, R5 and departed R4.
    assert feats.loc["R1", "terr_pot_per_rep"] == pytest.approx(2_500_000)
    assert feats.loc["R1", "market_growth"] == pytest.approx(0.05)


def test_departed_pool_is_unknown_not_empty(hand):
    feats = rep_year_features(hand, 2024)
    assert "R4" in feats.index
    assert np.isnan(feats.loc["R4", "pot"]) and np.isnan(feats.loc["R4", "terr_pot"])


def test_training_set_skips_a_departed_reps_last_year(hand):
    X, y = training_set(hand, [2024, 2025])
    pairs = set(zip(X.index, X["year"], strict=True))
    assert ("R4", 2024) not in pairs  # last booking year of a departed rep: probably partial
    assert ("R4", 2023) not in pairs  # 2023 is not a target year here
    assert ("R1", 2024) in pairs and ("R3", 2024) in pairs and ("R3", 2025) in pairs
    r1_2025 = (X.index == "R1") & (X["year"] == 2025)
    assert y[r1_2025].iloc[0] == pytest.approx(1_210_000, rel=1e-6)
    assert "year" not in model_columns(X) and "b1" not in model_columns(X) and "exposure" in model_columns(X)


def test_training_set_rejects_unobserved_years(hand):
    with pytest.raises(InputError, match="cannot train on year"):
        training_set(hand, [2023])
    with pytest.raises(InputError, match="cannot train on year"):
        training_set(hand, [2026])


def test_features_do_not_look_ahead(tmp_path: Path):
    base = load_company(_company(tmp_path / "a", REPS, AMOUNTS))
    changed = dict(AMOUNTS)
    changed[("R1", 2025)] = 5_000_000  # only the target year differs
    other = load_company(_company(tmp_path / "b", REPS, changed))
    a, b = rep_year_features(base, 2025), rep_year_features(other, 2025)
    pd.testing.assert_frame_equal(a, b)


def test_missing_optional_files_drop_their_columns(tmp_path: Path):
    company = load_company(_company(tmp_path, REPS, AMOUNTS, extra=False))
    feats = rep_year_features(company, 2026)
    assert not {"pot", "terr_pot", "booked_pot1", "penetration1"} & set(feats.columns)
    assert {"rel1", "tenure", "share", "peer_rel1"} <= set(feats.columns)


def test_tiny_company_features(tmp_path: Path):
    scenario = write_tiny_company(tmp_path)
    company = load_company(scenario.parent / "data")
    feats = rep_year_features(company, 2027)
    assert sorted(feats.index) == ["A1", "A2", "B1", "B2"]  # B3 departed in 2025
    # A1 books 40000 + 100 x month each month of 2026, minus one credit note of 2500.
    assert feats.loc["A1", "b1"] == pytest.approx(12 * 40000 + 100 * 78 - 2500)
    # Deal counts and sizes are relative to the typical full-year rep of the year:
    # everyone closed 12 deals; A1's deals are the biggest.
    assert feats["deals1"].tolist() == pytest.approx([1.0] * 4)
    sizes = {"A1": 40650.0, "A2": 15650.0, "B1": 35650.0, "B2": 14650.0}
    median = float(np.median(list(sizes.values())))
    assert feats["avg_deal1"].to_dict() == pytest.approx({rep: v / median for rep, v in sizes.items()})


def test_generated_company_smoke(tmp_path: Path):
    datasets = pytest.importorskip("quotaopt.datasets")
    folder = datasets.generate_company(tmp_path / "gen", n_reps=40, years=3, seed=2)
    company = load_company(folder)
    X, y = training_set(company, [2025, 2026])
    assert len(X) == len(y) > 60
    assert np.isfinite(X["exposure"]).all() and (X["exposure"] > 0).all()
    shutil.rmtree(folder)
