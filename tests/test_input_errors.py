"""Malformed inputs: each gives exit 2, one located message, no traceback, nothing written.

Every case edits one file of the tiny company (data or scenario) and states the
file and the row or key path the message must name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotaopt.cli import main


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text, f"fixture text {old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))

    return edit


def _append(name: str, line: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        with (folder / name).open("a") as fh:
            fh.write(line + "\n")

    return edit


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return edit


def _delete(name: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / name).unlink()

    return edit


D = "data/"
# (case id, edit, file named, location named: a row number "file:N:" or a key path)
CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    # teams.csv
    ("team-duplicate-id", _append(D + "teams.csv", "EU,CO,Dup,"), "teams.csv", "teams.csv:5:team_id"),
    ("team-two-roots", _replace(D + "teams.csv", "US,CO,", "US,,"), "teams.csv", "teams.csv:2:parent_id"),
    ("team-no-root", _replace(D + "teams.csv", "CO,,Company", "CO,US,Company"), "teams.csv", "parent_id"),
    ("team-cycle", _append(D + "teams.csv", "X1,X2,x,\nX2,X1,y,"), "teams.csv", "teams.csv:5:parent_id"),
    ("team-unknown-parent", _replace(D + "teams.csv", "US,CO,", "US,ZZ,"), "teams.csv", "teams.csv:4:parent_id"),
    ("team-missing-column", _write(D + "teams.csv", "team_id,name\nCO,Company\n"), "teams.csv", "parent_id"),
    ("team-negative-target", _replace(D + "teams.csv", "EU,CO,Europe,", "EU,CO,Europe,-5"), "teams.csv", "teams.csv:3:target"),
    ("team-target-text", _replace(D + "teams.csv", "EU,CO,Europe,", "EU,CO,Europe,lots"), "teams.csv", "teams.csv:3:target"),
    # reps.csv
    ("rep-duplicate-id", _append(D + "reps.csv", "A1,EU,ka,2019-03-01,1,active,Dup,,"), "reps.csv", "reps.csv:7:rep_id"),
    ("rep-unknown-team", _replace(D + "reps.csv", "A2,EU,", "A2,XX,"), "reps.csv", "reps.csv:3:team_id"),
    ("rep-bad-role", _replace(D + "reps.csv", "A2,EU,longtail", "A2,EU,hunter"), "reps.csv", "reps.csv:3:role"),
    ("rep-bad-hire-date", _replace(D + "reps.csv", "2020-06-15", "15/06/2020"), "reps.csv", "reps.csv:3:hire_date"),
    ("rep-empty-hire-date", _replace(D + "reps.csv", "2020-06-15", ""), "reps.csv", "reps.csv:3:hire_date"),
    ("rep-fte-zero", _replace(D + "reps.csv", "2020-06-15,1,", "2020-06-15,0,"), "reps.csv", "reps.csv:3:fte"),
    ("rep-fte-above-one", _replace(D + "reps.csv", "2020-06-15,1,", "2020-06-15,1.5,"), "reps.csv", "reps.csv:3:fte"),
    ("rep-bad-status", _replace(D + "reps.csv", ",departed,", ",gone,"), "reps.csv", "reps.csv:6:status"),
    ("rep-negative-last-quota", _replace(D + "reps.csv", "200000", "-200000"), "reps.csv", "reps.csv:3:last_quota"),
    ("rep-locked-quota-text", _replace(D + "reps.csv", "Bob,200000,", "Bob,200000,abc"), "reps.csv", "reps.csv:3:locked_quota"),
    ("rep-missing-role-column", _write(D + "reps.csv", "rep_id,team_id,hire_date\nA1,EU,2019-03-01\n"), "reps.csv", "role"),
    ("rep-empty-id", _replace(D + "reps.csv", "A2,EU,", ",EU,"), "reps.csv", "reps.csv:3:rep_id"),
    # bookings.csv
    ("booking-unknown-rep", _append(D + "bookings.csv", "2026-05-01,ZZ9,100,K1"), "bookings.csv", "bookings.csv:111:rep_id"),
    ("booking-bad-date", _append(D + "bookings.csv", "2026-13-01,A1,100,K1"), "bookings.csv", "bookings.csv:111:date"),
    ("booking-amount-text", _append(D + "bookings.csv", "2026-05-01,A1,ten,K1"), "bookings.csv", "bookings.csv:111:amount"),
    ("booking-amount-inf", _append(D + "bookings.csv", "2026-05-01,A1,inf,K1"), "bookings.csv", "bookings.csv:111:amount"),
    ("booking-amount-nan", _append(D + "bookings.csv", "2026-05-01,A1,nan,K1"), "bookings.csv", "bookings.csv:111:amount"),
    ("booking-amount-empty", _append(D + "bookings.csv", "2026-05-01,A1,,K1"), "bookings.csv", "bookings.csv:111:amount"),
    ("booking-unknown-account", _append(D + "bookings.csv", "2026-05-01,A1,10,K9"), "bookings.csv", "bookings.csv:111:account_id"),
    ("booking-no-rows", _write(D + "bookings.csv", "date,rep_id,amount\n"), "bookings.csv", "bookings.csv"),
    ("booking-not-utf8", _write(D + "bookings.csv", b"date,rep_id,amount\n2026-01-01,A1,\xff\xfe\n"), "bookings.csv", "UTF-8"),
    ("booking-empty-file", _write(D + "bookings.csv", ""), "bookings.csv", "bookings.csv"),
    # accounts.csv, territories.csv, capacity.csv
    ("account-bad-tier", _replace(D + "accounts.csv", "L1,A2,longtail", "L1,A2,gold"), "accounts.csv", "accounts.csv:4:tier"),
    ("account-negative-potential", _replace(D + "accounts.csv", "150000", "-1"), "accounts.csv", "accounts.csv:4:potential"),
    ("account-unknown-territory", _replace(D + "accounts.csv", "150000,T1", "150000,T9"), "accounts.csv", "accounts.csv:4:territory_id"),
    ("account-duplicate-id", _append(D + "accounts.csv", "K1,A1,ka,1,T1"), "accounts.csv", "accounts.csv:6:account_id"),
    ("account-unknown-rep", _replace(D + "accounts.csv", "L2,B2,", "L2,Q7,"), "accounts.csv", "accounts.csv:5:rep_id"),
    ("territory-negative-potential", _replace(D + "territories.csv", "T2,4000000", "T2,-4"), "territories.csv", "territories.csv:3:potential"),
    ("territory-missing-potential", _write(D + "territories.csv", "territory_id,market_growth\nT1,0.1\nT2,0.1\n"), "territories.csv", "potential"),
    ("capacity-p10-above-p50", _write(D + "capacity.csv", "rep_id,p10,p50,p90\nA1,9,5,10\n"), "capacity.csv", "capacity.csv:2:p10"),
    ("capacity-unknown-rep", _write(D + "capacity.csv", "rep_id,p10,p50,p90\nZZ,1,5,10\n"), "capacity.csv", "capacity.csv:2:rep_id"),
    ("missing-reps-file", _delete(D + "reps.csv"), "reps.csv", "reps.csv"),
    # scenario file: key paths
    ("scenario-unknown-key", _replace("tiny.yaml", "name: tiny", "name: tiny\ncolour: blue"), "tiny.yaml", "colour"),
    ("scenario-unknown-nested-key", _replace("tiny.yaml", "  unit: 1000", "  unit: 1000\n  strech: [1, 2]"), "tiny.yaml", "allocation.strech"),
    ("scenario-stretch-inverted", _replace("tiny.yaml", "[0.8, 1.3]", "[1.3, 0.8]"), "tiny.yaml", "allocation.stretch"),
    ("scenario-ka-share-range", _replace("tiny.yaml", "  unit: 1000", "  unit: 1000\n  ka_share: [0.5, 1.2]"), "tiny.yaml", "allocation.ka_share"),
    ("scenario-tiers-overlap", _replace("tiny.yaml", "{from: 1.0, rate: 2.0}", "{from: 0.9, rate: 2.0}"), "tiny.yaml", "incentives.plans[0]"),
    ("scenario-tiers-gap", _replace("tiny.yaml", "{from: 1.0, rate: 2.0}", "{from: 1.2, rate: 2.0}"), "tiny.yaml", "incentives.plans[0]"),
    ("scenario-draws-type", _replace("tiny.yaml", "draws: 500", "draws: many"), "tiny.yaml", "simulation.draws"),
    ("scenario-plan-year-in-history", _replace("tiny.yaml", "plan_year: 2027", "plan_year: 2026"), "tiny.yaml", "plan_year"),
    ("scenario-company-and-growth", _replace("tiny.yaml", "  growth: 0.10", "  growth: 0.10\n  company: 5000000"), "tiny.yaml", "target"),
    ("scenario-weights-sum", _append("tiny.yaml", "periods:\n  seasonality: [0.3, 0.3, 0.3, 0.3]"), "tiny.yaml", "periods.seasonality"),
    ("scenario-bad-yaml", _append("tiny.yaml", "allocation: [unclosed"), "tiny.yaml", "tiny.yaml:"),
    ("scenario-extends-missing", _replace("tiny.yaml", "name: tiny", "name: tiny\nextends: nowhere.yaml"), "tiny.yaml", "extends"),
    ("scenario-given-without-file", _append("tiny.yaml", "capacity:\n  model: given"), "tiny.yaml", "capacity.model"),
    ("scenario-unknown-backend", _replace("tiny.yaml", "  unit: 1000", "  unit: 1000\n  solver: {backend: gurobi}"), "tiny.yaml", "allocation.solver.backend"),
    ("scenario-tracking-order", _append("tiny.yaml", "tracking: {red: 1.2, green: 1.0}"), "tiny.yaml", "tracking"),
    ("scenario-not-mapping", _write("tiny.yaml", "- just\n- a list\n"), "tiny.yaml", "mapping"),
    ("scenario-unknown-plan-team", _replace("tiny.yaml", "kind: bonus", "kind: bonus\n      applies_to: {team_id: MARS}"), "tiny.yaml", "incentives.plans[0].applies_to.team_id"),
    ("scenario-negative-unit", _replace("tiny.yaml", "unit: 1000", "unit: -5"), "tiny.yaml", "allocation.unit"),
    ("scenario-data-missing", _replace("tiny.yaml", "data: data/", "data: nowhere/"), "nowhere", "not found"),
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("edit", "file_named", "location"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input_is_exit_2_with_location(tiny: Path, edit: Callable[[Path], None], file_named: str, location: str) -> None:
    folder = tiny.parent
    edit(folder)
    before = _snapshot(folder)
    result = CliRunner().invoke(main, ["validate", str(tiny)])
    message = result.stderr if result.stderr else result.output
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert file_named in message, message
    assert location in message, message
    assert _snapshot(folder) == before  # nothing written


def test_case_count_meets_the_bar() -> None:
    assert len(CASES) >= 30


def test_many_problems_are_listed_twenty_then_counted(tiny: Path) -> None:
    rows = "\n".join(f"2026-05-01,NOPE{i},1,K1" for i in range(30))
    _append("data/bookings.csv", rows)(tiny.parent)
    _replace("data/reps.csv", "A2,EU,longtail", "A2,EU,hunter")(tiny.parent)
    result = CliRunner().invoke(main, ["validate", str(tiny)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    located = [line for line in lines if re.match(r"^\S+\.csv:\d+:\w+: ", line)]
    assert len(located) == 20
    assert re.search(r"and \d+ more", lines[-1])
    assert any("reps.csv:3:role" in line for line in lines)


def test_the_count_of_the_rest_counts_rows_not_folded_lines(tiny: Path) -> None:
    # 300 bad rows of one rule: 50 are listed one by one, the rest folded into one line,
    # and the closing count says how many rows are not shown, not how many lines.
    rows = "\n".join(f"2026-05-01,NOPE{i},1,K1" for i in range(300))
    _append("data/bookings.csv", rows)(tiny.parent)
    result = CliRunner().invoke(main, ["validate", str(tiny)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].endswith("and 280 more problem(s)")


def test_valid_tiny_company_passes(tiny: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tiny)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "credit notes: 1" in result.output


def test_a_broken_line_in_a_large_csv_is_named_the_same_way_every_time(tmp_path: Path) -> None:
    # Over Arrow's 16 MB block, so the parallel reader splits the file: its blocks raced to
    # report, and the message named no row. The failure is read again on one thread.
    from quotaopt.data_source import Dialect
    from quotaopt.io._readers import read_csv

    lines = ["rep_id,date,amount"] + [f"RP{i:06d},2025-01-01,{i}" for i in range(1_200_000)]
    lines[1_000_000] = "RP000001,2025-01-01,1,234.5"
    lines[700_000] = "RP000002,2025-01-01,1,5"
    path = tmp_path / "bookings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 16 << 20
    messages = {read_csv(path, "bookings.csv", {"amount"}, Dialect())[1][0].message for _ in range(3)}
    assert messages == {"cannot be read: CSV parse error: Row #700001: Expected 3 columns, got 4: "
                        "RP000002,2025-01-01,1,5"}
