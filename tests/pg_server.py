"""A throwaway PostgreSQL server for tests: Debian's binaries, a temporary directory, a free loopback port.

    with postgres_server(tmp_path) as pg:
        url = pg.url  # postgresql://postgres@127.0.0.1:<port>/postgres

or `pg = start_postgres(tmp_path)` ... `pg.stop()`. `pg.create_database("name")` gives a fresh, empty
database on the same server and returns its URL, so tests can share one server (starting one takes
about a second) and still never see each other's rows.

Postgres refuses to run as root, so when the tests run as root (CI does) the data directory is given to
the `postgres` user and every binary runs through `runuser -u postgres --`. Authentication is `trust` on
127.0.0.1 only, and the server listens on no other address and no Unix socket outside the temp directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PgServer", "PostgresUnavailable", "find_postgres_bin", "postgres_server", "start_postgres"]

_START_TIMEOUT_S = 30.0
_SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """Debian's PostgreSQL binaries are not installed (`apt-get install postgresql`)."""


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb`` and ``postgres``, or None.

    ``$SUPPORT_PG_BIN`` overrides the search (a folder holding those two programs).
    """
    override = os.environ.get("SUPPORT_PG_BIN", "").strip()
    candidates = [override] if override else glob.glob("/usr/lib/postgresql/*/bin")
    found = [Path(c) for c in candidates if (Path(c) / "initdb").exists() and (Path(c) / "postgres").exists()]
    # Highest major version first ("15" < "16"; compared as numbers so "9" is not above "15").
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    return found[0] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server. ``url`` reaches its ``postgres`` database as the superuser ``postgres``."""

    bin_dir: Path
    data_dir: Path
    port: int
    _running: bool = field(default=False, repr=False)
    _owned_dir: Path | None = field(default=None, repr=False)  # removed on stop
    _prefix: list[str] = field(default_factory=list, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url_for(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL text with ``psql`` (no Python driver needed) and return its output."""
        result = subprocess.run(
            [*self._prefix, str(self.bin_dir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-d", self.url_for(database), "-c", sql],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str, *, template: str = "template0") -> str:
        """Create an empty database (``name``: letters, digits, underscores) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server ("immediate": a throwaway cluster needs no clean shutdown) and wait for it."""
        if not self._running:
            return
        self._running = False
        subprocess.run(
            [*self._prefix, str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"],
            capture_output=True, timeout=_START_TIMEOUT_S, check=False,
        )  # fmt: skip
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)


def start_postgres(tmp_path: Path, *, bin_dir: Path | None = None) -> PgServer:
    """Initialise a cluster in ``tmp_path/pgdata`` and start it on a free 127.0.0.1 port.

    As root, the cluster goes to a new folder under the system temp dir instead (removed by `stop`).

    Raises:
        PostgresUnavailable: No PostgreSQL binaries were found.
        RuntimeError: The server did not start (its log is in the message).
    """
    bin_dir = bin_dir or find_postgres_bin()
    if bin_dir is None:
        raise PostgresUnavailable("PostgreSQL is not installed: apt-get install postgresql")
    prefix: list[str] = []
    owned_dir: Path | None = None
    if os.geteuid() == 0:
        # Postgres will not run as root: the files belong to `postgres`, and so do the processes. They
        # live in a folder of their own under the system temp dir, not under `tmp_path`: pytest resets its
        # base temp folder to 0700 whenever any pytest session starts, which would lock `postgres` out of
        # a running cluster (and crash it) mid-run.
        user = pwd.getpwnam(_SUPERUSER)
        prefix = [shutil.which("runuser") or "/sbin/runuser", "-u", _SUPERUSER, "--"]
        root = owned_dir = Path(tempfile.mkdtemp(prefix="support-pg-"))
        os.chown(root, user.pw_uid, user.pw_gid)
    else:
        root = Path(tmp_path)
        root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "pgdata"
    socket_dir = root / "pgsocket"
    socket_dir.mkdir(exist_ok=True)
    if owned_dir is not None:
        os.chown(socket_dir, user.pw_uid, user.pw_gid)
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", _SUPERUSER, "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = _free_port()
    log = root / "postgres.log"
    options = (
        f"-p {port} -h 127.0.0.1 -k {socket_dir} "
        # A test server: durability is not needed, speed is.
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    # pg_ctl starts the server in the background and -w waits until it accepts connections.
    started = subprocess.run(
        [*prefix, str(bin_dir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(log), "-o", options,
         "-w", "-t", str(int(_START_TIMEOUT_S))],
        capture_output=True, text=True, timeout=_START_TIMEOUT_S + 10, check=False,
    )  # fmt: skip
    server = PgServer(
        bin_dir=bin_dir, data_dir=data_dir, port=port, _running=True, _prefix=prefix, _owned_dir=owned_dir
    )
    if started.returncode != 0:
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else started.stderr
        server.stop()
        raise RuntimeError(f"PostgreSQL did not start on port {port}:\n{detail}")
    return server


@contextmanager
def postgres_server(tmp_path: Path, *, bin_dir: Path | None = None) -> Iterator[PgServer]:
    """`start_postgres`, stopped on exit."""
    server = start_postgres(tmp_path, bin_dir=bin_dir)
    try:
        yield server
    finally:
        server.stop()
