"""PostgreSQL connections that speak the data layer's connection API (see `tools.db.Connection`).

Imported only when ``SUPPORT_DATABASE_URL`` names PostgreSQL, so psycopg stays optional.

The data layer writes its SQL once, with ``?`` placeholders (SQLite's style). `to_pyformat`
turns them into psycopg's ``%s`` (doubling any literal ``%``), skipping quoted text, so a ``?``
inside a string literal stays a question mark.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tools.db import DatabaseUnavailable, Dialect, redact_url

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgConnection", "PgRow", "Pool", "to_pyformat"]

# Key of the advisory lock every write transaction takes (any constant; it only has to be the same
# in every process of the desk). It gives PostgreSQL SQLite's single-writer rule: see write_transaction.
WRITE_LOCK_KEY = 0x5D_E5_C0_01
_CONNECT_TIMEOUT_S = 10
_MAX_IDLE = 8


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders to ``%s`` and ``%`` to ``%%``, leaving ``?`` inside quotes or identifiers alone."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None  # a doubled quote ('it''s') closes and reopens: same result
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


class PgRow:
    """A row readable by position and by column name, like `sqlite3.Row` (psycopg's own rows are one or the other)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._index[key]]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, PgRow) else other)

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in reversed(list(enumerate(names)))}  # first column of a name wins, as in SQLite

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, index)

    return make


class PgConnection:
    """One psycopg connection in autocommit mode, offering what the data layer uses of `sqlite3.Connection`."""

    dialect: Dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self.raw.execute(to_pyformat(sql), tuple(parameters))

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.executemany(to_pyformat(sql), [tuple(p) for p in seq_of_parameters])
        return cursor

    def executescript(self, script: str) -> None:
        """Run several statements (no parameters, so no placeholder translation)."""
        self.raw.execute(script.encode())  # bytes: psycopg takes it as literal SQL, '%' included

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """A transaction that first takes the desk's advisory write lock.

        PostgreSQL's default READ COMMITTED lets two transactions both read "no refund with this
        key yet" and both go on. ``pg_advisory_xact_lock`` makes writers take turns, exactly like
        SQLite's ``BEGIN IMMEDIATE``, so every read-check-write sees the previous writer's commit;
        the lock is released at COMMIT or ROLLBACK. (SERIALIZABLE would also be correct but needs
        a retry loop around every write; the desk's write rate does not need the concurrency.)
        Readers outside a write transaction are never blocked.
        """
        with self.raw.transaction():
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield


class Pool:
    """A few idle connections kept for reuse (opening a PostgreSQL connection costs milliseconds)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _open(self) -> psycopg.Connection[Any]:
        try:
            import psycopg
        except ImportError:
            raise DatabaseUnavailable(
                "SUPPORT_DATABASE_URL names PostgreSQL but psycopg is not installed: pip install -e '.[postgres]'"
            ) from None
        try:
            return psycopg.connect(
                self.url, autocommit=True, row_factory=_row_factory, connect_timeout=_CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
            raise DatabaseUnavailable(
                f"cannot connect to the database {redact_url(self.url)} (SUPPORT_DATABASE_URL): {reason}"
            ) from None

    @contextmanager
    def connection(self) -> Iterator[PgConnection]:
        import psycopg

        with self._lock:
            if self._pid != os.getpid():
                # A forked child must not share its parent's sockets: forget them (closing would end the parent's).
                self._idle, self._pid = [], os.getpid()
            raw = self._idle.pop() if self._idle else None
        if raw is None or raw.closed:
            raw = self._open()
        try:
            yield PgConnection(raw)
        finally:
            # Kept only if it is healthy and outside any transaction (a write transaction that raised has been
            # rolled back by then); anything else is closed rather than handed to the next caller.
            reusable = not raw.closed and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            with self._lock:
                if reusable and len(self._idle) < _MAX_IDLE:
                    self._idle.append(raw)
                    raw = None
            if raw is not None:
                raw.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()
