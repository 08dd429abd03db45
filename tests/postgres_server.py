"""A real PostgreSQL server for the tests: initdb in a temporary folder, started and stopped around them.

Debian's ``postgresql`` package (``.ci/run`` installs it) puts the binaries in
/usr/lib/postgresql/<version>/bin. initdb refuses to run as root, so as root the server
runs as the ``postgres`` user (the package creates it). Where no server can start the
tests skip, except when ``QUOTAOPT_REQUIRE_POSTGRES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_ENV = "QUOTAOPT_REQUIRE_POSTGRES"


def _bin_dir() -> Path | None:
    """Debian's versioned folder first (the newest version), then whatever PATH holds."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                        if p.parent.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL is required here ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(f"no PostgreSQL server: {reason}")


def postgres_url() -> Iterator[str]:
    """Start a throwaway server with a database ``quotaopt``; yield its SQLAlchemy URL; stop it."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("initdb is not installed (apt-get install postgresql)")
        return
    root = Path(tempfile.mkdtemp(prefix="quotaopt-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                        "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, timeout=120)
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                                        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                                        "start"]), check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"the server did not start: {exc} {detail.decode(errors='replace')[-500:]}")
        return
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE quotaopt"))
        admin.dispose()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/quotaopt"
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=60, check=False)
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
