"""The capacity model's inputs by hand: the rep x year panel, the company level and its
candidate forecasts, the features (anchor and change), no look-ahead, optional files."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt.capacity import observed_years
from quotaopt.capacity._calendar import employed_share
from quotaopt.capacity._features import feature_columns, training_rows, year_rows
from quotaopt.capacity._level import (
    MOMENTUM_PRIOR_ODDS,
    ChainIndex,
    _weights,
    candidates,
    forecast_level,
    planners_growth,
    shrunk_slope,
)
from quotaopt.capacity._model import CompanyView
from quotaopt.capacity._panel import build_panel
from quotaopt.io import load_company

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


def _index(company) -> pd.Series:
    view = CompanyView.of(company)
    return pd.Series(np.exp(view.index.log_level), index=view.index.years)


def _features(company, year: int) -> pd.DataFrame:
    view = CompanyView.of(company)
    part = year_rows(view.panel, view.index, view.pools, year)
    return part.X.set_index(pd.Index(view.panel.ids[part.rows], name="rep_id")).assign(
        anchor=part.anchor, exposure=part.exposure, base_level=part.base_level)


def test_employed_share_counts_days_after_hire():
    hires = pd.Series(pd.to_datetime(["2020-01-01", "2025-07-02", "2026-01-01", "2024-12-31"]))
    share = employed_share(hires, 2025)
    assert share.tolist() == pytest.approx([1.0, 183 / 365, 0.0, 1.0])


def test_observed_years_need_january_to_december(hand):
    assert observed_years(hand) == [2023, 2024, 2025]


def test_panel_sums_each_rep_year(hand):
    panel = build_panel(hand)
    assert panel.ids.tolist() == ["R1", "R2", "R3", "R4", "R5"]
    assert panel.years.tolist() == [2023, 2024, 2025]
    assert panel.total[0].tolist() == pytest.approx([1_000_000, 1_100_000, 1_210_000], rel=1e-6)
    assert panel.deals[0].tolist() == [12, 12, 12]
    assert panel.accounts[0].tolist() == [1, 1, 1]
    assert panel.last_year.tolist() == [2025, 2025, 2025, 2024, 2026]
    # R4 departed: present up to its last booking year, not after.
    assert panel.employed(2024)[3] and not panel.employed(2025)[3]
    assert not panel.full_year(2024)[3] and panel.full_year(2023)[3]
    # Rows in another order give the same panel to the last bit, keys included.
    shuffled = dataclasses.replace(hand, bookings=hand.bookings.sample(frac=1.0, random_state=1),
                                   reps=hand.reps.sample(frac=1.0, random_state=2))
    again = build_panel(shuffled)
    np.testing.assert_array_equal(again.total, panel.total)
    np.testing.assert_array_equal(again.key, panel.key)


def test_company_index_chains_same_rep_growth(hand):
    # R1, R2, R4 grow 10% a year; R3 (hired mid 2024) is not in the 2024/2025 link.
    assert _index(hand).to_dict() == pytest.approx({2023: 1.0, 2024: 1.1, 2025: 1.21})


def test_one_mega_deal_does_not_move_the_company_level(tmp_path: Path):
    """A rep whose year jumps 100-fold (a mega-deal, a typo) is left out of the link."""
    rng = np.random.default_rng(0)
    reps = [(f"E{i}", "T1", "longtail", "2018-01-01", 1, "active", 100_000) for i in range(20)]
    amounts = {(f"E{i}", y): 100_000 * 1.05 ** (y - 2023) * float(np.exp(rng.normal(0, 0.1)))
               for i in range(20) for y in (2023, 2024, 2025)}
    clean = _index(load_company(_company(tmp_path / "clean", reps, amounts)))
    amounts[("E0", 2025)] = 100 * amounts[("E0", 2025)]
    index = _index(load_company(_company(tmp_path / "mega", reps, amounts)))
    assert index[2025] / index[2024] == pytest.approx(clean[2025] / clean[2024], rel=0.08)
    # Nor does a rep who booked nothing the year before and a fortune this year.
    amounts[("E1", 2024)] = 0.0
    amounts[("E1", 2025)] = 10_000_000.0
    again = _index(load_company(_company(tmp_path / "zero", reps, amounts)))
    assert again[2025] / again[2024] == pytest.approx(clean[2025] / clean[2024], rel=0.08)


def test_company_index_leaves_out_ramping_reps(tmp_path: Path):
    """Reps in their first year ramp up: their growth is not the company's."""
    reps = [(f"E{i}", "T1", "longtail", "2018-01-01", 1, "active", 100_000) for i in range(10)]
    reps += [(f"N{i}", "T2", "longtail", "2024-01-01", 1, "active", 100_000) for i in range(5)]
    amounts = {(f"E{i}", y): 100_000 * 1.05 ** (y - 2023) for i in range(10) for y in (2023, 2024, 2025)}
    amounts |= {(f"N{i}", y): v for i in range(5) for y, v in ((2024, 50_000), (2025, 100_000))}
    index = _index(load_company(_company(tmp_path, reps, amounts)))
    assert index.to_dict() == pytest.approx({2023: 1.0, 2024: 1.05, 2025: 1.05**2})


