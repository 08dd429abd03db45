"""Charts of the HTML report as inline SVG strings, drawn by matplotlib (Agg/SVG, no pyplot).

Every chart is a self-contained ``<svg>`` element: no XML prolog, no metadata, ids
prefixed per chart so several charts can share one page, and fixed hash salts so the
same data always gives the same bytes. matplotlib is imported lazily: it is only
needed when a report is rendered.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

BLUE = "#2563eb"
ORANGE = "#ea580c"
GREY = "#6b7280"
INK = "#1f2937"

#: matplotlib settings for every chart; a fixed salt makes the SVG ids reproducible.
_RC: dict[str, Any] = {
    "svg.fonttype": "path",  # glyphs as paths: the chart looks the same without DejaVu installed
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,  # grid lines behind the bars, not through them
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.8,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "legend.frameon": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
}

_ID_DEF = re.compile(r'\bid="([^"]+)"')
_PROLOG = re.compile(r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*|<!--.*?-->\s*|<metadata>.*?</metadata>\s*", re.S)


def compact(value: float, _pos: Any = None) -> str:
    """An amount in few characters: 950, 12.5k, 3.2M, 1.1B."""
    sign, value = ("-" if value < 0 else ""), abs(float(value))
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{sign}{scaled:.{0 if scaled >= 100 else 1}f}{suffix}"
    return f"{sign}{value:.0f}"


def _percent(value: float, _pos: Any = None) -> str:
    return f"{value:.0%}"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _to_svg(fig: Any, name: str, title: str) -> str:
    """Serialise a figure to an inline ``<svg>`` whose ids cannot clash with other charts."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    # Whitespace between tags and inside path data is matplotlib's pretty-printing only
    # (glyphs are paths, so no text node depends on it): squeezing it saves ~15%.
    svg = re.sub(r"\s*\n\s*", " ", _PROLOG.sub("", buf.getvalue())).replace("> <", "><")
    ids = set(_ID_DEF.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{name}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f'"#{old}"', f'"#{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
    # Drop the fixed size: the page scales the chart to its column through the viewBox.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    from html import escape

    return svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(title)}"', 1).strip()


#: Figure sizes in inches. The page scales each chart to its slot (the viewBox has 72 units
#: an inch): these fill the full-width column (~1150 px) and the half-width grid cells
#: (~560 px) at about 1.4 px a unit, so 9 pt labels read as ~12 px text.
FULL = (11.4, 4.2)
HALF = (6.2, 3.4)


def _render(name: str, title: str, draw: Any, *args: Any, size: tuple[float, float] = HALF) -> str:
    import matplotlib

    settings: Any = {**_RC, "svg.hashsalt": f"quotaopt-{name}"}  # Any: matplotlib types keys as literals
    with matplotlib.rc_context(settings):
        fig = _figure(*size)
        draw(fig, *args)
        return _to_svg(fig, name, title)


def capacity_scatter(plan: pd.DataFrame) -> str:
    """Quota against capacity P50 per rep, with the P10-P90 capacity band as error bars.

    Parameters
    ----------
    plan : DataFrame
        Rows of plan.csv to draw (the caller samples large plans).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    return _render("scatter", "Quota against capacity per rep", _draw_scatter, plan, size=(FULL[0], 5.0))


def _draw_scatter(fig: Any, plan: pd.DataFrame) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    frame = plan.dropna(subset=["capacity_p50", "quota"])
    roles = sorted(str(r) for r in frame["role"].dropna().unique()) or ["rep"]
    colours = [BLUE, ORANGE, "#059669", "#7c3aed", GREY]
    # Many overlapping P10-P90 bars turn into a solid smear: fade them as the sample grows.
    alpha, bar_alpha = (0.85, 0.6) if len(frame) <= 200 else (0.6, 0.12)
    for i, role in enumerate(roles):
        part = frame[frame["role"].astype(str) == role] if "role" in frame else frame
        p50 = part["capacity_p50"].to_numpy(float)
        low = np.clip(p50 - part["capacity_p10"].to_numpy(float), 0, None)
        high = np.clip(part["capacity_p90"].to_numpy(float) - p50, 0, None)
        err = np.nan_to_num(np.vstack([low, high]))
        colour = colours[i % len(colours)]
        _, _, bars = ax.errorbar(p50, part["quota"].to_numpy(float), xerr=err, fmt="o", ms=3.5, color=colour,
                                 ecolor=colour, elinewidth=0.7, alpha=alpha,
                                 label=f"{role} ({len(part):,})".replace("$", r"\$"))  # no mathtext
        for collection in bars:
            collection.set_alpha(bar_alpha)
    if len(frame):
        top = float(max(frame["capacity_p50"].max(), frame["quota"].max(), frame["capacity_p90"].max()))
        ax.plot([0, top], [0, top], ls="--", lw=1, color=GREY, label="quota = capacity P50")
    ax.set_xlabel("capacity P50 (bars: P10 to P90)")
    ax.set_ylabel("quota")
    ax.xaxis.set_major_formatter(FuncFormatter(compact))
    ax.yaxis.set_major_formatter(FuncFormatter(compact))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")


def histogram(values: np.ndarray, name: str, title: str, xlabel: str, *, axis: str = "money",
              markers: Sequence[tuple[float, str, str]] = (), bins: int = 40,
              size: tuple[float, float] = HALF) -> str:
    """A histogram of a sample, bars as shares, with labelled vertical marker lines.

    Parameters
    ----------
    values : ndarray
        The sample (non-finite values are dropped).
    name, title : str
        Id prefix of the chart and its accessible title.
    xlabel : str
    axis : {'money', 'percent', 'plain'}
        Tick format of the x axis.
    markers : sequence of (x, label, colour)
        Vertical lines drawn over the bars, e.g. a target or percentiles.
    bins : int
    size : (float, float)
        Figure size in inches: :data:`HALF` for a grid cell, :data:`FULL` for a whole row.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    edges = _bin_edges(finite, [x for x, _, _ in markers if np.isfinite(x)], bins)
    weights = np.full(len(finite), 1.0 / max(len(finite), 1))
    return _render(name, title, _draw_histogram, finite, weights, edges, xlabel, axis, list(markers), size=size)


