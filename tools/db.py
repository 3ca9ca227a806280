"""The SQLite database: connections, transactions, schema creation, seeding and reset."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.clock import Clock, clock_from_env

__all__ = ["Database", "default_data_dir"]

_SCHEMA_FILE = Path(__file__).parent / "schema.sql"
# Stored in PRAGMA user_version once schema, seed and knowledge base are all in place,
# so ensure_ready() is a single cheap read on every later call.
_READY_VERSION = 3  # 2: transcript_archive; 3: its rows carry their checkpoint
_BUSY_TIMEOUT_MS = 30_000


def default_data_dir() -> Path:
    """``$SUPPORT_DATA_DIR`` if set, else ``./.support`` under the current directory."""
    env = os.environ.get("SUPPORT_DATA_DIR", "").strip()
    return Path(env) if env else Path.cwd() / ".support"


class Database:
    """One SQLite file plus the clock that defines "today" for everything stored in it.

    Args:
        path: The database file; its directory is created by ``ensure_ready()``.
        clock: Source of today's date and of timestamps written to the database.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = Path(path)
        self.clock = clock

    @classmethod
    def from_env(cls) -> Database:
        """``support.db`` in ``default_data_dir()``, with the clock from ``clock_from_env()``."""
        return cls(default_data_dir() / "support.db", clock_from_env())

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r}, {self.clock!r})"

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection in autocommit mode (transactions only where asked), closed on exit."""
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE``: committed on success, rolled back on error.

        IMMEDIATE takes the write lock up front, so a read-check-write sequence (is there
        already a refund?) cannot interleave with another process doing the same.
        """
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def ensure_ready(self) -> None:
        """Create the schema, seed demo data and index the knowledge base, unless already done.

        Idempotent and safe to call from several processes at once.
        """
        # Imported here: seed and knowledge are only needed the first time.
        from tools.knowledge import index_articles
        from tools.seed import seed

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            if _user_version(conn) >= _READY_VERSION:
                return
            # executescript commits as it goes; every statement is IF NOT EXISTS, so racing is fine.
            conn.executescript(_SCHEMA_FILE.read_text(encoding="utf-8"))
        with self.transaction() as conn:
            if _user_version(conn) >= _READY_VERSION:
                return  # another process finished while we waited for the lock
            _add_archive_checkpoints(conn)
            if conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 0:
                seed(conn, self.clock.today())
            if conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0:
                index_articles(conn)
            conn.execute(f"PRAGMA user_version = {_READY_VERSION}")

    def reset(self) -> None:
        """Delete the database file (and its WAL files) and build a fresh, seeded one."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.ensure_ready()


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


def _add_archive_checkpoints(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: give transcript_archive its checkpoint_id column (and the wider unique key).

    SQLite cannot change a table's constraints in place, so the table is copied; old rows get ''
    (they belong to every branch, as they did before).
    """
    columns = {row[1] for row in conn.execute("PRAGMA table_info(transcript_archive)")}
    if "checkpoint_id" in columns:
        return
    conn.execute("ALTER TABLE transcript_archive RENAME TO transcript_archive_v2")
    schema = _SCHEMA_FILE.read_text(encoding="utf-8")
    start = schema.index("CREATE TABLE IF NOT EXISTS transcript_archive")
    conn.execute(schema[start : schema.index(");", start) + 2])
    conn.execute(
        "INSERT INTO transcript_archive (id, thread_id, message_id, customer_id, role, agent, text) "
        "SELECT id, thread_id, message_id, customer_id, role, agent, text FROM transcript_archive_v2"
    )
    conn.execute("DROP TABLE transcript_archive_v2")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
