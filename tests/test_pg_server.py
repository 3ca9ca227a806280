"""The throwaway PostgreSQL server the Postgres tests run on (`tests.pg_server`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg_server import PgServer, postgres_server


def test_each_test_gets_its_own_empty_database(pg_server: PgServer, postgres_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    assert pg_server.psql("SELECT current_database()", name).strip() == name
    assert pg_server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", name).strip() == "0"
    pg_server.psql("CREATE TABLE t (x int)", name)
    assert pg_server.create_database("test_other_one").endswith("/test_other_one")
    try:
        assert pg_server.psql("SELECT to_regclass('public.t') IS NULL", "test_other_one").strip() == "t"
    finally:
        pg_server.drop_database("test_other_one")


def test_server_listens_on_loopback_only_and_stops(pg_server: PgServer, tmp_path: Path) -> None:
    with postgres_server(tmp_path / "second") as second:
        assert second.port != pg_server.port
        assert second.url.startswith("postgresql://postgres@127.0.0.1:")
        assert second.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    with pytest.raises(RuntimeError):
        second.psql("SELECT 1")  # stopped on exit


def test_database_names_are_checked(pg_server: PgServer) -> None:
    with pytest.raises(ValueError):
        pg_server.create_database('x"; DROP DATABASE postgres; --')
