"""The `support` command, run as real processes: output, memory across processes, errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY


def run(data_dir: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_TODAY": TODAY.isoformat()}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        input=input_text,
        timeout=120,
        check=False,
    )


def ok_json(data_dir: Path, *args: str) -> Any:
    proc = run(data_dir, *args, "--json") if args[0] != "ask" else run(data_dir, *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def audit_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "support.db") as conn:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def test_ask_json_has_the_documented_fields(tmp_path: Path) -> None:
    result = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "How do I export my data to CSV?")
    expected = {
        "response",
        "final_agent",
        "routed_to",
        "metadata",
        "pending_approval",
        "thread_id",
        "model_calls",
    }
    assert expected <= set(result)
    assert result["final_agent"] == "FAQAgent"


def test_memory_survives_across_processes(tmp_path: Path) -> None:
    first = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "I want to upgrade from Pro to Enterprise")
    second = ok_json(
        tmp_path, "ask", "--customer", "cust_001", "--thread", first["thread_id"], "--json", "yes, go ahead"
    )
    assert second["routed_to"] == ["BillingAgent"]
    history = ok_json(tmp_path, "history", first["thread_id"])
    assert [m["role"] for m in history["messages"]] == ["customer", "agent", "customer", "agent"]
    assert history["messages"][2]["text"] == "yes, go ahead"


def test_approval_flow_from_the_command_line(tmp_path: Path) -> None:
    proposed = ok_json(
        tmp_path, "ask", "--customer", "cust_003", "--json", "Please refund the $899 seat pack, ord_301."
    )
    assert proposed["pending_proposal"]["kind"] == "approval_request"
    assert proposed["pending_proposal"]["amount"] == 899.0
    assert ok_json(tmp_path, "approvals", "list") == []  # nothing is filed before the customer's yes
    paused = ok_json(tmp_path, "ask", "--customer", "cust_003", "--thread", proposed["thread_id"], "--json", "yes")
    approval_id = paused["pending_approval"]["approval_id"]
    listed = ok_json(tmp_path, "approvals", "list")
    assert [a["approval_id"] for a in listed] == [approval_id]
    decided = ok_json(tmp_path, "approvals", "approve", approval_id, "--by", "maya")
    assert decided["approval"]["status"] == "approved"
    assert ok_json(tmp_path, "approvals", "list") == []
    twice = run(tmp_path, "approvals", "reject", approval_id, "--by", "sam", "--reason", "no")
    assert twice.returncode == 2
    assert twice.stderr.count("\n") == 1 and "already approved" in twice.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("ask", "--customer", "cust_001", "   "), "empty"),
        (("ask", "--customer", "cust_999", "hello"), "unknown customer"),
        (("ask", "--customer", "cust_001", "x" * 8001), "limit is 8000"),
        (("ask", "--customer", "cust_001", "--thread", "thr_nope", "hello"), None),
        (("approvals", "approve", "apr_9999", "--by", "maya"), "unknown approval"),
        (("approvals", "reject", "apr_9999", "--by", "maya", "--reason", "x"), "unknown approval"),
        (("history", "thr_missing"), "unknown thread"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], needle: str | None
) -> None:
    ok_json(tmp_path, "customers")  # create and seed the database first
    before = audit_rows(tmp_path)
    proc = run(tmp_path, *args)
    if needle is None:  # a new thread id the customer chooses is fine: it starts a conversation
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert audit_rows(tmp_path) == before


def test_another_customers_thread_is_unknown(tmp_path: Path) -> None:
    mine = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "How do I reset my password?")
    proc = run(tmp_path, "ask", "--customer", "cust_002", "--thread", mine["thread_id"], "hello")
    assert proc.returncode == 2 and "unknown thread" in proc.stderr


def test_chat_is_multi_turn_and_quits(tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        "chat",
        "--customer",
        "cust_001",
        input_text="I want to upgrade from Pro to Enterprise\nyes\nquit\n",
    )
    assert proc.returncode == 0, proc.stderr
    replies = [line for line in proc.stdout.splitlines() if line.startswith("BillingAgent>")]
    assert len(replies) == 2
    assert "--thread thr_" in proc.stdout


def test_help_lists_every_command(tmp_path: Path) -> None:
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    for command in ("demo", "ask", "chat", "approvals", "history", "reset"):
        assert command in proc.stdout


def test_reset_recreates_the_seed_data(tmp_path: Path) -> None:
    ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "I was charged twice this month, refund me")
    assert run(tmp_path, "reset").returncode == 0
    again = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "I was charged twice this month, refund me")
    assert "refunded" in again["response"].lower()


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_data_dir_that_is_a_file_is_one_line_exit_2(tmp_path: Path, below: str) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("keep me\n")
    proc = run(a_file / below if below else a_file, "customers")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "SUPPORT_DATA_DIR" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert a_file.read_text() == "keep me\n"


def test_a_damaged_database_is_named_in_one_line_and_left_as_it_is(tmp_path: Path) -> None:
    ok_json(tmp_path, "customers")
    db = tmp_path / "support.db"
    with db.open("r+b") as f:
        f.truncate(10_000)
    proc = run(tmp_path, "approvals", "list")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "damaged" in proc.stderr and "support reset" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert db.stat().st_size == 10_000  # nothing overwritten: a backup or a repair is still possible


def test_chat_as_an_unknown_customer_stops_at_once(tmp_path: Path) -> None:
    proc = run(tmp_path, "chat", "--customer", "cust_999", input_text="hello\nhi again\nquit\n")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "unknown customer" in proc.stderr
    assert "you>" not in proc.stdout


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (("history",), "the thread id"),
        (("chat",), "'quit'"),
        (("approvals", "approve"), "apr_0001"),
        (("approvals", "reject"), "apr_0001"),
        (("reset",), "cannot be undone"),
    ],
)
def test_help_explains_arguments_and_consequences(tmp_path: Path, command: tuple[str, ...], needle: str) -> None:
    proc = run(tmp_path, *command, "--help")
    assert proc.returncode == 0
    assert needle in " ".join(proc.stdout.split())


def test_approvals_list_has_a_header_and_all_shows_who_decided(tmp_path: Path) -> None:
    asked = ok_json(tmp_path, "ask", "--customer", "cust_003", "--json", "Please refund the $899 seat pack, ord_301.")
    paused = ok_json(tmp_path, "ask", "--customer", "cust_003", "--thread", asked["thread_id"], "--json", "yes")
    approval_id = paused["pending_approval"]["approval_id"]
    pending = run(tmp_path, "approvals", "list").stdout.splitlines()
    assert pending[0].split()[:3] == ["ID", "STATUS", "CUSTOMER"] and "CUSTOMER'S REASON" in pending[0]
    assert pending[1].startswith(approval_id) and "$899.00" in pending[1]
    ok_json(tmp_path, "approvals", "reject", approval_id, "--by", "Maya", "--reason", "Used during the period")
    decided = run(tmp_path, "approvals", "list", "--all").stdout.splitlines()
    assert "DECIDED BY" in decided[0] and "NOTE" in decided[0]
    assert "rejected" in decided[1] and "Maya" in decided[1] and "Used during the period" in decided[1]
    listed = ok_json(tmp_path, "approvals", "list", "--all")
    assert listed[0]["decided_by"] == "Maya"


def test_threads_lists_a_customers_conversations(tmp_path: Path) -> None:
    first = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "How do I reset my password?")
    second = ok_json(tmp_path, "ask", "--customer", "cust_001", "--json", "How do I export my data to CSV?")
    ok_json(tmp_path, "ask", "--customer", "cust_002", "--json", "How do I export my data to CSV?")
    listed = ok_json(tmp_path, "threads", "--customer", "cust_001")
    assert [t["thread_id"] for t in listed["threads"]] == [second["thread_id"], first["thread_id"]]  # newest first
    assert listed["threads"][1]["last_message"] == "How do I reset my password?"
    assert listed["threads"][1]["messages"] == 2 and listed["threads"][1]["waiting_for_manager"] is False
    text = run(tmp_path, "threads", "--customer", "cust_001").stdout
    assert text.splitlines()[0].startswith("THREAD") and first["thread_id"] in text
    assert ok_json(tmp_path, "threads", "--customer", "cust_005")["threads"] == []


@pytest.mark.parametrize("command", [("ask", "--customer", "cust_042", "hi"), ("threads", "--customer", "cust_042")])
def test_an_unknown_customer_points_to_support_customers(tmp_path: Path, command: tuple[str, ...]) -> None:
    proc = run(tmp_path, *command)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "unknown customer 'cust_042'" in proc.stderr and "support customers" in proc.stderr


def test_an_unknown_option_is_named_not_blamed_on_a_missing_one(tmp_path: Path) -> None:
    proc = run(tmp_path, "ask", "--user", "cust_001", "How do I export my data?")
    assert proc.returncode == 2
    assert "unrecognized arguments: --user" in proc.stderr and "--customer is required" not in proc.stderr
    missing = run(tmp_path, "ask", "How do I export my data?")  # a real omission is still reported as one
    assert missing.returncode == 2 and "required: --customer" in missing.stderr


def test_a_reader_that_stops_early_gets_no_broken_pipe_message(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORT_DATA_DIR": str(tmp_path), "SUPPORT_TODAY": TODAY.isoformat()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "graph"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `support graph | head -0`: nobody reads what it prints
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""


def test_the_demo_confirms_proposals_and_the_manager_decides(tmp_path: Path) -> None:
    rows = ok_json(tmp_path, "demo", "--json")
    assert all(r["ok"] for r in rows)
    assert [r["approval"] for r in rows if r["approval"]] == ["approved", "rejected"]
    classic = rows[:4]
    assert sum(r["model_calls"] for r in classic) <= 8  # the yes turns cost no model call
