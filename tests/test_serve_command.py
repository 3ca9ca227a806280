"""`support serve` starts the server, prints where everything is, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.live_server import _free_port


def test_support_serve_prints_the_addresses_and_keeps_state_in_the_data_dir(tmp_path: Path) -> None:
    port = _free_port()
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
