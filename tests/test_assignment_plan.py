"""Assignment inside ``quotaopt plan``: new books, capacities re-scored on them, the run's files.

One generated company (30 seats, new logos, vacant seats, uneven books) planned through
the CLI in-process; the hand-solved cases are in test_assignment_cases.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.assignment import MOVE_COLUMNS, assign_accounts
from quotaopt.assignment._inputs import prepare
from quotaopt.assignment._verify import verify
from quotaopt.cli import main
from quotaopt.datasets import book_capacity, generate_company
from quotaopt.errors import SolverError
from quotaopt.io import load_company
from quotaopt.scenario import AllocationConfig, AssignmentConfig

SCENARIO = """\
name: books
data: data/
plan_year: 2027
allocation:
  unit: 1000
simulation:
  draws: 200
  seed: 1
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("books")
    generate_company(root / "data", n_reps=30, seed=1, unowned=0.1, vacant=0.1, imbalance=0.5)
    return root


def _plan(root: Path, assignment: str, out: str) -> Path:
    scenario = root / f"{out}.yaml"
    scenario.write_text(SCENARIO + assignment)
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(root / out)])
    assert result.exit_code == 0, result.output
    (run,) = sorted(p for p in (root / out / "books").iterdir() if p.is_dir())
    return run


@pytest.fixture(scope="module")
def runs(folder: Path) -> dict[str, Path]:
    return {"off": _plan(folder, "", "off"),
            "rebalance": _plan(folder, "assignment:\n  mode: rebalance\n", "rebalance")}


def test_off_by_default_writes_no_books(runs: dict[str, Path]) -> None:
    run = runs["off"]
    assert not (run / "assignments.csv").exists()
    assert "assignment" not in json.loads((run / "summary.json").read_text())
    assert 'id="books"' not in (run / "report.html").read_text()


def test_rebalance_writes_assignments_books_and_summary(folder: Path, runs: dict[str, Path]) -> None:
    run = runs["rebalance"]
    moves = pd.read_csv(run / "assignments.csv", dtype=str, keep_default_na=False)
    assert list(moves.columns) == MOVE_COLUMNS
    accounts = pd.read_csv(folder / "data" / "accounts.csv", dtype=str, keep_default_na=False)
    reps = pd.read_csv(folder / "data" / "reps.csv", dtype=str)
    active = set(reps.loc[reps["status"] == "active", "rep_id"])
    # Every account without an active owner is in the file, with the reason why.
    orphans = accounts[~accounts["rep_id"].isin(active)]
    listed = moves.set_index("account_id")
    assert set(orphans["account_id"]) <= set(listed.index)
    assert set(listed.loc[orphans["account_id"], "reason"]) <= {"unowned", "priority", "departed owner"}
    assert set(moves["to"]) <= active
    summary = json.loads((run / "summary.json").read_text())
    a = summary["assignment"]
    assert a["mode"] == "rebalance" and a["accounts_assigned"] == len(orphans)
    assert a["accounts_moved"] == int((moves["reason"] == "balance").sum())
    assert a["balance_spread"]["after"] < a["balance_spread"]["before"]
    assert a["capacity_rescored"] is True
    assert a["solver"]["status"] in {"optimal", "feasible"} and a["solver"]["gap"] <= a["solver"]["mip_gap"] + 1e-9
    html = (run / "report.html").read_text()
    assert 'id="books"' in html and 'href="#books"' in html
    sheets = pd.read_excel(run / "plan.xlsx", sheet_name=None)
    assert {"Books", "Assignments"} <= set(sheets)
    assert len(sheets["Assignments"]) == len(moves)


def test_quotas_are_set_on_the_new_books(runs: dict[str, Path]) -> None:
    # The quota MILP reads capacities re-scored on the books after the assignment: a rep who
    # took over a departed rep's accounts has a different capacity than without assignment.
    off = pd.read_csv(runs["off"] / "plan.csv", dtype={"rep_id": str}).set_index("rep_id")
    on = pd.read_csv(runs["rebalance"] / "plan.csv", dtype={"rep_id": str}).set_index("rep_id")
    assert list(off.index) == list(on.index)
    assert not np.allclose(off["capacity_p50"], on["capacity_p50"])
    assert on["quota"].sum() == pytest.approx(off["quota"].sum(), rel=0.05)


def test_more_is_sold_under_the_truth(folder: Path, runs: dict[str, Path]) -> None:
    accounts = pd.read_csv(folder / "data" / "accounts.csv", dtype=str, keep_default_na=False)
    before = accounts.set_index("account_id")["rep_id"]
    moves = pd.read_csv(runs["rebalance"] / "assignments.csv", dtype=str).set_index("account_id")
    after = before.copy()
    after[moves.index] = moves["to"]
    assert book_capacity(folder / "data", after).sum() > book_capacity(folder / "data", before).sum()


def test_same_inputs_give_byte_identical_books(folder: Path, runs: dict[str, Path]) -> None:
    again = _plan(folder, "assignment:\n  mode: rebalance\n", "again")
    for name in ("assignments.csv", "plan.csv", "summary.json"):
        assert (again / name).read_bytes() == (runs["rebalance"] / name).read_bytes(), name


def test_a_broken_solution_is_refused(folder: Path) -> None:
    # verify() re-checks every rule from the owners alone: a key account handed to a long-tail
    # rep, or a locked account moved, stops the plan (exit 4) naming it.
    company = load_company(folder / "data")
    config = AssignmentConfig(mode="rebalance")
    prep = prepare(company, 2027, config, AllocationConfig())
    result = assign_accounts(company, 2027, config, AllocationConfig())
    owner = pd.Index(prep.rep_ids).get_indexer(result.accounts["rep_id"])
    verify(prep, owner)  # the solution itself passes
    key = int(np.flatnonzero(prep.acc_ka & prep.acc_free)[0])
    bad = owner.copy()
    bad[key] = int(np.flatnonzero(~prep.rep_ka & (prep.rep_pool == prep.acc_pool[key]))[0])
    with pytest.raises(SolverError, match="not eligible for its tier"):
        verify(prep, bad)
    stuck = int(np.flatnonzero(~prep.acc_free)[0])
    bad = owner.copy()
    bad[stuck] = (owner[stuck] + 1) % prep.n_reps
    with pytest.raises(SolverError, match="was no decision but moved|outside its pool|not eligible"):
        verify(prep, bad)


def test_bad_keys_are_input_errors(folder: Path) -> None:
    scenario = folder / "bad.yaml"
    scenario.write_text(SCENARIO + "assignment:\n  mode: everything\n")
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(folder / "bad")])
    assert result.exit_code == 2 and "assignment.mode" in result.output
    assert not (folder / "bad").exists()


def test_an_account_nobody_may_take_is_exit_3(folder: Path, tmp_path: Path) -> None:
    # Every key-account rep leaves: the new key accounts cannot go anywhere.
    data = tmp_path / "data"
    data.mkdir()
    for f in (folder / "data").iterdir():
        if f.is_file():
            (data / f.name).write_bytes(f.read_bytes())
    reps = pd.read_csv(data / "reps.csv", dtype=str, keep_default_na=False)
    reps.loc[reps["role"] == "ka", "status"] = "departed"
    reps.to_csv(data / "reps.csv", index=False)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO + "assignment:\n  mode: unowned_only\n")
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 3, result.output
    assert "no active rep eligible for key accounts" in result.output
