"""Run independent tasks serially, on a local process pool, or on a Dask cluster.

Every task function must be a module-level function (picklable). Results come back in
the order of the inputs, whichever executor ran them, so plans do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


#: Seconds to reach a Dask scheduler, and again for at least one worker to be there.
SCHEDULER_TIMEOUT_S = 30.0


def map_tasks(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, scheduler: str | None = None,
              scheduler_timeout: float = SCHEDULER_TIMEOUT_S) -> list[R]:
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
    scheduler_timeout : float
        Seconds to connect to the scheduler, and again for a worker to be there.

    Returns
    -------
    list

    Raises
    ------
    InputError
        The scheduler is malformed, unreachable, or has no worker within the timeout.
    """
    tasks: Sequence[T] = list(items)
    if scheduler:
        with dask_client(scheduler, scheduler_timeout) as client:
            futures: list[Any] = client.map(fn, tasks, pure=False)
            return list(client.gather(futures))
    if workers <= 1 or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn" avoids forking a process that holds solver or BLAS threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        return list(pool.map(fn, tasks))


def _problem(message: str) -> Any:
    from quotaopt.errors import InputError, Problem

    return InputError([Problem("--scheduler", message)])


def _reachable(address: str, timeout: float) -> None:
    """A plain TCP connect first: an unreachable host fails in ``timeout`` with one line, no client debris."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

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
        client = Client(address, set_as_default=False, timeout=f"{timeout}s")
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
        client.close()


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT_S) -> None:
    """Fail now, before any work, if ``address`` is not a Dask scheduler with a worker."""
    with dask_client(address, timeout):
        pass
