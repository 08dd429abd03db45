"""The sheets of plan.xlsx that people work in: Summary, Reps, the period grid, Units,
Exceptions and Overrides (the flat Details sheet is :meth:`quotaopt.report.excel._Writer.details`).

Every number is a number with a format; every piece of user text goes through
:func:`quotaopt.report._common.safe_text`; the only formulas are the grid's SUMs, written
with their values so a viewer that does not recalculate still shows them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quotaopt.org_tree import OrgTree
from quotaopt.planning import ID_HEADER, OVERRIDES_SHEET, QUOTA_HEADER, PlanResult
from quotaopt.report._common import is_missing, safe_text
from quotaopt.report._words import PLAN_TITLES, UNIT_TITLES, binding_meaning

#: Sheet name of the period grid per split.
GRID_SHEETS = {"quarter": "Quota by quarter", "month": "Quota by month", "week": "Quota by week"}
_KINDS = {"capacity_p10": "money", "capacity_p50": "money", "capacity_p90": "money", "quota": "money",
          "last_quota": "money", "expected_payout": "money", "stretch": "stretch", "change": "percent",
          "p_attain": "percent", "level": "integer"}


def _split(periods: pd.DataFrame) -> str:
    first = str(periods["period"].iloc[0]) if len(periods) else ""
    return "quarter" if "-Q" in first else "week" if "-W" in first else "month"


def _text(value: Any) -> str:
    return "" if is_missing(value) else safe_text(str(value))


def _titled(frame: pd.DataFrame, titles: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with people's column titles, and the number kind of each title."""
    shown = frame.rename(columns=titles)
    return shown, {titles.get(c, c): k for c, k in _KINDS.items()}


def _summary(writer: Any, result: PlanResult) -> None:
    """The plan in words: one line per figure, the value formatted, a note beside it."""
    s = result.summary.record()
    sheet = writer.book.add_worksheet("Summary")
    title = writer.book.add_format({"bold": True, "font_size": 14})
    label = writer.book.add_format({"bold": True})
    wrap = writer.book.add_format({"text_wrap": True, "valign": "top", "font_color": "#4b5563"})
    sheet.write_string(0, 0, _text(f"Plan {s.get('scenario', result.name)} for {result.plan_year}"), title)
    gap = s.get("target_gap") or {}
    shares = s.get("reps_expected") or {}
    basis = s.get("target_basis") or {}
    basis_note = ""
    if basis.get("kind") == "growth" and basis.get("growth") is not None:
        basis_note = f"growth {float(basis['growth']):+.1%} over {basis.get('base_year')} bookings"
    elif basis.get("kind"):
        basis_note = str(basis["kind"])
    exceptions = s.get("exceptions") or []
    fairness = s.get("fairness") or {}
    lines: list[tuple[str, Any, str, str]] = [
        ("Company target", s.get("company_target"), "money", basis_note),
        ("Total of rep quotas", s.get("total_quota"), "money",
         f"over-assignment {float(s.get('over_assignment') or 0):.1%} above the target"),
        ("Reps with a quota", s.get("reps"), "integer", f"in {s.get('units')} units"),
        ("Reps' summed capacity (P50)", gap.get("capacity_p50") or (s.get("capacity") or {}).get("total_p50"),
         "money", "what the reps are expected to book (P10 to P90 below)"),
        ("Capacity P10", gap.get("capacity_p10"), "money", "8 in 10 years the company books more than this"),
        ("Capacity P90", gap.get("capacity_p90"), "money", "8 in 10 years the company books less than this"),
        ("Chance the company target is met", s.get("p_company_target"), "percent", "from the simulation"),
        ("Reps expected to reach quota", shares.get("ge_100"), "percent", "share of reps at 100% or more"),
        ("Reps expected at 80-100%", shares.get("80_100"), "percent", ""),
        ("Reps expected below 80%", shares.get("lt_80"), "percent", ""),
        ("Expected payout", s.get("expected_payout"), "money",
         f"8 in 10 years between {float(s.get('payout_p10') or 0):,.0f} and {float(s.get('payout_p90') or 0):,.0f}"),
        ("Cost of sales", s.get("cost_of_sales"), "percent", "expected payout / expected bookings"),
        ("Stretch from", fairness.get("stretch_min"), "stretch", "quota / capacity P50, lowest rep"),
        ("Stretch to", fairness.get("stretch_max"), "stretch", "highest rep"),
        ("Exceptions", len(exceptions), "integer",
         "soft limits that gave way: see the Exceptions sheet" if exceptions else "every limit held"),
    ]
    guard = s.get("guardrail") or {}
    row = 2
    for text, value, kind, remark in lines:
        if is_missing(value):
            continue
        sheet.write_string(row, 0, text, label)
        sheet.write_number(row, 1, float(value), writer.formats[kind])
        if remark:
            sheet.write_string(row, 2, _text(remark), wrap)
        row += 1
    if guard.get("below"):
        row += 1
        sheet.write_string(row, 0, "Warning", label)
        sheet.write_string(row, 1, _text(guard.get("message")), wrap)
        row += 1
    row += 1
    sheet.write_string(row, 0, "How to change quotas", label)
    sheet.write_string(row, 1, f"Type quotas in the {QUOTA_HEADER} column of the {OVERRIDES_SHEET} sheet, save, and "
                               "run: quotaopt plan SCENARIO --overrides plan.xlsx. The new plan holds them exactly "
                               "and shares the rest of each team around them; quotaopt compare OLD NEW --reps "
                               "lists who moved.", wrap)
    sheet.set_row(row, 60)
    solver = s.get("solver") or {}
    row += 2
    sheet.write_string(row, 0, "Solver (technical)", label)
    gap_value: Any = solver.get("gap")
    status = str(solver.get("status", "unknown"))
    sheet.write_string(row, 1, _text(f"{solver.get('backend', '')}: {status}"
                                     + ("" if is_missing(gap_value) else f", gap {float(gap_value):.4%}")), wrap)
    sheet.write_string(row + 1, 0, "All figures", label)
    sheet.write_string(row + 1, 1, "every key of summary.json: the Details sheet", wrap)
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 2, 70)


