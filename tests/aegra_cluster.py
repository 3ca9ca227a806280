"""Two real Aegra instances for tests, on one throwaway Postgres and one throwaway Redis, all on 127.0.0.1.

Started once per test module (Aegra's start-up, its migrations and the first graph build take
several seconds) through the same code path as `support serve --engine aegra`. Both instances share
one data directory, so the domain data (SQLite until `SUPPORT_DATABASE_URL` carries it too) is one.

Missing parts (Aegra's Python 3.12 environment, redis-server, PostgreSQL) skip the tests on a
developer's machine and fail them under CI=true, where `.ci/run` installs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from service.aegra_server import AegraServer, aegra_python
from service.errors import InvalidRequest
from tests.live_server import LiveServer
from tests.pg_server import PgServer
from tests.redis_server import RedisServer, RedisUnavailable, start_redis

__all__ = ["AegraPair", "LiveAegra", "aegra_pair", "missing"]

# Crash recovery in seconds rather than Aegra's production figures, through the same mechanism: a run
# the dead instance was executing comes back when its lease lapses (30 s lease, 15 s reaper: ~50 s), and
# one it had taken from the queue but not yet claimed when it is pending for too long (120 s). The kill -9
# test waits for the other instance to take the runs over.
FAST_RECOVERY = {
    "LEASE_DURATION_SECONDS": "5",
    "HEARTBEAT_INTERVAL_SECONDS": "2",
    "REAPER_INTERVAL_SECONDS": "2",
    "STUCK_PENDING_THRESHOLD_SECONDS": "30",  # above the queue waits of the 50-customer load
}


def missing(reason: str) -> None:
    """Skip on a developer's machine; fail under CI=true, which must run these tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the Aegra tests)")
    pytest.skip(reason)


class LiveAegra(LiveServer, AegraServer):
    """The tests' `LiveServer` (fixed day, demo tokens, no real model) started as an Aegra instance."""


@dataclass
class AegraPair:
    a: LiveAegra
    b: LiveAegra
    redis: RedisServer
    database_url: str


@pytest.fixture(scope="module")
def aegra_pair(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AegraPair]:
    try:
        aegra_python()
    except InvalidRequest as exc:
        missing(str(exc))
    root = tmp_path_factory.mktemp("aegra")
    try:
        redis = start_redis(root / "redis")
    except RedisUnavailable as exc:
        missing(str(exc))
    name = f"aegra_{os.getpid()}"
    database_url = pg_server.create_database(name)
    env = {"SUPPORT_REDIS_URL": redis.url, **FAST_RECOVERY}
    data_dir = root / "data"
    a = LiveAegra(data_dir, database_url=database_url, env=env, log_path=root / "a.log")
    b = LiveAegra(data_dir, database_url=database_url, env=env, log_path=root / "b.log")
    started: list[LiveAegra] = []
    try:
        for server in (a, b):  # one after the other: the first runs Aegra's migrations
            server.start(timeout=120)
            started.append(server)
        yield AegraPair(a, b, redis, database_url)
    finally:
        for server in started:
            server.stop()
        redis.stop()
        pg_server.drop_database(name)
