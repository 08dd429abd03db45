"""The adversarial pass of issue #14, kept as tests: writes, concurrency, hostile files.

Each test names the defect it pins down. They run the real command functions, the
real CLI (CliRunner) and, where the process boundary is the point (concurrent plans,
a full disk), real processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.io import PLAN_FILES, STAGING, read_run
from quotaopt.io._atomic import STALE_AFTER_S, clean_stale, host_name

CAPACITY = """\
rep_id,p10,p50,p90
A1,400000,500000,600000
A2,150000,200000,260000
B1,350000,450000,560000
B2,120000,180000,240000
"""


def _given(scenario: Path) -> Path:
    """The tiny company planned on capacities given by hand (no model to train: fast)."""
    (scenario.parent / "data" / "capacity.csv").write_text(CAPACITY)
    text = scenario.read_text().replace("name: tiny\n", "name: tiny\ncapacity: {model: given}\n")
    scenario.write_text(text)
    return scenario


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _audit(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "audit.jsonl").read_text().splitlines()]


def _run_folders(root: Path, scenario: str = "tiny") -> list[Path]:
    folder = root / scenario
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


# --- 1. staging cleanup never deletes what is not its own -------------------------------------

def test_symlinked_staging_is_refused_and_its_target_survives(tiny: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "projects").mkdir(parents=True)
    (victim / "projects" / "thesis.txt").write_text("years of work")
    out = tmp_path / "runs"
    out.mkdir()
    (out / STAGING).symlink_to(victim)
    result = _invoke("plan", str(_given(tiny)), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert ".staging" in result.output and "symbolic link" in result.output
    assert (victim / "projects" / "thesis.txt").read_text() == "years of work"
    assert not (out / "tiny").exists()


def test_cleanup_removes_only_stale_entries_of_its_own_pattern(tmp_path: Path) -> None:
    staging = tmp_path / STAGING
    staging.mkdir()
    host = host_name()
    dead_here = staging / f"qo-{host}-999999999-abcdef12"
    alive_here = staging / f"qo-{host}-{os.getpid()}-0123abcd"
    other_young = staging / "qo-otherhost-4242-00000001"
    other_old = staging / "qo-otherhost-4243-00000002"
    foreign = staging / "projects"
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    link = staging / f"qo-{host}-999999998-abcdef13"
    for folder in (dead_here, alive_here, other_young, other_old, foreign):
        folder.mkdir()
    link.symlink_to(outside)
    old = time.time() - STALE_AFTER_S - 60
    os.utime(other_old, (old, old))
    os.utime(foreign, (old, old))
    removed = clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted([dead_here.name, other_old.name])
    assert alive_here.exists() and other_young.exists() and foreign.exists()
    assert link.is_symlink() and (outside / "keep").is_dir()


# --- 5. run ids under concurrency ----------------------------------------------------------------

def _write_at_barrier(payload: bytes, out: str, barrier: Any, results: Any) -> None:
    """One child: publish a finished plan, all children at the same instant (the same run id)."""
    import pickle

    from quotaopt.commands import write_result

    result, inputs = pickle.loads(payload)
    try:
        barrier.wait(timeout=120)
        written = write_result(result, inputs, Path(out))
        results.put(("ok", str(written.path)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put(("failed", f"{type(exc).__name__}: {exc}"))


def test_eight_identical_plans_at_once_all_land_whole(tiny: Path, tmp_path: Path) -> None:
    import pickle

    from quotaopt.io import load_inputs
    from quotaopt.planning import run_plan

    # The plan is computed once; eight processes then write it through the real run writer at
    # the same instant, as eight identical `plan`s finishing together do (5-6 of 8 failed before).
    inputs = load_inputs(_given(tiny))
    payload = pickle.dumps((run_plan(inputs), inputs))
    out = tmp_path / "runs"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    children = [ctx.Process(target=_write_at_barrier, args=(payload, str(out), barrier, results)) for _ in range(8)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=300) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert [o[0] for o in outcomes] == ["ok"] * 8, outcomes
    runs = _run_folders(out)
    assert len(runs) == 8 and sorted(str(r) for r in runs) == sorted(o[1] for o in outcomes)
    assert any(r.name.endswith("-2") for r in runs)  # they did collide, and the suffix resolved it
    first = {name: (runs[0] / name).read_bytes() for name in PLAN_FILES}
    for run in runs:
        stored = read_run(run)  # whole: every file present and matching its manifest hash
        assert stored.run_id == run.name
        assert {name: (run / name).read_bytes() for name in PLAN_FILES} == first
    lines = _audit(out)
    assert len(lines) == 8 and sorted(line["run_id"] for line in lines) == sorted(r.name for r in runs)
    assert not any((out / STAGING).iterdir())


def test_two_identical_plans_started_together_from_the_command_line(tiny: Path, tmp_path: Path) -> None:
    scenario, out = str(_given(tiny)), str(tmp_path / "runs")
    procs = [subprocess.Popen([sys.executable, "-m", "quotaopt", "plan", scenario, "--out", out],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    runs = _run_folders(Path(out))
    assert len(runs) == 2 and len(_audit(Path(out))) == 2


# --- 6. the audit log ----------------------------------------------------------------------------

def test_crash_between_publishing_and_audit_is_reconciled_by_the_next_run(tiny: Path, tmp_path: Path) -> None:
    scenario = _given(tiny)
    out = tmp_path / "runs"
    env = {**os.environ, "QUOTAOPT_FAULT_AT": "audit"}
    proc = subprocess.run([sys.executable, "-m", "quotaopt", "plan", str(scenario), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    (orphan,) = _run_folders(out)
    assert not (out / "audit.jsonl").exists() or not (out / "audit.jsonl").read_text().strip()
    result = _invoke("plan", str(scenario), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = _audit(out)
    assert [line["run_id"] for line in lines][0] == orphan.name and lines[0]["reconciled"] is True
    assert lines[0]["headline"]["solver_status"] == "optimal"
    assert len(lines) == 2 and len(_run_folders(out)) == 2


def test_symlinked_audit_log_is_refused_before_any_work(tiny: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours\n")
    out = tmp_path / "runs"
    out.mkdir()
    (out / "audit.jsonl").symlink_to(target)
    result = _invoke("plan", str(_given(tiny)), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "audit.jsonl" in result.output and "symbolic link" in result.output
    assert target.read_text() == "not yours\n"
    assert not (out / "tiny").exists()


_FULL_DISK = textwrap.dedent("""\
    import json, resource, signal, sys
    from pathlib import Path
    from quotaopt.io import append_audit
    from quotaopt.errors import OutputError
    root = Path(sys.argv[1])
    size = (root / "audit.jsonl").stat().st_size
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, size + 40))  # room for 40 bytes: a disk filling up
    try:
        append_audit(root, {"run_id": "second", "padding": "x" * 200})
    except OutputError as exc:
        print("refused:", exc)
        sys.exit(0)
    sys.exit("appended a line that did not fit")
    """)


def test_full_disk_never_leaves_a_partial_audit_line(tmp_path: Path) -> None:
    from quotaopt.io import append_audit

    append_audit(tmp_path, {"run_id": "first"})
    before = (tmp_path / "audit.jsonl").read_bytes()
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK, str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "refused" in proc.stdout and "audit.jsonl" in proc.stdout
    assert (tmp_path / "audit.jsonl").read_bytes() == before  # the partial line was taken back
    append_audit(tmp_path, {"run_id": "third"})
    assert [line["run_id"] for line in _audit(tmp_path)] == ["first", "third"]


def test_a_damaged_last_line_is_not_glued_onto(tmp_path: Path) -> None:
    from quotaopt.io import append_audit

    (tmp_path / "audit.jsonl").write_text('{"run_id": "first"}\n{"run_id": "cut sh')
    append_audit(tmp_path, {"run_id": "next"})
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert lines[-1] == '{"run_id": "next"}' and lines[1] == '{"run_id": "cut sh'


# --- --out probed before any computation ---------------------------------------------------------

def test_out_under_a_file_is_exit_2_before_any_work(tiny: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file")
    result = _invoke("plan", str(_given(tiny)), "--out", str(blocker / "runs"))
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "notes.txt" in result.output and "not a folder" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the plan was computed before --out was probed")


def test_unwritable_out_is_reported_before_the_computation(tiny: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import quotaopt.planning as planning

    monkeypatch.setattr(planning, "estimate_capacity", _never)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    # Permissions do not stop root: then a folder of a read-only file system (/sys) stands in.
    unwritable = ro / "runs" if not os.access(ro, os.W_OK) else Path("/sys/quotaopt-runs")
    try:
        with tempfile.TemporaryFile(dir=unwritable.parent):
            pytest.skip(f"{unwritable.parent} is writable here: no unwritable folder to try")
    except OSError:
        pass
    try:
        result = _invoke("plan", str(_given(tiny)), "--out", str(unwritable))
    finally:
        ro.chmod(0o755)
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "cannot write" in result.output


# --- 4. generate --overwrite ------------------------------------------------------------------

def test_generate_overwrite_refuses_folders_it_did_not_write(tmp_path: Path) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "cv.txt").write_text("mine")
    result = _invoke("generate", "--reps", "5", "--out", str(docs), "--overwrite")
    assert result.exit_code == 2, result.output
    assert "not written by quotaopt generate" in result.output
    assert (docs / "cv.txt").read_text() == "mine"


def test_generate_overwrite_never_touches_the_working_directory(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "notes.txt").write_text("mine")
    result = _invoke("generate", "--reps", "5", "--out", str(work), "--seed", "1")
    assert result.exit_code == 2
    monkeypatch.chdir(work / "sub")
    for out in (".", "..", str(work)):
        result = _invoke("generate", "--reps", "5", "--out", out, "--overwrite")
        assert result.exit_code == 2, (out, result.output)
        assert "working directory" in result.output
    assert (work / "notes.txt").read_text() == "mine" and (work / "sub").is_dir()


# --- 2 and 10. reading: headers, one file per table, regular files, dates, magnitudes --------------

def _validate(scenario: Path) -> Any:
    return _invoke("validate", str(scenario))


def _one_clear_line(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


def test_csv_that_repeats_a_column_name_is_refused(tiny: Path) -> None:
    reps = tiny.parent / "data" / "reps.csv"
    lines = reps.read_text().splitlines()
    reps.write_text("\n".join([lines[0] + ",team_id"] + [line + ",US" for line in lines[1:]]) + "\n")
    _one_clear_line(_validate(tiny), "reps.csv:1:team_id", "repeated")


def test_parquet_that_repeats_a_column_name_is_refused(tiny: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tiny.parent / "data"
    (data / "teams.csv").unlink()
    table = pa.Table.from_arrays([pa.array(["CO", "EU", "US"]), pa.array([None, "CO", "CO"]), pa.array(["X", "Y", "Z"])],
                                 names=["team_id", "parent_id", "team_id"])
    pq.write_table(table, data / "teams.parquet")
    _one_clear_line(_validate(tiny), "teams.parquet:1:team_id", "repeated")


def test_csv_and_parquet_of_one_table_is_refused(tiny: Path) -> None:
    data = tiny.parent / "data"
    pd.read_csv(data / "teams.csv", dtype=str).to_parquet(data / "teams.parquet")
    _one_clear_line(_validate(tiny), "teams.csv and teams.parquet", "one file per table")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_device_among_the_data_never_hangs(tiny: Path, kind: str) -> None:
    accounts = tiny.parent / "data" / "accounts.csv"
    accounts.unlink()
    if kind == "fifo":
        os.mkfifo(accounts)
    else:
        accounts.symlink_to("/dev/zero")
    # A subprocess with a timeout: a regression hangs the child, not the suite.
    proc = subprocess.run([sys.executable, "-m", "quotaopt", "validate", str(tiny)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "accounts.csv" in proc.stderr and "not a regular file" in proc.stderr


def test_scenario_file_that_is_a_fifo_never_hangs(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "quotaopt", "validate", str(fifo)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr, proc.stderr


@pytest.mark.parametrize("day", ["9999-12-31", "1066-10-14", "2263-01-01"])
def test_csv_dates_outside_the_supported_range_are_exit_2(tiny: Path, day: str) -> None:
    bookings = tiny.parent / "data" / "bookings.csv"
    bookings.write_text(bookings.read_text().replace("2025-03-15,A1", f"{day},A1", 1))
    _one_clear_line(_validate(tiny), "bookings.csv:", ":date:", "outside the supported dates", day)


def _bookings_parquet(tiny: Path, dates: Any) -> None:
    data = tiny.parent / "data"
    frame = pd.read_csv(data / "bookings.csv", dtype=str)
    frame["amount"] = frame["amount"].astype(float)
    frame["date"] = dates(pd.to_datetime(frame["date"]))
    (data / "bookings.csv").unlink()
    frame.to_parquet(data / "bookings.parquet")


def test_parquet_dates_outside_the_supported_range_are_exit_2(tiny: Path) -> None:
    def far(dates: Any) -> Any:
        dates = dates.astype("datetime64[ms]")
        dates.iloc[4] = pd.Timestamp("2500-06-01").as_unit("ms")
        return dates

    _bookings_parquet(tiny, far)
    _one_clear_line(_validate(tiny), "bookings.parquet:5:date", "outside the supported dates", "2500-06-01")


def test_time_zone_aware_parquet_dates_count_on_their_local_day(tiny: Path) -> None:
    from quotaopt.io import load_company

    # 23:30 in New York on 31 December is already 1 January in UTC: it stays a 2026 booking.
    _bookings_parquet(tiny, lambda d: (d + pd.Timedelta("23h30m")).dt.tz_localize("America/New_York"))
    result = _validate(tiny)
    assert result.exit_code == 0, result.output
    company = load_company(tiny.parent / "data")
    assert str(company.bookings["date"].dtype) == "datetime64[ns]"
    assert company.history_years == [2025, 2026]
    assert company.bookings["date"].max() == pd.Timestamp("2026-12-15 23:30")


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("bookings.csv", "2025-03-15,A1,40300", "2025-03-15,A1,1e308", "bookings.csv:12:amount"),
    ("bookings.csv", "2025-03-15,A1,40300", "2025-03-15,A1,-2e15", "bookings.csv:12:amount"),
    ("reps.csv", "A2,EU,longtail,2020-06-15,1,active,Bob,200000,", "A2,EU,longtail,2020-06-15,1,active,Bob,200000,1e308",
     "reps.csv:3:locked_quota"),
    ("teams.csv", "EU,CO,Europe,", "EU,CO,Europe,1e300", "teams.csv:3:target"),
])
def test_amounts_beyond_1e15_are_exit_2(tiny: Path, file: str, old: str, new: str, where: str) -> None:
    path = tiny.parent / "data" / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    result = _invoke("plan", str(tiny), "--out", str(tiny.parent / "runs"))
    _one_clear_line(result, where, "too large")
    assert "-9223372036854775808" not in result.output and not (tiny.parent / "runs").exists()


def test_amounts_whose_total_passes_1e15_are_exit_2(tiny: Path) -> None:
    bookings = tiny.parent / "data" / "bookings.csv"
    with bookings.open("a") as fh:
        fh.write("2025-06-01,A1,9e14,K1\n2025-06-02,A1,9e14,K1\n")
    _one_clear_line(_validate(tiny), "bookings.csv:amount", "in 2025 add up to", "1e+15")


# --- Dask: a cluster that cannot be reached, or has no worker, is exit 2 in bounded time ----------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", ["plan", "batch"])
def test_scheduler_without_workers_is_exit_2_after_the_timeout(tiny: Path, tmp_path: Path, command: str) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        start = time.perf_counter()
        result = _invoke(command, str(_given(tiny)), "--scheduler", cluster.scheduler_address,
                         "--scheduler-timeout", "2", "--out", str(tmp_path / "runs"))
        took = time.perf_counter() - start
    _one_clear_line(result, "--scheduler", "no worker joined", "within 2 s")
    assert len(result.output.strip().splitlines()) == 1
    print(f"refused after {took:.1f} s")
    assert took < 60


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "tcp://nonsense::x", "nonsense://nowhere", "foo"])
def test_unreachable_or_malformed_scheduler_is_exit_2_at_once(tiny: Path, tmp_path: Path, address: str) -> None:
    start = time.perf_counter()
    result = _invoke("plan", str(_given(tiny)), "--scheduler", address.format(port=_free_port()),
                     "--scheduler-timeout", "3", "--out", str(tmp_path / "runs"))
    took = time.perf_counter() - start
    _one_clear_line(result, "--scheduler")
    assert len(result.output.strip().splitlines()) == 1, result.output
    print(f"refused after {took:.1f} s")
    assert took < 60
    assert not (tmp_path / "runs" / "tiny").exists()


# --- 11. extends and scenario names -------------------------------------------------------------

def test_extends_outside_the_scenario_folder_is_refused(tiny: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.yaml"
    outside.write_text("plan_year: 2027\n")
    try:
        for target in (str(outside), "../" + outside.name, "/etc/passwd"):
            tiny.write_text(f"extends: {target}\n" + tiny.read_text().split("\n", 1)[1])
            result = _validate(tiny)
            _one_clear_line(result, "tiny.yaml:extends", "inside")
            assert "root:" not in result.output
    finally:
        outside.unlink()


def test_a_parent_file_s_errors_name_the_parent_and_key_never_its_lines(tiny: Path) -> None:
    base = tiny.parent / "base.yaml"
    base.write_text("allocation:\n  unit: 1000\nsecret_token: hunter2-do-not-print\n"
                    "'root:x:0:0:root:/root:/bin/bash': 1\n")
    tiny.write_text("extends: base.yaml\n" + tiny.read_text())
    result = _validate(tiny)
    _one_clear_line(result, "base.yaml:secret_token: unknown key", "not shown")
    assert "hunter2" not in result.output and "/bin/bash" not in result.output


def test_non_yaml_parent_is_refused(tiny: Path) -> None:
    (tiny.parent / "notes.txt").write_text("plan_year: 2027\n")
    tiny.write_text("extends: notes.txt\n" + tiny.read_text())
    _one_clear_line(_validate(tiny), "tiny.yaml:extends", ".yaml or .yml")


def test_a_1500_deep_extends_chain_is_exit_2_with_one_line(tiny: Path) -> None:
    folder = tiny.parent
    for i in range(1500):
        (folder / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n" if i < 1499 else "plan_year: 2027\n")
    tiny.write_text("extends: c0.yaml\n" + tiny.read_text())
    result = _validate(tiny)
    _one_clear_line(result, "extends chain is deeper than 32 files")
    assert len(result.output.strip().splitlines()) == 1


def test_extends_cycle_is_exit_2(tiny: Path) -> None:
    (tiny.parent / "a.yaml").write_text("extends: b.yaml\n")
    (tiny.parent / "b.yaml").write_text("extends: a.yaml\n")
    tiny.write_text("extends: a.yaml\n" + tiny.read_text())
    _one_clear_line(_validate(tiny), "extends forms a cycle")


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_scenario_names_of_dots_are_refused(tiny: Path, tmp_path: Path, name: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    tiny.write_text(tiny.read_text().replace("name: tiny", f"name: '{name}'"))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for command in (["plan", str(tiny), "--out", str(tmp_path / "runs")], ["train", str(tiny)]):
        _one_clear_line(_invoke(*command), "tiny.yaml:name", "only dots")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_file_stem_of_dots_cannot_name_the_runs(tmp_path: Path) -> None:
    from conftest import write_tiny_company

    scenario = write_tiny_company(tmp_path)
    odd = tmp_path / "...yaml"
    odd.write_text(scenario.read_text().replace("name: tiny\n", ""))
    _one_clear_line(_validate(odd), "name", "only dots")


# --- 3. money in units ----------------------------------------------------------------------------

def _decimal_csv(path: Path, key: str) -> dict[str, Any]:
    import csv
    from decimal import Decimal

    out: dict[str, Any] = {}
    for row in csv.DictReader(path.open()):
        out[row[key]] = out.get(row[key], Decimal(0)) + Decimal(row["quota"])
    return out


@pytest.mark.parametrize(("unit", "company"), [("0.01", None), ("0.05", None), ("0.01", "71.37"), ("1", "57")])
def test_fine_units_keep_every_output_exact(tiny: Path, tmp_path: Path, unit: str, company: str | None) -> None:
    from decimal import Decimal

    scenario = _given(tiny)
    text = scenario.read_text().replace("unit: 1000", f"unit: {unit}")
    if company is not None:  # small amounts: a rounding to whole currency would show as over-assignment
        text = text.replace("  growth: 0.10\n  over_assignment: 0.05\n", f"  company: {company}\n")
        data = tiny.parent / "data" / "capacity.csv"
        data.write_text("rep_id,p10,p50,p90\nA1,20,25.5,31\nA2,8,10.25,13\nB1,15,19.75,24\nB2,7,9.5,12\n")
        reps = tiny.parent / "data" / "reps.csv"
        reps.write_text(reps.read_text().replace("500000,", ",").replace("200000,", ",").replace("450000,", ",")
                        .replace("180000,", ","))
    scenario.write_text(text)
    out = tmp_path / "runs"
    result = _invoke("plan", str(scenario), "--out", str(out))
    assert result.exit_code == 0, result.output
    (run,) = _run_folders(out)
    step = Decimal(unit)
    plan = _decimal_csv(run / "plan.csv", "rep_id")
    periods = _decimal_csv(run / "plan_periods.csv", "rep_id")
    units = _decimal_csv(run / "units.csv", "unit_id")
    summary = json.loads((run / "summary.json").read_text())
    assert all(q % step == 0 for q in plan.values()), plan  # whole multiples of the unit
    assert periods == plan  # each rep's periods add up to its quota, to the cent
    assert sum(plan.values()) == units["CO"] == Decimal(str(summary["total_quota"]))
    assert units["EU"] == plan["A1"] + plan["A2"] and units["US"] == plan["B1"] + plan["B2"]
    if company is not None:
        assert Decimal(str(summary["total_quota"])) == Decimal(company)
        assert summary["over_assignment"] == 0.0


@pytest.mark.parametrize(("unit", "message"), [("0.001", "greater than or equal to 0.01"),
                                               ("1e-9", "greater than or equal to 0.01"),
                                               ("0.015", "whole number of cents"),
                                               ("1e12", "less than or equal to 1000000000")])
def test_units_outside_the_supported_range_are_exit_2(tiny: Path, unit: str, message: str) -> None:
    tiny.write_text(tiny.read_text().replace("unit: 1000", f"unit: {unit}"))
    _one_clear_line(_validate(tiny), "tiny.yaml:allocation.unit", message)


def test_a_unit_too_fine_for_the_company_total_is_exit_2(tiny: Path, tmp_path: Path) -> None:
    scenario = _given(tiny)
    scenario.write_text(scenario.read_text().replace("unit: 1000", "unit: 0.01").replace(
        "  growth: 0.10\n", "  company: 900000000000000\n"))
    _one_clear_line(_invoke("plan", str(scenario), "--out", str(tmp_path / "runs")), "allocation.unit",
                    "too fine", "at most 1e+12")


# --- 8. the tree check is linear ------------------------------------------------------------------

def test_a_10000_level_team_chain_validates_quickly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    n = 10_000
    (data / "teams.csv").write_text("team_id,parent_id\nU0,\n" + "".join(f"U{i},U{i - 1}\n" for i in range(1, n)))
    (data / "reps.csv").write_text(f"rep_id,team_id,role,hire_date\nR0,U{n - 1},ka,2020-01-01\n"
                                   f"R1,U{n // 2},longtail,2021-01-01\n")
    (data / "bookings.csv").write_text("date,rep_id,amount\n" + "".join(
        f"{y}-{m:02d}-15,R{r},{1000 * (r + 1)}\n" for y in (2025, 2026) for m in range(1, 13) for r in (0, 1)))
    start = time.perf_counter()
    result = _invoke("validate", str(data))
    took = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    print(f"validate of a {n:,}-level chain: {took:.2f} s (was over 30 minutes before #14)")
    assert took < 60  # generous: the bound is for a quadratic or cubic walk, not for timing


def test_a_cycle_in_a_long_chain_is_still_found(tmp_path: Path) -> None:
    from quotaopt.io._company import _cycles

    parent = {f"U{i}": f"U{i - 1}" for i in range(1, 5000)} | {"U0": "", "X0": "X2", "X1": "X0", "X2": "X1",
                                                              "Y": "X1"}
    assert _cycles(parent) == {"X0", "X1", "X2"}


# --- 10. every case of the list: its contract exit code and one clear line ------------------------

def test_compare_a_run_with_itself_is_exit_2(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert _invoke("plan", str(_given(tiny)), "--out", str(out)).exit_code == 0
    (run,) = _run_folders(out)
    result = _invoke("compare", str(run), str(run))
    _one_clear_line(result, "the same run is given twice")
    assert len(result.output.strip().splitlines()) == 1


def test_compare_out_under_a_file_is_exit_2_before_reading(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    for _ in range(2):
        assert _invoke("plan", str(_given(tiny)), "--out", str(out)).exit_code == 0
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = _invoke("compare", *map(str, _run_folders(out)), "--out", str(blocker / "abc.csv"))
    _one_clear_line(result, "--out", "not a folder")


def test_no_active_rep_is_exit_2(tiny: Path, tmp_path: Path) -> None:
    reps = tiny.parent / "data" / "reps.csv"
    reps.write_text(reps.read_text().replace(",active,", ",departed,"))
    result = _invoke("plan", str(_given(tiny)), "--out", str(tmp_path / "runs"))
    _one_clear_line(result, "reps.csv:status", "no active rep")


@pytest.mark.parametrize(("quota", "sales"), [("nan", "100"), ("100", "inf"), ("-inf", "5"), ("100", "NaN")])
def test_payout_refuses_nan_and_inf(tiny: Path, quota: str, sales: str) -> None:
    result = _invoke("payout", str(tiny), "--plan", "all", "--quota", quota, "--sales", sales)
    _one_clear_line(result, "not a finite number")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder trained once on the tiny company."""
    from conftest import write_tiny_company

    folder = tmp_path_factory.mktemp("trained")
    scenario = write_tiny_company(folder)
    result = _invoke("train", str(scenario), "--model-out", str(folder / "model"))
    assert result.exit_code == 0, result.output
    return folder / "model"


