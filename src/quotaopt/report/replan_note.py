"""What a re-plan is, in words: for the title and banner of report.html and status.html, and the terminal.

A re-plan's pages must not read as a fresh plan: they name the parent run, the as-of
date, the periods kept as they were, and what changed (reps, quota moved, the ratchet
rule, a recalibrated target and its reason, the limits that gave way).
"""

from __future__ import annotations

from html import escape
from typing import Any


def _money(value: Any) -> str:
    from quotaopt.allocation.explain import amount

    return amount(float(value))


def frozen_text(periods: list[str] | None) -> str:
    """``2027-01 to 2027-06 (6 periods)``, or ``none``."""
    if not periods:
        return "none"
    span = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    return f"{span} ({len(periods)} period{'s' if len(periods) != 1 else ''})"


def replan_title(change: dict[str, Any], parent: str | None = None) -> str:
    """``Re-plan of run <parent> as of <date>``."""
    return f"Re-plan of run {parent or change.get('parent_run', '?')} as of {change.get('as_of', '?')}"


def replan_lines(change: dict[str, Any]) -> list[str]:
    """The facts of a re-plan, one line each (parent, frozen periods, what changed, target, exceptions)."""
    if not change:
        return []
    lines = [f"re-plan of run {change.get('parent_run', '?')} as of {change.get('as_of', '?')}; "
             f"periods kept as they were: {frozen_text(change.get('frozen_periods'))}"]
    if change.get("reps_changed") is not None:
        units = f", {len(change['units_changed'])} unit(s)" if "units_changed" in change else ""
        lines.append(f"changed: {int(change['reps_changed']):,} of {int(change.get('reps') or 0):,} reps, "
                     f"{_money(change.get('quota_moved') or 0)} of quota moved between reps{units}")
    ratchet = change.get("ratchet") or {}
    if ratchet:
        if ratchet.get("rule") == "allow":
            lines.append(f"ratchet allowed (replan.ratchet: allow): {ratchet.get('reps_ahead_raised', 0)} of "
                         f"{ratchet.get('reps_ahead_of_pace', 0)} reps at or ahead of pace got a higher quota")
        else:
            lines.append(f"no ratchet: {ratchet.get('reps_ahead_of_pace', 0)} reps at or ahead of pace, none given a "
                         f"higher remaining quota ({ratchet.get('reps_held_at_ceiling', 0)} kept theirs as it was)")
    recal = change.get("recalibration")
    if recal:
        basis = (f"growth {float(recal['growth']):+.1%} over the last complete year" if recal.get("basis") == "growth"
                 else "the forecast P50")
        lines.append(f"company target recalibrated from {_money(recal['from_target'])} to {_money(recal['to_target'])} "
                     f"({basis}); total quota {_money(recal['from_total_quota'])} -> "
                     f"{_money(recal['to_total_quota'])}; reason: {recal.get('reason', '')}")
    else:
        lines.append("company target kept")
    count = int(change.get("exceptions") or 0)
    if count:
        lines.append(f"exceptions: {count} limit(s) gave way to carry the rest of the year "
                     "(summary.json exceptions)")
    return lines


def exception_lines(exceptions: list[dict[str, Any]] | None, limit: int = 5) -> list[str]:
    """The first ``limit`` exception messages, and how many more there are."""
    found = [str(e.get("message", "")) for e in exceptions or []]
    more = [f"and {len(found) - limit} more (summary.json exceptions)"] if len(found) > limit else []
    return found[:limit] + more


def replan_banner_html(change: dict[str, Any], exceptions: list[dict[str, Any]] | None = None,
                       css_class: str = "note") -> str:
    """The same facts as an HTML list (escaped), for the top of a page; empty when not a re-plan.

    ``exceptions`` (summary.json records) are listed under the facts, the first five in full.
    """
    lines = replan_lines(change)
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    gave = exception_lines(exceptions)
    if gave:
        items += "<li>what gave way:<ul>" + "".join(f"<li>{escape(line)}</li>" for line in gave) + "</ul></li>"
    return f'<div class="{css_class} replan"><b>{escape(replan_title(change))}</b><ul>{items}</ul></div>'
