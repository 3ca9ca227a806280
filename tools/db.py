"""The domain database: SQLite (the embedded default) or PostgreSQL, behind one connection API.

Every query in `tools` is written once, in SQL both engines run, with ``?`` placeholders. A
connection is either `SqliteConnection` (a `sqlite3.Connection`) or, when ``SUPPORT_DATABASE_URL``
is a ``postgresql://`` URL, `tools.postgres.PgConnection`, which offers the same small API
(`execute`, `executemany`, rows readable as ``row["col"]`` and ``row[0]``). Where the engines
differ (the full-text index, a connection's settings, locking) code asks ``conn.dialect``.
psycopg is imported only when a Postgres URL is used, so the SQLite path stays as fast as before.

The schema evolves through numbered migrations (`tools.migrations`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from tools.clock import Clock, clock_from_env
from tools.errors import SupportDataError

__all__ = [
    "Connection",
    "Cursor",
    "Database",
    "DatabaseUnavailable",
    "Dialect",
    "Row",
    "SqliteConnection",
    "check_database_url",
    "default_data_dir",
    "redact_url",
]

Dialect = Literal["sqlite", "postgres"]
_BUSY_TIMEOUT_MS = 30_000
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_PASSWORD_PARAM = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


class DatabaseUnavailable(SupportDataError):
    """The configured database cannot be used (unreachable, driver missing); the message is one line."""


class Row(Protocol):
    """A result row: by position (``row[0]``) or by column name (``row["name"]``), and ``dict(row)``."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the data layer uses of a connection; `SqliteConnection` and `tools.postgres.PgConnection` have it."""

    dialect: Dialect

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...
    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
    def write_transaction(self) -> AbstractContextManager[None]: ...


class SqliteConnection(sqlite3.Connection):
    """A `sqlite3.Connection` that says which dialect it speaks and how it serialises writers."""

    dialect: Dialect = "sqlite"
    inode: int = 0  # of the file when opened: a reused connection to a since-replaced file is reopened

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: the write lock is taken up front, so a read-check-write (is there
        already a refund with this key?) cannot interleave with another process doing the same."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")


def default_data_dir() -> Path:
    """``$SUPPORT_DATA_DIR`` if set, else ``./.support`` under the current directory."""
    env = os.environ.get("SUPPORT_DATA_DIR", "").strip()
    return Path(env) if env else Path.cwd() / ".support"


