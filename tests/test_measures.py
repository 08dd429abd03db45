"""Measures beside revenue: hand-solved product lines, whole new customers, rates in [0, 1], the run files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.measures import history as hist
from quotaopt.measures.counts import plan_count
from quotaopt.measures.lines import forecast_line_shares, last_year_shares
from quotaopt.measures.plan import split_revenue_quota
from quotaopt.measures.rates import plan_rate
from quotaopt.measures.rounding import split_by_largest_remainder
from quotaopt.scenario import MeasureTarget, validate_scenario

from conftest import write_tiny_company

# --- product lines ----------------------------------------------------------------------


def _line_amounts(rows: list[tuple[str, int, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["rep_id", "year", "product_line", "amount"])
    frame["date"] = pd.to_datetime(frame["year"].astype(str) + "-06-15")
    return hist.line_amounts(frame)


def test_two_product_lines_sum_to_the_revenue_quota_exactly() -> None:
    # R1 sold Devices 600 and Services 400 in both years, as did the company: its mix is 60/40,
    # the company's mix is 60/40 and neither line grew faster, so the forecast share is exactly 0.6.
    amounts = _line_amounts([("R1", y, line, v) for y in (2025, 2026) for line, v in (("Devices", 600.0),
                                                                                     ("Services", 400.0))])
    shares = forecast_line_shares(amounts, ["R1"], 2027, ["Devices", "Services"])
    np.testing.assert_allclose(shares.shares, [[0.6, 0.4]])
    # 101,000 at unit 1,000 = 101 units: 60.6 and 40.4 -> floors 60 and 40, the unit left goes to the
    # larger remainder (0.6): Devices 61,000, Services 40,000, together 101,000.
    np.testing.assert_array_equal(split_revenue_quota(np.array([101_000.0]), shares.shares, 1000.0),
                                  [[61_000.0, 40_000.0]])
    # A locked odd quota keeps its rest in the larger line: 101,500 -> 61,500 + 40,000.
    np.testing.assert_array_equal(split_revenue_quota(np.array([101_500.0]), shares.shares, 1000.0),
                                  [[61_500.0, 40_000.0]])
    # Invariant over many reps and shares: rows add up exactly, every cell a whole unit.
    rng = np.random.default_rng(0)
    quota = rng.integers(0, 5000, 300) * 1000.0
    split = split_revenue_quota(quota, rng.dirichlet([1, 1, 1], 300), 1000.0)
    np.testing.assert_array_equal(split.sum(axis=1), quota)
    assert (split % 1000 == 0).all()


def test_line_shares_shrink_toward_the_company_and_follow_line_growth() -> None:
    rows = [("R1", 2025, "A", 100.0), ("R1", 2025, "B", 100.0), ("R1", 2026, "A", 200.0), ("R1", 2026, "B", 100.0),
            ("R2", 2025, "A", 100.0), ("R2", 2025, "B", 100.0), ("R2", 2026, "A", 200.0), ("R2", 2026, "B", 100.0)]
    amounts = _line_amounts(rows)
    out = forecast_line_shares(amounts, ["R1", "R2", "NEW"], 2027, ["A", "B"])
    # A doubled and B stayed (company growth 1.5): relative growth 4/3 and 2/3.
    np.testing.assert_allclose(out.line_growth, [4 / 3, 2 / 3])
    # Two-year mix (2 x 2026 + 2025): A 500, B 300; tilted by growth: 500 x 4/3 : 300 x 2/3 = 0.769 : 0.231.
    np.testing.assert_allclose(out.shares[0], [500 * 4 / 3 / (500 * 4 / 3 + 300 * 2 / 3),
                                               300 * 2 / 3 / (500 * 4 / 3 + 300 * 2 / 3)])
    np.testing.assert_allclose(out.shares[2], out.shares[0])  # a rep without history takes the company mix
    np.testing.assert_allclose(last_year_shares(amounts, ["R1", "NEW"], 2027, ["A", "B"]),
                               [[2 / 3, 1 / 3], [2 / 3, 1 / 3]])


def test_largest_remainder_is_exact_and_breaks_ties_by_column() -> None:
    assert split_by_largest_remainder([3], [[1, 1, 1, 1]]).tolist() == [[1, 1, 1, 0]]
    assert split_by_largest_remainder([0, 5], [[0.2, 0.8], [0, 0]]).tolist() == [[0, 0], [3, 2]]


# --- new customers ----------------------------------------------------------------------


def _reps(n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n)], "team_id": "T", "role": "longtail", "fte": 1.0,
                         "hire_date": pd.Timestamp("2020-01-01")})
    teams = pd.DataFrame({"team_id": ["CO", "T"], "parent_id": [None, "CO"], "target": [np.nan, np.nan]})
    return reps, teams


def test_new_customer_target_split_in_whole_customers() -> None:
    reps, teams = _reps()
    expected = np.array([2.0, 3.0, 5.0])
    counts = pd.Series([4, 6], index=pd.MultiIndex.from_tuples([("R0", 2026), ("R1", 2026)],
                                                               names=["rep_id", "year"]), name="count")
    # Last year's company count is 10; growth 0 and no over-assignment: 10 customers to plan, which
    # the reps' expected 2, 3 and 5 carry at stretch 1 each -> exactly 2, 3, 5.
    scenario = validate_scenario({"measures": ["revenue", "new_customers"]})
    plan = plan_count("new_customers", reps, teams, expected, scenario, counts, 2027)
    assert plan.quota.tolist() == [2, 3, 5] and plan.quota.dtype == np.int64
    assert plan.summary.company_target == 10 and plan.summary.exceptions == []
    # Growth +100%: 20 customers; stretch 1.3 carries 13, so stretch gives way evenly: 4, 6, 10 (stretch 2).
    doubled = validate_scenario({"measures": ["revenue", "new_customers"],
                                 "measure_targets": {"new_customers": {"growth": 1.0}}})
    plan = plan_count("new_customers", reps, teams, expected, doubled, counts, 2027)
    assert plan.quota.tolist() == [4, 6, 10] and plan.summary.exceptions
    # An absolute company number of 7: whole customers adding up to 7.
    seven = validate_scenario({"measures": ["revenue", "new_customers"],
                               "measure_targets": {"new_customers": {"company": 7}}})
    plan = plan_count("new_customers", reps, teams, expected, seven, counts, 2027)
    assert int(plan.quota.sum()) == 7 and (plan.p_attain >= 0).all() and (plan.p_attain <= 1).all()


def test_new_customers_and_repurchases_read_from_bookings() -> None:
    bookings = pd.DataFrame({
        "date": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]),
        "rep_id": ["A", "A", "B", "B", "A", "B"],
        "amount": [10.0, 10.0, 10.0, 10.0, 10.0, -5.0],
        "account_id": ["a1", "a2", "b1", "a1", "c1", "b1"],
    })
    new = hist.new_customer_counts(bookings)
    # 2025: a1, a2 (A) and b1 (B) are new; 2026: c1 (A) is new, a1 is not (bought in 2025); a credit note is no buy.
    assert new.to_dict() == {("A", 2025): 2, ("A", 2026): 1, ("B", 2025): 1}
    again = hist.repurchases(bookings)
    # A's 2025 buyers a1, a2: a1 bought again in 2026 -> pool 2, again 1. B's b1 did not buy again.
    assert again.loc[("A", 2026)].tolist() == [2, 1] and again.loc[("B", 2026)].tolist() == [1, 0]
    # The plan year's pool: 2026's buyers (A: c1; B: a1).
    assert again.loc[("A", 2027)].tolist()[0] == 1 and again.loc[("B", 2027)].tolist()[0] == 1


# --- repurchase rate --------------------------------------------------------------------


def _repurchase_frame() -> pd.DataFrame:
    rows = [("A", y, 10, 8) for y in (2025, 2026)] + [("B", y, 10, 4) for y in (2025, 2026)] + \
        [("A", 2027, 10, 0), ("B", 2027, 10, 0)]
    return pd.DataFrame(rows, columns=["rep_id", "year", "pool", "again"]).set_index(["rep_id", "year"])


def test_repurchase_rate_target_per_rep_by_hand() -> None:
    frame = _repurchase_frame()
    # Company rate 24 / 40 = 0.6. Rep rates 0.8 and 0.4: variance 0.04, binomial noise 0.6 x 0.4 / 20
    # = 0.012, so reps differ by 0.028 and the prior weighs m = 0.24 / 0.028 - 1 = 7.5714 accounts.
    m = 0.24 / 0.028 - 1
    exp_a, exp_b = (16 + m * 0.6) / (20 + m), (8 + m * 0.6) / (20 + m)
    plan = plan_rate(frame, np.array(["A", "B"]), 2027, MeasureTarget(growth=0.1))
    np.testing.assert_allclose(plan.expected, [exp_a, exp_b])
    # 2026's rate 12 / 20 = 0.6, grown 10% -> 0.66; equal pools, so both move by 0.66 - 0.6 = 0.06.
    np.testing.assert_allclose(plan.quota, [exp_a + 0.06, exp_b + 0.06])
    assert plan.summary.company_target == pytest.approx(0.66)
    # An ambitious 0.95: A is held at 1 and B carries the rest: (1 + q_b) / 2 = 0.95 -> q_b = 0.9.
    high = plan_rate(frame, np.array(["A", "B"]), 2027, MeasureTarget(company=0.95))
    np.testing.assert_allclose(high.quota, [1.0, 0.9])
    assert ((high.quota >= 0) & (high.quota <= 1)).all() and ((high.p_attain >= 0) & (high.p_attain <= 1)).all()
    # Chance of making the target: P(Binomial(10, p) >= ceil(10 x target)).
    from scipy import stats
    assert high.p_attain[1] == pytest.approx(stats.binom.sf(8, 10, exp_b))


# --- a whole plan -----------------------------------------------------------------------

MEASURES = 'measures: [revenue, "revenue:Devices", "revenue:Services", new_customers, repurchase_rate]'


def _with_lines(folder: Path, measures: str | None = MEASURES, lines: tuple[str, ...] = ("Devices", "Services"),
                capacity_given: bool = True) -> Path:
    scenario = write_tiny_company(folder)
    bookings = folder / "data" / "bookings.csv"
    rows = bookings.read_text().splitlines()
    out = [rows[0] + ",product_line"] + [f"{row},{lines[i % len(lines)]}" for i, row in enumerate(rows[1:])]
    bookings.write_text("\n".join(out) + "\n")
    text = scenario.read_text()
    if measures:
        text = text.replace("plan_year: 2027", f"plan_year: 2027\n{measures}")
    scenario.write_text(text)
    return scenario


def _plan(scenario: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return next(p for p in (out / "tiny").iterdir() if p.is_dir())


def test_plan_writes_every_measure_and_keeps_plan_csv(tmp_path: Path) -> None:
    run = _plan(_with_lines(tmp_path / "a"), tmp_path / "runs_a")
    only = _plan(_with_lines(tmp_path / "b", measures=None), tmp_path / "runs_b")
    # plan.csv is the revenue plan, byte for byte the same whether other measures are planned or not.
    assert (run / "plan.csv").read_bytes() == (only / "plan.csv").read_bytes()
    assert not (only / "plan_measures.csv").exists()
    assert "measure" not in (only / "plan_periods.csv").read_text().splitlines()[0]
    table = pd.read_csv(run / "plan_measures.csv")
    assert list(table.columns) == ["rep_id", "measure", "quota", "capacity_p50", "p_attain", "binding"]
    wide = table.pivot(index="rep_id", columns="measure", values="quota")
    plan = pd.read_csv(run / "plan.csv").set_index("rep_id")
    np.testing.assert_array_equal(wide["revenue:Devices"] + wide["revenue:Services"], plan["quota"])
    assert (wide["new_customers"] == wide["new_customers"].round()).all()
    assert wide["repurchase_rate"].between(0, 1).all()
    periods = pd.read_csv(run / "plan_periods.csv")
    assert list(periods.columns[:4]) == ["rep_id", "measure", "period", "quota"]
    sums = periods[periods["measure"] != "repurchase_rate"].groupby(["rep_id", "measure"])["quota"].sum()
    for (rep, measure), total in sums.items():
        assert total == wide.loc[rep, measure]
    # The report and the workbook show every measure; a revenue plan's have no such part.
    assert 'id="measures"' in (run / "report.html").read_text() and 'id="measures"' not in (
        only / "report.html").read_text()
    import openpyxl
    sheet = openpyxl.load_workbook(run / "plan.xlsx")["Measures"]
    assert [c.value for c in sheet[1]] == list(table.columns) and sheet.max_row == len(table) + 1
        # compare shows every measure of the runs that plan them.
    from quotaopt.commands import compare
    both = compare([run, only])
    assert ("measure", "revenue:Devices total_quota") in both.index
    assert both.loc[("measure", "new_customers total_quota")].drop("name").iloc[1] is None  # the revenue-only run
        # Tracking reads revenue's periods of such a run.
    from quotaopt.io import read_run
    stored = read_run(run)
    assert "measure" not in stored.periods and set(stored.periods["rep_id"]) == set(plan.index)


@pytest.mark.parametrize(("measures", "lines", "key", "says"), [
    ('measures: [revenue, "revenue:Devices", "revenue:Gadgets"]', ("Devices", "Services"), "measures[2]",
     "unknown product line 'Gadgets'"),
    ('measures: [revenue, "revenue:Devices"]', ("Devices", "Services"), "measures", "booked but not planned"),
    ("measures: [revenue, margin]", ("Devices",), "measures", "unknown measure 'margin'"),
    ("measures: [revenue, repurchase_rate]\nmeasure_targets: {repurchase_rate: {company: 1.5}}", ("Devices",),
     "measure_targets.repurchase_rate.company", "must lie in [0, 1]"),
])
def test_bad_measures_are_exit_2_naming_the_key(tmp_path: Path, measures: str, lines: tuple[str, ...], key: str,
                                               says: str) -> None:
    scenario = _with_lines(tmp_path, measures=measures, lines=lines)
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert f":{key}: " in result.output and says in result.output, result.output
    assert not (tmp_path / "runs" / "tiny").exists()
    checked = CliRunner().invoke(main, ["validate", str(scenario)])
    assert checked.exit_code == 2 and f":{key}: " in checked.output, checked.output


def test_new_customers_need_account_ids(tmp_path: Path) -> None:
    scenario = write_tiny_company(tmp_path)
    bookings = tmp_path / "data" / "bookings.csv"
    frame = pd.read_csv(bookings).drop(columns="account_id")
    frame.to_csv(bookings, index=False)
    scenario.write_text(scenario.read_text().replace("plan_year: 2027",
                                                     "plan_year: 2027\nmeasures: [revenue, new_customers]"))
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2 and ":measures[1]: " in result.output and "account_id" in result.output


def test_counts_far_below_capacity_with_a_rep_under_one_customer() -> None:
    # R0 expects 0.3 customers: no whole count lies in its stretch band, so it is widened to 0 on its
    # own; the total (6) is far below what stretch_min asks of the others (0.8 x 18 = 14.4), so
    # stretch gives way for the team. The team's relaxed stretch must not tighten R0's band again.
    reps, teams = _reps(4)
    expected = np.array([0.3, 3.0, 5.0, 10.0])
    counts = pd.Series([6], index=pd.MultiIndex.from_tuples([("R1", 2026)], names=["rep_id", "year"]))
    scenario = validate_scenario({"measures": ["revenue", "new_customers"]})
    plan = plan_count("new_customers", reps, teams, expected, scenario, counts, 2027)
    assert int(plan.quota.sum()) == 6 and plan.quota[0] == 0 and (plan.quota >= 0).all()
    assert {e.limit for e in plan.summary.exceptions} >= {"stretch_min"}


def test_track_reports_every_measure(tmp_path: Path) -> None:
    scenario = _with_lines(tmp_path, measures='measures: [revenue, "revenue:Devices", "revenue:Services", '
                                              'new_customers, deals, repurchase_rate]')
    accounts = tmp_path / "data" / "accounts.csv"
    accounts.write_text(accounts.read_text() + "Z9,A1,longtail,1000,T1\n")  # an account that never bought
    run = _plan(scenario, tmp_path / "runs")
    actuals = tmp_path / "actuals.csv"
    # A1 books Devices 10,000 and Services 5,000 in January, the latter to Z9, an account never seen
    # before (one new customer); B1 a credit note (no deal); a booking after the as-of date is left out.
    actuals.write_text("date,rep_id,amount,account_id,product_line\n"
                       "2027-01-20,A1,10000,K1,Devices\n2027-02-03,A1,5000,Z9,Services\n"
                       "2027-02-10,B1,-300,K2,Devices\n2027-04-02,A2,7000,L1,Devices\n")
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(actuals), "--as-of", "2027-03-31"])
    assert result.exit_code == 0, result.output
    status = pd.read_csv(run / "track-2027-03-31" / "status_measures.csv").set_index(["rep_id", "measure"])
    periods = pd.read_csv(run / "plan_periods.csv")
    q1 = periods[periods["period"].isin(["2027-01", "2027-02", "2027-03"])].groupby(["rep_id", "measure"])["quota"]
    # The end of March: every Q1 month has passed, so the plan to date is the Q1 quotas.
    for measure in ("revenue:Devices", "revenue:Services", "new_customers", "deals"):
        assert status.loc[("A1", measure), "plan_to_date"] == pytest.approx(q1.sum().loc[("A1", measure)])
    assert status.loc[("A1", "revenue:Devices"), "actual_to_date"] == 10_000
    assert status.loc[("A1", "revenue:Services"), "actual_to_date"] == 5_000
    assert status.loc[("A1", "new_customers"), "actual_to_date"] == 1
    assert status.loc[("A1", "deals"), "actual_to_date"] == 2
    assert status.loc[("B1", "revenue:Devices"), "actual_to_date"] == -300 and \
        status.loc[("B1", "revenue:Devices"), "status"] == "red"
    assert status.loc[("A2", "revenue:Devices"), "actual_to_date"] == 0
    # Repurchase: A1's 2026 buyer K1 bought again; A2's L1 only after the as-of date. The plan to date of
    # a rate is its target times the elapsed share of the year (about a quarter).
    assert status.loc[("A1", "repurchase_rate"), "actual_to_date"] == 1.0
    assert status.loc[("A2", "repurchase_rate"), "actual_to_date"] == 0.0
    target = pd.read_csv(run / "plan_measures.csv").set_index(["rep_id", "measure"]).loc[("A2", "repurchase_rate"),
                                                                                     "quota"]
    assert 0.2 * target < status.loc[("A2", "repurchase_rate"), "plan_to_date"] < 0.3 * target
    assert set(status["status"]) <= {"red", "yellow", "green"}
