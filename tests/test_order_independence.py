"""Order independence (issue #14): the same data in any row order, and ids renamed without
changing their data, give the same plan for every rep.

A random company with capacities given by hand (``capacity.model: given``) is planned
three times: as written, with the rows of every file shuffled, and with one rep renamed
everywhere. Shuffled rows must give byte-identical plan files; the renamed company
must give the same rows once the old name is put back (every other rep's quota,
periods, p_attain and payout unchanged). The same holds with the capacity model
(``train``): its folds and training order come from each rep's data, not its id.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotaopt.io import csv_bytes, json_bytes, load_inputs
from quotaopt.planning import run_plan

TABLES = ("teams", "reps", "bookings", "accounts", "capacity")


def _company(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    teams = pd.DataFrame({"team_id": ["CO", "EMEA", "AMER", "E1", "E2", "A1"],
                          "parent_id": ["", "CO", "CO", "EMEA", "EMEA", "AMER"]})
    n = int(rng.integers(8, 16))
    ids = [f"R{i:02d}" for i in rng.permutation(np.arange(10, 10 + n))]
    leaves = np.array(["E1", "E2", "A1", "AMER"])
    p50 = np.round(rng.uniform(80_000, 600_000, n), 2) + np.arange(n) * 0.37  # distinct: no ties in the data
    reps = pd.DataFrame({
        "rep_id": ids,
        "team_id": leaves[rng.integers(0, len(leaves), n)],
        "role": np.where(rng.random(n) < 0.4, "ka", "longtail"),
        "hire_date": [str(pd.Timestamp("2019-01-01") + pd.Timedelta(days=int(d)))[:10]
                      for d in rng.integers(0, 2350, n)],
        "last_quota": np.where(rng.random(n) < 0.7, np.round(p50 * rng.uniform(0.8, 1.2, n), -3), np.nan),
        "locked_quota": [np.nan] * n,
    })
    locked = int(rng.integers(0, n))
    reps.loc[locked, "locked_quota"] = float(np.round(p50[locked], -3))
    capacity = pd.DataFrame({"rep_id": ids, "p10": np.round(p50 * rng.uniform(0.6, 0.9, n), 2), "p50": p50,
                             "p90": np.round(p50 * rng.uniform(1.1, 1.6, n), 2)})
    accounts = pd.DataFrame({"account_id": [f"K{i}" for i in range(n)], "rep_id": ids,
                             "tier": reps["role"], "potential": np.round(p50 * 3, 0)})
    rows = []
    for year in (2025, 2026):
        for month in range(1, 13):
            for i, rid in enumerate(ids):
                for _ in range(int(rng.integers(1, 3))):
                    amount = round(float(p50[i] / 24 * rng.uniform(0.5, 1.5)), 2)
                    rows.append((f"{year}-{month:02d}-{int(rng.integers(1, 28)):02d}", rid, amount, f"K{i}"))
    bookings = pd.DataFrame(rows, columns=["date", "rep_id", "amount", "account_id"])
    return {"teams": teams, "reps": reps, "bookings": bookings, "accounts": accounts, "capacity": capacity}


def _scenario(fairness: str, model: str = "given") -> str:
    """The scenario planned three times (``model="train"``: capacities from the capacity model)."""
    return textwrap.dedent(f"""\
        name: order
        data: data/
        plan_year: 2027
        capacity: {{model: {model}}}
        target: {{growth: 0.12, over_assignment: 0.05}}
        allocation: {{unit: 1000, stretch: [0.5, 2.0], flex: 0.3, max_change: 0.5, fairness: {fairness}}}
        periods: {{split: month}}
        incentives:
          plans:
            - {{name: all, kind: bonus, target_incentive: 10000, period: quarter,
               tiers: [{{from: 0.0, to: 1.0, rate: 1.0}}, {{from: 1.0, rate: 2.0}}]}}
        simulation: {{draws: 640, seed: 5}}
        """)


def _plan(folder: Path, tables: dict[str, pd.DataFrame], fairness: str, model: str = "given") -> dict[str, bytes]:
    data = folder / "data"
    data.mkdir(parents=True)
    for name in TABLES:
        tables[name].to_csv(data / f"{name}.csv", index=False)
    scenario = folder / "order.yaml"
    scenario.write_text(_scenario(fairness, model))
    result = run_plan(load_inputs(scenario))
    return {"plan.csv": csv_bytes(result.plan), "plan_periods.csv": csv_bytes(result.periods),
            "units.csv": csv_bytes(result.units), "summary.json": json_bytes(result.summary.record())}


def _shuffled(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {k: v.iloc[rng.permutation(len(v))].reset_index(drop=True) for k, v in tables.items()}


def _renamed(tables: dict[str, pd.DataFrame], old: str, new: str) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        if "rep_id" in frame.columns:
            frame["rep_id"] = frame["rep_id"].replace(old, new)
        out[name] = frame
    return out


def _rows(data: bytes, new: str, old: str) -> pd.DataFrame:
    """A plan file with the renamed rep's old name put back, sorted as the original lists reps."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    frame["rep_id"] = frame["rep_id"].replace(new, old)
    return frame.sort_values(["rep_id", *[c for c in ("period",) if c in frame]], kind="stable").reset_index(drop=True)


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), pick=st.integers(0, 100), fairness=st.sampled_from(["stretch", "chance"]),
       new_name=st.sampled_from(["00-first", "zz-last", "R10x", "M"]))
