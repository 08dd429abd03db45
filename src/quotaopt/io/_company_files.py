"""Writing company folders: the synthetic companies of :mod:`quotaopt.datasets` and tables from a panel.

A generated folder is built beside its target and renamed into place
(:func:`quotaopt.io.replace_folder`), so it appears whole or not at all; ``overwrite``
replaces only a folder an earlier ``generate`` wrote (its ``truth/meta.json`` says so),
never a link, the working directory or one of its ancestors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.errors import InputError, Problem
from quotaopt.io._atomic import replace_folder, write_file_atomic

#: The generator's mark in ``truth/meta.json`` (what ``overwrite`` may replace).
GENERATOR_MARK = "quotaopt.datasets/"


def _arrow(frame: pd.DataFrame) -> Any:
    """Plain Arrow columns (coded labels expanded to strings, no pandas metadata)."""
    import pyarrow as pa

    columns = {}
    for name in frame.columns:
        values = frame[name].array
        if isinstance(values, pd.Categorical):
            labels = pa.array(values.categories.to_numpy(dtype=object), type=pa.string())
            codes = np.asarray(values.codes)
            columns[str(name)] = labels.take(pa.array(codes, mask=codes < 0))  # code -1: an empty cell
        else:
            columns[str(name)] = pa.array(frame[name])
    return pa.table(columns)


def _write_table(frame: pd.DataFrame, stem: Path, fmt: str) -> None:
    """Write ``stem.csv`` or ``stem.parquet`` with Arrow (fast, and the same bytes every time).

    CSV: no quoting (no generated value holds a comma or a quote), ``\\n`` line ends,
    floats in shortest round-trip form of values already rounded, nulls as empty cells.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = _arrow(frame)
    if fmt == "parquet":
        pq.write_table(table, stem.with_suffix(".parquet"))
    else:
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with open(stem.with_suffix(".csv"), "wb") as handle:
            handle.write((",".join(table.column_names) + "\n").encode())  # unquoted header
            pacsv.write_csv(table, handle, write_options=options)


def written_by_generate(folder: Path) -> bool:
    """Whether ``folder`` is a company folder an earlier ``generate`` wrote (its truth/meta.json says so)."""
    meta = folder / "truth" / "meta.json"
    try:
        if not meta.is_file():
            return False
        value = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(value, dict) and str(value.get("generator", "")).startswith(GENERATOR_MARK)


def check_company_out_dir(out: Path, overwrite: bool, label: str = "generate_company") -> None:
    """Refuse anything but a free name, an empty folder or (with ``overwrite``) an earlier generate's folder.

    Deleting a link's target, the working directory or one of its parents would take
    the user's files. Checked before any work; writes nothing.
    """
    def problem(message: str) -> InputError:
        return InputError([Problem(label, message, column="out_dir")])

    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise problem(f"{out} exists and is not a folder (pick a new folder)")
    here, target = Path.cwd().resolve(), out.resolve()
    if target == here or target in here.parents:
        raise problem(f"{out} is the working directory or one of its parents; generate writes a new company "
                      "folder (pick a folder inside it)")
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise problem(f"{out} exists and is not an empty folder (pass overwrite=True to replace a folder an "
                      "earlier generate wrote)")
    if not written_by_generate(out):
        raise problem(f"{out} was not written by quotaopt generate (no truth/meta.json from it): overwrite "
                      "refuses to replace it; pick another folder")


def write_company_folder(out: Path, tables: Mapping[str, pd.DataFrame], fmt: str,
                         meta: Mapping[str, Any] | None = None, overwrite: bool = False) -> Path:
    """Write a company folder: each table as ``<name>.csv`` or ``.parquet`` (names may hold ``truth/``).

    ``meta`` goes to ``truth/meta.json``. The folder is built beside ``out`` and renamed
    into place; ``overwrite`` replaces an earlier generate's folder
    (:func:`check_company_out_dir` decides what may be replaced).
    """
    check_company_out_dir(out, overwrite)

    def build(folder: Path) -> None:
        for name, frame in tables.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            _write_table(frame, folder / name, fmt)
        if meta is not None:
            (folder / "truth").mkdir(exist_ok=True)
            text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
            (folder / "truth" / "meta.json").write_text(text, encoding="utf-8")

    return replace_folder(out, build)


def write_csv_tables(out: Path, tables: Mapping[str, pd.DataFrame]) -> Path:
    """Write each table to ``out/<name>.csv`` (pandas CSV, no index), each file atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        write_file_atomic(out / f"{name}.csv", frame.to_csv(index=False).encode("utf-8"))
    return out