def redact_url(url: str) -> str:
    """The URL with any password (``user:pw@`` or ``?password=pw``) replaced by ``***``, for messages and logs."""
    url = _PASSWORD_PARAM.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # not parseable as a URL: hide everything between "://" and the last "@"
        return re.sub(r"(://)[^@]*@", r"\1***@", url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def check_database_url(url: str) -> str:
    """``url`` stripped, or ValueError (one line, no password) unless it is a ``postgresql://`` URL."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if scheme.lower() not in _POSTGRES_SCHEMES or not sep or not rest.strip("/"):
        raise ValueError(
            "SUPPORT_DATABASE_URL must be a PostgreSQL URL like postgresql://user@host:5432/dbname "
            f"(unset it to use SQLite in the data directory), not {redact_url(text)!r}"
        )
    return text


class Database:
    """Where the domain data lives plus the clock that defines "today" for everything stored in it.

    Args:
        path: The SQLite file (its directory is created by ``ensure_ready()``). With ``url`` set it
            only names the data directory's usual file and is never opened.
        clock: Source of today's date and of timestamps written to the database.
        url: A ``postgresql://`` URL: the data lives in that PostgreSQL database instead.

    Raises:
        ValueError: ``url`` is not a PostgreSQL URL.
    """

    def __init__(self, path: Path, clock: Clock, *, url: str | None = None) -> None:
        self.path = Path(path)
        self.clock = clock
        self.url = check_database_url(url) if url else None
        self._pool: Any = None  # tools.postgres.Pool, made on first use
        # SQLite: one open connection per thread, reused. Opening one, with its pragmas and the first read of the
        # schema, cost about 1 ms, and a turn opened several. `_open` lists them so `close()` can close them all.
        self._local = threading.local()
        self._open: dict[int, tuple[threading.Thread, SqliteConnection]] = {}
        self._open_lock = threading.Lock()

    @property
    def dialect(self) -> Dialect:
        return "postgres" if self.url else "sqlite"

    @classmethod
    def from_env(cls) -> Database:
        """``support.db`` in ``default_data_dir()`` (or ``$SUPPORT_DATABASE_URL``), clock from ``clock_from_env()``."""
        url = os.environ.get("SUPPORT_DATABASE_URL", "").strip() or None
        return cls(default_data_dir() / "support.db", clock_from_env(), url=url)

    def __repr__(self) -> str:
        where = redact_url(self.url) if self.url else str(self.path)
        return f"Database({where!r}, {self.clock!r})"

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection in autocommit mode (transactions only where asked), released on exit.

        Raises:
            DatabaseUnavailable: PostgreSQL cannot be reached, or psycopg is not installed.
        """
        if self.url is not None:
            if self._pool is None:
                from tools.postgres import Pool  # only here: the SQLite path never imports psycopg

                self._pool = Pool(self.url)
            with self._pool.connection() as pg:
                yield pg
            return
        conn = self._local.__dict__.pop("conn", None)  # taken while in use: a nested connect() opens its own
        if conn is not None and conn.inode != _inode(self.path):  # the file was replaced (`support reset`)
            self._forget(conn)
            conn = None
        if conn is None:
            conn = self._open_sqlite()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # never hand a half-finished transaction to the next user
                conn.rollback()
            if "conn" in self._local.__dict__ or id(conn) not in self._open:  # nested, or closed meanwhile
                self._forget(conn)
            else:
                self._local.conn = conn

    def _open_sqlite(self) -> SqliteConnection:
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            factory=SqliteConnection,
            check_same_thread=False,  # only its thread uses it; `close()` may close it from another
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.inode = _inode(self.path)
        with self._open_lock:
            # Threads come and go (executors, servers): the connections of finished ones are closed here.
            for key, (thread, stale) in list(self._open.items()):
                if not thread.is_alive():
                    stale.close()
                    del self._open[key]
            self._open[id(conn)] = (threading.current_thread(), conn)
        return conn

    def _forget(self, conn: SqliteConnection) -> None:
        with self._open_lock:
            self._open.pop(id(conn), None)
        conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside a write transaction: committed on success, rolled back on error.

        Writers are serialised on both engines (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
        PostgreSQL; see each connection's ``write_transaction``), so a read-check-write sequence
        (is there already a refund?) cannot interleave with another process doing the same.
        """
        with self.connect() as conn, conn.write_transaction():
            yield conn

    def ensure_ready(self) -> None:
        """Apply pending migrations, seed demo data and index the knowledge base, unless already done.

        Idempotent and safe to call from several processes at once.
        """
        # Imported here: migrations, seed and knowledge are only needed the first time.
        from tools import migrations

        if self.url is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            if migrations.is_ready(conn):
                return
        migrations.migrate(self)
        migrations.seed_if_empty(self)

    def reset(self) -> None:
        """Delete the domain data and build a fresh, seeded database.

        SQLite: the file (and its WAL files) is deleted. PostgreSQL: the desk's own tables are
        dropped (nothing else in that database is touched).
        """
        if self.url is not None:
            from tools import migrations

            with self.transaction() as conn:
                migrations.drop_all(conn)
        else:
            self.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.ensure_ready()

    def close(self) -> None:
        """Close the open connections (PostgreSQL's pool, SQLite's per thread); the object stays usable."""
        with self._open_lock:
            opened, self._open = list(self._open.values()), {}
        for _thread, conn in opened:
            conn.close()
        self._local = threading.local()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return 0


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (a persistent setting, so usually just one read).

    Two connections switching a brand-new file at once can get "database is locked"
    without SQLite calling the busy handler, so retry that case until the busy timeout.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