def _series(growths: list[float]) -> ChainIndex:
    years = np.arange(2010, 2011 + len(growths))
    growth = np.concatenate([[np.nan], growths])
    level = np.concatenate([[0.0], np.cumsum(growths)])
    return ChainIndex(years, level, growth, np.full(len(years), np.nan), np.zeros((1, len(years))))


def test_level_candidates_by_hand():
    idx = _series([0.10, 0.04])
    c = candidates(idx, 2013, planners=np.log(1.05), ets=False)
    assert c["random_walk"] == 0.0
    assert c["last_growth"] == pytest.approx(0.04) and c["damped_growth"] == pytest.approx(0.02)
    assert c["drift"] == pytest.approx(0.07)
    # Reversion: the last three levels (0, 0.10, 0.14), each carried to 2013 by the planners' growth.
    g = np.log(1.05)
    assert c["reversion"] == pytest.approx(np.mean([0 + 3 * g, 0.10 + 2 * g, 0.14 + g]) - 0.14)
    assert c["planners"] == pytest.approx(g)
    assert "run_rate" not in c  # no half-year news in this series
    assert candidates(idx, 2020, ets=False) == {}  # 2019 is not observed


def test_the_record_chooses_between_momentum_and_reversion():
    """A level that keeps its growth favours last year's growth; one that jumps around favours reversion."""
    steady = forecast_level(_series([0.05, 0.06, 0.05, 0.06, 0.05, 0.06, 0.05, 0.06]), 2019)
    assert steady.weights["last_growth"] > steady.weights["random_walk"]
    assert steady.growth == pytest.approx(0.055, abs=0.01)
    jumpy = forecast_level(_series([0.15, -0.15, 0.15, -0.15, 0.15, -0.15, 0.15, -0.15]), 2019)
    assert jumpy.weights["reversion"] > jumpy.weights["last_growth"]
    assert jumpy.sd > steady.sd  # the band carries the level's own record
    assert sum(jumpy.weights.values()) == pytest.approx(1.0)
    assert set(jumpy.record()) == {"year", "growth", "error_sd", "candidates", "weights", "prior_odds", "origins"}
    assert jumpy.record()["prior_odds"] == {"last_growth": MOMENTUM_PRIOR_ODDS}  # no half-year news here


def test_the_freshest_growth_starts_with_prior_odds():
    """Equal records: the momentum candidate holds MOMENTUM_PRIOR_ODDS against each other one, no more."""
    assert MOMENTUM_PRIOR_ODDS > 1
    same = {2010: 0.02, 2011: -0.02}
    cands = {"random_walk": 0.0, "last_growth": 0.05, "drift": 0.03}
    w = _weights(cands, {n: dict(same) for n in cands})
    assert w["last_growth"] / w["drift"] == pytest.approx(MOMENTUM_PRIOR_ODDS)
    assert w["drift"] == pytest.approx(w["random_walk"])
    # With a half-year's news, the run rate is the freshest growth instead.
    cands["run_rate"] = 0.01
    w = _weights(cands, {n: dict(same) for n in cands})
    assert w["run_rate"] / w["last_growth"] == pytest.approx(MOMENTUM_PRIOR_ODDS)
    # A long record that says otherwise outweighs the prior: eight years, drift's errors a tenth of the others'.
    years = range(2004, 2012)
    errors = {n: {y: 0.04 for y in years} for n in cands} | {"drift": {y: 0.004 for y in years}}
    w = _weights(cands, errors)
    assert max(w, key=lambda n: w[n]) == "drift"