def _reps(writer: Any, result: PlanResult) -> None:
    plan = result.plan
    shown, kinds = _titled(plan, PLAN_TITLES)
    per_sheet = writer.rows_per_sheet()
    for part, sheet in enumerate(writer.table("Reps", shown, kinds)):
        n = min(len(plan) - part * per_sheet, per_sheet)
        if "p_attain" in plan.columns:
            writer.colour_bands(sheet, list(plan.columns).index("p_attain"), n)
        if "binding" in plan.columns and n:
            col = list(plan.columns).index("binding")
            orange = writer.book.add_format({"bg_color": "#ffedd5"})
            sheet.conditional_format(1, col, n, col, {"type": "text", "criteria": "ends with", "value": "_relaxed",
                                                      "format": orange})
        if "change" in plan.columns and n:
            col = list(plan.columns).index("change")
            sheet.conditional_format(1, col, n, col, {"type": "cell", "criteria": "<", "value": 0,
                                                      "format": writer.book.add_format({"font_color": "#b91c1c"})})
        sheet.freeze_panes(1, 2)  # the header and the rep's id and name stay in view


def _grid(writer: Any, result: PlanResult) -> None:
    """One row per rep, one column per period; SUM formulas for each rep's total and each period's."""
    periods = result.periods
    if periods.empty:
        return
    grid = periods.pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum", fill_value=0.0)
    labels = sorted(grid.columns)
    names = result.plan.set_index("rep_id")
    grid = grid.reindex(index=result.plan["rep_id"], columns=labels, fill_value=0.0)
    sheet = writer.book.add_worksheet(GRID_SHEETS[_split(periods)])
    money, bold_money = writer.formats["money"], writer.book.add_format({"num_format": "#,##0", "bold": True,
                                                                        "top": 1})
    heads = ["Rep ID", "Name", "Team", *labels, "Total"]
    for col, head in enumerate(heads):
        sheet.write_string(0, col, _text(head), writer.header)
    first, last = 3, 3 + len(labels) - 1
    values = grid.to_numpy(dtype=float)
    n = min(len(grid), writer.rows_per_sheet() - 1)  # the totals row needs one
    from xlsxwriter.utility import xl_rowcol_to_cell

    for i in range(n):
        rep = grid.index[i]
        sheet.write_string(i + 1, 0, _text(rep))
        sheet.write_string(i + 1, 1, _text(names["name"].get(rep) if "name" in names else ""))
        sheet.write_string(i + 1, 2, _text(names["team_name"].get(rep) if "team_name" in names else ""))
        for j in range(len(labels)):
            sheet.write_number(i + 1, first + j, values[i, j], money)
        formula = f"=SUM({xl_rowcol_to_cell(i + 1, first)}:{xl_rowcol_to_cell(i + 1, last)})"
        sheet.write_formula(i + 1, last + 1, formula, bold_money, float(values[i].sum()))
    total_row = n + 1
    sheet.write_string(total_row, 0, "Total", writer.header)
    for j in range(len(labels) + 1):
        col = first + j
        formula = f"=SUM({xl_rowcol_to_cell(1, col)}:{xl_rowcol_to_cell(n, col)})" if n else "=0"
        value = float(values[:n, j].sum()) if j < len(labels) else float(values[:n].sum())
        sheet.write_formula(total_row, col, formula, bold_money, value)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 2, 22)
    sheet.set_column(first, last + 1, 12)
    sheet.freeze_panes(1, 2)


