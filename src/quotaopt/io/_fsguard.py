"""What quotaopt agrees to read and where it agrees to write, checked before any work.

Reading: only regular files (a FIFO or ``/dev/zero`` named as a data or scenario file
would block or never end). Writing: the output folder is probed for writability
before the computation starts, so an unwritable ``--out`` is an input error in a
second, not a failure after minutes of work.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from quotaopt.errors import InputError, Problem


def regular_file_problem(path: Path, label: str | None = None) -> Problem | None:
    """A problem when ``path`` exists but is not a regular file (links are followed).

    Parameters
    ----------
    path : Path
        The file about to be read.
    label : str, optional
        How messages name the file (default: the path).

    Returns
    -------
    Problem or None
        None for a regular file (or a link to one) and for a path that does not exist
        (callers report missing files in their own words).

    Examples
    --------
    >>> regular_file_problem(Path("/dev/zero")).message
    'is not a regular file (a character device); quotaopt reads only regular files'
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Problem(label or str(path), f"cannot be read ({exc.strerror})")
    if stat.S_ISREG(mode):
        return None
    return Problem(label or str(path), f"is not a regular file ({_kind(mode)}); quotaopt reads only regular files")


def require_regular_file(path: Path, label: str | None = None) -> None:
    """Raise :class:`InputError` unless ``path`` is a regular file or does not exist."""
    problem = regular_file_problem(path, label)
    if problem is not None:
        raise InputError([problem])


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "something else")


def require_real(path: Path, folder: bool, purpose: str) -> None:
    """Refuse ``path`` when it is a link, or not a folder (``folder``) / regular file; absent is fine.

    For paths quotaopt writes into or deletes in: a link planted there would redirect
    that to any place the link names.

    Raises
    ------
    InputError
        E.g. ``runs/.staging: is a symbolic link; quotaopt stages its outputs only in a
        real folder (remove the link)``.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise InputError([Problem(str(path), f"is a symbolic link; quotaopt {purpose} (remove the link)")])
    if not (stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)):
        what = "folder" if folder else "regular file"
        raise InputError([Problem(str(path), f"is not a {what} ({_kind(mode)}); quotaopt {purpose}")])


def probe_writable(folder: Path, label: str) -> None:
    """Check that ``folder`` exists as a writable folder or could be created; write nothing.

    The nearest existing ancestor must be a folder (not a file) in which a file can
    really be created: a temporary file is made and removed at once, so read-only
    mounts and permissions are caught whoever runs the command.

    Raises
    ------
    InputError
        Naming ``label`` (e.g. ``--out``) and the path that blocks it.

    Examples
    --------
    >>> import tempfile
    >>> probe_writable(Path(tempfile.gettempdir()) / "not" / "yet" / "there", "--out")
    """
    existing = folder
    while not os.path.lexists(existing):
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == folder else f"is under {existing}, which is"
        raise InputError([Problem(label, f"{folder} {where} not a folder (expected a folder to write into)")])
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".quotaopt-probe-"):
            pass
    except OSError as exc:
        raise InputError([Problem(label, f"cannot write into {existing} ({exc.strerror or exc}); "
                                  "pick a folder you can write to")]) from None