def test_planners_growth_needs_the_column():
    terr = pd.DataFrame({"territory_id": ["A", "B"], "potential": [1.0, 3.0], "market_growth": [0.1, 0.02]})
    assert planners_growth(terr) == pytest.approx(np.log1p(0.04))
    assert planners_growth(terr.drop(columns="market_growth")) is None  # unknown, never 0%
    assert planners_growth(terr.assign(market_growth=np.nan)) is None
    assert planners_growth(None) is None


def test_a_missing_market_growth_column_reads_as_unknown(tmp_path: Path):
    data = _company(tmp_path, REPS, AMOUNTS)
    (data / "territories.csv").write_text("territory_id,potential\nX,5000000\nY,3000000\n")
    company = load_company(data)
    assert company.territories["market_growth"].isna().all()
    assert "planners" not in forecast_level(CompanyView.of(company).index, 2026, planners_growth(company.territories)).candidates


def test_shrunk_slope_weights_the_slope_by_its_reliability():
    from quotaopt.capacity._level import LEVEL_NOISE_SD, TREND_PRIOR_SD

    years = np.array([2024.0, 2025.0])
    weight = TREND_PRIOR_SD**2 / (TREND_PRIOR_SD**2 + LEVEL_NOISE_SD**2 / 0.5)
    assert shrunk_slope(years, np.array([0.0, 0.1])) == pytest.approx(0.1 * weight)
    kept = [shrunk_slope(np.arange(n, dtype=float), 0.1 * np.arange(n)) / 0.1 for n in (2, 3, 5, 10)]
    assert all(a < b < 1.0 for a, b in zip(kept[:-1], kept[1:], strict=True))
    noisy = shrunk_slope(np.arange(5, dtype=float), 0.1 * np.arange(5) + np.array([0.2, -0.2, 0.2, -0.2, 0.2]))
    assert noisy / 0.1 < kept[2]
    assert shrunk_slope(np.array([2025.0]), np.array([0.3])) == 0.0


def test_plan_year_rows_anchor_and_change(hand):
    feats = _features(hand, 2026)
    # R4 departed after 2024 (last booking) so has no 2026 row; R5 is hired in 2026.
    assert sorted(feats.index) == ["R1", "R2", "R3", "R5"]
    r1 = feats.loc["R1"]
    # The anchor: last year's rate in index units (bookings / company level of 2025).
    assert r1["anchor"] == pytest.approx(1_210_000 / 1.21, rel=1e-6) and r1["source"] == 0
    assert r1["base_level"] == pytest.approx(1.21)
    # R1 grew exactly like the company: every past year reads the same as the anchor.
    assert r1["lr1"] == pytest.approx(0.0, abs=1e-9) and r1["lr2"] == pytest.approx(0.0, abs=1e-9)
    assert r1["lr3"] == pytest.approx(0.0, abs=1e-9) and r1["hist_years"] == 3
    assert r1["momentum"] == pytest.approx(0.0, abs=1e-9) and r1["ka"] == 1.0
    # R3: half a year in 2024 annualised, per FTE; anchored on 2025 (a full year).
    r3 = feats.loc["R3"]
    assert r3["share1"] == 1.0 and r3["source"] == 0
    assert r3["anchor"] == pytest.approx(120_000 / 0.5 / 1.21, rel=1e-6)
    assert r3["lr2"] == pytest.approx(np.log((50_000 / (184 / 366) / 0.5 / 1.1) / r3["anchor"]), rel=1e-6)
    assert r3["exposure"] == pytest.approx(0.5)
    # R5: a hire during the plan year has no record: anchored on its peers, a partial year.
    r5 = feats.loc["R5"]
    assert r5["source"] == 2 and r5["hist_years"] == 0 and np.isnan(r5["lr1"])
    assert r5["tenure"] < 0 and 0.7 < r5["share"] < 0.8
    assert r5["n_accounts"] == 1 and r5["headroom"] == pytest.approx(np.log(200_000 / (r5["anchor"] * 1.21)))


