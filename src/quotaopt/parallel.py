"""Run independent tasks serially, on a local process pool, or on a Dask cluster.

Every task function must be a module-level function (picklable). Results come back in
the order of the inputs, whichever executor ran them, so plans do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_tasks(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, scheduler: str | None = None) -> list[R]:
    """Apply ``fn`` to every item; results in input order.

    Parameters
    ----------
    fn : callable
        A module-level function of one argument.
    items : iterable
    workers : int
        Local processes (1 = run in this process). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); the tasks run there.

    Returns
    -------
    list
    """
    tasks: Sequence[T] = list(items)
    if scheduler:
        return _map_dask(fn, tasks, scheduler)
    if workers <= 1 or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn" avoids forking a process that holds solver or BLAS threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        return list(pool.map(fn, tasks))


def _map_dask(fn: Callable[[T], R], tasks: Sequence[T], scheduler: str) -> list[R]:
    from dask.distributed import Client

    from quotaopt.errors import InputError, Problem

    try:
        client = Client(scheduler, set_as_default=False, timeout="30s")
    except (OSError, ValueError) as exc:  # unreachable or malformed address: the user's to fix
        raise InputError([Problem("--scheduler", f"cannot connect to the Dask scheduler {scheduler!r}: {exc}")]) \
            from exc
    with client:
        futures: list[Any] = client.map(fn, tasks, pure=False)
        return list(client.gather(futures))
