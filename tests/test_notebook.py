"""The annual-planning notebook runs clean from top to bottom."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "annual_planning.ipynb"


def test_no_backend_is_forced() -> None:
    """Charts draw inline in Jupyter: the notebook never switches matplotlib to a non-display backend."""
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert "matplotlib.use(" not in text and "Agg" not in text
    assert "%matplotlib inline" in text


@pytest.mark.slow
def test_annual_planning_notebook_runs_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("QUOTAOPT_NOTEBOOK_RUNS", str(tmp_path / "runs"))  # not into the checkout
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in (o.get("data") or {})]
    assert len(images) >= 6  # every chart cell drew inline
    sources = "\n".join(cell.source for cell in nb.cells)
    for call in ("overrides=", "compare_by_rep(", "qo.track(", "qo.payout(", "load_scenario("):
        assert call in sources, call  # lock a quota, who moved, tracking, payout, a what-if
