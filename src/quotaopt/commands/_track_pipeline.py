"""What ``track --opportunities`` adds to the tracking folder: the funnel files and the page sections.

The quarter's numbers come from :func:`quotaopt.tracking.assess` (its ``outlook``); this
module turns them and the funnel (:mod:`quotaopt.tracking.pipeline.funnel`) into bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from quotaopt.io import csv_bytes
from quotaopt.org_tree import OrgTree
from quotaopt.planning import StoredRun
from quotaopt.tracking.pipeline.funnel import funnel_view
from quotaopt.tracking.records import FunnelRecord


def heatmap_units(org: OrgTree, rep_teams: pd.Series) -> pd.Series:
    """Per rep (by position): the unit just below the root its team lies in (the root in a flat tree)."""
    def top(team: str) -> str:
        pos = int(org.positions([team])[0])
        if pos < 0:
            return team
        chain = org.ancestors(pos)
        return str(org.ids[chain[-2] if chain.size > 1 else chain[-1]])

    cache = {t: top(t) for t in set(rep_teams.astype("str"))}
    return rep_teams.astype("str").map(cache)


def pipeline_files(result: Any, run: StoredRun, opps: pd.DataFrame | None,
                   as_of: dt.date) -> tuple[str, dict[str, bytes], FunnelRecord | None]:
    """The status page's quarter (and, with opportunities, funnel) sections, ``stalled.csv`` / ``funnel.csv``
    and the funnel's record for track.json's ``quarter``.

    Parameters
    ----------
    result : Assessment
        From :func:`quotaopt.tracking.assess` (its ``outlook`` and ``status``).
    """
    from quotaopt.report.pipeline_html import pipeline_sections

    view = result.outlook
    if opps is None or view.conversion is None or view.conversion.method == "none":
        return pipeline_sections(result.status, view.meta.record(), None), {}, None
    ts = pd.Timestamp(as_of)
    rows = view.rows
    plan = run.plan.reset_index(drop=True)
    unit_of = pd.Series(heatmap_units(run.org, plan["team_id"]).to_numpy(), index=plan["rep_id"].astype("str"))
    stages = view.conversion.stages
    funnel = funnel_view(rows, view.open_opps, unit_of, stages, ts)
    record = FunnelRecord(basis=funnel.basis, usual_days_in_stage=funnel.usual_days, stalled=int(len(funnel.stalled)))
    files = {"stalled.csv": csv_bytes(funnel.stalled.round({"days_in_stage": 1, "usual_days": 1, "amount": 2})),
             "funnel.csv": csv_bytes(funnel.heatmap.round({"expected": 3, "ratio": 4}))}
    return pipeline_sections(result.status, view.meta.record(), funnel), files, record
