"""status.html sections for the quarter and the pipeline: chances, coverage, funnel heatmap, stalled deals."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.report.status_html import _compact, _money, _pct

#: Rows of the per-rep tables shown on the page (the CSV files hold all).
SHOWN = 200


def _ratio_fill(ratio: float) -> str:
    """Cell colour of a conversion ratio: red below the learned rate, green above, white at it."""
    if not np.isfinite(ratio):
        return "#f9fafb"
    x = float(np.clip((ratio - 1.0) / 0.5, -1.0, 1.0))
    if x < 0:
        return f"rgb(255,{int(255 + 120 * x)},{int(255 + 120 * x)})"
    return f"rgb({int(255 - 120 * x)},255,{int(255 - 120 * x)})"


def _quarter_table(rows: pd.DataFrame, label: str, pipeline: bool) -> str:
    head = ["Id" if label == "" else label, "Quarter quota", "Booked", "P(quarter)", "Forecast P50", "P10\u2013P90"]
    if pipeline:
        head += ["Open in quarter", "Weighted pipeline", "Coverage"]
    body = []
    for _, r in rows.iterrows():
        cells = [escape(str(r["id"])), _money(r["quarter_quota"]), _money(r["quarter_actual"]),
                 _pct(r["p_attain_quarter"], 0), _money(r["quarter_p50"]),
                 f"{_compact(r['quarter_p10'])}\u2013{_compact(r['quarter_p90'])}"]
        if pipeline:
            cells += [_money(r["pipeline_open"]), _money(r["pipeline_weighted"]), _pct(r["pipeline_coverage"], 0)]
        body.append("<tr>" + "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>" for i, c in enumerate(cells))
                    + "</tr>")
    return (f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _heatmap(cells: pd.DataFrame) -> str:
    if cells.empty:
        return '<p class="note">One snapshot only: no week-to-week conversion to show.</p>'
    grid = cells.pivot_table(index="week", columns="unit_id", values="ratio", aggfunc="first")
    count = cells.pivot_table(index="week", columns="unit_id", values="opportunities", aggfunc="first")
    head = "".join(f"<th>{escape(str(u))}</th>" for u in grid.columns)
    rows = []
    for week in grid.index:
        tds = []
        for unit in grid.columns:
            ratio = float(grid.loc[week, unit]) if pd.notna(grid.loc[week, unit]) else float("nan")
            n = count.loc[week, unit]
            text = "-" if not np.isfinite(ratio) else f"{ratio:.2f}"
            title = f"{int(n) if pd.notna(n) else 0} open opportunities"
            tds.append(f'<td class=num style="background:{_ratio_fill(ratio)}" title="{escape(title)}">{text}</td>')
        rows.append(f"<tr><td>{escape(str(week))}</td>{''.join(tds)}</tr>")
    return f"<table><thead><tr><th>Week of</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _stalled(stalled: pd.DataFrame) -> str:
    if stalled.empty:
        return '<p class="note">No open opportunity has been in its stage longer than usual.</p>'
    shown = stalled.sort_values(["rep_id", "days_in_stage"], ascending=[True, False], kind="stable").head(SHOWN)
    body = "".join(
        f"<tr><td>{escape(str(r['rep_id']))}</td><td>{escape(str(r['opportunity_id']))}</td>"
        f"<td>{escape(str(r['stage']))}</td><td class=num>{r['days_in_stage']:.0f}</td>"
        f"<td class=num>{r['usual_days']:.0f}</td><td class=num>{_money(r['amount'])}</td>"
        f"<td>{escape(str(r['close_date']))}</td></tr>" for _, r in shown.iterrows())
    head = "".join(f"<th>{h}</th>" for h in ("Rep", "Opportunity", "Stage", "Days in stage", "Usual (P90)", "Amount",
                                             "Close date"))
    more = (f'<p class="note">{len(stalled) - SHOWN} more in stalled.csv.</p>' if len(stalled) > SHOWN else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def pipeline_sections(status: pd.DataFrame, meta: dict[str, Any], funnel: Any) -> str:
    """The quarter section (always) and, with a funnel (:class:`quotaopt.tracking.pipeline.funnel.Funnel`), the pipeline's.

    Parameters
    ----------
    status : DataFrame
        status.csv rows (with the quarter columns).
    meta : dict
        ``Outlook.meta``: quarter label, days left, pipeline summary.
    funnel : Funnel or None
    """
    pipeline = funnel is not None
    units = status[(status["kind"] == "unit") & (status["level"] <= 1)]
    how = ("closed so far + the open pipeline's learned outcome + bookings not yet in the pipeline"
           if pipeline else "closed so far + the bookings the plan's shape and the actuals expect (no pipeline given)")
    out = (f"<h2>The quarter: {escape(str(meta.get('quarter', '')))} (ends {escape(str(meta.get('last_day', '')))}, "
           f"{escape(str(meta.get('days_left', '')))} days left)</h2>"
           f'<p class="note">P(quarter) = chance of reaching the quarter\'s quota: {escape(how)}.</p>'
           + _quarter_table(units, "Unit", pipeline))
    if not pipeline:
        return out
    reps = status[status["kind"] == "rep"].sort_values(["pipeline_coverage", "id"], kind="stable", na_position="last")
    out += ("<h2>Pipeline coverage by rep (weighted pipeline / quota still to book this quarter; lowest first)</h2>"
            + _quarter_table(reps.head(SHOWN), "Rep", True))
    out += ("<h2>Funnel: stage conversion by week and unit, against its learned rate</h2>"
            '<p class="note">Opportunities that moved to a later stage or were won within the week, over the number '
            "the learned per-stage rates expected (1.00 = as usual; red slower, green faster).</p>"
            + _heatmap(funnel.heatmap))
    usual = ", ".join(f"{escape(k)} {v:.0f} days" for k, v in funnel.usual_days.items())
    out += (f"<h2>Stalled opportunities ({len(funnel.stalled)}), by rep</h2>"
            f'<p class="note">In their stage longer than 9 in 10 that left it ({usual or "not known"}).</p>'
            + _stalled(funnel.stalled))
    return out
