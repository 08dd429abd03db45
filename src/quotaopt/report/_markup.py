"""HTML building blocks of the report: number formats, escaped cells, tables, the unit tree."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.org_tree import OrgTree
from quotaopt.report import charts
from quotaopt.report._common import GREEN_AT, YELLOW_AT, attainment_band, is_missing

#: Most units listed in the tree.
UNIT_TABLE_CAP = 2000


def fmt(value: Any, kind: str) -> str:
    """Format a number for people; missing values show as an em dash."""
    if is_missing(value):
        return "\u2014"
    if kind == "money":
        return f"{float(value):,.0f}"
    if kind == "compact":
        return charts.compact(float(value))
    if kind == "percent":
        return f"{float(value):.1%}"
    if kind == "signed":
        return f"{float(value):+.1%}"
    if kind == "stretch":
        return f"{float(value):.2f}"
    if kind == "integer":
        return f"{int(value):,}"
    return escape(str(value))


def note(text: str) -> str:
    """A muted paragraph; ``text`` is trusted markup (callers escape user text)."""
    return f'<p class="note">{text}</p>'


def td(value: Any, kind: str = "text") -> str:
    """A table cell; numbers carry their raw value in data-v for sorting."""
    if kind == "text":
        if is_missing(value):
            return "<td></td>"
        text = escape(str(value))
        # Long names are cut by CSS (ellipsis); the tooltip keeps them readable.
        return f'<td class="t" title="{text}">{text}</td>' if len(text) > 20 else f"<td>{text}</td>"
    raw = "" if is_missing(value) else repr(float(value))
    if kind == "band":
        band = attainment_band(value)
        dot = f'<span class="dot {band}"></span>' if band else ""
        return f'<td class="num" data-v="{raw}">{dot}{fmt(value, "percent")}</td>'
    return f'<td class="num" data-v="{raw}">{fmt(value, kind)}</td>'


def table(headers: list[str], rows: list[str], *, sortable: bool = True, css: str = "") -> str:
    """A scrollable table; ``rows`` are ready ``<tr>`` strings, headers are escaped here."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cls = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def chart(make: Callable[..., str], *args: Any, **kwargs: Any) -> str:
    """A chart in a figure, or a note when matplotlib is missing."""
    try:
        return f"<figure>{make(*args, **kwargs)}</figure>"
    except ImportError:
        return note("Charts need matplotlib, which is not installed; chart skipped.")


def _rep_counts(tree: OrgTree, plan: pd.DataFrame) -> np.ndarray:
    """Reps in each unit's subtree, in tree order (reps hang on any unit, so sum the subtree)."""
    direct = plan["team_id"].astype(str).value_counts() if "team_id" in plan else pd.Series(dtype=int)
    return tree.subtree_sum(np.array([int(direct.get(u, 0)) for u in tree.ids.tolist()], dtype=np.int64))


def _unit_label(row: pd.Series) -> str:
    """A unit's name with its id beside it (just the id when the name is the id)."""
    uid, name = str(row["unit_id"]), row.get("name")
    if is_missing(name) or str(name) in ("", uid):
        return escape(uid)
    return f'{escape(str(name))} <small class="id">{escape(uid)}</small>'


def unit_tree(units: pd.DataFrame, plan: pd.DataFrame) -> str:
    """The unit tree as an indented table with quotas and a coloured chance of attainment."""
    legend = (f'<div class="legend"><span><span class="dot green"></span>P(attain) \u2265 {GREEN_AT:.0%}</span>'
              f'<span><span class="dot yellow"></span>{YELLOW_AT:.0%} to {GREEN_AT:.0%}</span>'
              f'<span><span class="dot red"></span>< {YELLOW_AT:.0%}</span></div>')
    if units is None or units.empty:
        return legend + note("No units in this result.")
    tree = OrgTree.tolerant(units)  # a report renders any table: a unit with no known parent is a root
    order = tree.depth_first()
    counts = _rep_counts(tree, plan).tolist()
    shown = order[:UNIT_TABLE_CAP].tolist()
    rows = []
    for unit in shown:
        row, depth = units.iloc[int(tree.rows[unit])], int(tree.level[unit])
        quota: Any = row.get("quota")
        cap: Any = row.get("capacity_p50")
        ratio = None if is_missing(quota) or is_missing(cap) or not float(cap) else float(quota) / float(cap)
        band = attainment_band(row.get("p_attain")) or "none"
        mark = '<span class="branch">\u2514</span>' if depth else ""
        rows.append(f'<tr class="band-{band}"><td class="tree" style="padding-left:{0.6 + 1.3 * depth:.1f}em">'
                    f"{mark}{_unit_label(row)}</td>{td(row.get('level'), 'integer')}"
                    f"{td(counts[unit], 'integer')}{td(quota, 'money')}{td(cap, 'money')}{td(ratio, 'stretch')}"
                    f"{td(row.get('p_attain'), 'band')}</tr>")
    extra = note(f"Showing the first {UNIT_TABLE_CAP:,} of {len(order):,} units; all are in units.csv.") \
        if len(order) > UNIT_TABLE_CAP else ""
    headers = ["Unit", "Level", "Reps", "Quota", "Capacity P50", "Quota / capacity", "P(attain)"]
    return legend + extra + table(headers, rows, sortable=False, css="tree")
