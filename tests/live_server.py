"""A real `langgraph dev` server for tests: free loopback port, temporary data directory.

Started once per test module (start-up takes a few seconds) through the same code path as
`support serve`, and stopped afterwards. `restart()` stops it cleanly and starts it again on
the same data directory, as an operator would.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from service.server import ServerAddresses, server_command, server_env, wait_until_ready, write_runtime_config
from tests.conftest import TODAY
from tools.clock import FixedClock
from tools.db import Database

ASSISTANT = "support"
MANAGER = "demo-manager"


def customer_token(customer_id: str) -> str:
    return f"demo-{customer_id}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.addresses = ServerAddresses("127.0.0.1", self.port)
        self.url = self.addresses.api
        self.log_path = data_dir / "server-output.log"
        self.db = Database(data_dir / "support.db", FixedClock(TODAY))
        self._process: subprocess.Popen[Any] | None = None
        self._log: IO[str] | None = None

    def start(self) -> None:
        config = write_runtime_config(self.data_dir)
        env = server_env(self.data_dir)
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_MODEL", "SUPPORT_TOKENS_FILE"):
            env.pop(var, None)
        env.update(
            SUPPORT_TODAY=TODAY.isoformat(),
            SUPPORT_STUDIO_ACCESS="0",
            SUPPORT_MANAGER_TOKENS="second-manager=Sam",
            LOG_COLOR="false",
        )
        self._log = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(
            server_command(config, host="127.0.0.1", port=self.port, jobs=8),
            cwd=config.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if not wait_until_ready(self.url, self._process, timeout=90):
            self.stop()
            raise RuntimeError(f"langgraph dev did not start; output:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)  # a clean shutdown saves the run registry
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

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
