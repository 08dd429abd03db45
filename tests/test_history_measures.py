"""The history view by measure (``quotaopt analyze``): product lines, new customers, repurchases, by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.io import load_company
from quotaopt.report.history import complete_years, history_sections, history_views
from quotaopt.report.history_measures import measure_summary, measure_tables, measure_views

TEAMS = "team_id,parent_id,name\nCO,,Company\nEU,CO,Europe\nUS,CO,Americas\n"
REPS = "rep_id,team_id,role,hire_date\nA1,EU,ka,2020-01-01\nB1,US,ka,2020-01-01\n"
# Three complete years (each reaches December). First positive bookings: K1-K3 in 2024 (the
# history's first year: not new), K4 (A1) and K5 (B1) in 2025, K6 (A1) in 2026.
BOOKINGS = """\
date,rep_id,amount,account_id,product_line
2024-01-10,A1,100,K1,Devices
2024-12-05,A1,50,K2,Services
2024-03-10,B1,200,K3,Devices
2024-12-10,B1,10,K3,Services
2025-02-10,A1,100,K1,Devices
2025-06-10,A1,40,K4,Services
2025-04-10,B1,30,K2,Devices
2025-12-10,B1,60,K5,Devices
2026-12-10,A1,20,K4,Services
2026-05-10,A1,70,K6,Devices
2026-01-10,B1,5,K3,Devices
2026-12-11,B1,-10,K5,Devices
"""
SCENARIO = "name: hm\ndata: data/\nplan_year: 2027\n"


def _company(folder: Path, bookings: str = BOOKINGS) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    (data / "teams.csv").write_text(TEAMS)
    (data / "reps.csv").write_text(REPS)
    (data / "bookings.csv").write_text(bookings)
    (folder / "hm.yaml").write_text(SCENARIO)
    return folder / "hm.yaml"


def _views(tmp_path: Path, bookings: str = BOOKINGS):  # type: ignore[no-untyped-def]
    _company(tmp_path, bookings)
    company = load_company(tmp_path / "data")
    return measure_views(company, company.bookings, complete_years(company))


def test_new_customers_by_year_and_unit_by_hand(tmp_path: Path) -> None:
    views = _views(tmp_path)
    assert views.first_year == 2024 and views.customer_years == [2025, 2026]
    table = views.new_customers.set_index("unit_id")
    assert list(table.index) == ["CO", "EU", "US"]  # tree order
    assert table.loc["CO", 2025] == 2 and table.loc["EU", 2025] == 1 and table.loc["US", 2025] == 1
    assert table.loc["CO", 2026] == 1 and table.loc["EU", 2026] == 1 and table.loc["US", 2026] == 0
    assert views.company_new == {2025: 2, 2026: 1}


def test_repurchase_rate_by_year_and_unit_by_hand(tmp_path: Path) -> None:
    views = _views(tmp_path)
    rows = {(r.unit_id, r.year): (r.pool, r.again) for r in views.repurchase.itertuples()}
    # 2025's pool: 2024's buyers by the rep of their last purchase (K1, K2 -> A1; K3 -> B1);
    # K1 and K2 bought again (K2 from B1), K3 did not.
    assert rows[("EU", 2025)] == (2, 2) and rows[("US", 2025)] == (1, 0) and rows[("CO", 2025)] == (3, 2)
    # 2026's pool: K1, K4 (A1), K2, K5 (B1); only K4 bought again (K5's credit note is no purchase).
    assert rows[("EU", 2026)] == (2, 1) and rows[("US", 2026)] == (2, 0) and rows[("CO", 2026)] == (4, 1)
    rate = views.repurchase.set_index(["unit_id", "year"])["rate"]
    assert rate[("CO", 2025)] == pytest.approx(2 / 3) and rate[("EU", 2026)] == pytest.approx(0.5)
    assert views.company_repurchase == {2025: (3, 2), 2026: (4, 1)}


def test_product_line_contribution_by_year_and_quarter_by_hand(tmp_path: Path) -> None:
    views = _views(tmp_path)
    year = views.lines.set_index(["year", "product_line"])
    assert year.loc[(2025, "Devices"), "total"] == 190 and year.loc[(2025, "Services"), "total"] == 40
    assert year.loc[(2025, "Devices"), "share"] == pytest.approx(190 / 230)
    assert year.loc[(2025, "Devices"), "growth"] == pytest.approx(190 / 300 - 1)
    assert year.loc[(2025, "Services"), "growth"] == pytest.approx(40 / 60 - 1)
    assert year.loc[(2025, "Devices"), "Q2"] == 30 and year.loc[(2025, "Devices"), "Q4"] == 60
    quarters = views.line_quarters.set_index(["year", "quarter", "product_line"])["share"]
    assert quarters[(2025, 2, "Devices")] == pytest.approx(30 / 70)
    assert quarters[(2025, 2, "Services")] == pytest.approx(40 / 70)
    shares = views.line_quarters.groupby(["year", "quarter"])["share"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)


def test_bookings_without_a_line_count_apart_and_views_need_their_columns(tmp_path: Path) -> None:
    lines = BOOKINGS.splitlines()
    partial = "\n".join([lines[0], *lines[1:5], lines[5].rsplit(",", 1)[0] + ",", *lines[6:]]) + "\n"
    views = _views(tmp_path / "a", partial)
    assert "(none)" in set(views.lines["product_line"])
    plain = "\n".join(",".join(row.split(",")[:3]) for row in BOOKINGS.splitlines()) + "\n"
    bare = _views(tmp_path / "b", plain)
    assert bare.lines.empty and not bare.company_new and not bare.company_repurchase
    assert measure_summary(bare) == []


def test_analyze_prints_writes_and_shows_every_measure_view(tmp_path: Path) -> None:
    scenario = _company(tmp_path)
    out, tables = tmp_path / "page" / "analysis.html", tmp_path / "tables.json"
    result = CliRunner().invoke(main, ["analyze", str(scenario), "--out", str(out), "--json", str(tables)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"page: {out}", f"tables: {tables}",
        "product lines 2026: Devices 76.5% (-65.8%), Services 23.5% (-50.0%)",
        "new customers: 2025 2, 2026 1",
        "repurchase rate: 2025 66.7% of 3, 2026 25.0% of 4",
    ]
    html = out.read_text()
    for sid in ("periods", "units", "pareto", "growth", "lines", "customers", "repurchase"):
        assert f'<section id="{sid}">' in html and f'href="#{sid}"' in html
    data = json.loads(tables.read_text())
    assert data["plan_year"] == 2027 and data["new_customers"]["company"] == {"2025": 2, "2026": 1}
    us = [r for r in data["repurchase"]["units"] if r["unit_id"] == "US"]
    assert [(r["year"], r["pool"], r["again"], r["rate"]) for r in us] == [(2025, 1, 0, 0.0), (2026, 2, 0, 0.0)]
    assert {"year": 2025, "quarter": 2, "product_line": "Services", "amount": 40.0, "share": 0.571429} \
        in data["product_lines"]["by_quarter"]
    # The workbench's history page shows the same sections.
    company = load_company(tmp_path / "data")
    assert '<section id="customers">' in history_sections(history_views(company, 2027))
    assert measure_tables(history_views(company, 2027).measures)["new_customers"]["years"] == [2025, 2026]  # type: ignore[arg-type]