def test_shuffled_rows_and_a_renamed_rep_change_no_other_rep(tmp_path_factory: pytest.TempPathFactory, seed: int, pick: int, fairness: str,
                                                             new_name: str) -> None:
    tables = _company(seed)
    base = _plan(tmp_path_factory.mktemp("base"), tables, fairness)

    shuffled = _plan(tmp_path_factory.mktemp("shuffled"), _shuffled(tables, seed + 1), fairness)
    for name, data in base.items():
        assert shuffled[name] == data, f"{name} changed when the rows were shuffled"

    old = str(tables["reps"]["rep_id"].iloc[pick % len(tables["reps"])])
    renamed = _plan(tmp_path_factory.mktemp("renamed"), _renamed(tables, old, new_name), fairness)
    for name in ("plan.csv", "plan_periods.csv"):
        before, after = _rows(base[name], new_name, old), _rows(renamed[name], new_name, old)
        pd.testing.assert_frame_equal(before, after, obj=f"{name} after renaming {old} to {new_name}")
    assert renamed["units.csv"] == base["units.csv"]
    assert renamed["summary.json"].replace(new_name.encode(), old.encode()) == base["summary.json"]


@pytest.mark.parametrize(("seed", "pick", "new_name"), [(3, 1, "00-first"), (41, 5, "zz-last")])
def test_with_the_capacity_model_too(tmp_path: Path, seed: int, pick: int, new_name: str) -> None:
    tables = _company(seed)
    base = _plan(tmp_path / "base", tables, "stretch", "train")
    shuffled = _plan(tmp_path / "shuffled", _shuffled(tables, seed + 1), "stretch", "train")
    for name, data in base.items():
        assert shuffled[name] == data, f"{name} changed when the rows were shuffled"
    old = str(tables["reps"]["rep_id"].iloc[pick % len(tables["reps"])])
    renamed = _plan(tmp_path / "renamed", _renamed(tables, old, new_name), "stretch", "train")
    for name in ("plan.csv", "plan_periods.csv"):
        before, after = _rows(base[name], new_name, old), _rows(renamed[name], new_name, old)
        pd.testing.assert_frame_equal(before, after, obj=f"{name} after renaming {old} to {new_name}")


@pytest.mark.parametrize("cents", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bookings_sort_is_the_stable_sort_by_every_key(seed: int, cents: bool) -> None:
    """Dates and amounts in whole cents sort as one key (:func:`_date_cents_order`), others by Arrow;
    either way the rows come out as a stable sort by date, amount, rep and account leaves them."""
    from quotaopt.ordering import _date_cents_order, _key, sort_rows

    rng = np.random.default_rng(seed)
    n = 4000
    amounts = rng.choice([0.0, -0.0, 12.5, 99.99, -3.25, 1e6, 250.0], n)  # many rows tie on date and amount
    if not cents:
        amounts = amounts / 3.0  # no longer whole cents
    frame = pd.DataFrame({
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D"),
        "amount": amounts,
        "rep_id": pd.Categorical(rng.choice(["RP3", "RP1", "RP2"], n)),  # coded, as load_company keeps them
        "account_id": np.array(rng.choice(["AC2", "AC1", None], n), dtype=object),
        "row": np.arange(n),
    })
    keys = ["date", "amount", "rep_id", "account_id"]
    took_cents = _date_cents_order(_key(frame["date"]), _key(frame["amount"])) is not None
    assert took_cents == cents
    expected = frame.astype({"rep_id": object}).sort_values(keys, kind="stable", na_position="last")["row"]
    assert sort_rows(frame, keys, fast=2)["row"].tolist() == expected.tolist()
    # Without text keys, rows tying on both keys keep their file order.
    expected = frame.sort_values(["date", "amount"], kind="stable")["row"]
    assert sort_rows(frame, ["date", "amount"], fast=2)["row"].tolist() == expected.tolist()
