"""A throwaway Redis for tests: Debian's `redis-server` on a free 127.0.0.1 port, nothing written to disk.

with redis_server(tmp_path) as redis:
    url = redis.url  # redis://127.0.0.1:<port>/0
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RedisServer", "RedisUnavailable", "redis_server", "start_redis"]

_START_TIMEOUT_S = 15.0


class RedisUnavailable(RuntimeError):
    """`redis-server` is not installed (`apt-get install redis-server`)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(tmp_path: Path) -> RedisServer:
    """Start `redis-server` on a free loopback port: no snapshots, no append-only file, in ``tmp_path``.

    Raises:
        RedisUnavailable: `redis-server` is not on PATH.
        RuntimeError: It did not answer PING in time (its output is in the message).
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable("redis-server is not installed: apt-get install redis-server")
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = tmp_path / "redis.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path), "--protected-mode", "yes"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = RedisServer(port=port, process=process)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _answers_ping(port):
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"redis-server did not start on port {port}:\n{log.read_text(errors='replace')[-2000:]}")


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """`start_redis`, stopped on exit."""
    server = start_redis(tmp_path)
    try:
        yield server
    finally:
        server.stop()
