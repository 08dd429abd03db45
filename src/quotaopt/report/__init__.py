"""Reports for people, rendered from a :class:`~quotaopt.planning.PlanResult` to bytes.

``render_html`` gives report.html (one self-contained page), ``render_xlsx`` gives
plan.xlsx. Neither touches the disk: the run folder writer stores the bytes.
"""

from quotaopt.report.excel import render_xlsx
from quotaopt.report.html import render_html

__all__ = ["render_html", "render_xlsx"]