def _units(writer: Any, result: PlanResult) -> None:
    units = result.units
    sheet = writer.book.add_worksheet("Units")
    columns = [c for c in ("name", "unit_id", "manager", "level", "quota", "capacity_p50") if c in units.columns]
    heads = [UNIT_TITLES.get(c, c) for c in columns] + ["Stretch", "Reps", UNIT_TITLES["p_attain"]]
    for col, head in enumerate(heads):
        sheet.write_string(0, col, head, writer.header)
    reps_of = result.plan.groupby("team_id").size() if len(result.plan) else pd.Series(dtype=int)
    order: list[int] = []
    below = np.zeros(len(units), dtype=np.int64)  # reps in each row's subtree
    if len(units):
        tree = OrgTree.tolerant(units)  # as report.html: a unit with no known parent is a root
        order = tree.rows[tree.depth_first()].tolist()
        below[tree.rows] = tree.subtree_sum(np.array([int(reps_of.get(u, 0)) for u in tree.ids.tolist()],
                                                     dtype=np.int64))
    indents: dict[int, Any] = {}
    for row, i in enumerate(order, start=1):
        unit = units.iloc[i]
        depth = int(unit["level"]) if not is_missing(unit.get("level")) else 0
        for col, column in enumerate(columns):
            value = unit[column]
            if column == "name":
                fmt = indents.setdefault(depth, writer.book.add_format({"indent": min(depth, 15),
                                                                        "bold": depth == 0}))
                sheet.write_string(row, col, _text(value if not is_missing(value) else unit["unit_id"]), fmt)
            elif column in _KINDS and not is_missing(value):
                sheet.write_number(row, col, float(value), writer.formats[_KINDS[column]])
            elif not is_missing(value):
                sheet.write_string(row, col, _text(value))
        quota: Any = unit.get("quota")
        cap: Any = unit.get("capacity_p50")
        if not is_missing(quota) and not is_missing(cap) and float(cap) > 0:
            sheet.write_number(row, len(columns), float(quota) / float(cap), writer.formats["stretch"])
        sheet.write_number(row, len(columns) + 1, int(below[i]), writer.formats["integer"])
        if not is_missing(unit.get("p_attain")):
            sheet.write_number(row, len(columns) + 2, float(unit["p_attain"]), writer.formats["percent"])
        if depth:
            sheet.set_row(row, None, None, {"level": min(depth, 7)})  # fold a unit with Excel's outline
    writer.colour_bands(sheet, len(columns) + 2, len(order))
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, len(heads) - 1, 14)
    sheet.freeze_panes(1, 1)


