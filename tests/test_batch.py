"""Batch and plan on a local pool or a Dask cluster: failures isolated, the same plans either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.io import PLAN_FILES


def _variants(tiny: Path) -> list[Path]:
    """Three what-if scenarios over the tiny company (market +10%, flat, -5%)."""
    paths = []
    for name, growth in (("a", 0.10), ("b", 0.0), ("c", -0.05)):
        path = tiny.parent / f"plan_{name}.yaml"
        path.write_text(f"extends: tiny.yaml\nname: plan_{name}\nmarket:\n  growth: {growth}\n")
        paths.append(path)
    return paths


def _plan_files(out: Path, scenario: str) -> dict[str, bytes]:
    (run,) = [p for p in (out / scenario).iterdir() if p.is_dir()]
    return {name: (run / name).read_bytes() for name in PLAN_FILES}


def test_one_failing_scenario_does_not_stop_the_others(tiny: Path, tmp_path: Path) -> None:
    bad = tiny.parent / "broken.yaml"
    bad.write_text("extends: tiny.yaml\nname: broken\nallocation:\n  stretch: [2, 1]\n")
    good = _variants(tiny)[0]
    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["batch", str(good), str(bad), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "broken.yaml" in result.output and "failed" in result.output
    assert "allocation.stretch" in result.output
    assert "1 of 2 scenarios planned" in result.output
    assert _plan_files(out, "plan_a")


@pytest.mark.slow
def test_dask_cluster_gives_the_same_plans_as_the_local_pool(tiny: Path, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    scenarios = [str(p) for p in _variants(tiny)]
    local, remote = tmp_path / "local", tmp_path / "dask"
    result = CliRunner().invoke(main, ["batch", *scenarios, "--workers", "2", "--out", str(local)])
    assert result.exit_code == 0, result.output
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(main, ["batch", *scenarios, "--scheduler", cluster.scheduler_address,
                                           "--out", str(remote)])
    assert result.exit_code == 0, result.output
    assert "3 of 3 scenarios planned" in result.output
    for name in ("plan_a", "plan_b", "plan_c"):
        assert _plan_files(local, name) == _plan_files(remote, name), name


@pytest.mark.slow
def test_plan_on_a_dask_cluster_equals_the_local_pool(tiny: Path, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    # Enough draws for several chunks of the simulation, so they really are spread out.
    many = tiny.parent / "many.yaml"
    many.write_text("extends: tiny.yaml\nname: many\nsimulation:\n  draws: 300000\n")
    local, remote, serial = tmp_path / "local", tmp_path / "dask", tmp_path / "serial"
    for out, extra in ((serial, ["--workers", "1"]), (local, ["--workers", "2"])):
        result = CliRunner().invoke(main, ["plan", str(many), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(main, ["plan", str(many), "--scheduler", cluster.scheduler_address,
                                           "--out", str(remote)])
        assert result.exit_code == 0, result.output
        ran = set(cluster.scheduler.task_prefixes)
    assert {"run_chunks", "solve_block_exact"} <= ran, ran  # both stages really went to the cluster
    assert _plan_files(serial, "many") == _plan_files(local, "many") == _plan_files(remote, "many")


def test_plan_with_an_unusable_scheduler_is_a_user_error(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["plan", str(tiny), "--scheduler", "nonsense://nowhere", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--scheduler" in result.output and "Traceback" not in result.output
    assert not out.exists() or not any((out / "tiny").glob("*/plan.csv"))


def test_compare_shows_how_the_what_ifs_move(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["batch", *map(str, _variants(tiny)), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    runs = [str(out / n / "latest") for n in ("plan_a", "plan_b", "plan_c")]  # the run each latest names
    csv = tmp_path / "abc.csv"
    result = CliRunner().invoke(main, ["compare", *runs, "--out", str(csv)])
    assert result.exit_code == 0, result.output
    for row in ("p_company_target", "expected_payout", "total_quota", "delta: plan_b"):
        assert row in result.output
    import pandas as pd

    table = pd.read_csv(csv, index_col=[0, 1])
    p = table.loc[("headline", "p_company_target")]
    assert float(p["plan_a"]) > float(p["plan_c"])  # more market, better odds of the same number
    assert ("unit_quota", "EU") in table.index
