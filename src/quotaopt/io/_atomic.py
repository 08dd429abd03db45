"""Writes that appear whole or not at all, and names that never collide.

The primitives every writer of quotaopt outputs uses (run folders, track folders,
models, backtests, generated companies):

- :func:`write_file_atomic`: one file, written beside its target and renamed over it.
- :func:`replace_folder`: a folder built beside its target and renamed into place,
  replacing an older one of that name (a track folder, a generated company).
- :class:`Staging` + :func:`publish`: a folder built in ``<root>/.staging/`` and renamed
  to ``<parent>/<name>``. The rename itself reserves the name: a folder is never
  renamed over a non-empty one, so when two processes pick the same name (two
  identical plans in the same second) the loser gets ``EEXIST``/``ENOTEMPTY``,
  calls ``finalize`` again with ``<name>-2`` (then ``-3`` ...) and retries. No name is
  held by a lock, so a crashed process leaves no reservation behind.

Staging entries are named ``qo-<host>-<pid>-<token>``. :func:`clean_stale` removes only
entries that match that pattern, are real folders (never followed through a link) and
are stale: written by a process of this host that no longer runs, or older than
:data:`STALE_AFTER_S` (a runs folder shared between hosts or containers: another
host's pid cannot be checked here, and no live write takes a day).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from quotaopt.io._fsguard import require_real

STAGING = ".staging"
#: Seconds after which a staging entry of another host (or of a pid we cannot judge) is stale.
STALE_AFTER_S = 24 * 3600
#: Suffixes tried after the first name before giving up (a runaway, not a real workload).
MAX_SUFFIX = 10_000
_ENTRY = re.compile(r"^qo-(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})$")


def host_name() -> str:
    """This host's name as it appears in staging entries (characters outside [A-Za-z0-9._-] as '_')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (best effort where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file_atomic(path: Path, data: bytes, parents: bool = False) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half.

    ``parents`` creates the missing folders above ``path`` first.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.json"
    >>> write_file_atomic(target, b"{}\\n")
    >>> target.read_bytes()
    b'{}\\n'
    """
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{host_name()}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def check_staging_root(root: Path) -> None:
    """Refuse a ``.staging`` that is a link or not a folder (quotaopt would write and delete through it)."""
    require_real(root / STAGING, folder=True, purpose="stages its outputs only in a real folder")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def is_stale(entry: Path, now: float | None = None) -> bool:
    """Whether ``entry`` is a staging folder of ours that nobody is writing any more."""
    match = _ENTRY.match(entry.name)
    if match is None:
        return False
    try:
        info = os.lstat(entry)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode):  # a link, a file, anything else: not ours to delete
        return False
    age = (time.time() if now is None else now) - info.st_mtime
    if age > STALE_AFTER_S:
        return True
    return match["host"] == host_name() and not _pid_alive(int(match["pid"]))


def clean_stale(root: Path) -> list[Path]:
    """Remove stale staging entries under ``root/.staging``; return what was removed."""
    check_staging_root(root)
    staging = root / STAGING
    if not staging.is_dir():
        return []
    removed = []
    for entry in staging.iterdir():
        if is_stale(entry):
            shutil.rmtree(entry, ignore_errors=True)  # fd-based on Linux: never follows links inside
            removed.append(entry)
    return removed


class Staging:
    """A fresh staging folder ``root/.staging/qo-<host>-<pid>-<token>``, removed on failure.

    Use as a context manager: the folder is created on entry; if the block raises, or
    the folder was never published, it is removed on exit.
    """

    def __init__(self, root: Path):
        self.root = root
        self.path = root / STAGING / f"qo-{host_name()}-{os.getpid()}-{secrets.token_hex(4)}"

    def __enter__(self) -> Staging:
        check_staging_root(self.root)
        (self.root / STAGING).mkdir(parents=True, exist_ok=True)
        check_staging_root(self.root)  # the folder made by someone else between the check and mkdir
        self.path.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)

    def write(self, name: str, data: bytes) -> None:
        """Write one file into the staging folder and flush it to disk."""
        with open(self.path / name, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def candidate_names(parent: Path, base: str) -> Iterator[str]:
    """``base``, ``base-2``, ``base-3`` ...: the names not taken in ``parent`` right now."""
    for suffix in range(1, MAX_SUFFIX + 1):
        name = base if suffix == 1 else f"{base}-{suffix}"
        if not os.path.lexists(parent / name):
            yield name
    raise FileExistsError(errno.EEXIST, f"no free name after {MAX_SUFFIX} tries", str(parent / base))


def publish(staging: Staging, parent: Path, base: str, finalize: Callable[[str], None],
            before_rename: Callable[[], None] | None = None) -> Path:
    """Rename the staging folder to ``parent/<name>``, the first free of ``base``, ``base-2`` ...

    Parameters
    ----------
    staging : Staging
        The folder to publish (complete but for what ``finalize`` writes).
    parent : Path
        Where it lands (created if needed).
    base : str
        The preferred name.
    finalize : callable
        ``finalize(name)`` writes what depends on the final name (e.g. a manifest
        holding the run id); called again with the next name after a collision.
    before_rename : callable, optional
        Called just before each rename (fault injection in the crash tests).

    Returns
    -------
    Path
        The published folder.
    """
    parent.mkdir(parents=True, exist_ok=True)
    for name in candidate_names(parent, base):
        finalize(name)
        if before_rename is not None:
            before_rename()
        final = parent / name
        try:
            os.rename(staging.path, final)  # never replaces a non-empty folder: the name's reservation
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue  # taken between the check and the rename: try the next suffix
            raise
        fsync_dir(parent)
        return final
    raise AssertionError("unreachable: candidate_names raises when it runs out")  # pragma: no cover


def replace_folder(final: Path, content: Mapping[str, bytes] | Callable[[Path], None]) -> Path:
    """Build ``final`` beside it, then rename it into place: it appears whole or not at all.

    Parameters
    ----------
    final : Path
        The folder to write; its parent is created if needed.
    content : mapping or callable
        File name -> bytes (each written and fsynced), or a function that writes the
        files into the folder it is given.

    An older folder of that name is moved aside first (a folder cannot be renamed over
    a non-empty one), removed once the new one is in place, and put back if anything
    fails before that.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp()) / "track-2027-06-30"
    >>> _ = replace_folder(folder, {"status.csv": b"a\\n"})
    >>> _ = replace_folder(folder, {"track.json": b"{}\\n"})
    >>> sorted(p.name for p in folder.iterdir())
    ['track.json']
    """
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".staging", dir=parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the folder is an ordinary output
    old = staging.with_suffix(".old")
    try:
        if callable(content):
            content(staging)
        else:
            for name, data in content.items():
                with open(staging / name, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
        if final.is_dir() and any(final.iterdir()):
            os.rename(final, old)
        os.rename(staging, final)  # over an empty folder, or into a free name
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not final.exists():
            os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
    fsync_dir(parent)
    return final
