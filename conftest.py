"""What the doctested Examples of the public API may use (pytest runs them with ``--doctest-modules``).

``example`` is the shipped ``scenarios/example.yaml``; ``runs`` is an empty folder for
the run folders an Example writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if isinstance(request.node, pytest.DoctestItem):
        namespace = request.getfixturevalue("doctest_namespace")
        namespace.update(example=ROOT / "scenarios" / "example.yaml", runs=tmp_path / "runs")