def _with_model(tiny: Path, trained: Path, damage: Any) -> Path:
    import shutil

    model = tiny.parent / "model"
    shutil.copytree(trained, model)
    damage(model)
    tiny.write_text(tiny.read_text().replace("name: tiny\n", "name: tiny\ncapacity: {model: model}\n"))
    return tiny


def _rehash(model: Path) -> None:
    import hashlib

    meta = json.loads((model / "metadata.json").read_text())
    meta["model_sha256"] = hashlib.sha256((model / "model.skops").read_bytes()).hexdigest()
    (model / "metadata.json").write_text(json.dumps(meta))


def _tamper(model: Path) -> None:
    data = (model / "model.skops").read_bytes()
    (model / "model.skops").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def _corrupt_and_rehash(model: Path) -> None:
    (model / "model.skops").write_bytes((model / "model.skops").read_bytes()[:1000])
    _rehash(model)


@pytest.mark.parametrize(("damage", "needle"), [(_tamper, "SHA-256 mismatch"),
                                                (_corrupt_and_rehash, "cannot be loaded")])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_tampered_or_corrupt_model_is_exit_2(tiny: Path, trained: Path, tmp_path: Path, damage: Any,
                                                needle: str, command: str) -> None:
    scenario = _with_model(tiny, trained, damage)
    args = [command, str(scenario)] + (["--out", str(tmp_path / "runs")] if command == "plan" else [])
    result = _invoke(*args)
    _one_clear_line(result, "model.skops", needle)
    assert len(result.output.strip().splitlines()) == 1
    assert "valid" not in result.output.splitlines()


def test_batch_with_the_same_scenario_twice_lands_both_runs(tiny: Path, tmp_path: Path) -> None:
    scenario = str(_given(tiny))
    out = tmp_path / "runs"
    result = _invoke("batch", scenario, scenario, "--workers", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 of 2 scenarios planned" in result.output
    runs = _run_folders(out)
    assert len(runs) == 2 and all(read_run(r).run_id == r.name for r in runs)
    assert len(_audit(out)) == 2
