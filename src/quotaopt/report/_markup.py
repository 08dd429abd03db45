"""HTML building blocks of the report: number formats, escaped cells, tables, the unit tree."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pandas as pd

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


def _tree_order(units: pd.DataFrame) -> list[tuple[int, int]]:
    """(row position, depth) of every unit, depth-first with children sorted by id.

    Units whose parent is missing or unknown are roots; units caught in a cycle (the
    data loader rejects those, but a report must not loop) are appended at depth 0.
    """
    ids = [str(u) for u in units["unit_id"]]
    known = set(ids)
    children: dict[str | None, list[int]] = {}
    for pos, parent in enumerate(units["parent_id"]):
        key = None if is_missing(parent) or str(parent) not in known or str(parent) == ids[pos] else str(parent)
        children.setdefault(key, []).append(pos)
    order: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(pos, 0) for pos in sorted(children.get(None, []), key=lambda p: ids[p], reverse=True)]
    while stack:
        pos, depth = stack.pop()
        if pos in seen:
            continue
        seen.add(pos)
        order.append((pos, depth))
        kids = sorted(children.get(ids[pos], []), key=lambda p: ids[p], reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    order.extend((pos, 0) for pos in range(len(ids)) if pos not in seen)
    return order


def _rep_counts(units: pd.DataFrame, plan: pd.DataFrame) -> list[int]:
    """Reps in each unit's subtree (reps hang on any unit, so count bottom-up)."""
    ids = [str(u) for u in units["unit_id"]]
    index = {u: i for i, u in enumerate(ids)}
    direct = plan["team_id"].astype(str).value_counts() if "team_id" in plan else pd.Series(dtype=int)
    counts = [int(direct.get(u, 0)) for u in ids]
    parents = [None if is_missing(p) else index.get(str(p)) for p in units["parent_id"]]
    for pos, _depth in reversed(_tree_order(units)):  # children come after their parent in the order
        parent = parents[pos]
        if parent is not None and parent != pos:
            counts[parent] += counts[pos]
    return counts


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
    order = _tree_order(units)
    counts = _rep_counts(units, plan)
    shown = order[:UNIT_TABLE_CAP]
    rows = []
    for pos, depth in shown:
        row = units.iloc[pos]
        quota: Any = row.get("quota")
        cap: Any = row.get("capacity_p50")
        ratio = None if is_missing(quota) or is_missing(cap) or not float(cap) else float(quota) / float(cap)
        band = attainment_band(row.get("p_attain")) or "none"
        mark = '<span class="branch">\u2514</span>' if depth else ""
        rows.append(f'<tr class="band-{band}"><td class="tree" style="padding-left:{0.6 + 1.3 * depth:.1f}em">'
                    f"{mark}{_unit_label(row)}</td>{td(row.get('level'), 'integer')}"
                    f"{td(counts[pos], 'integer')}{td(quota, 'money')}{td(cap, 'money')}{td(ratio, 'stretch')}"
                    f"{td(row.get('p_attain'), 'band')}</tr>")
    extra = note(f"Showing the first {UNIT_TABLE_CAP:,} of {len(order):,} units; all are in units.csv.") \
        if len(order) > UNIT_TABLE_CAP else ""
    headers = ["Unit", "Level", "Reps", "Quota", "Capacity P50", "Quota / capacity", "P(attain)"]
    return legend + extra + table(headers, rows, sortable=False, css="tree")