def _exceptions(writer: Any, result: PlanResult) -> None:
    """Every soft limit that gave way, then what each binding means and how many reps it set."""
    sheet = writer.book.add_worksheet("Exceptions")
    columns = ["unit", "rep", "limit", "allowed", "used", "amount", "reps", "message"]
    kinds = {"allowed": "stretch", "used": "stretch", "amount": "money", "reps": "integer"}
    found = result.summary.record().get("exceptions") or []
    for col, head in enumerate(columns):
        sheet.write_string(0, col, head, writer.header)
    row = 1
    for record in found:
        for col, key in enumerate(columns):
            value = record.get(key)
            if is_missing(value):
                continue
            if key in kinds and isinstance(value, int | float | np.integer | np.floating):
                sheet.write_number(row, col, float(value), writer.formats[kinds[key]])
            else:
                sheet.write_string(row, col, _text(value))
        row += 1
    if not found:
        sheet.write_string(row, 0, "No soft limit gave way: every rep's quota is within the limits as set.")
        row += 1
    row += 1
    for col, head in enumerate(("binding", "reps", "what it means")):
        sheet.write_string(row, col, head, writer.header)
    plan = result.plan
    counts: dict[str, int] = ({str(k): int(v) for k, v in plan["binding"].astype(str).value_counts().sort_index()
                               .items()} if "binding" in plan and len(plan) else {})
    for binding, count in counts.items():
        row += 1
        sheet.write_string(row, 0, _text(binding))
        sheet.write_number(row, 1, int(count), writer.formats["integer"])
        sheet.write_string(row, 2, _text(binding_meaning(str(binding))))
    sheet.set_column(0, 1, 16)
    sheet.set_column(2, 6, 14)
    sheet.set_column(7, 7, 90)


def _overrides(writer: Any, result: PlanResult) -> None:
    """Every rep with an empty, editable ``new_quota`` column (read back by ``plan --overrides``)."""
    plan = result.plan
    sheet = writer.book.add_worksheet(OVERRIDES_SHEET)
    note = writer.book.add_format({"italic": True, "font_color": "#4b5563"})
    edit = writer.book.add_format({"bg_color": "#fef9c3", "num_format": "#,##0", "border": 1,
                                   "border_color": "#d1d5db", "locked": False})
    sheet.write_string(0, 0, f"Type a quota in {QUOTA_HEADER} to lock it; leave it empty to let the plan set it. "
                             "Then: quotaopt plan SCENARIO --overrides this-file.xlsx", note)
    columns = [c for c in (ID_HEADER, "name", "team_id", "team_name", "role", "capacity_p50", "quota", "last_quota",
                           "binding") if c in plan.columns]
    heads = [*columns, QUOTA_HEADER]
    header_row = 2
    for col, head in enumerate(heads):
        sheet.write_string(header_row, col, head, writer.header)
    quota_col = len(columns)
    first = header_row + 1
    for col, column in enumerate(columns):
        values = plan[column]
        if column in _KINDS:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            fmt = writer.formats[_KINDS[column]]
            for i in np.flatnonzero(np.isfinite(numbers)).tolist():
                sheet.write_number(first + i, col, numbers[i], fmt)
        else:
            for i, value in enumerate(values.tolist()):
                if not is_missing(value):
                    sheet.write_string(first + i, col, _text(value))
    for i in range(len(plan)):
        sheet.write_blank(first + i, quota_col, None, edit)
    n = len(plan)
    if n:
        sheet.data_validation(header_row + 1, quota_col, header_row + n, quota_col, {
            "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
            "input_title": "Locked quota", "input_message": "A quota to hold exactly; empty: the plan sets it.",
            "error_title": "Not a quota", "error_message": "Type an amount >= 0, or clear the cell."})
    sheet.set_column(0, len(heads) - 1, 14)
    sheet.set_column(1, 1, 22)
    sheet.set_column(quota_col, quota_col, 16)
    sheet.freeze_panes(header_row + 1, 2)
    sheet.autofilter(header_row, 0, header_row + max(n, 1), len(heads) - 1)


def add_sheets(writer: Any, result: PlanResult) -> None:
    """Summary, Reps, the period grid, Units, Exceptions and Overrides, in that order."""
    _summary(writer, result)
    _reps(writer, result)
    _grid(writer, result)
    _units(writer, result)
    _exceptions(writer, result)
    _overrides(writer, result)
