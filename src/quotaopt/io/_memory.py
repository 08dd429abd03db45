"""Give memory freed while reading back to the operating system.

Reading a company builds large temporaries (raw Arrow tables, text cleaned per row while
checking, the unsorted bookings) and frees them. CPython hands freed memory back to the
C allocator, and glibc's allocator keeps much of it mapped for reuse: at 40,000 reps a
quarter of the process's resident memory after loading was freed memory still held.
``malloc_trim`` returns those pages, so the process holds what the company needs for the
stages that follow. Where the C library has no ``malloc_trim`` (macOS, musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

__all__ = ["release_freed_memory"]


@cache
def _trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Collect the reference cycles reading made, then return the allocator's free pages (see the module).

    Only the young generations are collected: objects made while reading are in them
    (a load runs a handful of automatic collections, all of the youngest generation). A
    full collection would also walk every object the imported libraries hold, 0.07 s
    for nothing more freed (the memory held after loading was the same at 10,000 and
    100,000 reps).

    Examples
    --------
    >>> release_freed_memory()  # safe anywhere; a no-op without glibc
    """
    gc.collect(1)
    trim = _trim()
    if trim is not None:
        trim(0)
