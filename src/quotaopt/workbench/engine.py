"""One scenario on the workbench: loaded once, re-planned per knob change, saved as a run folder.

The plan is the library's: :func:`quotaopt.planning.run_plan` on the scenario file with
the page's overrides merged in (the same merge ``extends`` does), over the company read
once at start. What the workbench adds is memory, not arithmetic:

- the capacity model is fitted once per data and ``capacity.*`` settings (keyed by the
  input hashes, :func:`quotaopt.planning.capacity_key`); a knob change re-runs the
  target, allocation, periods and simulation only;
- the last few results are kept by their settings, so sorting, filtering, saving and
  "which teammates moved" never solve twice;
- one solve at a time per scenario: a second request waits its turn (and the page says
  how many are waiting), then usually finds its answer in the cache.

Saving writes a normal run folder through :func:`quotaopt.commands.write_result` (manifest,
audit line, report, workbook), with the overrides in ``manifest.json`` under
``workbench``: ``quotaopt plan`` of a scenario that extends the file with those
overrides gives byte-identical plan files.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quotaopt.errors import InputError, Problem
from quotaopt.parallel import executor as parallel_executor
from quotaopt.planning import Inputs, PlanResult
from quotaopt.workbench.knobs import ScenarioOverrides, Settings, knob_values, overrides

#: Results kept per scenario (each holds a plan's tables; a few MB at 1,000 reps).
KEPT_RESULTS = 12
#: Longest version name (it goes to the manifest and the page).
MAX_VERSION_NAME = 80


@dataclass
class Solved:
    """A plan for one page state, with the seconds its solve took (0 when it came from memory)."""

    settings: Settings
    overrides: ScenarioOverrides
    inputs: Inputs
    result: PlanResult
    seconds: float


class ScenarioSession:
    """A scenario file, its company and its runs folder, served to the page.

    Parameters
    ----------
    path : Path
        The scenario YAML file.
    runs_root : Path, optional
        Parent of the run folders (default ``runs/`` beside the scenario, as for ``plan``).
    slug : str
        The name in the page's addresses.
    """

    def __init__(self, path: Path, runs_root: Path | None = None, slug: str | None = None) -> None:
        from quotaopt.commands import default_runs_root
        from quotaopt.io import check_runs_root, load_inputs

        self.path = Path(path).resolve()
        self.inputs = load_inputs(self.path, model_search=(Path.cwd(),))
        assert self.inputs.scenario is not None
        self.scenario = self.inputs.scenario
        self.name = self.scenario.name
        self.slug = slug or self.name
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root(self.inputs)
        check_runs_root(self.runs_root, str(self.runs_root))  # before the first page is served
        self.start = knob_values(self.scenario)
        self._source_hashes = {p: _digest(p) for p in self.scenario.sources}
        self.capacity_cache: dict[tuple[Any, ...], Any] = {}
        self._results: OrderedDict[str, Solved] = OrderedDict()
        self._solve_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self.waiting = 0
        self.executor = parallel_executor(workers=os.cpu_count() or 1)

    @property
    def unit(self) -> float:
        """``allocation.unit``: locked quotas must be whole multiples of it."""
        return float(self.scenario.allocation.unit)

    def inputs_for(self, settings: Settings) -> tuple[Inputs, ScenarioOverrides]:
        """The scenario file with the page's overrides, over the company read at start."""
        from quotaopt.io import load_scenario

        changes = overrides(settings, self.scenario)
        scenario = load_scenario(self.path, changes) if changes else self.scenario
        inputs = Inputs(scenario=scenario, company=self.inputs.company, plan_year=self.inputs.plan_year,
                        model=self.inputs.model)
        return inputs, changes

    def cached(self, settings: Settings) -> Solved | None:
        """The plan for ``settings`` if it is in memory."""
        with self._state_lock:
            hit = self._results.get(settings.key())
            if hit is not None:
                self._results.move_to_end(settings.key())
            return hit

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this scenario's solver (one solve at a time; ``waiting`` counts the queue)."""
        with self._state_lock:
            self.waiting += 1
        try:
            with self._solve_lock:
                yield
        finally:
            with self._state_lock:
                self.waiting -= 1

    def solve(self, settings: Settings) -> Solved:
        """Plan ``settings`` (from memory when it was planned before); one solve at a time.

        Raises
        ------
        InputError, InfeasibleError, SolverError
            As ``quotaopt plan`` would for the same scenario (business messages).
        """
        from quotaopt.planning import run_plan

        hit = self.cached(settings)
        if hit is not None:
            return Solved(hit.settings, hit.overrides, hit.inputs, hit.result, 0.0)
        with self.turn():
            hit = self.cached(settings)  # planned while this request waited
            if hit is not None:
                return Solved(hit.settings, hit.overrides, hit.inputs, hit.result, 0.0)
            start = time.perf_counter()
            inputs, changes = self.inputs_for(settings)
            # As `plan` runs: one worker per core (the simulation's chunks in threads; the
            # exact unit solves stay in this process). The plan is the same for any number.
            result = run_plan(inputs, executor=self.executor, capacity_cache=self.capacity_cache)
            solved = Solved(settings, changes, inputs, result, time.perf_counter() - start)
        with self._state_lock:
            self._results[settings.key()] = solved
            while len(self._results) > KEPT_RESULTS:
                self._results.popitem(last=False)
        return solved

    def check_unchanged(self) -> None:
        """Refuse to save when the scenario file or a data file changed since the workbench read them.

        Raises
        ------
        InputError
            Naming the changed file (restart ``quotaopt serve`` to read it again).
        """
        read: dict[Path, str | None] = {self.inputs.company.folder / name: digest
                                        for name, digest in self.inputs.company.files.items()}
        read.update(self._source_hashes)
        changed = [str(path) for path, digest in sorted(read.items()) if _digest(path) != digest]
        if changed:
            raise InputError([Problem(name, "changed since the workbench read it; restart quotaopt serve to plan "
                                      "on the new file") for name in changed])

    def save(self, settings: Settings, version: str, user: str) -> Any:
        """Write the plan for ``settings`` as a run folder named ``version`` (a draft).

        Returns
        -------
        quotaopt.io.WrittenRun
        """
        from quotaopt.commands import write_result
        from quotaopt.workbench.versions import record_status

        version = " ".join(str(version).split())[:MAX_VERSION_NAME]
        if not version:
            raise InputError([Problem("version", "give the version a name")])
        self.check_unchanged()
        solved = self.solve(settings)
        extra = {"workbench": {"version": version, "overrides": solved.overrides, "saved_by": user}}
        written = write_result(solved.result, solved.inputs, self.runs_root, extra_manifest=extra)
        record_status(self.runs_root, self.name, written.run_id, "draft", user, "saved from the workbench")
        return written


def _digest(path: Path) -> str | None:
    """SHA-256 of a file, None when it is gone."""
    from quotaopt.io import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return None