def _bin_edges(values: np.ndarray, marks: list[float], most: int) -> np.ndarray:
    """Bin edges over the sample, never narrower than 1/60 of the drawn axis.

    The Rice rule (2 n^(1/3), between 10 and ``most``) sets the count. A tight sample
    drawn next to a far marker (every stretch near 1.24, the 1.0 line) would otherwise
    give hairline bars nobody can see.
    """
    if not len(values):
        return np.array([0.0, 1.0])
    low, high = float(values.min()), float(values.max())
    span = max([high, *marks]) - min([low, *marks])
    count = int(np.clip(np.ceil(2 * len(values) ** (1 / 3)), 10, most))
    width = max((high - low) / count, span / 60) or max(abs(low) * 0.02, 1e-9)
    n = max(1, int(np.ceil((high - low) / width - 1e-9)))
    centre = (low + high) / 2
    return centre + width * (np.arange(n + 1) - n / 2)


def binned_histogram(edges: np.ndarray, counts: np.ndarray, name: str, title: str, xlabel: str, *,
                     axis: str = "percent", markers: Sequence[tuple[float, str, str]] = (),
                     size: tuple[float, float] = HALF) -> str:
    """Like :func:`histogram`, from counts already binned (``len(edges) == len(counts) + 1``)."""
    edges = np.asarray(edges, dtype=float)
    counts = np.nan_to_num(np.asarray(counts, dtype=float))
    total = counts.sum()
    return _render(name, title, _draw_histogram, (edges[:-1] + edges[1:]) / 2, counts / (total or 1.0), edges,
                   xlabel, axis, list(markers), size=size)


def _draw_histogram(fig: Any, values: np.ndarray, weights: np.ndarray, bins: Any, xlabel: str, axis: str,
                    markers: list[tuple[float, str, str]]) -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    ax = fig.add_subplot()
    ax.hist(values, bins=bins, weights=weights, color=BLUE, alpha=0.75, edgecolor="white", linewidth=0.4)
    for x, label, colour in markers:
        if np.isfinite(x):
            ax.axvline(x, color=colour, lw=1.6, ls="--", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if axis == "money":
        ax.xaxis.set_major_formatter(FuncFormatter(compact))
    elif axis == "percent":
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    if markers:
        ax.legend(loc="upper right")


def period_bars(totals: pd.Series) -> str:
    """Total quota per period (index = period labels in calendar order), as a bar chart."""
    return _render("periods", "Quota per period", _draw_bars, totals, size=(FULL[0], 2.8))


def _draw_bars(fig: Any, totals: pd.Series) -> None:
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot()
    labels = [str(p) for p in totals.index]
    ax.bar(range(len(labels)), totals.to_numpy(float), color=BLUE, alpha=0.8)
    step = max(1, len(labels) // 13)  # weekly plans: label every fourth week or so
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45 if len(labels) > 12 else 0,
                  ha="right" if len(labels) > 12 else "center")
    ax.yaxis.set_major_formatter(FuncFormatter(compact))
    ax.set_ylabel("quota")
    ax.grid(axis="x", visible=False)
    ax.margins(x=0.01)
