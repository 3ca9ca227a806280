"""Emails, customers' names and card digits never reach support.log or LangSmith traces.

Both through real processes: `support ask` writes its log, and with tracing on it sends its
runs to a LangSmith endpoint on 127.0.0.1 that records what it receives.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from cli.logs import configure_logging
from service.privacy import mask, remember_names
from tests.conftest import TODAY

MESSAGE = "I'm Carol Diaz, write to carol.diaz@example.com; my card is 4111 1111 1111 1111. How do I export my data?"
SECRETS = ("carol.diaz@example.com", "Carol Diaz", "carol diaz", "4111 1111 1111 1111", "4111111111111111")


def ask(data_dir: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_TODAY": TODAY.isoformat(), **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "ask", "--customer", "cust_003", MESSAGE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_masking_rules() -> None:
    remember_names(["Carol Diaz"])
    text = 'Carol Diaz <carol.diaz@example.com> paid with 4111-1111-1111-1111, Visa ending in 4242 {"last4": "4242"}'
    masked = mask(text)
    assert masked == '[name] <[email]> paid with [card ****1111], Visa ending in **** {"last4": "****"}'
    assert mask("ord_301 for $899.00 on 2026-11-15") == "ord_301 for $899.00 on 2026-11-15"  # facts stay readable


def test_support_log_has_no_email_name_or_card_number(tmp_path: Path) -> None:
    done = ask(tmp_path)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "support.log").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in log.splitlines()]
    assert any(e.get("event") == "handoff" for e in entries)  # the customer's words were logged, masked
    assert "[email]" in log and "[card ****1111]" in log
    for secret in SECRETS:
        assert secret.lower() not in log.lower(), secret
    assert not any(secret in done.stdout for secret in SECRETS[:1])  # the handoff line on screen too


def test_exceptions_and_extra_fields_are_masked_too(tmp_path: Path) -> None:
    remember_names(["Alice Johnson"])
    configure_logging(tmp_path, show_handoffs=None)
    logger = logging.getLogger("support.incident")
    try:
        raise ValueError("account of Alice Johnson <alice.johnson@example.com>")
    except ValueError:
        logger.exception("failed for %s", "alice.johnson@example.com", extra={"card": "5555 5555 5555 4444"})
    for handler in logging.getLogger("support").handlers:
        handler.flush()
    log = (tmp_path / "support.log").read_text(encoding="utf-8")
    assert "alice.johnson@example.com" not in log and "Alice Johnson" not in log and "5555 5555" not in log
    entry = json.loads(log.splitlines()[-1])
    assert entry["message"] == "failed for [email]" and entry["card"] == "[card ****4444]"
    assert "ValueError: account of [name] <[email]>" in entry["exception"]


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("content-length", 0))))
        self._answer(b"{}")

    def do_PATCH(self) -> None:
        self.do_POST()

    def do_GET(self) -> None:
        # /info: what a LangSmith server says about itself; the client batches runs per this.
        config = {
            "use_multipart_endpoint": True,
            "size_limit": 100,
            "size_limit_bytes": 20_971_520,
            "scale_up_qsize_trigger": 1000,
            "scale_up_nthreads_limit": 16,
            "scale_down_nempty_trigger": 4,
        }
        self._answer(json.dumps({"batch_ingest_config": config}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def langsmith_endpoint() -> Iterator[tuple[str, list[bytes]]]:
    _Recorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.received
    finally:
        server.shutdown()
        server.server_close()


def test_langsmith_traces_are_masked(tmp_path: Path, langsmith_endpoint: tuple[str, list[bytes]]) -> None:
    url, received = langsmith_endpoint
    done = ask(
        tmp_path,
        {
            "LANGSMITH_TRACING": "true",
            "LANGCHAIN_TRACING_V2": "true",
            "LANGSMITH_ENDPOINT": url,
            "LANGSMITH_API_KEY": "test-key",
        },
    )
    assert done.returncode == 0, done.stderr
    sent = b"\n".join(received).decode("utf-8", "replace")
    assert "How do I export my data?" in sent  # the runs really were sent (the process flushes at exit)
    assert "[email]" in sent
    for secret in SECRETS:
        assert secret.lower() not in sent.lower(), secret
