"""The README's quick tour, run as written: every line of its first bash block, in order, in a
fresh folder holding a copy of scenarios/, each command exiting 0 (issue 16)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from quotaopt.cli import main

REPO = Path(__file__).resolve().parents[1]


def tour_commands(readme: str) -> list[list[str]]:
    """The commands of the first ```bash block after '## A quick tour', as argument lists."""
    section = readme.split("## A quick tour", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no bash block in the README's quick tour"
    text = block.group(1).replace("\\\n", " ")  # continuation lines, as the shell joins them
    commands = [shlex.split(line, comments=True) for line in text.splitlines()]
    return [c for c in commands if c]


def test_the_tour_block_is_found_and_is_all_quotaopt() -> None:
    commands = tour_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert len(commands) >= 10
    assert all(c[0] == "quotaopt" for c in commands)
    assert not any("<" in arg for c in commands for arg in c)  # no placeholders to fill in by hand
    joined = [" ".join(c) for c in commands]
    assert any(j.startswith("quotaopt track scenarios/runs/example/latest --actuals scenarios/example/actuals.csv")
               for j in joined)


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios", ignore=shutil.ignore_patterns("runs", "models"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for command in tour_commands((REPO / "README.md").read_text(encoding="utf-8")):
        result = runner.invoke(main, command[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{shlex.join(command)} exited {result.exit_code}:\n{result.output[-3000:]}"
    # The tour left what it says it does.
    assert (tmp_path / "scenarios" / "runs" / "example" / "latest").is_file()
    assert (tmp_path / "ab.csv").is_file() and (tmp_path / "ac.xlsx").is_file()
    assert (tmp_path / "out" / "demo" / "example" / "actuals.csv").is_file()  # demo writes actuals too
