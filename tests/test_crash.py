"""kill -9 at the money steps: no refund is lost or paid twice, no approval is lost.

Each test runs the real `support` command in a child process (tests/crash_child.py), which SIGKILLs itself
right after a money step committed in the domain database and before the turn's checkpoint is written (the
desk writes it once, when the run ends). Money moves on the customer's "yes" to a proposal, so the child is
the process that reads that yes. The parent then opens the same data directory as the next process
would, and checks the database and what the customer and the manager see.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.desk import SupportDesk
from service.settings import Settings
from tests.conftest import TODAY
from tools.refunds import get_approval, list_approvals, list_refunds

ROOT = Path(__file__).resolve().parent.parent
DUPLICATE = "I was billed twice for my Pro plan this month, please refund the duplicate"
LARGE = "We bought the $899 seat pack by mistake last week, please refund it."


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "SUPPORT_DATA_DIR": str(settings.data_dir), "SUPPORT_TODAY": TODAY.isoformat()}


def _killed_after(settings: Settings, target: str, condition: str | None, *command: str) -> None:
    spec = [target, *([condition] if condition else [])]
    proc = subprocess.run(
        [sys.executable, "-m", "tests.crash_child", *spec, "--", *command],
        cwd=ROOT,
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)


def _integrity(settings: Settings) -> None:
    for name in ("support.db", "checkpoints.db"):
        with sqlite3.connect(settings.data_dir / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name


@pytest.fixture
def data(settings: Settings) -> Settings:
    SupportDesk(settings).close()  # seed the domain database, as `support reset` would
    return settings


def _proposed(settings: Settings, customer: str, thread: str, text: str) -> dict[str, object]:
    """The turn before the crash: the desk proposes, and the proposal is checkpointed."""
    with SupportDesk(settings) as desk:
        result = desk.ask(text, customer_id=customer, thread_id=thread)
    assert result["pending_proposal"], result
    return result


def test_killed_after_an_immediate_refund_is_paid_exactly_once(data: Settings) -> None:
    thread = "thr_crash_refund"
    _proposed(data, "cust_001", thread, DUPLICATE)
    _killed_after(
        data,
        "tools.refunds:request_refund",
        "status=refunded",
        "ask",
        "--customer",
        "cust_001",
        "--thread",
        thread,
        "yes",
    )
    _integrity(data)
    with SupportDesk(data) as desk:
        paid = list_refunds(desk.db, order_id="ord_102")
        assert len(paid) == 1 and paid[0]["rule"] == "duplicate"
        # The yes turn's checkpoint was never written: the proposal still waits, and a second yes replays it.
        assert desk.graph.get_state(desk._config(thread)).values.get("proposal")
        again = desk.ask("yes", customer_id="cust_001", thread_id=thread)
        assert "ord_102" in again["response"] and "$49.99" in again["response"]
        assert list_refunds(desk.db, order_id="ord_102") == paid  # replayed, not paid again
        elsewhere = desk.ask(DUPLICATE, customer_id="cust_001")  # a new conversation about the same charge
        assert "manager" not in elsewhere["response"]
        assert list_refunds(desk.db, order_id="ord_102") == paid


def test_killed_after_an_approval_is_filed_the_approval_is_not_lost(data: Settings) -> None:
    thread = "thr_crash_approval"
    _proposed(data, "cust_003", thread, LARGE)
    _killed_after(
        data,
        "tools.refunds:request_refund",
        "status=needs_approval",
        "ask",
        "--customer",
        "cust_003",
        "--thread",
        thread,
        "yes",
    )
    _integrity(data)
    with SupportDesk(data) as desk:
        (pending,) = list_approvals(desk.db, status="pending")
        assert pending.order_id == "ord_301" and pending.thread_id == thread
        # The customer says yes again in the same conversation: the same approval, now waited for.
        again = desk.ask("yes", customer_id="cust_003", thread_id=thread)
        assert again["pending_approval"]["approval_id"] == pending.approval_id
        assert len(list_approvals(desk.db)) == 1
        outcome = desk.decide(pending.approval_id, approve=True, by="maya")
        assert "approved" in outcome["customer_reply"]
        assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def test_killed_after_the_manager_decided_the_refund_is_paid_once_and_the_customer_told(data: Settings) -> None:
    with SupportDesk(data) as desk:
        proposed = desk.ask(LARGE, customer_id="cust_003")
        paused = desk.ask("yes", customer_id="cust_003", thread_id=proposed["thread_id"])
    approval_id = paused["pending_approval"]["approval_id"]
    _killed_after(data, "service.desk:decide_approval", None, "approvals", "approve", approval_id, "--by", "maya")
    _integrity(data)
    with SupportDesk(data) as desk:
        assert get_approval(desk.db, approval_id).status == "approved"  # type: ignore[union-attr]
        assert len(list_refunds(desk.db, order_id="ord_301")) == 1
        assert desk.graph.get_state(desk._config(paused["thread_id"])).interrupts  # still waiting to be told
        outcome = desk.decide(approval_id, approve=True, by="maya")  # the manager runs the command again
        assert "approved" in outcome["customer_reply"]
        assert desk.history(paused["thread_id"])[-1]["text"] == outcome["customer_reply"]
        assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def test_kill_9_at_arbitrary_moments_of_a_refund_turn(data: Settings) -> None:
    """SIGKILL from outside after growing delays: whatever the moment, one refund at most, files intact."""
    thread = "thr_crash_anytime"
    _proposed(data, "cust_001", thread, DUPLICATE)
    command = [sys.executable, "-m", "cli.main", "ask", "--customer", "cust_001", "--thread", thread, "yes"]
    outcomes = []
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6):
        proc = subprocess.Popen(command, cwd=ROOT, env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        outcomes.append(proc.wait(timeout=60))
        _integrity(data)
        with SupportDesk(data) as desk:
            assert len(list_refunds(desk.db, order_id="ord_102")) <= 1
    with SupportDesk(data) as desk:
        final = desk.ask("yes", customer_id="cust_001", thread_id=thread)  # the proposal outlived every kill
        assert "ord_102" in final["response"]
        assert len(list_refunds(desk.db, order_id="ord_102")) == 1
    assert -signal.SIGKILL in outcomes  # at least one run was really cut short
