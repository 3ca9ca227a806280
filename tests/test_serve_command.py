"""`support serve` starts the server, prints where everything is, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.server import free_port


def test_support_serve_prints_the_addresses_and_keeps_state_in_the_data_dir(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "LOG_COLOR": "false"}
    support = Path(sys.executable).with_name("support")
    process = subprocess.Popen(
        [str(support), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's, for the Ctrl-C below
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any("Console:" in line for line in lines):
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
    try:
        output = "".join(lines)
        assert f"API:      http://127.0.0.1:{port}" in output, output
        assert f"Console:  http://127.0.0.1:{port}/approvals" in output
        assert f"baseUrl=http://127.0.0.1:{port}" in output  # Studio
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/approvals", timeout=10) as page:
            assert b"Refund approvals" in page.read()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Stopped." in rest
    assert (data_dir / "checkpoints.db").exists()
    assert (data_dir / "server" / ".langgraph_api").is_dir()


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "SUPPORT_DATA_DIR": str(tmp_path / "data")}
        support = Path(sys.executable).with_name("support")
        done = subprocess.run(
            [str(support), "serve", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"support: error: port {port} on 127.0.0.1 is in use (another server?); choose one with --port"
    )
    assert not (tmp_path / "data" / "server").exists()


@pytest.mark.parametrize(
    ("extra", "args", "says"),
    [
        ({"SUPPORT_AEGRA_PYTHON": "/nonexistent/python3.12"}, [], "run `make aegra` (it needs python3.12)"),
        ({"SUPPORT_DATABASE_URL": ""}, [], "set SUPPORT_DATABASE_URL=postgresql://"),
        ({}, ["--studio"], "--studio is for `langgraph dev`"),
    ],
)
def test_aegra_without_what_it_needs_is_a_one_line_error(
    tmp_path: Path, extra: dict[str, str], args: list[str], says: str
) -> None:
    env = {**os.environ, "SUPPORT_DATA_DIR": str(tmp_path / "data"), **extra}
    if "SUPPORT_AEGRA_PYTHON" not in extra:
        env["SUPPORT_AEGRA_PYTHON"] = sys.executable  # whichever Python: the check after it must refuse first
    support = Path(sys.executable).with_name("support")
    done = subprocess.run(
        [str(support), "serve", "--engine", "aegra", "--port", str(free_port()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
