"""status.html: one self-contained page (inline CSS, no script, no network) for a tracking date.

Top: the as-of date, the thresholds and the count of each colour. Then the
traffic-light tree of units with their reps (folded below the second level, using
``<details>`` so it works without JavaScript; a flag marks a calibration meeting), and
the list of units and reps that need a calibration meeting (red, or pace more than 15%
off plan either way).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.org_tree import OrgTree

COLOURS = {"green": "#16a34a", "yellow": "#eab308", "red": "#dc2626"}
FILLS = {"green": "#dcfce7", "yellow": "#fef9c3", "red": "#fee2e2"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;font-size:13px;margin-bottom:12px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #e5e7eb;border-radius:8px;padding:8px 14px;min-width:120px}
.card b{font-size:20px;display:block}
.dot{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:6px;vertical-align:middle}
.green{background:#16a34a}.yellow{background:#eab308}.red{background:#dc2626}
details{margin:0}summary{cursor:pointer;list-style:none}summary::-webkit-details-marker{display:none}
.row{display:grid;grid-template-columns:minmax(220px,2fr) repeat(7,minmax(90px,1fr));gap:6px;padding:3px 0;
border-bottom:1px solid #f3f4f6;font-size:13px;align-items:center}
.row.head{font-weight:600;color:#374151;border-bottom:2px solid #d1d5db}
.num{text-align:right;font-variant-numeric:tabular-nums}.rep{color:#374151}
.flag{color:#b91c1c;font-weight:600;margin-left:4px}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb}
th{text-align:left;background:#f9fafb}td.num{text-align:right}
.note{color:#6b7280;font-size:12px;margin-top:6px}
.replan{border-left:4px solid #2563eb;background:#eff6ff;color:#1e3a8a;padding:6px 12px;margin:8px 0 12px;font-size:13px}
.replan ul{margin:4px 0 0 18px;padding:0}
"""

_HEAD = ("Unit / rep", "Quota", "Plan to date", "Actual", "Pace", "P(year)", "Forecast P50", "Forecast P10\u2013P90")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _money(value: Any) -> str:
    return "-" if _missing(value) else f"{float(value):,.0f}"


def _pct(value: Any, digits: int = 1) -> str:
    return "-" if _missing(value) else f"{100.0 * float(value):.{digits}f}%"


def _compact(value: Any) -> str:
    from quotaopt.allocation.explain import amount

    return "-" if _missing(value) else amount(float(value))


def _range(row: pd.Series) -> str:
    """The forecast's P10 to P90 of the year, compact (``1.2M\u20131.5M``)."""
    return f"{_compact(row['forecast_p10'])}\u2013{_compact(row['forecast_p90'])}"


def _dot(status: Any) -> str:
    name = str(status) if str(status) in COLOURS else "yellow"
    return f'<span class="dot {name}" title="{escape(name)}"></span>'


def _cells(row: pd.Series, label: str, depth: int = 0) -> str:
    flag = '<span class="flag" title="calibration meeting">&#9873;</span>' if bool(row["calibrate"]) else ""
    values = (_money(row["quota"]), _money(row["plan_to_date"]), _money(row["actual_to_date"]),
              _pct(row["pace"]), _pct(row["p_attain_year"], 0), _money(row["forecast_p50"]), _range(row))
    # Indent the label only, so the number columns line up at every depth.
    return (f'<div style="padding-left:{18 * depth}px">{_dot(row["status"])}{label}{flag}</div>'
            + "".join(f'<div class="num">{v}</div>' for v in values))


def _name(row: pd.Series) -> str:
    """A row's name, '' when it has none (or equals its id, as a unit without a name does)."""
    name = row.get("name")
    return "" if _missing(name) or str(name) in ("", str(row["id"])) else str(name)


def _rep_label(rep: pd.Series) -> str:
    name = _name(rep)
    who = f"{escape(name)} <small>{escape(str(rep['id']))}</small>" if name else escape(str(rep["id"]))
    return who + " <small>(" + escape(str(rep["role"])) + ")</small>"


def _unit_label(unit: pd.Series) -> str:
    name = _name(unit)
    return f"<b>{escape(name)}</b> <small>{escape(str(unit['id']))}</small>" if name else f"<b>{escape(str(unit['id']))}</b>"


def _tree(status: pd.DataFrame) -> str:
    header = '<div class="row head">' + "".join(
        f'<div class="{"num" if i else ""}">{escape(h)}</div>' for i, h in enumerate(_HEAD)) + "</div>"
    units = status[status["kind"] == "unit"].reset_index(drop=True)
    if units.empty:
        return header
    reps = status[status["kind"] == "rep"]
    # The units are those of the run's units.csv, checked to be a tree when tracking read it;
    # children keep status.csv's order (level, then id).
    tree = OrgTree.from_table(units, "id", source="status.csv", one_root=False)
    rep_of: dict[str, list[pd.Series]] = {}
    for _, row in reps.iterrows():
        rep_of.setdefault(str(row["parent_id"]), []).append(row)

    def node(unit: int, depth: int) -> str:
        row = units.iloc[int(tree.rows[unit])]
        uid = str(row["id"])
        inner = "".join(node(child, depth + 1) for child in tree.children[unit].tolist())
        inner += "".join(
            f'<div class="row rep">{_cells(rep, _rep_label(rep), depth + 1)}</div>' for rep in rep_of.get(uid, []))
        head = f'<summary class="row">{_cells(row, _unit_label(row), depth)}</summary>'
        opened = " open" if depth < 2 else ""
        return f"<details{opened}>{head}{inner}</details>"

    return header + "".join(node(root, 0) for root in np.flatnonzero(tree.parent < 0).tolist())


