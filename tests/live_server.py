"""A real `langgraph dev` server for tests: free loopback port, temporary data directory.

Started once per test module (start-up takes a few seconds) through the same code path as
`support serve`, and stopped afterwards. `restart()` stops it cleanly and starts it again on
the same data directory, as an operator would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from service.server import ManagedServer
from tests.conftest import TODAY
from tools.clock import FixedClock
from tools.db import Database

ASSISTANT = "support"
MANAGER = "demo-manager"


def customer_token(customer_id: str) -> str:
    return f"demo-{customer_id}"


class LiveServer(ManagedServer):
    """The product's `ManagedServer` with the tests' fixed day, no real model and a second manager."""

    def __init__(
        self,
        data_dir: Path,
        *,
        studio: bool = False,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        """``database_url``: keep the domain data in that PostgreSQL database (else SQLite in ``data_dir``).

        ``env``: more variables for the server (the Aegra tests' Redis and recovery timings).
        """
        base = {
            "SUPPORT_TODAY": TODAY.isoformat(),
            "SUPPORT_DEMO_TOKENS": "1",  # off by default: the tests ask for them, as `make serve` does
            "SUPPORT_MANAGER_TOKENS": "second-manager=Sam",
            "LOG_COLOR": "false",
        }
        if database_url:
            base["SUPPORT_DATABASE_URL"] = database_url
        super().__init__(
            data_dir,
            jobs=8,
            studio=studio,
            env={**base, **(env or {})},
            drop_env=(
                "OPENAI_API_KEY",
                "OPENAI_BASE_URL",
                "SUPPORT_MODEL",
                "SUPPORT_TOKENS_FILE",
                *(() if database_url else ("SUPPORT_DATABASE_URL",)),
            ),
            log_path=log_path,
        )
        self.db = Database(data_dir / "support.db", FixedClock(TODAY), url=database_url)

    def client(self, token: str | None) -> SyncLangGraphClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return get_sync_client(url=self.url, headers=headers, api_key=None)

    def http(self, token: str | None = MANAGER) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=90)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("server-data"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
