"""Real processes: concurrent `support ask` on one thread, SIGTERM to `support serve`, refusals at start-up,
and an orphaned approval as the CLI shows it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from service.desk import SupportDesk
from service.server import free_port, port_is_free
from service.settings import Settings
from tests.conftest import TODAY
from tools.refunds import list_refunds

SUPPORT = str(Path(sys.executable).with_name("support"))


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_TODAY": TODAY.isoformat(), **extra}


def test_ten_concurrent_asks_on_one_thread_keep_every_message(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    subprocess.run([SUPPORT, "customers"], env=env, check=True, capture_output=True)  # seed once, up front
    texts = [f"Question {i}: how do I export my data to CSV?" for i in range(10)]
    processes = [
        subprocess.Popen(
            [SUPPORT, "ask", "--customer", "cust_001", "--thread", "thr_shared", text],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for text in texts
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    ok = [text for text, (code, _, _) in zip(texts, results, strict=True) if code == 0]
    for code, out, err in results:
        assert "Traceback" not in out + err
        if code != 0:  # refused clearly when the thread stayed busy too long: never a silent drop
            assert code == 2 and err.strip().count("\n") == 0 and "busy" in err, err
    assert ok, results
    history = subprocess.run(
        [SUPPORT, "history", "thr_shared", "--json"], env=env, check=True, capture_output=True, text=True
    )
    messages = json.loads(history.stdout)["messages"]
    asked = [m["text"] for m in messages if m["role"] == "customer"]
    assert sorted(asked) == sorted(ok)  # every acknowledged message is in the thread, once
    assert len([m for m in messages if m["role"] != "customer"]) >= len(ok)


def start_serve(data_dir: Path, port: int, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [SUPPORT, "serve", "--port", str(port), *args],
        env={**env_for(data_dir), "LOG_COLOR": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the test signals the wrapper alone, as a service manager would
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any("Press Ctrl-C" in line for line in lines):
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
    return process, "".join(lines)


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_to_support_serve_stops_the_whole_server_and_frees_the_port(tmp_path: Path) -> None:
    port = free_port()
    process, output = start_serve(tmp_path, port, "--demo-tokens")
    try:
        assert "demo manager token: demo-manager" in output, output
        assert answers(port)
        process.send_signal(signal.SIGTERM)  # to the wrapper only, not its group
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0 and "Stopped." in rest
    assert not answers(port)  # the langgraph dev child went too
    assert port_is_free("127.0.0.1", port)  # and the port can be taken again at once


def test_without_demo_tokens_the_server_says_how_to_get_in(tmp_path: Path) -> None:
    port = free_port()
    process, output = start_serve(tmp_path, port)
    try:
        assert "demo-manager" not in output and "No tokens are configured" in output, output
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/approvals/api/me", headers={"Authorization": "Bearer demo-manager"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


@pytest.mark.parametrize(
    ("args", "extra_env", "needle"),
    [
        (["--host", "0.0.0.0", "--demo-tokens"], {}, "demo tokens"),
        (["--host", "0.0.0.0"], {"SUPPORT_DEMO_TOKENS": "1"}, "demo tokens"),
        (["--host", "0.0.0.0", "--studio"], {}, "--studio"),
    ],
)
def test_a_shared_host_with_demo_tokens_or_studio_is_refused_before_starting(
    tmp_path: Path, args: list[str], extra_env: dict[str, str], needle: str
) -> None:
    done = subprocess.run(
        [SUPPORT, "serve", "--port", str(free_port()), *args],
        env=env_for(tmp_path, **extra_env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, done.stderr
    assert not (tmp_path / "server").exists()


def test_a_time_wait_port_counts_as_free() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)  # listening: taken
        client = socket.create_connection(("127.0.0.1", port))
        server_side, _ = listener.accept()
        server_side.close()  # the side that closes first keeps the port in TIME_WAIT
        client.close()
    assert port_is_free("127.0.0.1", port)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SUPPORT, *args], env=env_for(data_dir), capture_output=True, text=True, timeout=120)


def test_the_cli_flags_an_orphaned_approval_refuses_to_approve_it_and_delivers_the_rejection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, today=TODAY)
    with SupportDesk(settings) as desk:
        result: dict[str, Any] = desk.ask(
            "We bought the $899 seat pack by mistake, please refund it.", customer_id="cust_003"
        )
        for _ in range(2):  # the desk may propose first and file it on "yes"
            if result["pending_approval"]:
                break
            result = desk.ask("yes", customer_id="cust_003", thread_id=result["thread_id"])
        approval_id = result["pending_approval"]["approval_id"]
        config = desk._config(result["thread_id"])
        first = list(desk.graph.get_state_history(config))[-1].config  # the thread's very first checkpoint
        # Time travel: an earlier checkpoint edited, so the live branch no longer waits for the approval.
        desk.graph.update_state(first, {"messages": []}, as_node="__start__")
    listed = run_cli(tmp_path, "approvals", "list")
    assert approval_id in listed.stdout and "ORPHANED" in listed.stdout, listed.stdout
    as_json = json.loads(run_cli(tmp_path, "approvals", "list", "--json").stdout)
    assert [a["live"] for a in as_json if a["approval_id"] == approval_id] == [False]
    approve = run_cli(tmp_path, "approvals", "approve", approval_id, "--by", "Maya")
    assert approve.returncode == 2 and "live branch" in approve.stderr and approve.stderr.count("\n") == 1
    assert list_refunds(settings.database(), order_id="ord_301") == []
    reject = run_cli(tmp_path, "approvals", "reject", approval_id, "--by", "Maya", "--reason", "Please ask again")
    assert reject.returncode == 0, reject.stderr
    assert "rejected by Maya" in reject.stdout
    assert ("Customer was told:" in reject.stdout) != ("Not delivered" in reject.stdout)  # one or the other, said
