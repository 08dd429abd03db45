"""Business words for what the tables hold: column titles and what each ``binding`` means.

The CSV files keep their machine names (the contract); the page and the workbook show
these, so a manager reads "What set the quota: shared fairly with the team" instead of
``fairness``.
"""

from __future__ import annotations

#: Titles of the plan.csv columns for people (the page and the workbook).
PLAN_TITLES = {
    "rep_id": "Rep ID", "name": "Name", "team_id": "Team ID", "team_name": "Team", "manager": "Manager",
    "role": "Role", "capacity_p10": "Capacity P10", "capacity_p50": "Capacity P50", "capacity_p90": "Capacity P90",
    "quota": "Quota", "stretch": "Stretch", "last_quota": "Last quota", "change": "Change vs last quota",
    "p_attain": "Chance of reaching quota", "expected_payout": "Expected payout", "binding": "What set the quota",
}
#: Titles of the units.csv columns.
UNIT_TITLES = {
    "unit_id": "Unit ID", "name": "Unit", "manager": "Manager", "parent_id": "Parent ID", "level": "Level",
    "quota": "Quota", "capacity_p50": "Capacity P50", "p_attain": "Chance of reaching quota",
}

#: What each ``binding`` value means, in words.
BINDING_MEANINGS = {
    "fairness": "shared with the rest of the unit at an even stretch (or chance); no limit was in the way",
    "stretch_min": "held up at the lowest stretch allowed (allocation.stretch low)",
    "stretch_max": "held down at the highest stretch allowed (allocation.stretch high)",
    "max_change": "held within the year-on-year change allowed against last quota (allocation.max_change)",
    "ramp": "capped by the new hire's ramp share of a ramped peer (allocation.ramp)",
    "locked": "set by hand (locked_quota, or the Overrides sheet) and honoured exactly",
    "ka_share": "moved so the unit's key-account reps carry their share (allocation.ka_share)",
    "max_quota": "a re-plan's ceiling: ahead of pace, so no higher remaining quota (replan.ratchet: none)",
    "none": "no constraint recorded",
}


def binding_meaning(binding: str) -> str:
    """The words for one ``binding`` value (``..._relaxed``: that limit gave way).

    Examples
    --------
    >>> binding_meaning("stretch_max_relaxed")
    'beyond the highest stretch allowed (allocation.stretch high): this soft limit gave way, see Exceptions'
    """
    if binding.endswith("_relaxed"):
        base = binding.removesuffix("_relaxed")
        words = BINDING_MEANINGS.get(base, base)
        words = words.replace("held up at ", "beyond ").replace("held down at ", "beyond ")
        words = words.replace("held within ", "beyond ")
        return f"{words}: this soft limit gave way, see Exceptions"
    return BINDING_MEANINGS.get(binding, binding)
