"""report.html: sections, charts, escaping, no external resources, honest solver status."""

from __future__ import annotations

import re
import sys
from html import escape

import numpy as np
import pandas as pd
import pytest

from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult, Summary
from quotaopt.report import render_html
from quotaopt.report._common import attainment_band
from quotaopt.report._markup import unit_tree
from quotaopt.report.html import REP_TABLE_CAP, SECTIONS

from report_fixtures import EVIL_REP, EVIL_TEAM, make_result


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(make_result(40)).decode("utf-8")


def _section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert match, sid
    return match.group(1)


def test_every_section_and_chart(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for sid, _label in SECTIONS:
        assert page.count(f'id="{sid}"') == 1
        assert f'href="#{sid}"' in page
    # scatter, stretch, 3 simulation distributions + per-rep P(attain), periods
    assert page.count("<svg") == 7
    assert "<svg" in _section(page, "capacity") and "<svg" in _section(page, "stretch")
    assert _section(page, "simulation").count("<svg") == 4
    # chart ids are prefixed per chart, so no id repeats on the page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_headline_figures(page: str) -> None:
    head = _section(page, "headline")
    for text in ("Company target", "Total quota", "P(company target met)", "64.0%", "Expected payout",
                 "P10 430k", "P90 610k", "Cost of sales", "4.3%", "45.0%", "35.0%", "20.0%", "+18.0% over 2026"):
        assert text in head, text


def test_user_text_is_escaped(page: str) -> None:
    assert EVIL_REP not in page
    assert "<script>alert" not in page
    assert escape(EVIL_REP) in page
    assert escape("fy2027 <base>") in page and "fy2027 <base>" not in page
    assert escape(EVIL_TEAM) in page
    # the only script on the page is ours
    assert page.count("<script") == 1


def test_no_external_resources(page: str) -> None:
    # SVG namespace declarations are names, not fetches; nothing else may hold a URL.
    without_ns = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", page)
    assert not re.search(r"https?://|//[\w.-]+\.\w+/", without_ns)
    assert not re.search(r"<(link|iframe|object|embed|img)\b", page)
    assert not re.search(r"@import|url\((?!#)", page)
    assert all(h.startswith("#") for h in re.findall(r'\bhref="([^"]*)"', page))
    assert not re.findall(r'\bsrc="', page)
    assert "default-src 'none'" in page


def test_feasible_shows_gap_and_never_optimal() -> None:
    page = render_html(make_result(20, status="feasible", gap=0.0123)).decode()
    assert "feasible, gap 1.23%" in page
    assert "feasible, gap 1.23%" in _section(page, "solver")
    assert "optimal" not in page.lower()
    unknown = render_html(make_result(5, status="feasible", gap=None, distributions=False)).decode()
    assert "feasible, gap unknown" in unknown


def test_optimal_status(page: str) -> None:
    assert '<p class="status ok">optimal</p>' in _section(page, "solver")


def test_deterministic() -> None:
    assert render_html(make_result(10)) == render_html(make_result(10))


def _cards(sim: str) -> list[str]:
    return sim.split("<div><h3>")[1:]


def test_missing_distributions_leave_no_empty_card() -> None:
    result = make_result(20)
    del result.distributions["total_payout"]
    result.distributions["rep_attainment"] = np.array([np.nan, np.nan])
    sim = _section(render_html(result).decode(), "simulation")
    assert "chart skipped" not in sim
    assert len(_cards(sim)) == 2 and all("<svg" in card for card in _cards(sim))
    assert "not drawn: total incentive payout across draws; rep attainment across reps and draws" in sim
    none = _section(render_html(make_result(20, distributions=False)).decode(), "simulation")
    assert len(_cards(none)) == 1 and none.count("<svg") == 1  # per-rep P(attain) comes from the plan


def test_rep_attainment_from_a_binned_histogram() -> None:
    result = make_result(10)
    sample = result.distributions.pop("rep_attainment")
    counts, edges = np.histogram(sample, bins=np.round(np.arange(0.0, 3.05, 0.05), 2))
    result.distributions["rep_attainment_edges"] = edges
    result.distributions["rep_attainment_counts"] = counts
    sim = _section(render_html(result).decode(), "simulation")
    assert sim.count("<svg") == 4 and "not drawn" not in sim
    result.distributions["rep_attainment_counts"] = counts[:-1]  # inconsistent: skipped, not drawn wrong
    assert "not drawn: rep attainment" in _section(render_html(result).decode(), "simulation")


def test_large_plan_is_capped() -> None:
    page = render_html(make_result(1500, periods="week")).decode()
    capacity = _section(page, "capacity")
    assert capacity.count("<tr>") == REP_TABLE_CAP + 1  # + header row
    assert "of 1,500 reps" in capacity
    assert len(page) < 1_000_000


def test_unit_tree_bands_and_order(page: str) -> None:
    units = _section(page, "units")
    rows = re.findall(r'<tr class="band-(\w+)"><td[^>]*>(?:<span class="branch">.</span>)?(?:[^<]*<small '
                      r'class="id">)?([^<]*)(?:</small>)?</td>', units)
    assert rows == [("red", "CO"), ("yellow", "EU"), ("green", "T1"), ("yellow", "T2"), ("green", "US"),
                    ("green", escape(EVIL_TEAM)), ("red", "T3")]
    assert "P(attain) \u2265 60%" in units and "40% to 60%" in units


def test_attainment_bands_thresholds() -> None:
    assert attainment_band(0.6) == "green"
    assert attainment_band(0.5999) == "yellow"
    assert attainment_band(0.4) == "yellow"
    assert attainment_band(0.3999) == "red"
    assert attainment_band(None) is None and attainment_band(float("nan")) is None


def test_unit_tree_survives_orphans_and_cycles() -> None:
    # B is the root over A and C; Z names a parent that is not there; X and Y are each
    # other's parent. None of that fails or loops: every unit is listed once, the broken
    # ones as roots (sorted by id with B), and each counts the reps of its own subtree.
    units = pd.DataFrame({"unit_id": ["B", "A", "C", "X", "Y", "Z"],
                          "parent_id": [None, "B", "B", "Y", "X", "gone"], "level": [0, 1, 1, 0, 0, 0]})
    plan = pd.DataFrame({"team_id": ["A", "A", "C", "X"]})
    rows = re.findall(r'<td class="tree" style="padding-left:([0-9.]+)em">(?:<span class="branch">.</span>)?'
                      r'(\w+)</td><td[^>]*>[^<]*</td><td class="num" data-v="([0-9.]+)"', unit_tree(units, plan))
    assert rows == [("0.6", "B", "3.0"), ("1.9", "A", "2.0"), ("1.9", "C", "1.0"), ("0.6", "X", "1.0"),
                    ("0.6", "Y", "0.0"), ("0.6", "Z", "0.0")]


def test_binding_lists_constraints_and_reps(page: str) -> None:
    binding = _section(page, "binding")
    for name in ("stretch_max", "max_change", "fairness", "ka_share"):
        assert f"<td>{name}</td>" in binding
    assert escape(EVIL_REP) in binding
    # What gave way is listed, escaped.
    assert "Where the plan gave way" in binding
    assert f"<li>rep {escape(EVIL_REP)} (team T): quota 2.25M is -39%" in binding


def test_empty_result_renders() -> None:
    result = PlanResult(name="empty", plan_year=2027, plan=pd.DataFrame(columns=PLAN_COLUMNS),
                        periods=pd.DataFrame(columns=["rep_id", "period", "quota"]),
                        units=pd.DataFrame(columns=UNIT_COLUMNS),
                        summary=Summary(scenario="empty", plan_year=2027, company_target=0.0))
    page = render_html(result).decode()
    for sid, _label in SECTIONS:
        assert f'id="{sid}"' in page
    assert "unknown, gap unknown" in page


def test_without_matplotlib_the_page_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = render_html(make_result(10)).decode()
    assert "<svg" not in page
    assert "Charts need matplotlib" in page


def test_exceptions_section_and_guardrail_banner() -> None:
    result = make_result(20)
    exceptions = [{"unit": EVIL_TEAM, "rep": None, "limit": "stretch_max", "allowed": 1.3,
                   "used": 1.31, "amount": 100_000.0, "reps": 12,
                   "message": f"team {EVIL_TEAM} carries 12.4M, 100k over what its reps can at "
                              "stretch 1.3: its reps go to stretch 1.31"}]
    guard = {"min_share_at_quota": 0.5, "share_at_quota": 0.32, "below": True,
             "message": "only 32% of reps are expected to reach quota"}
    result.summary = Summary.model_validate({**result.summary.record(), "exceptions": exceptions, "guardrail": guard})
    page = render_html(result).decode("utf-8")
    body = _section(page, "exceptions")
    assert "its reps go to stretch 1.31" in body and escape(EVIL_TEAM) in body and EVIL_TEAM not in body
    headline = _section(page, "headline")
    assert 'class="banner warn"' in headline and "only 32% of reps" in headline
    assert '1 soft limit(s) gave way' in headline
    result.summary = Summary.model_validate({**result.summary.record(), "exceptions": []})
    assert "nothing had to give way" in _section(render_html(result).decode("utf-8"), "exceptions")


def test_names_shown_beside_ids_and_escaped() -> None:
    from report_fixtures import EVIL_NAME

    page = render_html(make_result(20)).decode()
    capacity, units = _section(page, "capacity"), _section(page, "units")
    assert "<th>Name</th>" in capacity and "Rep Person 3" in capacity and "Team Two" in capacity
    assert escape(EVIL_NAME) in capacity and EVIL_NAME not in page
    assert 'Europe <small class="id">EU</small>' in units
    assert "Rep Person" in _section(page, "binding")  # which reps: by name


def test_solver_details_are_folded_and_change_only_against_full_years() -> None:
    result = make_result(20)
    full = set(result.plan["rep_id"].iloc[::2])
    result.comparable_last = frozenset(full)
    page = render_html(result).decode()
    solver = _section(page, "solver")
    assert '<details class="technical"><summary>' in solver and solver.index("<details") < solver.index("Objective")
    assert "Objective" not in _section(page, "headline") and "solver:" not in _section(page, "headline")
    assert "full-year last quotas only" in _section(page, "capacity")
    rows = re.findall(r'<tr><td[^>]*>([^<]*)</td>.*?</tr>', _section(page, "capacity"))
    assert rows  # the rep table is there
    part_year = next(r for r in result.plan.itertuples() if r.rep_id not in full and r.last_quota == r.last_quota)
    row = re.search(rf'<tr><td[^>]*>{re.escape(escape(part_year.rep_id))}</td>(.*?)</tr>', _section(page, "capacity"))
    assert row and f"{part_year.change:+.1%}" not in row.group(1)
