"""Shared fixtures: an isolated data directory, a fixed day, offline models, no network."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from service.settings import AGENT_KEYS, Settings
from tests.pg_server import PgServer, PostgresUnavailable, start_postgres
from tools.clock import FixedClock
from tools.db import Database

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never use a configured provider, tracing, or the user's data directory."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("SUPPORT_MODEL", *(f"SUPPORT_MODEL_{a.upper()}" for a in AGENT_KEYS)):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(tmp_path / "support-data"))
    monkeypatch.setenv("SUPPORT_TODAY", TODAY.isoformat())
    monkeypatch.delenv("SUPPORT_DATABASE_URL", raising=False)  # domain data in the temp dir, on SQLite


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback connections are allowed, so a test can never reach a real provider."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or "/" in host):
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "desk", today=TODAY)


@pytest.fixture
def desk(settings: Settings) -> Iterator[Any]:
    from service.desk import SupportDesk

    with SupportDesk(settings) as d:
        yield d


def ask_and_confirm(desk: Any, message: str, *, customer_id: str, thread_id: str | None = None) -> dict[str, Any]:
    """Send ``message`` and, as the customer would, say "yes" to the proposal it brings.

    Fails if nothing was proposed: a test that expects money to move must see the desk ask first.
    """
    first = desk.ask(message, customer_id=customer_id, thread_id=thread_id)
    assert first["pending_proposal"], first
    return desk.ask("yes", customer_id=customer_id, thread_id=first["thread_id"])


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """One throwaway PostgreSQL server for the whole run (see `tests.pg_server`).

    Without Debian's `postgresql` package the Postgres tests are skipped on a developer's machine,
    but fail under CI=true: CI installs the package (`.ci/run`), so a skip there would hide a gap.
    """
    try:
        server = start_postgres(tmp_path_factory.mktemp("postgres"))
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database on the shared server (its own per test, dropped after)."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def open_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Database]]:
    """``open_db(day=TODAY)``: a handle on this test's own database (not yet `ensure_ready`).

    Every call opens another handle on the same database, as another process would: a SQLite file
    in the test's directory, or a fresh PostgreSQL database.
    """
    path = tmp_path / "data" / "support.db"
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    opened: list[Database] = []

    def open_one(day: date = TODAY) -> Database:
        db = Database(path, FixedClock(day), url=url)
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        db.close()


def integrity_error(db: Database) -> type[Exception]:
    """The exception a violated constraint raises on ``db``'s engine."""
    if db.dialect == "postgres":
        import psycopg

        return psycopg.IntegrityError
    import sqlite3

    return sqlite3.IntegrityError