def _calibration(status: pd.DataFrame) -> str:
    flagged = status[status["calibrate"].astype(bool)].copy()
    if flagged.empty:
        return '<p class="note">No unit or rep needs a calibration meeting.</p>'
    flagged["_order"] = flagged["kind"].map({"unit": 0, "rep": 1})
    flagged = flagged.sort_values(["_order", "deviation", "id"], kind="stable", na_position="first")
    rows = []
    for _, row in flagged.iterrows():
        why = "red" if row["status"] == "red" else ("ahead of plan" if float(row["deviation"]) > 0 else "behind plan")
        rows.append(
            f"<tr><td>{_dot(row['status'])}{escape(str(row['kind']))}</td><td>{escape(str(row['id']))}</td>"
            f"<td>{escape(_name(row))}</td>"
            f"<td>{escape('' if _missing(row['parent_id']) else str(row['parent_id']))}</td>"
            f"<td class=num>{_money(row['plan_to_date'])}</td><td class=num>{_money(row['actual_to_date'])}</td>"
            f"<td class=num>{_pct(row['pace'])}</td><td class=num>{_pct(row['deviation'])}</td>"
            f"<td class=num>{_pct(row['p_attain_year'], 0)}</td><td>{escape(why)}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Kind", "Id", "Name", "Parent", "Plan to date", "Actual", "Pace", "Deviation",
                                             "P(year)", "Why"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _replan_header(meta: dict[str, Any]) -> tuple[str, str]:
    """The page title and banner: a tracked re-plan, and a re-plan this tracking made, say so."""
    from quotaopt.report.replan_note import replan_banner_html, replan_title

    title = f"Tracking {meta.get('as_of', '')}"
    banner = ""
    of = meta.get("replan_of")
    if isinstance(of, dict):  # the tracked run is itself a re-plan
        change = {**of, "parent_run": of.get("run_id")}
        title += f" of a re-plan ({replan_title(change)})"
        banner += replan_banner_html(change)
    made = meta.get("replan")
    if isinstance(made, dict):  # this tracking wrote a re-plan
        title += f", re-planned as run {made.get('run_id')}"
        banner += replan_banner_html({**made, "parent_run": meta.get("run_id")})
    return title, banner


def render_status_html(status: pd.DataFrame, meta: dict[str, Any], extra: str = "") -> bytes:
    """The tracking page for one as-of date, as UTF-8 bytes.

    Parameters
    ----------
    status : DataFrame
        The rows of status.csv.
    meta : dict
        ``as_of``, ``run_id``, ``thresholds`` (red, green, calibration_deviation) and
        ``counts`` as :func:`quotaopt.tracking.assess` records them; ``replan_of`` when
        the tracked run is a re-plan, ``replan`` when this tracking wrote one (the title
        and a banner say so).
    extra : str
        Sections of escaped HTML appended to the page (the quarter and the funnel:
        :mod:`quotaopt.opportunities.pages`).
    """
    th = meta.get("thresholds", {})
    red, green = float(th.get("red", 0.85)), float(th.get("green", 1.0))
    limit = float(th.get("calibration_deviation", 0.15))
    reps = status[status["kind"] == "rep"]
    cards = "".join(
        f'<div class="card">{_dot(s)}{escape(s)}<b>{int((reps["status"] == s).sum())}</b>reps</div>'
        for s in ("green", "yellow", "red"))
    root = status[(status["kind"] == "unit") & (status["level"] == 0)]
    if len(root):
        r = root.iloc[0]
        cards += (f'<div class="card">company pace<b>{_pct(r["pace"])}</b>{_money(r["actual_to_date"])} booked</div>'
                  f'<div class="card">P(company quota)<b>{_pct(r["p_attain_year"], 0)}</b>'
                  f'forecast {_money(r["forecast_p50"])}<br>P10\u2013P90 {_range(r)}'
                  f'<br>quota {_money(r["quota"])}</div>')
    cards += f'<div class="card">calibration<b>{int(status["calibrate"].astype(bool).sum())}</b>units and reps</div>'
    ignored = meta.get("ignored_actuals") or {}
    notes = []
    if ignored.get("rows_after_as_of"):
        notes.append(f"{ignored['rows_after_as_of']} actuals rows dated after the as-of date are not counted.")
    if ignored.get("rows_without_quota"):
        notes.append(f"{ignored['rows_without_quota']} actuals rows ({_money(ignored.get('amount_without_quota'))}) "
                     "belong to reps without a quota in this plan and count in no unit.")
    title, banner = _replan_header(meta)
    body = (
        f"<h1>{escape(title)}</h1>{banner}"
        f'<div class="meta">run {escape(str(meta.get("run_id", "")))} &middot; plan year {escape(str(meta.get("plan_year", "")))}'
        f" &middot; pace = actual / plan to date: {_dot('red')}below {_pct(red, 0)} "
        f"{_dot('yellow')}{_pct(red, 0)} to below {_pct(green, 0)} {_dot('green')}{_pct(green, 0)} or more"
        f" &middot; P(year) = chance of reaching the annual quota given the actuals so far, with the"
        f" forecast of the year's bookings (P50, and P10\u2013P90: 8 in 10 years end inside)"
        f' &middot; <span class="flag">&#9873;</span> calibration meeting &middot; click a unit to fold it</div>'
        f'<div class="cards">{cards}</div>'
        f"<h2>Traffic lights by unit</h2>{_tree(status)}"
        f"<h2>Calibration meeting (red, or pace more than {_pct(limit, 0)} off plan)</h2>{_calibration(status)}"
        + "".join(f'<p class="note">{n}</p>' for n in notes)  # notes are built from escaped parts
        + extra
    )
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
            f"<body>{body}</body></html>\n")
    return page.encode("utf-8")
