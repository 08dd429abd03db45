"""Re-plan after tracking: past periods kept, sums exact, constraints verified, parent linked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotaopt.commands import track as track_run
from quotaopt.datasets import generate_company
from quotaopt.errors import InputError
from quotaopt.io import load_actuals, load_company, read_run
from quotaopt.tracking import (
    ahead_of_pace,
    assess,
    frozen_labels,
    replan,
    run_scenario,
    split_remaining,
)

from tracking_fixtures import build_run, truth_capacity

AS_OF = dt.date(2027, 6, 30)


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("replan")
    data = generate_company(base / "data", n_reps=40, seed=4, actuals_through=AS_OF)
    run = build_run(base, data, truth_capacity(data), stretch=1.05)
    # One rep's quota is locked by hand: the re-plan must keep its annual quota.
    plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})
    locked = plan["rep_id"].iloc[3]
    reps = pd.read_csv(data / "reps.csv", dtype="str", keep_default_na=False)
    reps.loc[reps["rep_id"] == locked, "locked_quota"] = str(int(plan["quota"].iloc[3]))
    reps.to_csv(data / "reps.csv", index=False)
    # Another booked nothing all half-year: far behind, its stretch must give way to max_change.
    silent = plan["rep_id"].iloc[int(np.argmax(plan["quota"].to_numpy()))]
    actuals = pd.read_csv(data / "actuals.csv", dtype="str", keep_default_na=False)
    actuals[actuals["rep_id"] != silent].to_csv(data / "actuals_mod.csv", index=False)
    return run, data, locked


@pytest.fixture(scope="module")
def replanned(parent: tuple[Path, Path, str]) -> tuple[Path, Path]:
    run, data, _ = parent
    out = track_run(run, data / "actuals_mod.csv", AS_OF, replan=True, draws=300)
    assert out.replan is not None
    return run, out.replan.path


def test_replan_keeps_every_past_period_and_every_sum(replanned: tuple[Path, Path]) -> None:
    old_path, new_path = replanned
    old, new = read_run(old_path), read_run(new_path)
    frozen = [f"2027-{m:02d}" for m in range(1, 7)]
    key = ["rep_id", "period"]
    past_old = old.periods[old.periods["period"].isin(frozen)].sort_values(key).reset_index(drop=True)
    past_new = new.periods[new.periods["period"].isin(frozen)].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(past_old, past_new)
    sums = new.periods.groupby("rep_id")["quota"].sum()
    assert (sums.reindex(new.plan["rep_id"]).to_numpy() == new.plan["quota"].to_numpy()).all()
    assert new.plan["quota"].sum() == old.plan["quota"].sum()
    assert (new.plan["quota"] % 1000 == 0).all()
    parent_of = dict(zip(new.units["unit_id"], new.units["parent_id"], strict=True))
    subtree: dict[str, float] = {}
    for team, quota in zip(new.plan["team_id"], new.plan["quota"], strict=True):
        unit = team
        while isinstance(unit, str):
            subtree[unit] = subtree.get(unit, 0.0) + quota
            unit = parent_of[unit]
    units = new.units.set_index("unit_id")["quota"]
    assert all(units[u] == subtree.get(u, 0.0) for u in units.index)
    assert units[new.units.loc[new.units["level"] == 0, "unit_id"].iloc[0]] == old.plan["quota"].sum()
    assert set(new.periods["period"]) == set(old.periods["period"])


def test_replan_links_its_parent_and_says_what_changed(replanned: tuple[Path, Path]) -> None:
    old_path, new_path = replanned
    old, new = read_run(old_path), read_run(new_path)
    assert new.manifest.parent_run == old.run_id and new.manifest.replan is not None
    assert new.manifest.replan.as_of == AS_OF.isoformat()
    assert new.manifest.replan.frozen_periods == [f"2027-{m:02d}" for m in range(1, 7)]
    audit = [json.loads(line) for line in (old.runs_root / "audit.jsonl").read_text().splitlines()]
    line = next(a for a in audit if a["run_id"] == new.run_id)
    assert line["parent_run"] == old.run_id
    changed = (new.plan["quota"].to_numpy() != old.plan["quota"].to_numpy()).sum()
    assert line["replan"]["reps_changed"] == changed
    meta = json.loads((old_path / f"track-{AS_OF.isoformat()}" / "track.json").read_text())
    assert meta["replan"]["run_id"] == new.run_id


def test_replan_respects_stretch_max_change_and_locks_on_the_remaining_part(
        parent: tuple[Path, Path, str], replanned: tuple[Path, Path]) -> None:
    run_path, data, locked = parent
    old, new = read_run(run_path), read_run(replanned[1])
    scenario = run_scenario(old)
    company = load_company(data)
    actuals = load_actuals(data / "actuals_mod.csv", company, 2027)
    result = assess(old, company, actuals, scenario, 2027, AS_OF, draws=300)
    frozen = old.periods["period"] <= "2027-06"
    past = old.periods[frozen].groupby("rep_id")["quota"].sum().reindex(old.plan["rep_id"]).to_numpy()
    quota_old = old.plan["quota"].to_numpy(dtype=float)
    rest_old = quota_old - past
    rest_new = new.plan["quota"].to_numpy(dtype=float) - past
    p50 = result.posterior.quantiles(rest_old / quota_old)[1]
    free = (old.plan["rep_id"] != locked).to_numpy()
    assert new.manifest.replan is not None
    gave_way = {r.rep_id for r in new.manifest.replan.stretch_relaxed}
    ahead = ahead_of_pace(result.plan_to_date, result.actual)
    # No ratchet: a rep ahead of pace keeps at most its remaining quota (a cap below any floor).
    assert ahead.any() and (rest_new[ahead] <= rest_old[ahead]).all()
    strict = free & ~old.plan["rep_id"].isin(gave_way).to_numpy()
    cfg = scenario.allocation
    assert (np.abs(rest_new - rest_old)[free] <= cfg.max_change * rest_old[free] + 1e-6).all()
    assert (rest_new[strict & ~ahead] >= cfg.stretch[0] * p50[strict & ~ahead] - 1e-6).all()
    assert (rest_new[strict] <= cfg.stretch[1] * p50[strict] + 1e-6).all()
    # Where stretch gave way, max_change holds at its bound nearest the stretch window.
    silent = int(np.argmax(quota_old))
    assert old.plan["rep_id"].iloc[silent] in gave_way
    for i in np.flatnonzero(~strict & free):
        if rest_new[i] > cfg.stretch[1] * p50[i]:  # behind: the smallest cut max_change allows
            assert rest_new[i] == np.ceil((1 - cfg.max_change) * rest_old[i] / 1000 - 1e-9) * 1000
        else:  # ahead: the largest rise max_change allows
            assert rest_new[i] == np.floor((1 + cfg.max_change) * rest_old[i] / 1000 + 1e-9) * 1000
    assert (rest_new != rest_old).any()  # something was re-optimised
    i = int(np.flatnonzero(~free)[0])
    assert new.plan["quota"].iloc[i] == old.plan["quota"].iloc[i]


def test_the_period_in_progress_is_kept_and_a_finished_year_cannot_be_replanned() -> None:
    labels = [f"2027-{m:02d}" for m in range(1, 13)]
    assert frozen_labels(labels, 2027, dt.date(2027, 6, 15)) == [True] * 6 + [False] * 6
    assert frozen_labels(labels, 2027, dt.date(2027, 6, 30)) == [True] * 6 + [False] * 6
    assert frozen_labels(labels, 2027, dt.date(2027, 7, 1)) == [True] * 7 + [False] * 5
    quarters = [f"2027-Q{q}" for q in range(1, 5)]
    assert frozen_labels(quarters, 2027, dt.date(2027, 8, 1)) == [True, True, True, False]


def test_replan_after_the_last_period_started_is_refused(parent: tuple[Path, Path, str]) -> None:
    run_path, data, _ = parent
    run = read_run(run_path)
    company = load_company(data)
    actuals = load_actuals(data / "actuals.csv", company, 2027)
    day = dt.date(2027, 12, 1)
    result = assess(run, company, actuals, run_scenario(run), 2027, day, draws=50)
    with pytest.raises(InputError, match="nothing left to re-plan"):
        replan(run, company, run_scenario(run), result, day)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=1, max_size=8), st.lists(st.floats(0, 10), min_size=8, max_size=8),
       st.sampled_from([0.0, 250.0]))
def test_split_remaining_sums_exactly_in_whole_units(units: list[int], weights: list[float], extra: float) -> None:
    amount = np.array(units, dtype=float) * 1000.0 + extra
    w = np.tile(np.array(weights[:5]), (len(units), 1))
    out = split_remaining(amount, w, 1000.0)
    assert np.allclose(out.sum(axis=1), amount, atol=1e-9)
    whole = out - np.where(np.arange(5)[None, :] == np.argmax(np.where(w.sum(axis=1, keepdims=True) > 0, w, 1.0),
                                                                 axis=1)[:, None], extra, 0.0)
    assert np.allclose(whole / 1000.0, np.round(whole / 1000.0))
    assert (out >= 0).all()
