"""Many scenarios in one call: each planned independently, failures reported, not fatal."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from quotaopt.errors import QuotaOptError
from quotaopt.parallel import SCHEDULER_TIMEOUT_S, executor


@dataclass(frozen=True)
class BatchTask:
    """One scenario to plan, and where its runs go."""

    scenario: str
    out: str | None


@dataclass
class BatchOutcome:
    """What happened to one scenario of a batch."""

    scenario: str
    status: str  # "ok" or "failed"
    exit_code: int
    run: str | None = None
    message: str | None = None
    p_company_target: float | None = None
    total_quota: float | None = None
    expected_payout: float | None = None


def run_one(task: BatchTask) -> BatchOutcome:
    """Plan one scenario; never raises, so one failure does not stop the others."""
    from quotaopt.commands._plan import plan

    try:
        result, written = plan(task.scenario, out=task.out)
    except QuotaOptError as exc:
        return BatchOutcome(task.scenario, "failed", exc.exit_code, message=str(exc).splitlines()[0])
    except Exception as exc:  # noqa: BLE001 - reported per scenario, the batch goes on
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return BatchOutcome(task.scenario, "failed", 1, message=f"internal error: {last}")
    s = result.summary
    return BatchOutcome(task.scenario, "ok", 0, run=str(written.path), p_company_target=s.p_company_target,
                        total_quota=s.total_quota, expected_payout=s.expected_payout)


def batch(scenarios: Sequence[str | Path], out: str | Path | None = None, workers: int = 1,
              scheduler: str | None = None, scheduler_timeout: float = SCHEDULER_TIMEOUT_S) -> list[BatchOutcome]:
    """Plan every scenario on a local pool (``workers``) or a Dask cluster (``scheduler``).

    Returns
    -------
    list of BatchOutcome
        In the order of ``scenarios``.

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> [(o.status, o.exit_code) for o in qo.batch([example], out=runs)]
    [('ok', 0)]
    """
    tasks = [BatchTask(str(Path(s).resolve()), None if out is None else str(Path(out).resolve())) for s in scenarios]
    return executor(workers, scheduler, scheduler_timeout).map(run_one, tasks)


def batch_exit_code(outcomes: Sequence[BatchOutcome]) -> int:
    """0 when all succeeded, else the highest exit code among the failures."""
    return max((o.exit_code for o in outcomes), default=0)


def outcome_rows(outcomes: Sequence[BatchOutcome]) -> list[dict[str, Any]]:
    """Plain rows for the closing table."""
    return [asdict(o) for o in outcomes]
