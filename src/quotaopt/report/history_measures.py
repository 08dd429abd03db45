"""The history view by measure: product lines, new customers and repurchases before any plan.

Three views beside the bookings ones of :mod:`quotaopt.report.history`, computed from a
:class:`~quotaopt.company.CompanyData` without touching the disk (``quotaopt analyze``
draws them in ``analysis.html``, writes them with ``--json`` and prints a summary; the
workbench's history page shows the same sections):

1. **product-line contribution** by year and quarter: each line's bookings and its share
   of the period's bookings (bookings without a line count as ``(none)``, so a period's
   shares add up to 1), and each line's growth on the year before;
2. **new customers** by year and unit: accounts whose first positive booking in the whole
   history falls in that year, counted for the rep who booked it (and every unit above
   that rep's team);
3. **repurchase rate** by year and unit: of the accounts that bought from a unit's reps in
   the year before (an account belongs to the rep of its last purchase that year), the
   share that bought again, from anyone, in the year.

New customers and repurchases count only what they can tell apart: the history's first
year cannot say which of its accounts were new (they may have bought before the data
starts), and a year needs the one before it for a repurchase pool; both count complete
years only (bookings reaching December, the rule of the other views), so a part year
never shows as a collapse. The counting rules are those the planned measures
``new_customers`` and ``repurchase_rate`` use (:mod:`quotaopt.measures.history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.measures.history import new_customer_counts, repurchases
from quotaopt.org_tree import OrgTree
from quotaopt.report import charts
from quotaopt.report._markup import chart, note, table, td

__all__ = ["NO_LINE", "MeasureViews", "measure_sections", "measure_summary", "measure_tables", "measure_views",
           "unit_totals"]

#: How bookings without a product line are shown.
NO_LINE = "(none)"
#: Every chart spans the page's column (inches; see report.charts).
WIDE = (11.4, 3.4)
#: Colours of the lines, in order (more lines than colours repeat them).
PALETTE = (charts.BLUE, charts.ORANGE, "#059669", "#7c3aed", "#db2777", "#0891b2", charts.GREY)


@dataclass
class MeasureViews:
    """The three views as tables.

    Attributes
    ----------
    lines : DataFrame
        year, product_line, Q1..Q4, total, share (of the year's bookings), growth (on the
        line's year before; NaN when that is not positive); empty without ``product_line``.
    line_quarters : DataFrame
        year, quarter (1-4), product_line, amount, share (of that quarter's bookings).
    new_customers : DataFrame
        unit_id, name, level, and one column per counted year (each unit's subtree), in
        tree order; empty without ``account_id`` or a countable year.
    repurchase : DataFrame
        unit_id, name, level, year, pool, again, rate (NaN for an empty pool), in tree
        order then year; empty likewise.
    company_new : dict
        Year -> new customers of the whole company (every unit's reps).
    company_repurchase : dict
        Year -> (pool, again) of the whole company.
    first_year : int or None
        The history's first year (its accounts are not counted as new).
    """

    lines: pd.DataFrame
    line_quarters: pd.DataFrame
    new_customers: pd.DataFrame
    repurchase: pd.DataFrame
    company_new: dict[int, int]
    company_repurchase: dict[int, tuple[int, int]]
    first_year: int | None = None

    @property
    def customer_years(self) -> list[int]:
        """The years new customers are counted for."""
        return sorted(self.company_new)

    @property
    def repurchase_years(self) -> list[int]:
        """The years repurchases are counted for."""
        return sorted(self.company_repurchase)


def unit_totals(teams: pd.DataFrame, per_team: pd.DataFrame) -> pd.DataFrame:
    """Sums over each unit's subtree: unit_id, name, level, then ``per_team``'s columns, in tree order.

    Parameters
    ----------
    teams : DataFrame
        teams.csv as loaded (``team_id, parent_id, name``; one tree).
    per_team : DataFrame
        Indexed by team_id (a rep's team), one numeric column per year or quantity;
        teams missing from it count 0.

    Examples
    --------
    >>> teams = pd.DataFrame({"team_id": ["C", "A", "B"], "parent_id": [None, "C", "C"], "name": ["Co", "a", "b"]})
    >>> unit_totals(teams, pd.DataFrame({2025: [3.0, 4.0]}, index=["A", "B"]))[["unit_id", "level", 2025]]
      unit_id  level  2025
    0       C      0   7.0
    1       A      1   3.0
    2       B      1   4.0
    """
    columns = list(per_team.columns)
    tree = OrgTree.from_table(teams)  # teams.csv as loaded: checked to be one tree
    totals = np.zeros((tree.n, len(columns)))
    # Team by team in table order onto its chain of units, not level by level as subtree_sum
    # adds: the same additions in the same order, so the same float bits on the page.
    named = teams["team_id"].astype(str).tolist()
    for team, pos in zip(named, tree.positions(named).tolist(), strict=True):
        if team in per_team.index:
            chain = tree.ancestors(pos)
            totals[chain] = totals[chain] + per_team.loc[team].to_numpy(dtype=np.float64)
    order = tree.depth_first()
    units = teams.rename(columns={"team_id": "unit_id"})[["unit_id", "parent_id", "name"]].reset_index(drop=True)
    units["level"] = tree.level[np.argsort(tree.rows)]
    frame: pd.DataFrame = units.iloc[tree.rows[order]].reset_index(drop=True)
    for i, column in enumerate(columns):
        frame[column] = totals[order, i]
    return frame.drop(columns=["parent_id"])


def _lines(bookings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    year_cols = ["year", "product_line", "Q1", "Q2", "Q3", "Q4", "total", "share", "growth"]
    quarter_cols = ["year", "quarter", "product_line", "amount", "share"]
    if "product_line" not in bookings.columns or bookings["product_line"].isna().all() or bookings.empty:
        return pd.DataFrame(columns=year_cols), pd.DataFrame(columns=quarter_cols)
    line = bookings["product_line"].astype(object).where(bookings["product_line"].notna(), NO_LINE).astype(str)
    dates = bookings["date"]
    sums = bookings["amount"].groupby([dates.dt.year.rename("year"), dates.dt.quarter.rename("quarter"),
                                       line.rename("product_line")]).sum()
    quarters = sums.reset_index(name="amount").sort_values(["year", "quarter", "product_line"], kind="stable")
    period_total = quarters.groupby(["year", "quarter"])["amount"].transform("sum")
    quarters["share"] = (quarters["amount"] / period_total).where(period_total > 0)
    wide = quarters.pivot_table(index=["year", "product_line"], columns="quarter", values="amount", aggfunc="sum",
                                fill_value=0.0).reindex(columns=[1, 2, 3, 4], fill_value=0.0)
    wide.columns = ["Q1", "Q2", "Q3", "Q4"]
    wide["total"] = wide.sum(axis=1)
    year_total = wide.groupby(level="year")["total"].transform("sum")
    wide["share"] = (wide["total"] / year_total).where(year_total > 0)
    before = wide["total"].rename(index=lambda y: y + 1, level="year")
    previous = before.reindex(wide.index)
    wide["growth"] = (wide["total"] / previous - 1.0).where(previous > 0)
    years = wide.reset_index()[year_cols]
    return years.reset_index(drop=True), quarters[quarter_cols].reset_index(drop=True)


def _team_of(company: CompanyData) -> pd.Series:
    return company.reps.set_index(company.reps["rep_id"].astype(str))["team_id"].astype(str)


def _new_customers(company: CompanyData, bookings: pd.DataFrame, years: list[int]
                   ) -> tuple[pd.DataFrame, dict[int, int]]:
    first_year = int(bookings["date"].dt.year.min())
    counted = [y for y in years if y > first_year]
    if not counted:
        return pd.DataFrame(), {}
    counts = new_customer_counts(bookings).reset_index()
    counts = counts[counts["year"].isin(counted)]
    counts["team_id"] = counts["rep_id"].astype(str).map(_team_of(company))
    per_team = (counts.groupby(["team_id", "year"])["count"].sum().unstack("year")
                .reindex(columns=counted).fillna(0.0))
    frame = unit_totals(company.teams, per_team)
    for year in counted:
        frame[year] = frame[year].astype(np.int64)
    company_new = counts.groupby("year")["count"].sum().reindex(counted, fill_value=0)
    return frame, {int(y): int(n) for y, n in zip(counted, company_new.to_numpy(dtype=np.int64), strict=True)}


def _repurchase(company: CompanyData, bookings: pd.DataFrame, years: list[int]
                ) -> tuple[pd.DataFrame, dict[int, tuple[int, int]]]:
    counted = [y for y in years if y - 1 in years]
    columns = ["unit_id", "name", "level", "year", "pool", "again", "rate"]
    if not counted:
        return pd.DataFrame(columns=columns), {}
    per_rep = repurchases(bookings).reset_index()
    per_rep = per_rep[per_rep["year"].isin(counted)]
    per_rep["team_id"] = per_rep["rep_id"].astype(str).map(_team_of(company))
    sums = per_rep.groupby(["team_id", "year"])[["pool", "again"]].sum()
    wide = pd.DataFrame(sums.unstack("year")).reindex(
        columns=pd.MultiIndex.from_product([["pool", "again"], counted])).fillna(0.0)
    wide.columns = pd.Index([f"{kind}:{year}" for kind in ("pool", "again") for year in counted])
    units = unit_totals(company.teams, wide)
    parts = []
    for year in counted:
        pool = units[f"pool:{year}"].to_numpy(dtype=np.int64)
        again = units[f"again:{year}"].to_numpy(dtype=np.int64)
        rate = np.divide(again, pool, out=np.full(len(pool), np.nan), where=pool > 0)
        parts.append(pd.DataFrame({"unit_id": units["unit_id"], "name": units["name"], "level": units["level"],
                                   "order": np.arange(len(units)), "year": year, "pool": pool, "again": again,
                                   "rate": rate}))
    frame = pd.concat(parts, ignore_index=True).sort_values(["order", "year"], kind="stable")
    totals = per_rep.groupby("year")[["pool", "again"]].sum().reindex(counted, fill_value=0).to_numpy(np.int64)
    return (frame[columns].reset_index(drop=True),
            {int(y): (int(p), int(a)) for y, (p, a) in zip(counted, totals, strict=True)})


def measure_views(company: CompanyData, bookings: pd.DataFrame, years: list[int]) -> MeasureViews:
    """The three views over ``bookings`` (those before the plan year), ``years`` its complete years.

    Examples
    --------
    >>> from quotaopt import load_inputs
    >>> from quotaopt.report.history import complete_years
    >>> company = load_inputs("scenarios/example.yaml").company
    >>> views = measure_views(company, company.bookings, complete_years(company))
    >>> views.customer_years, views.repurchase_years
    ([2025, 2026], [2025, 2026])
    """
    lines, line_quarters = _lines(bookings)
    has_accounts = "account_id" in bookings.columns and bool(bookings["account_id"].notna().any())
    if has_accounts and len(bookings):
        new, company_new = _new_customers(company, bookings, years)
        again, company_again = _repurchase(company, bookings, years)
    else:
        new, company_new = pd.DataFrame(), {}
        again, company_again = pd.DataFrame(columns=["unit_id", "name", "level", "year", "pool", "again", "rate"]), {}
    first = int(bookings["date"].dt.year.min()) if len(bookings) else None
    return MeasureViews(lines, line_quarters, new, again, company_new, company_again, first)


# -- what analyze prints and writes -------------------------------------------------------------


def measure_summary(views: MeasureViews) -> list[str]:
    """One line per view that has data: the last year's line mix, new customers and repurchase rate by year."""
    out = []
    if len(views.lines):
        last = int(views.lines["year"].max())
        rows = views.lines[views.lines["year"] == last].sort_values(["share", "product_line"],
                                                                     ascending=[False, True], kind="stable")
        out.append(f"product lines {last}: " + ", ".join(
            f"{r['product_line']} {r['share']:.1%}" + ("" if pd.isna(r["growth"]) else f" ({r['growth']:+.1%})")
            for r in rows.to_dict(orient="records")))
    if views.company_new:
        out.append("new customers: " + ", ".join(f"{y} {n:,}" for y, n in sorted(views.company_new.items())))
    if views.company_repurchase:
        out.append("repurchase rate: " + ", ".join(
            f"{y} {again / pool:.1%} of {pool:,}" if pool else f"{y} -"
            for y, (pool, again) in sorted(views.company_repurchase.items())))
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN as null, numpy scalars as Python numbers, year columns as text."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, float | np.floating):
                clean[str(key)] = None if not np.isfinite(value) else round(float(value), 6)
            elif isinstance(value, np.integer):
                clean[str(key)] = int(value)
            else:
                clean[str(key)] = value
        out.append(clean)
    return out


def measure_tables(views: MeasureViews) -> dict[str, Any]:
    """The views as plain data (``analyze --json``): long tables, one record per row."""
    new = views.new_customers
    if len(new):
        new = new.melt(id_vars=["unit_id", "name", "level"], var_name="year", value_name="new_customers")
        new["order"] = np.tile(np.arange(len(views.new_customers)), len(views.customer_years))
        new = new.sort_values(["order", "year"], kind="stable").drop(columns=["order"])
    rounded = views.lines.assign(**{c: views.lines[c].astype(float).round(2)
                                    for c in ("Q1", "Q2", "Q3", "Q4", "total")}) if len(views.lines) else views.lines
    quarters = views.line_quarters.assign(amount=views.line_quarters["amount"].astype(float).round(2)) \
        if len(views.line_quarters) else views.line_quarters
    return {
        "product_lines": {"by_year": _records(rounded), "by_quarter": _records(quarters)},
        "new_customers": {"years": views.customer_years,
                          "company": {str(y): n for y, n in sorted(views.company_new.items())},
                          "units": _records(new) if len(new) else []},
        "repurchase": {"years": views.repurchase_years,
                       "company": {str(y): {"pool": p, "again": a, "rate": round(a / p, 6) if p else None}
                                   for y, (p, a) in sorted(views.company_repurchase.items())},
                       "units": _records(views.repurchase)},
    }


# -- charts -------------------------------------------------------------------------------------


def _draw_line_shares(fig: Any, quarters: pd.DataFrame) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    wide = quarters.pivot_table(index=["year", "quarter"], columns="product_line", values="share",
                                aggfunc="sum", fill_value=0.0)
    x = np.arange(len(wide))
    bottom = np.zeros(len(wide))
    for i, name in enumerate(wide.columns):
        values = np.clip(wide[name].to_numpy(dtype=np.float64), 0.0, None)
        ax.bar(x, values, 0.8, bottom=bottom, color=PALETTE[i % len(PALETTE)], alpha=0.85, label=str(name))
        bottom = bottom + values
    ax.set_xticks(x, [f"{y} Q{q}" for y, q in wide.index], rotation=45 if len(wide) > 8 else 0, ha="right")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", ncols=min(len(wide.columns), 6))


def _draw_counts(fig: Any, years: list[int], values: list[float], percent: bool) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    ax.bar(np.arange(len(years)), values, 0.6, color=charts.BLUE, alpha=0.85)
    ax.set_xticks(np.arange(len(years)), [str(y) for y in years])
    if percent:
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(charts.compact))
    ax.grid(axis="x", visible=False)


# -- HTML ---------------------------------------------------------------------------------------


def _lines_html(views: MeasureViews) -> str:
    frame = views.lines
    rows = [f"<tr>{td(int(r['year']), 'text')}{td(r['product_line'])}"
            + "".join(td(r[q], "money") for q in ("Q1", "Q2", "Q3", "Q4"))
            + f"{td(r['total'], 'money')}{td(r['share'], 'percent')}{td(r['growth'], 'signed')}</tr>"
            for r in frame.to_dict(orient="records")]
    return (chart(charts._render, "history-lines", "Product lines' share of bookings by quarter", _draw_line_shares,
                  views.line_quarters, size=WIDE)
            + table(["Year", "Product line", "Q1", "Q2", "Q3", "Q4", "Total", "Share", "Growth"], rows,
                    sortable=False, css="compact"))


def _tree_cell(row: Any) -> str:
    pad = f"padding-left:{0.6 + 1.3 * int(row.level):.1f}em"
    return f'<td class="tree" style="{pad}">{escape(str(row.unit_id))}</td>{td(row.name)}'


def _customers_html(views: MeasureViews) -> str:
    years = views.customer_years
    if not years:
        return note("New customers need account ids in bookings.csv and a complete year after the history's first "
                    "(which cannot tell new accounts from earlier buyers).")
    frame = views.new_customers
    counts = frame[years].to_numpy(dtype=np.int64)
    rows = [f"<tr>{_tree_cell(r)}" + "".join(td(int(n), "integer") for n in counts[i]) + "</tr>"
            for i, r in enumerate(frame.itertuples())]
    lead = note("Accounts whose first positive booking of the history falls in the year, for the rep who booked it "
                f"(and every unit above); the accounts of {views.first_year}, the history's first year, may have "
                "bought before it and are not counted as new.")
    return (chart(charts._render, "history-new-customers", "New customers by year", _draw_counts, years,
                  [float(views.company_new[y]) for y in years], False, size=WIDE)
            + lead + table(["Unit", "Name", *[str(y) for y in years]], rows, sortable=False, css="tree"))


def _repurchase_html(views: MeasureViews) -> str:
    years = views.repurchase_years
    if not years:
        return note("The repurchase rate needs account ids in bookings.csv and two complete years in a row.")
    frame = views.repurchase
    rate = frame["rate"].to_numpy(dtype=np.float64).reshape(-1, len(years))  # rows: unit, then year
    pool = frame["pool"].to_numpy(dtype=np.int64).reshape(-1, len(years))
    rows = []
    for i, r in enumerate(frame.iloc[::len(years)].itertuples()):
        cells = "".join(td(rate[i, k], "percent") + td(int(pool[i, k]), "integer") for k in range(len(years)))
        rows.append(f"<tr>{_tree_cell(r)}{cells}</tr>")
    headers = ["Unit", "Name", *[h for y in years for h in (f"{y} rate", f"{y} pool")]]
    rates = [views.company_repurchase[y][1] / views.company_repurchase[y][0] if views.company_repurchase[y][0]
             else 0.0 for y in years]
    return (chart(charts._render, "history-repurchase", "Repurchase rate by year", _draw_counts, years, rates, True,
                  size=WIDE)
            + note("Of the accounts that bought from the unit's reps the year before, the share that bought again "
                   "(from anyone) in the year; the pool is those accounts.")
            + table(headers, rows, sortable=False, css="tree"))


def measure_sections(views: MeasureViews) -> list[tuple[str, str, str]]:
    """(id, navigation label, ``<section>``) of each view that has data to show."""
    out = []
    if len(views.lines):
        out.append(("lines", "By product line", "Bookings by product line", _lines_html(views)))
    if views.company_new:
        out.append(("customers", "New customers", "New customers by year and unit", _customers_html(views)))
    if views.company_repurchase:
        out.append(("repurchase", "Repurchase rate", "Repurchase rate by year and unit", _repurchase_html(views)))
    return [(sid, label, f'<section id="{sid}"><h2>{title}</h2>{body}</section>') for sid, label, title, body in out]
