"""The CLI shell: help, generate, validate, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.commands import EXAMPLE_GENERATOR, EXAMPLE_SCENARIO

REPO = Path(__file__).resolve().parents[1]


def test_help_lists_commands_without_heavy_imports() -> None:
    code = ("import sys; from quotaopt.cli import main; "
            "heavy = [m for m in ('pandas', 'sklearn', 'highspy', 'numpy', 'pulp', 'ortools', 'starlette', 'jinja2', 'uvicorn') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("generate", "validate", "demo", "plan"):
        assert command in result.output


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generate_is_deterministic_and_valid(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(main, ["generate", "--reps", "60", "--out", str(tmp_path / name), "--seed", "5"])
        assert result.exit_code == 0, result.output
    assert _tree_bytes(tmp_path / "a") == _tree_bytes(tmp_path / "b")
    result = runner.invoke(main, ["validate", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output


def test_generate_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["generate", "--reps", "10", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_shipped_example_validates_and_matches_the_generator(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(REPO / "scenarios" / "example.yaml")])
    assert result.exit_code == 0, result.output
    assert "reps: 80" in result.output and "valid" in result.output
    assert (REPO / "scenarios" / "example.yaml").read_text() == EXAMPLE_SCENARIO
    from quotaopt.datasets import generate_company

    generate_company(tmp_path / "example", **EXAMPLE_GENERATOR)  # type: ignore[arg-type]
    assert _tree_bytes(tmp_path / "example") == _tree_bytes(REPO / "scenarios" / "example")


def test_plan_abc_extend_the_example() -> None:
    from quotaopt.io import load_scenario

    growth = {name: load_scenario(REPO / "scenarios" / f"{name}.yaml").market.growth for name in ("plan_a", "plan_b", "plan_c")}
    assert growth == {"plan_a": 0.10, "plan_b": 0.0, "plan_c": -0.05}
    assert load_scenario(REPO / "scenarios" / "plan_a.yaml").target.growth == 0.18
    assert load_scenario(REPO / "scenarios" / "plan_c.yaml").data_dir == (REPO / "scenarios" / "example").resolve()


def test_missing_scenario_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output
