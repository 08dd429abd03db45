"""Where independent tasks run: in this process, on local workers, or on a Dask cluster.

One :class:`Executor` is built by the command (:func:`executor`) and handed down as one
object; the stages only say what may run at once. Every task function handed to
:meth:`Executor.map` must be a module-level function (picklable). Results come back in
the order of the inputs, whichever executor ran them, so plans do not depend on it.

- :class:`Executor` -- everything in this process, in order (the default);
- :class:`LocalPool` -- ``workers`` spawned processes (kept for the life of the process:
  starting one costs about a second) for :meth:`~Executor.map`, and as many threads for
  :meth:`~Executor.map_threads` (numpy work that releases the GIL);
- :class:`DaskCluster` -- the tasks of :meth:`~Executor.map` run on a Dask scheduler's
  workers (``remote``: even work that is cheap here goes there, the cluster is paid for).
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


#: Seconds to reach a Dask scheduler, and again for at least one worker to be there.
SCHEDULER_TIMEOUT_S = 30.0


class Executor:
    """Run tasks one after another in this process (the default executor).

    Examples
    --------
    >>> Executor().map(abs, [-2, 3])
    [2, 3]
    >>> executor(workers=1).workers, executor(workers=4).workers
    (1, 4)
    """

    #: Local workers (processes for :meth:`map`, threads for :meth:`map_threads`).
    workers: int = 1
    #: True when :meth:`map` sends tasks away from this process (a cluster).
    remote: bool = False

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int | None = None) -> list[R]:
        """``fn`` over ``items`` (``fn`` module-level, picklable); results in input order.

        ``chunksize``: tasks a local worker takes at once (default about a quarter of its
        share, few round trips for many small tasks); 1 for few tasks of uneven cost handed
        over largest first, so no worker is left with a long tail. Never changes a result.
        """
        return [fn(item) for item in items]

    def map_threads(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` (any callable) over ``items`` on local threads; results in input order, as they come.

        An iterator, so a caller that folds results in keeps one at a time in memory here.
        """
        return (fn(item) for item in items)

    def check(self) -> None:
        """Fail now, before any work, if the executor cannot run tasks (nothing to check here)."""


_POOLS: dict[int, ProcessPoolExecutor] = {}
#: Modules a new worker process imports when it starts (registered by the stages that use them).
_PRELOAD: list[str] = []


def preload(module: str) -> None:
    """Have every worker process started from now on import ``module`` when it starts, not in its first task."""
    if module not in _PRELOAD:
        _PRELOAD.append(module)


def _warm(modules: tuple[str, ...]) -> None:
    from importlib import import_module

    for name in modules:
        import_module(name)


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes, started once and reused by later calls.

    ``spawn``, not ``fork``: forking a process that already runs solver or BLAS thread
    pools is not safe. Starting a spawned worker (interpreter, numpy, scipy, highspy)
    costs about a second of CPU, so pools are kept for the life of the process.
    """
    pool = _POOLS.get(workers)
    if pool is None:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_warm,
                                   initargs=(tuple(_PRELOAD),))
        _POOLS[workers] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the kept worker processes (at exit, or to account for their CPU time)."""
    for pool in _POOLS.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()


class LocalPool(Executor):
    """``workers`` local processes for :meth:`map`, as many threads for :meth:`map_threads`."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int | None = None) -> list[R]:
        tasks: Sequence[T] = list(items)
        if self.workers <= 1 or len(tasks) <= 1:
            return [fn(t) for t in tasks]
        from quotaopt.errors import SolverError

        # Results come back in order whatever the chunk size, so serial and pooled agree.
        if chunksize is None:
            chunksize = max(1, len(tasks) // (self.workers * 4))
        try:
            return list(_pool(self.workers).map(fn, tasks, chunksize=chunksize))
        except BrokenProcessPool as exc:
            _POOLS.pop(self.workers, None)
            raise SolverError(f"a worker process of the local pool died ({exc})") from None

    def map_threads(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        tasks: Sequence[T] = list(items)
        if self.workers <= 1 or len(tasks) <= 1:
            yield from (fn(t) for t in tasks)
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            yield from pool.map(fn, tasks)


class DaskCluster(Executor):
    """The tasks of :meth:`map` run on the workers of a Dask scheduler (``tcp://host:8786``).

    Each :meth:`map` connects (within ``timeout`` seconds, and waits as long for a
    worker), runs its tasks there and disconnects; :meth:`check` does the same with no
    task, so a bad address fails before any work.
    """

    remote = True

    def __init__(self, address: str, timeout: float = SCHEDULER_TIMEOUT_S, workers: int = 1) -> None:
        self.address, self.timeout, self.workers = address, float(timeout), max(1, int(workers))

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int | None = None) -> list[R]:
        tasks: Sequence[T] = list(items)  # the scheduler balances: no chunks
        with dask_client(self.address, self.timeout) as client:
            futures: list[Any] = client.map(fn, tasks, pure=False)
            return list(client.gather(futures))

    def map_threads(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return LocalPool(self.workers).map_threads(fn, items)

    def check(self) -> None:
        check_scheduler(self.address, self.timeout)


def executor(workers: int = 1, scheduler: str | None = None, scheduler_timeout: float | None = None) -> Executor:
    """The executor a command runs on: a Dask cluster with ``scheduler``, else ``workers`` local ones.

    ``workers`` still sizes the local threads next to a cluster. Neither changes a result.
    """
    if scheduler:
        return DaskCluster(scheduler, scheduler_timeout or SCHEDULER_TIMEOUT_S, workers)
    return LocalPool(workers) if workers > 1 else Executor()


def _problem(message: str) -> Any:
    from quotaopt.errors import InputError, Problem

    return InputError([Problem("--scheduler", message)])


def _reachable(address: str, timeout: float) -> None:
    """A plain TCP connect first: an unreachable host fails in ``timeout`` with one line, no client debris."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return  # inproc, ucx, ws...: the client's own connect decides
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise _problem(f"not a Dask scheduler address ({exc}); expected tcp://host:port") from None
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise _problem(f"cannot reach the Dask scheduler {address!r} within {timeout:g} s "
                       f"({exc.strerror or type(exc).__name__})") from None


@contextmanager
def dask_client(address: str, timeout: float = SCHEDULER_TIMEOUT_S) -> Iterator[Any]:
    """A connected Dask client with at least one worker, closed on exit.

    Raises
    ------
    InputError
        Malformed or unreachable address (within ``timeout``), or no worker joined
        within ``timeout`` more seconds.
    """
    from dask.distributed import Client

    _reachable(address, timeout)
    try:
        client = Client(address, set_as_default=False, timeout=f"{timeout}s")  # type: ignore[no-untyped-call]
    except (OSError, ValueError, TimeoutError) as exc:  # the user's address to fix
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise _problem(f"cannot connect to the Dask scheduler {address!r}: {first}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise _problem(f"no worker joined the Dask scheduler {address!r} within {timeout:g} s (start one with "
                           f"`dask worker {address}`)") from None
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT_S) -> None:
    """Fail now, before any work, if ``address`` is not a Dask scheduler with a worker."""
    with dask_client(address, timeout):
        pass
