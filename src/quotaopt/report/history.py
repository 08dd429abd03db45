"""The history view (the method's step 1): what the company's own bookings say before any plan.

Four views, computed from a :class:`~quotaopt.company.CompanyData` without touching the
disk, and drawn as one self-contained ``analysis.html`` (``quotaopt analyze``) or as
sections of the workbench's history page (the same HTML):

1. bookings by quarter and by month across the years;
2. bookings by region and by unit, year by year;
3. the accounts that carry 80% of a year's revenue (Pareto);
4. each rep's year-on-year growth between the last two complete years.

A year counts as complete when its bookings reach December (the same rule the plan's
growth base uses), so a part year never shows as a collapse.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.report import _assets, charts
from quotaopt.report._markup import chart, note, table, td
from quotaopt.report.history_measures import (
    MeasureViews,
    measure_sections,
    measure_views,
    unit_totals,
)

#: The share of revenue the Pareto view looks for.
PARETO_SHARE = 0.8
#: Most rows listed in the account and rep tables (all are counted).
LISTED = 200
#: Every chart spans the page's column (inches; see report.charts).
WIDE = (11.4, 3.4)
#: The sections of the page: (id, navigation label).
SECTIONS = [("periods", "By quarter and month"), ("units", "By region and unit"),
            ("pareto", "Accounts carrying 80%"), ("growth", "Reps' growth")]


@dataclass
class HistoryViews:
    """The four views as tables (every amount is the sum of bookings, credit notes included).

    Attributes
    ----------
    quarters : DataFrame
        Index year; columns Q1..Q4 and total.
    months : DataFrame
        Index year; columns 1..12.
    units : DataFrame
        unit_id, name, level, and one column per year (each unit's subtree), in tree order.
    pareto : DataFrame
        account_id, rep_id, amount, share, cumulative (descending by amount) for ``pareto_year``.
    pareto_year : int or None
        The last complete year (None when there is none).
    pareto_count : int
        Accounts needed to reach :data:`PARETO_SHARE` of that year's account revenue.
    unassigned : float
        Bookings of ``pareto_year`` without an account (not in the Pareto view).
    growth : DataFrame
        rep_id, name, team_id, role, status, the two years' bookings, growth (NaN when
        the first is not positive), joined (True when hired during the first year).
    growth_years : tuple of int or None
        The two complete years compared.
    measures : MeasureViews or None
        Product lines, new customers and repurchases (:mod:`quotaopt.report.history_measures`).
    """

    quarters: pd.DataFrame
    months: pd.DataFrame
    units: pd.DataFrame
    pareto: pd.DataFrame
    pareto_year: int | None
    pareto_count: int
    unassigned: float
    growth: pd.DataFrame
    growth_years: tuple[int, int] | None
    measures: MeasureViews | None = None


def complete_years(company: CompanyData) -> list[int]:
    """Years whose bookings reach December, ascending."""
    from quotaopt.capacity import observed_years

    return [int(y) for y in observed_years(company)]


def _by_period(bookings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    dates = bookings["date"]
    sums = bookings.groupby([dates.dt.year.rename("year"), dates.dt.month.rename("month")])["amount"].sum()
    months: pd.DataFrame = sums.unstack("month").reindex(columns=range(1, 13)).fillna(0.0)
    quarters = pd.DataFrame({f"Q{q}": months[[3 * q - 2, 3 * q - 1, 3 * q]].sum(axis=1) for q in range(1, 5)})
    quarters["total"] = quarters.sum(axis=1)
    return quarters, months


def _by_unit(company: CompanyData) -> pd.DataFrame:
    team_of = company.reps.set_index("rep_id")["team_id"].astype(str)
    bookings = company.bookings.assign(year=company.bookings["date"].dt.year,
                                       team_id=company.bookings["rep_id"].map(team_of))
    per_team = bookings.groupby(["team_id", "year"])["amount"].sum().unstack("year").fillna(0.0)
    years = sorted(int(y) for y in per_team.columns)
    return unit_totals(company.teams, per_team.reindex(columns=years).fillna(0.0))


def _pareto(bookings: pd.DataFrame, year: int | None) -> tuple[pd.DataFrame, int, float]:
    columns = ["account_id", "rep_id", "amount", "share", "cumulative"]
    if year is None or "account_id" not in bookings:
        return pd.DataFrame(columns=columns), 0, 0.0
    rows = bookings[bookings["date"].dt.year == year]
    has = rows["account_id"].notna() & (rows["account_id"].astype(str) != "")
    unassigned = float(rows.loc[~has, "amount"].sum())
    per = rows[has].groupby("account_id").agg(amount=("amount", "sum"), rep_id=("rep_id", "first")).reset_index()
    per = per[per["amount"] > 0].sort_values(["amount", "account_id"], ascending=[False, True], kind="stable")
    total = float(per["amount"].sum())
    if total <= 0:
        return pd.DataFrame(columns=columns), 0, unassigned
    per["share"] = per["amount"] / total
    per["cumulative"] = per["share"].cumsum()
    count = int(np.searchsorted(per["cumulative"].to_numpy(float), PARETO_SHARE - 1e-12) + 1)
    return per[columns].reset_index(drop=True), min(count, len(per)), unassigned


def _growth(company: CompanyData, years: list[int]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    if len(years) < 2:
        return pd.DataFrame(), None
    first, second = years[-2], years[-1]
    bookings = company.bookings
    sums = bookings.groupby([bookings["rep_id"], bookings["date"].dt.year.rename("year")])["amount"].sum()
    per: pd.DataFrame = sums.unstack("year").reindex(columns=[first, second]).fillna(0.0)
    reps = company.reps.set_index("rep_id")
    frame = reps.reindex(per.index)[["name", "team_id", "role", "status", "hire_date"]].copy()
    frame[f"bookings_{first}"] = per[first]
    frame[f"bookings_{second}"] = per[second]
    frame = frame[(frame[f"bookings_{first}"] != 0) | (frame[f"bookings_{second}"] != 0)]
    base = frame[f"bookings_{first}"]
    frame["growth"] = (frame[f"bookings_{second}"] / base - 1.0).where(base > 0)
    frame["joined"] = pd.to_datetime(frame["hire_date"]).dt.year >= first
    frame = frame.drop(columns=["hire_date"]).reset_index().rename(columns={"index": "rep_id"})
    frame = frame.sort_values(["growth", "rep_id"], ascending=[False, True], na_position="last", kind="stable")
    return frame.reset_index(drop=True), (first, second)


def history_views(company: CompanyData, before: int | None = None) -> HistoryViews:
    """The four views over the bookings before ``before`` (a plan year; default: all of them).

    Examples
    --------
    >>> from quotaopt import load_inputs
    >>> views = history_views(load_inputs("scenarios/example.yaml").company, 2027)
    >>> list(views.quarters.index), views.growth_years
    ([2024, 2025, 2026], (2025, 2026))
    """
    bookings = company.bookings if before is None else company.bookings[company.bookings["date"].dt.year < before]
    seen = dataclasses.replace(company, bookings=bookings) if before is not None else company
    years = [y for y in complete_years(seen) if before is None or y < before]
    quarters, months = _by_period(bookings)
    pareto, count, unassigned = _pareto(bookings, years[-1] if years else None)
    growth, growth_years = _growth(seen, years)
    return HistoryViews(quarters=quarters, months=months, units=_by_unit(seen), pareto=pareto,
                        pareto_year=years[-1] if years else None, pareto_count=count, unassigned=unassigned,
                        growth=growth, growth_years=growth_years, measures=measure_views(seen, bookings, years))


# -- charts ---------------------------------------------------------------------------------


def _year_colour(i: int, n: int) -> str:
    """The latest year orange, the one before blue, older years grey."""
    return charts.ORANGE if i == n - 1 else charts.BLUE if i == n - 2 else charts.GREY


def _draw_months(fig: Any, months: pd.DataFrame) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    for i, (year, row) in enumerate(months.iterrows()):
        colour = _year_colour(i, len(months))
        ax.plot(range(1, 13), row.to_numpy(float), marker="o", ms=3, lw=1.6, color=colour, label=str(year))
    ax.set_xticks(range(1, 13), ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    ax.yaxis.set_major_formatter(FuncFormatter(charts.compact))
    ax.set_ylabel("bookings")
    ax.legend(loc="upper left", ncols=min(len(months), 6))


def _draw_units(fig: Any, frame: pd.DataFrame, years: list[int]) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    width = 0.8 / max(len(years), 1)
    x = np.arange(len(frame))
    for i, year in enumerate(years):
        colour = _year_colour(i, len(years))
        ax.bar(x + (i - (len(years) - 1) / 2) * width, frame[year].to_numpy(float), width, color=colour,
               alpha=0.85, label=str(year))
    ax.set_xticks(x, [str(n) for n in frame["label"]], rotation=30 if len(frame) > 6 else 0, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(charts.compact))
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper right")


def _draw_pareto(fig: Any, pareto: pd.DataFrame, count: int) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    n = len(pareto)
    x = np.arange(1, n + 1) / n
    ax.plot(x, pareto["cumulative"].to_numpy(float), color=charts.BLUE, lw=1.8)
    ax.axhline(PARETO_SHARE, ls="--", lw=0.8, color=charts.GREY)
    ax.axvline(count / n, ls="--", lw=0.8, color=charts.ORANGE)
    ax.set_xlabel("share of accounts (largest first)")
    ax.set_ylabel("share of revenue")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))


def _draw_growth(fig: Any, growth: np.ndarray) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    clipped = np.clip(growth, -1.0, 2.0)
    ax.hist(clipped, bins=np.linspace(-1.0, 2.0, 31), color=charts.BLUE, alpha=0.8)
    ax.axvline(float(np.median(growth)), ls="--", lw=1.0, color=charts.ORANGE, label="median")
    ax.set_xlabel("year-on-year growth (clipped to -100% .. +200%)")
    ax.set_ylabel("reps")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:+.0%}"))
    ax.legend(loc="upper right")


# -- HTML -------------------------------------------------------------------------------------


def _periods_html(views: HistoryViews) -> str:
    q = views.quarters
    headers = ["Year", "Q1", "Q2", "Q3", "Q4", "Total", "Growth"]
    totals = q["total"]
    rows = []
    for year, row in q.iterrows():
        previous = totals.get(int(str(year)) - 1)
        growth = row["total"] / previous - 1.0 if previous is not None and previous > 0 else None
        rows.append(f"<tr>{td(year, 'text')}" + "".join(td(row[c], "money") for c in ("Q1", "Q2", "Q3", "Q4", "total"))
                    + f"{td(growth, 'signed')}</tr>")
    months = views.months
    month_rows = [f"<tr>{td(year, 'text')}" + "".join(td(v, "compact") for v in row.to_numpy(float)) + "</tr>"
                  for year, row in months.iterrows()]
    month_names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return (chart(charts._render, "history-months", "Bookings by month, one line per year", _draw_months, months,
                  size=WIDE)
            + "<h3>By quarter</h3>" + table(headers, rows, sortable=False, css="compact")
            + "<h3>By month</h3>" + table(["Year", *month_names], month_rows, sortable=False, css="compact"))


def _units_html(views: HistoryViews) -> str:
    frame = views.units
    years = [c for c in frame.columns if isinstance(c, int | np.integer)]
    if frame.empty or not years:
        return note("No bookings to show by unit.")
    top = frame[frame["level"] == 1] if (frame["level"] == 1).any() else frame[frame["level"] == 0]
    shown = top.assign(label=top["name"].where(top["name"].notna(), top["unit_id"]))
    rows = []
    for _, row in frame.iterrows():
        last, before = row[years[-1]], row[years[-2]] if len(years) > 1 else None
        growth = last / before - 1.0 if before is not None and before > 0 else None
        pad = f"padding-left:{0.6 + 1.3 * int(row['level']):.1f}em"
        rows.append(f'<tr><td class="tree" style="{pad}">{escape(str(row["unit_id"]))}</td>{td(row["name"])}'
                    + "".join(td(row[y], "money") for y in years) + f"{td(growth, 'signed')}</tr>")
    headers = ["Unit", "Name", *[str(y) for y in years], "Growth"]
    return (chart(charts._render, "history-units", "Bookings by region, year by year", _draw_units, shown, years,
                  size=WIDE)
            + table(headers, rows, sortable=False, css="tree"))


def _pareto_html(views: HistoryViews) -> str:
    p, year = views.pareto, views.pareto_year
    if year is None or p.empty:
        return note("No complete year with account ids in bookings.csv: the Pareto view needs both.")
    share = views.pareto_count / len(p)
    lead = (f'<p class="status" id="pareto-count">{views.pareto_count:,} of {len(p):,} accounts ({share:.1%}) '
            f"carry {PARETO_SHARE:.0%} of {year}'s account revenue.</p>")
    extra = note(f"Bookings of {year} without an account id ({views.unassigned:,.0f}) are not counted.") \
        if views.unassigned else ""
    rows = [f"<tr>{td(r.account_id)}{td(r.rep_id)}{td(r.amount, 'money')}{td(r.share, 'percent')}"
            f"{td(r.cumulative, 'percent')}</tr>" for r in p.head(max(views.pareto_count, 1)).head(LISTED).itertuples()]
    more = note(f"Listing the first {LISTED} of the {views.pareto_count:,} accounts.") \
        if views.pareto_count > LISTED else ""
    return (lead + extra + chart(charts._render, "history-pareto", "Cumulative share of revenue by account",
                                 _draw_pareto, p, views.pareto_count, size=WIDE)
            + more + table(["Account", "Owner", "Bookings", "Share", "Cumulative"], rows))


def _growth_html(views: HistoryViews) -> str:
    g, years = views.growth, views.growth_years
    if years is None or g.empty:
        return note("Growth needs two complete years of bookings.")
    first, second = years
    values = g["growth"].dropna().to_numpy(float)
    lead = (f'<p class="status">{len(values):,} reps booked in both {first} and {second}: median growth '
            f"{np.median(values):+.1%}, {np.mean(values > 0):.0%} of them grew.</p>") if values.size else ""
    joined = int(g["joined"].sum())
    extra = note(f"{joined} rep(s) joined during {first} or later: their growth compares a part year.") \
        if joined else ""
    rows = [f"<tr>{td(r.rep_id)}{td(r.name)}{td(r.team_id)}{td(r.role)}{td(r.status)}"
            f"{td(getattr(r, f'bookings_{first}'), 'money')}{td(getattr(r, f'bookings_{second}'), 'money')}"
            f"{td(r.growth, 'signed')}{td('yes' if r.joined else '')}</tr>" for r in g.head(LISTED).itertuples()]
    more = note(f"Listing {LISTED} of {len(g):,} reps.") if len(g) > LISTED else ""
    picture = chart(charts._render, "history-growth", "Reps' year-on-year growth", _draw_growth, values,
                    size=WIDE) \
        if values.size else ""
    return (lead + extra + picture + more
            + table(["Rep", "Name", "Team", "Role", "Status", str(first), str(second), "Growth", "Joined"], rows))


def _sections(views: HistoryViews) -> list[tuple[str, str]]:
    """(id, label) of every section shown: the four views, then the measure views that have data."""
    extra = [] if views.measures is None else [(sid, label) for sid, label, _ in measure_sections(views.measures)]
    return SECTIONS + extra


def history_sections(views: HistoryViews) -> str:
    """The views as ``<section>`` elements (the workbench shows the same).

    The four bookings views always, then those of :mod:`quotaopt.report.history_measures`
    that have data (product lines, new customers, repurchase rate).
    """
    titles = {"periods": "Bookings by quarter and month", "units": "Bookings by region and unit",
              "pareto": f"The accounts that carry {PARETO_SHARE:.0%} of revenue",
              "growth": "Reps' year-on-year growth"}
    bodies = {"periods": _periods_html, "units": _units_html, "pareto": _pareto_html, "growth": _growth_html}
    base = "".join(f'<section id="{sid}"><h2>{titles[sid]}</h2>{bodies[sid](views)}</section>' for sid, _ in SECTIONS)
    extra = "" if views.measures is None else "".join(html for _, _, html in measure_sections(views.measures))
    return base + extra


PAGE = _assets.HEAD + """<header><h1>History: {name}</h1><p class="sub">{span}</p><nav>{nav}</nav></header>
<main>
{sections}
</main>
<footer>Generated by quotaopt {version} from the company's bookings.</footer>
<script>{script}</script>
</body>
</html>
"""


def render_analysis(company: CompanyData, name: str, before: int | None = None,
                    views: HistoryViews | None = None) -> bytes:
    """``analysis.html``: every view on one self-contained page (no network, inline SVG).

    ``views`` are :func:`history_views` of the same company and year, when already computed.
    """
    from quotaopt import __version__

    views = history_views(company, before) if views is None else views
    years = list(views.quarters.index)
    span = f"Bookings {years[0]}-{years[-1]}" if years else "No bookings"
    nav = "".join(f'<a href="#{sid}">{label}</a>' for sid, label in _sections(views))
    page = PAGE.format(title=f"History {escape(name)}", name=escape(name), span=escape(span), nav=nav,
                       sections=history_sections(views), version=escape(__version__), css=_assets.CSS,
                       script=_assets.SCRIPT)
    return page.encode("utf-8")
