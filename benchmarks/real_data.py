"""The capacity model on real public panels: model / best naive and model / AutoETS per panel-year.

Run: ``.venv/bin/python benchmarks/real_data.py [--data ../shared/data/real] [--years table|last3|both]``

Each panel of ``../shared/data/real/`` (its README says what each is and how it plays a
company) becomes a company folder with :func:`quotaopt.datasets.panel.panel_company`,
cut after the scored year Y (nothing after Y is seen), and :func:`quotaopt.capacity.backtest`
fits on the years before Y and scores Y. Printed per panel-year: the model's WAPE over
the best naive method (last year, or last year x trailing growth, whichever was better
that year, picked after the fact), over per-series AutoETS, the rep part alone (the model
given the realised company level) over best naive, and the P10-P90 coverage; then the
geometric means, the worst year, every candidate's geometric mean and the pooled coverage
per panel. ``--write`` puts the tables into BENCHMARKS.md between markers.

Years: ``table`` are the 11 panel-years of issue #12's table; ``last3`` the last three
complete years of each panel (two for the four-year air routes panel).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.capacity import backtest
from quotaopt.datasets.panel import Frequency, panel_company
from quotaopt.io import load_company

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "real"
NAIVE = ("last_year", "last_year_grown")


@dataclass(frozen=True)
class Panel:
    """How one real file plays a company."""

    name: str
    file: str
    entity: str
    period: str
    value: str
    freq: Frequency
    table_years: tuple[int, ...]
    last_years: tuple[int, ...]
    team: str | None = None
    prepare: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def frame(self, folder: Path) -> pd.DataFrame:
        frame = pd.read_csv(folder / self.file)
        if self.prepare == "route_revenue":
            frame["revenue"] = frame["passen"] * frame["fare"]
            frame["band"] = pd.cut(frame["dist"], [0, 500, 1000, 1500, 10_000],
                                   labels=["lt500", "500_1000", "1000_1500", "ge1500"]).astype(str)
        if self.prepare == "size_halves":
            size = frame.groupby(self.entity)[self.value].transform("mean")
            frame["size"] = np.where(size >= size.median(), "large", "small")
        return frame


PANELS = (
    Panel("US gross state product", "us_state_product_1970_1986.csv", "state", "year", "gsp", "year",
          (1975, 1982, 1986), (1984, 1985, 1986), team="region"),
    Panel("AU accommodation takings", "aus_accommodation_quarterly_1998_2016.csv", "State", "Date", "Takings",
          "quarter", (2009, 2012, 2015), (2013, 2014, 2015), team="size", prepare="size_halves"),
    Panel("coffee imports", "coffee_imports_country_annual.csv", "country", "year", "value", "year",
          (2009, 2014, 2019), (2017, 2018, 2019), team="member"),
    Panel("US air routes", "us_airfare_routes_1997_2000.csv", "id", "year", "revenue", "year",
          (1999, 2000), (1999, 2000), team="band", prepare="route_revenue"),
)


def score(panel: Panel, data: Path, year: int, root: Path) -> pd.DataFrame:
    folder = panel_company(panel.frame(data), root / f"{panel.file}-{year}", entity=panel.entity,
                           period=panel.period, value=panel.value, team=panel.team, freq=panel.freq, until=year)
    table = backtest(load_company(folder), year)
    table.insert(0, "panel", panel.name)
    return table


def geomean(values: pd.Series) -> float:
    v = values.to_numpy(dtype="float64")
    return float(np.exp(np.mean(np.log(v)))) if len(v) else math.nan


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per panel-year ratios, every method's geometric mean against best naive, pooled coverage."""
    wide = rows.pivot_table(index=["panel", "year"], columns="method", values="wape", sort=False)
    best = wide[[m for m in NAIVE if m in wide.columns]].min(axis=1)
    per_year = pd.DataFrame({
        "model / best naive": wide["model"] / best,
        "model / AutoETS": wide["model"] / wide["auto_ets"] if "auto_ets" in wide else np.nan,
        "rep part / best naive": (wide["model_realised_level"] / best
                                  if "model_realised_level" in wide else np.nan),
        "model WAPE": wide["model"],
        "best naive WAPE": best,
    })
    cov = rows.loc[rows["method"] == "model"].set_index(["panel", "year"])
    per_year["P10-P90 coverage"] = cov["coverage_p10_p90"]
    methods = pd.DataFrame({"geomean vs best naive": (wide.div(best, axis=0)).apply(geomean),
                            "worst year": wide.div(best, axis=0).max()}).sort_values("geomean vs best naive")
    model_rows = rows.loc[rows["method"] == "model"]
    pooled = (model_rows.assign(hit=model_rows["coverage_p10_p90"] * model_rows["n"])
              .groupby("panel", sort=False)[["hit", "n"]].sum())
    coverage = (pooled["hit"] / pooled["n"]).rename("pooled P10-P90 coverage").to_frame()
    return per_year, methods, coverage


def markdown(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    frame = frame.reset_index()
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(floatfmt.format(v) if isinstance(v, float) else str(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def report(rows: pd.DataFrame, label: str) -> str:
    per_year, methods, coverage = summarise(rows)
    ratio = per_year["model / best naive"]
    lines = [f"### {label}: {len(per_year)} panel-years", "", markdown(per_year), "",
             f"Geometric mean of model / best naive: **{geomean(ratio):.3f}**, worst year "
             f"**{ratio.max():.3f}**; model / AutoETS {geomean(per_year['model / AutoETS']):.3f}; "
             f"rep part / best naive: worst {per_year['rep part / best naive'].max():.3f}.", "",
             "Every method against the best naive method of each year:", "", markdown(methods), "",
             markdown(coverage), ""]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    start, end = "<!-- real data: kept by benchmarks/real_data.py -->", "<!-- end real data -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{start}\n{text}\n{end}"
    if start in old and end in old:
        new = old[:old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--years", choices=("table", "last3", "both"), default="both")
    parser.add_argument("--panels", nargs="*", help="Substrings of panel names to run (default: all).")
    parser.add_argument("--write", type=Path, help="Put the tables into this markdown file (BENCHMARKS.md).")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no real data at {args.data}", file=sys.stderr)
        return 2
    sets = {"table": "Issue #12's panel-years", "last3": "The last three years of each panel"}
    wanted = list(sets) if args.years == "both" else [args.years]
    texts = []
    with tempfile.TemporaryDirectory() as tmp:
        for which in wanted:
            rows = []
            for panel in PANELS:
                if args.panels and not any(s.lower() in panel.name.lower() for s in args.panels):
                    continue
                for year in (panel.table_years if which == "table" else panel.last_years):
                    start = time.perf_counter()
                    table = score(panel, args.data, year, Path(tmp))
                    rows.append(table)
                    m = table.set_index("method")["wape"]
                    print(f"{panel.name:<26} {year}  model {m['model']:.4f}  best naive "
                          f"{min(m[n] for n in NAIVE):.4f}  ({time.perf_counter() - start:.1f} s)", flush=True)
            text = report(pd.concat(rows, ignore_index=True), sets[which])
            print("\n" + text)
            texts.append(text)
    if args.write:
        write_section(args.write, "## Capacity on real panels\n\nReproduce: `python benchmarks/real_data.py "
                      "--write BENCHMARKS.md`\n\n" + "\n".join(texts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