def test_training_rows_skip_a_departed_reps_last_year(hand):
    view = CompanyView.of(hand)
    rows = training_rows(view.panel, view.index, view.pools, 2024)
    ids = view.panel.ids[rows.rows].tolist()
    assert "R4" not in ids  # last booking year of a departed rep: probably partial
    assert {"R1", "R2", "R3"} <= set(ids)
    assert rows.y[ids.index("R1")] == pytest.approx(1_100_000, rel=1e-6)
    # The base of a training row is its anchor at the realised level of its year.
    g = view.index.realised_growth(2024)
    assert rows.base(g)[ids.index("R1")] == pytest.approx(1_000_000 * 1.1, rel=1e-6)


def test_pool_and_territory_columns(hand):
    feats = _features(hand, 2026)
    assert {"n_accounts", "headroom", "ka_share", "booked_share1", "terr_headroom", "market_growth",
            "white_space"} <= set(feats.columns)
    assert feats.loc["R1", "market_growth"] == pytest.approx(0.05)
    # Territory X holds R1 and R2 (main territory): 5M shared by two.
    assert feats.loc["R1", "terr_headroom"] == pytest.approx(np.log(2_500_000 / (feats.loc["R1", "anchor"] * 1.21)))


def test_departed_pool_is_unknown_not_empty(hand):
    feats = _features(hand, 2024)
    assert "R4" in feats.index
    assert np.isnan(feats.loc["R4", "headroom"]) and np.isnan(feats.loc["R4", "terr_headroom"])


def test_features_do_not_look_ahead(tmp_path: Path):
    base = load_company(_company(tmp_path / "a", REPS, AMOUNTS))
    changed = dict(AMOUNTS)
    changed[("R1", 2025)] = 5_000_000  # only the target year differs
    other = load_company(_company(tmp_path / "b", REPS, changed))
    pd.testing.assert_frame_equal(_features(base, 2025), _features(other, 2025))


def test_missing_optional_files_drop_their_columns(tmp_path: Path):
    company = load_company(_company(tmp_path, REPS, AMOUNTS, extra=False))
    feats = _features(company, 2026)
    assert not {"headroom", "terr_headroom", "booked_share1"} & set(feats.columns)
    assert {"lr1", "tenure", "share", "peer"} <= set(feature_columns(feats))


def test_tiny_company_features(tmp_path: Path):
    scenario = write_tiny_company(tmp_path)
    company = load_company(scenario.parent / "data")
    feats = _features(company, 2027)
    assert sorted(feats.index) == ["A1", "A2", "B1", "B2"]  # B3 departed in 2025
    # A1 books 40000 + 100 x month each month of 2026, minus one credit note of 2500.
    assert feats.loc["A1", "anchor"] * feats.loc["A1", "base_level"] == pytest.approx(12 * 40000 + 100 * 78 - 2500)
    # Deal counts and sizes are relative to the typical full-year rep of the year.
    assert feats["deals1"].tolist() == pytest.approx([0.0] * 4)
    sizes = {"A1": 40650.0, "A2": 15650.0, "B1": 35650.0, "B2": 14650.0}
    median = float(np.median(list(sizes.values())))
    assert feats["avg_deal1"].to_dict() == pytest.approx({rep: np.log(v / median) for rep, v in sizes.items()})


def test_generated_company_smoke(tmp_path: Path):
    datasets = pytest.importorskip("quotaopt.datasets")
    folder = datasets.generate_company(tmp_path / "gen", n_reps=40, years=3, seed=2)
    view = CompanyView.of(load_company(folder))
    rows = training_rows(view.panel, view.index, view.pools, 2026)
    assert len(rows.rows) > 30 and np.isfinite(rows.anchor).all() and (rows.anchor > 0).all()
    assert (rows.exposure > 0).all()
    shutil.rmtree(folder)
