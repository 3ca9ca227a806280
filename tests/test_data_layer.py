"""The data layer: clock, database, seed, accounts, refunds, approvals, tickets, audit.

Tests taking `data_db`, `make_db` or `open_db` run on both SQLite and PostgreSQL (`tests.conftest`).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import integrity_error
from tools import accounts, refunds, tickets
from tools.audit import list_audit
from tools.clock import FixedClock, SystemClock, clock_from_env
from tools.db import Database, default_data_dir
from tools.errors import (
    ApprovalAlreadyDecided,
    ApprovalNotFound,
    InvalidPlan,
    NothingToRefund,
    SupportDataError,
    UnknownCustomer,
)
from tools.policy import decide_refund
from tools.records import Approval, RefundOutcome

TODAY = date(2026, 11, 25)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_db(open_db: Callable[..., Database]) -> Callable[..., Database]:
    """``make_db(day=TODAY)``: this test's database, migrated and seeded as of ``day``."""

    def make(day: date = TODAY) -> Database:
        db = open_db(day)
        db.ensure_ready()
        return db

    return make


@pytest.fixture
def data_db(make_db: Callable[..., Database]) -> Database:
    return make_db()


def count(db: Database, sql: str, *params: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def pending(db: Database, customer: str, order: str, thread: str = "t1", **kw: Any) -> Approval:
    outcome = refunds.request_refund(db, customer, order, reason="please", thread_id=thread, **kw)
    assert outcome.status == "needs_approval" and outcome.approval is not None
    return outcome.approval


# --- clock ----------------------------------------------------------------------------------


def test_fixed_clock() -> None:
    clock = FixedClock(TODAY)
    assert clock.today() == TODAY
    assert clock.now() == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_system_clock_is_utc_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs((SystemClock().today() - now.date()).days) <= 1


def test_clock_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPPORT_TODAY", raising=False)
    assert isinstance(clock_from_env(), SystemClock)
    monkeypatch.setenv("SUPPORT_TODAY", "2028-02-29")
    clock = clock_from_env()
    assert isinstance(clock, FixedClock) and clock.today() == date(2028, 2, 29)


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01", "2027-02-29", "25/11/2026", "20261125"])
def test_clock_from_env_rejects_bad_dates(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("SUPPORT_TODAY", bad)
    with pytest.raises(ValueError, match="SUPPORT_TODAY"):
        clock_from_env()


# --- database -------------------------------------------------------------------------------


def test_default_data_dir_and_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SUPPORT_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == tmp_path / ".support"
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SUPPORT_TODAY", "2027-01-01")
    db = Database.from_env()
    assert db.path == tmp_path / "elsewhere" / "support.db"
    assert db.clock.today() == date(2027, 1, 1)
    assert not db.path.exists()  # nothing is created until ensure_ready()


def test_importing_does_no_work(tmp_path: Path) -> None:
    code = "import tools, tools.db, tools.accounts, tools.refunds, tools.tickets, tools.knowledge, tools.seed"
    env = {"PYTHONPATH": str(ROOT), "SUPPORT_TODAY": "not a date", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []


def test_connection_settings(tmp_path: Path) -> None:
    data_db = Database(tmp_path / "support.db", FixedClock(TODAY))
    data_db.ensure_ready()
    with data_db.connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert conn.isolation_level is None
        assert isinstance(conn.execute("SELECT 1 AS one").fetchone(), sqlite3.Row)
    data_db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")  # closed by close()


def test_a_thread_reuses_its_connection_and_nested_use_gets_another(tmp_path: Path) -> None:
    data_db = Database(tmp_path / "support.db", FixedClock(TODAY))
    data_db.ensure_ready()
    with data_db.connect() as first, data_db.connect() as nested:
        assert nested is not first  # the outer one may be mid-transaction
    with data_db.connect() as again:
        assert again is nested or again is first
    others: list[object] = []

    def other_thread() -> None:
        with data_db.connect() as conn:
            others.append(conn)
            assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] > 0

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert others and others[0] is not again
    with pytest.raises(RuntimeError), data_db.transaction() as conn:
        conn.execute("UPDATE customers SET name = 'X' WHERE id = 'cust_001'")
        raise RuntimeError("boom")
    with data_db.connect() as conn:  # the same connection, no transaction left open on it
        assert not conn.in_transaction
        assert conn.execute("SELECT name FROM customers WHERE id = 'cust_001'").fetchone()[0] != "X"


def test_a_replaced_database_file_is_reopened(tmp_path: Path) -> None:
    data_db = Database(tmp_path / "support.db", FixedClock(TODAY))
    data_db.ensure_ready()
    with data_db.connect() as conn:
        conn.execute("UPDATE customers SET name = 'Before reset' WHERE id = 'cust_001'")
    other = Database(tmp_path / "support.db", FixedClock(TODAY))
    other.reset()  # another process's `support reset`: a new file at the same path
    with data_db.connect() as conn:
        assert conn.execute("SELECT name FROM customers WHERE id = 'cust_001'").fetchone()[0] != "Before reset"


def test_transaction_rolls_back_on_error(data_db: Database) -> None:
    with pytest.raises(RuntimeError), data_db.transaction() as conn:
        conn.execute("UPDATE customers SET name = 'X' WHERE id = 'cust_001'")
        raise RuntimeError("boom")
    assert accounts.get_account_summary(data_db, "cust_001").name == "Alice Johnson"


def test_foreign_keys_are_enforced(data_db: Database) -> None:
    with pytest.raises(integrity_error(data_db)), data_db.transaction() as conn:
        conn.execute(
            "INSERT INTO charges (order_id, customer_id, amount_cents, description, kind, charged_on, status)"
            " VALUES ('ord_x', 'cust_nope', 100, 'x', 'one_time', '2026-11-01', 'paid')"
        )


def test_ensure_ready_twice_is_harmless(data_db: Database) -> None:
    refunds.request_refund(data_db, "cust_001", "ord_102", reason="double", thread_id="t1")
    before = {t: count(data_db, f"SELECT COUNT(*) FROM {t}") for t in ("customers", "charges", "refunds", "articles")}
    data_db.ensure_ready()
    data_db.ensure_ready()
    after = {t: count(data_db, f"SELECT COUNT(*) FROM {t}") for t in before}
    assert before == after
    assert after["customers"] == 5 and after["articles"] >= 22


def test_ensure_ready_from_two_threads_seeds_once(open_db: Callable[..., Database]) -> None:
    dbs = [open_db() for _ in range(4)]
    run_together([db.ensure_ready for db in dbs])
    assert count(dbs[0], "SELECT COUNT(*) FROM customers") == 5
    assert count(dbs[0], "SELECT COUNT(*) FROM refunds") == 2


def test_reset_recreates(data_db: Database) -> None:
    refunds.request_refund(data_db, "cust_001", "ord_102", reason="double", thread_id="t1")
    tickets.create_ticket(data_db, "cust_001", thread_id="t1", reason="help", priority="low")
    data_db.reset()
    assert count(data_db, "SELECT COUNT(*) FROM refunds") == 2  # only the seeded ones
    assert count(data_db, "SELECT COUNT(*) FROM tickets") == 0
    assert count(data_db, "SELECT COUNT(*) FROM customers") == 5


# --- seed ----------------------------------------------------------------------------------


SEED_DAYS = [
    TODAY,
    date(2027, 1, 1),
    date(2027, 3, 1),
    date(2028, 2, 29),
    date(2026, 3, 31),
    date(2026, 12, 31),
    date(2027, 11, 1),
]


def test_customers(data_db: Database) -> None:
    assert accounts.list_customers(data_db) == [
        {"id": "cust_001", "name": "Alice Johnson", "plan": "pro"},
        {"id": "cust_002", "name": "Bob Smith", "plan": "enterprise"},
        {"id": "cust_003", "name": "Carol Diaz", "plan": "pro"},
        {"id": "cust_004", "name": "Dan Okafor", "plan": "pro"},
        {"id": "cust_005", "name": "Erin Walsh", "plan": "pro"},
    ]
    assert accounts.customer_exists(data_db, "cust_001")
    assert not accounts.customer_exists(data_db, "cust_999")


@pytest.mark.parametrize("day", SEED_DAYS, ids=str)
def test_seed_shape_on_any_day(make_db: Callable[..., Database], day: date) -> None:
    db = make_db(day)
    alice = accounts.get_account_summary(db, "cust_001")
    assert (alice.name, alice.email, alice.plan.id, alice.plan.monthly_price) == (
        "Alice Johnson",
        "alice@example.com",
        "pro",
        49.99,
    )
    assert len(alice.charges) == 13
    assert all(c.amount == 49.99 and c.status == "paid" and c.charged_on.day == 1 for c in alice.charges)
    assert all(0 <= c.age_days < 366 for c in alice.charges)
    months = {(c.charged_on.year, c.charged_on.month) for c in alice.charges}
    assert len(months) == 12 and (day.year, day.month) in months
    assert any(c.charged_on.month == 3 for c in alice.charges)  # a March 1st charge always exists
    by_id = {c.order_id: c for c in alice.charges}
    assert by_id["ord_101"].charged_on == day.replace(day=1)
    assert by_id["ord_102"].model_dump(exclude={"order_id", "invoice_id", "duplicate_of"}) == by_id[
        "ord_101"
    ].model_dump(exclude={"order_id", "invoice_id", "duplicate_of"})
    assert set(by_id) == {f"ord_{n}" for n in range(101, 114)}
    assert all(inv.status == "paid" for inv in alice.invoices) and len(alice.invoices) == 13

    bob = accounts.get_account_summary(db, "cust_002")
    assert (bob.name, bob.plan.id, bob.plan.monthly_price) == ("Bob Smith", "enterprise", 199.99)
    bob_charges = {c.order_id: c for c in bob.charges}
    assert bob_charges["ord_201"].status == "unpaid" and bob_charges["ord_201"].amount == 199.99
    assert bob_charges["ord_201"].refundable_amount == 0.0
    assert all(c.status == "paid" for o, c in bob_charges.items() if o != "ord_201") and len(bob_charges) >= 3
    assert [i.order_id for i in accounts.list_invoices(db, "cust_002", status="open")] == ["ord_201"]

    carol = {c.order_id: c for c in accounts.get_account_summary(db, "cust_003").charges}
    assert (carol["ord_301"].amount, carol["ord_301"].age_days, carol["ord_301"].status) == (
        899.0,
        10,
        "paid",
    )
    assert len(carol) >= 2

    dan = {c.order_id: c for c in accounts.get_account_summary(db, "cust_004").charges}
    assert (dan["ord_401"].amount, dan["ord_401"].age_days) == (49.99, 45)
    assert (dan["ord_402"].amount, dan["ord_402"].age_days, dan["ord_402"].kind) == (29.0, 5, "add_on")

    erin = {c.order_id: c for c in accounts.get_account_summary(db, "cust_005").charges}
    assert (erin["ord_501"].age_days, erin["ord_501"].refunded_amount, erin["ord_501"].refundable_amount) == (
        12,
        49.99,
        0.0,
    )
    assert (erin["ord_502"].amount, erin["ord_502"].refunded_amount, erin["ord_502"].refundable_amount) == (
        120.0,
        20.0,
        100.0,
    )


@pytest.mark.parametrize("day", SEED_DAYS, ids=str)
def test_every_policy_branch_shows_on_any_day(make_db: Callable[..., Database], day: date) -> None:
    db = make_db(day)
    expected = {
        ("cust_001", "ord_102"): "duplicate",
        ("cust_002", "ord_201"): "unpaid",
        ("cust_003", "ord_301"): "over_500",
        ("cust_004", "ord_401"): "older_than_30_days",
        ("cust_004", "ord_402"): "within_policy",
        ("cust_005", "ord_501"): "already_refunded",
        ("cust_005", "ord_502"): "within_policy",
    }
    for (customer, order), rule in expected.items():
        c = accounts.get_charge(db, customer, order)
        assert c is not None
        assert decide_refund(c, is_duplicate=c.duplicate_of is not None).rule == rule, (day, order)


def test_plans_and_payment_methods(data_db: Database) -> None:
    summary = accounts.get_account_summary(data_db, "cust_002")
    assert [(p.id, p.monthly_price) for p in summary.available_plans] == [
        ("free", 0.0),
        ("pro", 49.99),
        ("enterprise", 199.99),
    ]
    assert "SSO (SAML and OIDC)" in summary.plan.features
    for customer in ("cust_001", "cust_002", "cust_003", "cust_004", "cust_005"):
        methods = accounts.get_account_summary(data_db, customer).payment_methods
        assert sum(m.is_default for m in methods) == 1
        assert all(len(m.last4) == 4 and m.brand for m in methods)


# --- account summary and charges -------------------------------------------------------------


def test_summary_flags(data_db: Database) -> None:
    alice = accounts.get_account_summary(data_db, "cust_001")
    assert alice.today == TODAY
    by_id = {c.order_id: c for c in alice.charges}
    assert by_id["ord_102"].duplicate_of == "ord_101"
    assert [o for o, c in by_id.items() if c.duplicate_of] == ["ord_102"]
    assert by_id["ord_101"].refundable_amount == 49.99 and by_id["ord_101"].age_days == 24
    assert by_id["ord_101"].invoice_id == "inv_101"
    dates = [c.charged_on for c in alice.charges]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert [i.issued_on for i in alice.invoices] == sorted((i.issued_on for i in alice.invoices), reverse=True)


def test_unknown_customer(data_db: Database) -> None:
    with pytest.raises(UnknownCustomer):
        accounts.get_account_summary(data_db, "cust_999")
    with pytest.raises(UnknownCustomer):
        accounts.find_charges(data_db, "cust_999")
    with pytest.raises(UnknownCustomer):
        accounts.list_invoices(data_db, "cust_999")
    with pytest.raises(SupportDataError):
        refunds.request_refund(data_db, "cust_999", "ord_101", reason="x", thread_id="t")
    assert accounts.get_charge(data_db, "cust_999", "ord_101") is None


def test_get_charge_isolation(data_db: Database) -> None:
    assert accounts.get_charge(data_db, "cust_001", "ord_101") is not None
    others = accounts.get_charge(data_db, "cust_002", "ord_101")
    missing = accounts.get_charge(data_db, "cust_002", "ord_999")
    assert others is None and others == missing


def test_refund_of_someone_elses_order_looks_like_a_missing_order(data_db: Database) -> None:
    theirs = refunds.request_refund(data_db, "cust_002", "ord_101", reason="x", thread_id="t1")
    missing = refunds.request_refund(data_db, "cust_002", "ord_999", reason="x", thread_id="t1")
    assert theirs.status == missing.status == "not_found"
    assert theirs.model_dump(exclude={"order_id", "explanation"}) == missing.model_dump(
        exclude={"order_id", "explanation"}
    )
    assert theirs.explanation.replace("ord_101", "ID") == missing.explanation.replace("ord_999", "ID")
    assert count(data_db, "SELECT COUNT(*) FROM refunds WHERE order_id = 'ord_101'") == 0


def test_find_charges(data_db: Database) -> None:
    first = TODAY.replace(day=1)
    both = accounts.find_charges(data_db, "cust_001", amount=49.99, on=first)
    assert sorted(c.order_id for c in both) == ["ord_101", "ord_102"]
    assert len(accounts.find_charges(data_db, "cust_001", amount=49.99)) == 13
    assert len(accounts.find_charges(data_db, "cust_001", amount=49.990001)) == 13  # to the cent
    assert accounts.find_charges(data_db, "cust_001", amount=49.98) == []
    assert [c.order_id for c in accounts.find_charges(data_db, "cust_001", on=first)] == [
        "ord_102",
        "ord_101",
    ]
    assert len(accounts.find_charges(data_db, "cust_001")) == 13
    assert accounts.find_charges(data_db, "cust_002", amount=49.99) == []  # Alice's are not Bob's
    assert [c.order_id for c in accounts.find_charges(data_db, "cust_003", amount=899)] == ["ord_301"]


def test_list_invoices(data_db: Database) -> None:
    assert len(accounts.list_invoices(data_db, "cust_002")) == 4
    assert [i.invoice_id for i in accounts.list_invoices(data_db, "cust_002", status="open")] == ["inv_201"]
    assert accounts.list_invoices(data_db, "cust_001", status="open") == []
    with pytest.raises(ValueError):
        accounts.list_invoices(data_db, "cust_001", status="unpaid")


# --- plan changes ----------------------------------------------------------------------------


def test_change_plan(data_db: Database) -> None:
    result = accounts.change_plan(data_db, "cust_001", "enterprise", thread_id="t1", actor="billing_agent")
    assert result == {
        "customer_id": "cust_001",
        "old_plan": "pro",
        "new_plan": "enterprise",
        "old_monthly_price": 49.99,
        "new_monthly_price": 199.99,
        "monthly_difference": 150.0,
        "effective_date": "2026-11-25",
    }
    assert accounts.get_account_summary(data_db, "cust_001").plan.id == "enterprise"
    assert count(data_db, "SELECT COUNT(*) FROM plan_changes") == 1
    (entry,) = list_audit(data_db, entity="customer:cust_001")
    assert (entry["actor"], entry["action"], entry["details"]["new_plan"]) == (
        "billing_agent",
        "plan.changed",
        "enterprise",
    )
    # A resumed node replays the same call: same answer, nothing written twice.
    assert accounts.change_plan(data_db, "cust_001", "enterprise", thread_id="t1", actor="billing_agent") == result
    assert count(data_db, "SELECT COUNT(*) FROM plan_changes") == 1
    with pytest.raises(InvalidPlan):
        accounts.change_plan(data_db, "cust_001", "enterprise", thread_id="t2", actor="billing_agent")
    down = accounts.change_plan(data_db, "cust_001", "free", thread_id="t2", actor="billing_agent")
    assert down["monthly_difference"] == -199.99


@pytest.mark.parametrize(("plan", "error"), [("pro", InvalidPlan), ("platinum", InvalidPlan)])
def test_change_plan_rejects_same_or_unknown_plan(data_db: Database, plan: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        accounts.change_plan(data_db, "cust_001", plan, thread_id=None, actor="billing_agent")
    assert count(data_db, "SELECT COUNT(*) FROM plan_changes") == 0


def test_change_plan_unknown_customer(data_db: Database) -> None:
    with pytest.raises(UnknownCustomer):
        accounts.change_plan(data_db, "cust_999", "pro", thread_id=None, actor="billing_agent")


# --- refund requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "order", "requested", "status", "rule", "amount"),
    [
        ("cust_001", "ord_102", None, "refunded", "duplicate", 49.99),
        ("cust_001", "ord_101", None, "refunded", "within_policy", 49.99),
        ("cust_004", "ord_402", None, "refunded", "within_policy", 29.0),
        ("cust_003", "ord_301", None, "needs_approval", "over_500", 899.0),
        ("cust_003", "ord_301", 100.0, "refunded", "within_policy", 100.0),
        ("cust_004", "ord_401", None, "needs_approval", "older_than_30_days", 49.99),
        ("cust_002", "ord_201", None, "denied", "unpaid", 0.0),
        ("cust_005", "ord_501", None, "denied", "already_refunded", 0.0),
        ("cust_005", "ord_502", None, "refunded", "within_policy", 100.0),
        ("cust_005", "ord_502", 150.0, "refunded", "within_policy", 100.0),
        ("cust_005", "ord_502", 40.0, "refunded", "within_policy", 40.0),
        ("cust_001", "ord_101", 0.0, "denied", "invalid_amount", 0.0),
    ],
)
def test_request_refund_branches(
    data_db: Database,
    customer: str,
    order: str,
    requested: float | None,
    status: str,
    rule: str,
    amount: float,
) -> None:
    outcome = refunds.request_refund(
        data_db, customer, order, reason="please", thread_id="t1", requested_amount=requested
    )
    assert (outcome.status, outcome.rule, outcome.amount, outcome.order_id) == (status, rule, amount, order)
    refund_rows = refunds.list_refunds(data_db, order_id=order)
    new_rows = [r for r in refund_rows if r["thread_id"] == "t1"]
    if status == "refunded":
        assert outcome.refund_id is not None and outcome.refund_id.startswith("rf_")
        assert [(r["refund_id"], r["amount"], r["idempotency_key"]) for r in new_rows] == [
            (outcome.refund_id, amount, f"t1:{order}")
        ]
    else:
        assert outcome.refund_id is None and new_rows == []
    if status == "needs_approval":
        assert outcome.approval is not None
        assert (outcome.approval.status, outcome.approval.amount, outcome.approval.rule) == (
            "pending",
            amount,
            rule,
        )
    else:
        assert outcome.approval is None
    (entry,) = list_audit(data_db, entity=f"order:{order}")
    assert (entry["actor"], entry["action"]) == ("refund_agent", f"refund.{status}")
    assert entry["details"]["customer_id"] == customer


def test_refund_ids_are_sequential(data_db: Database) -> None:
    first = refunds.request_refund(data_db, "cust_001", "ord_102", reason="dup", thread_id="t1")
    second = refunds.request_refund(data_db, "cust_004", "ord_402", reason="x", thread_id="t1")
    assert (first.refund_id, second.refund_id) == ("rf_0003", "rf_0004")  # rf_0001/2 are seeded


def test_refund_is_idempotent_per_thread_and_order(data_db: Database) -> None:
    first = refunds.request_refund(data_db, "cust_001", "ord_102", reason="dup", thread_id="t1")
    again = refunds.request_refund(data_db, "cust_001", "ord_102", reason="dup", thread_id="t1")
    assert again.status == "refunded" and again.refund_id == first.refund_id and again.amount == 49.99
    assert len(refunds.list_refunds(data_db, order_id="ord_102")) == 1
    # Another conversation asking again finds nothing left to refund.
    other = refunds.request_refund(data_db, "cust_001", "ord_102", reason="dup", thread_id="t2")
    assert (other.status, other.rule) == ("denied", "already_refunded")
    actions = [e["action"] for e in list_audit(data_db, entity="order:ord_102")]
    assert actions == ["refund.refunded", "refund.refunded", "refund.denied"]
    assert [e["details"]["replay"] for e in list_audit(data_db, entity="order:ord_102")] == [
        False,
        True,
        False,
    ]


def test_partial_refund_then_the_rest(data_db: Database) -> None:
    refunds.request_refund(data_db, "cust_005", "ord_502", reason="x", thread_id="t1", requested_amount=60)
    rest = refunds.request_refund(data_db, "cust_005", "ord_502", reason="x", thread_id="t2")
    assert (rest.status, rest.amount) == ("refunded", 40.0)
    charge = accounts.get_charge(data_db, "cust_005", "ord_502")
    assert charge is not None and (charge.refunded_amount, charge.refundable_amount) == (120.0, 0.0)
    assert refunds.request_refund(data_db, "cust_005", "ord_502", reason="x", thread_id="t3").status == "denied"


def test_pending_approval_is_idempotent(data_db: Database) -> None:
    first = pending(data_db, "cust_003", "ord_301")
    again = pending(data_db, "cust_003", "ord_301")
    assert first.approval_id == again.approval_id == "apr_0001"
    assert count(data_db, "SELECT COUNT(*) FROM approvals") == 1
    assert refunds.list_refunds(data_db, order_id="ord_301") == []
    # Another conversation is told the request already waits: at most one pending approval per charge.
    elsewhere = refunds.request_refund(data_db, "cust_003", "ord_301", reason="please", thread_id="t2")
    assert (elsewhere.status, elsewhere.rule) == ("denied", "already_waiting")
    assert elsewhere.approval is not None and elsewhere.approval.approval_id == "apr_0001"
    assert "apr_0001" in elsewhere.explanation
    assert count(data_db, "SELECT COUNT(*) FROM approvals") == 1


def test_concurrent_refund_requests_pay_once(
    make_db: Callable[..., Database], open_db: Callable[..., Database]
) -> None:
    make_db()
    results: list[RefundOutcome] = []

    def ask() -> None:
        db = open_db()
        results.append(refunds.request_refund(db, "cust_001", "ord_102", reason="dup", thread_id="t1"))

    run_together([ask] * 4)
    assert {r.refund_id for r in results} == {"rf_0003"}
    assert len(refunds.list_refunds(open_db(), order_id="ord_102")) == 1


# --- approvals --------------------------------------------------------------------------------


def test_list_and_get_approvals(data_db: Database) -> None:
    big = pending(data_db, "cust_003", "ord_301")
    old = pending(data_db, "cust_004", "ord_401")
    listed = refunds.list_approvals(data_db)
    assert [a.approval_id for a in listed] == [big.approval_id, old.approval_id]
    assert (listed[0].customer_name, listed[0].charge_description) == (
        "Carol Diaz",
        "Annual seat pack (10 additional seats)",
    )
    assert listed[0].charged_on == TODAY - timedelta(days=10)
    assert refunds.get_approval(data_db, big.approval_id) == big
    assert refunds.get_approval(data_db, "apr_9999") is None
    refunds.decide_approval(data_db, old.approval_id, approve=False, by="mgr")
    assert [a.approval_id for a in refunds.list_approvals(data_db, status="pending")] == [big.approval_id]
    assert [a.approval_id for a in refunds.list_approvals(data_db, status="rejected")] == [old.approval_id]
    with pytest.raises(ValueError):
        refunds.list_approvals(data_db, status="maybe")


def test_approve(data_db: Database) -> None:
    approval = pending(data_db, "cust_003", "ord_301")
    decided = refunds.decide_approval(data_db, approval.approval_id, approve=True, by="mgr_kim", note="ok")
    assert (decided.status, decided.decided_by, decided.note, decided.amount) == (
        "approved",
        "mgr_kim",
        "ok",
        899.0,
    )
    assert decided.decided_at == FixedClock(TODAY).now()
    (row,) = refunds.list_refunds(data_db, order_id="ord_301")
    assert (row["refund_id"], row["amount"], row["approval_id"]) == (
        decided.refund_id,
        899.0,
        approval.approval_id,
    )
    assert row["idempotency_key"] == f"approval:{approval.approval_id}"
    charge = accounts.get_charge(data_db, "cust_003", "ord_301")
    assert charge is not None and charge.refundable_amount == 0.0
    (entry,) = list_audit(data_db, entity=f"approval:{approval.approval_id}")
    assert (entry["actor"], entry["action"], entry["details"]["refund_id"]) == (
        "mgr_kim",
        "approval.approved",
        decided.refund_id,
    )
    # The customer's thread asking again sees the approved refund, not a new request.
    replay = refunds.request_refund(data_db, "cust_003", "ord_301", reason="please", thread_id="t1")
    assert (replay.status, replay.refund_id) == ("refunded", decided.refund_id)


def test_reject(data_db: Database) -> None:
    approval = pending(data_db, "cust_004", "ord_401")
    decided = refunds.decide_approval(data_db, approval.approval_id, approve=False, by="mgr", note="too old")
    assert (decided.status, decided.note, decided.refund_id) == ("rejected", "too old", None)
    assert [r for r in refunds.list_refunds(data_db, order_id="ord_401")] == []
    assert list_audit(data_db, entity=f"approval:{approval.approval_id}")[0]["action"] == "approval.rejected"
    again = refunds.request_refund(data_db, "cust_004", "ord_401", reason="please", thread_id="t1")
    assert (again.status, again.rule) == ("denied", "rejected_by_manager")
    assert "too old" in again.explanation
    assert count(data_db, "SELECT COUNT(*) FROM approvals") == 1


@pytest.mark.parametrize("approve", [True, False])
def test_same_decision_by_same_person_is_replayed(data_db: Database, approve: bool) -> None:
    approval = pending(data_db, "cust_003", "ord_301")
    first = refunds.decide_approval(data_db, approval.approval_id, approve=approve, by="mgr", note="n")
    replay = refunds.decide_approval(data_db, approval.approval_id, approve=approve, by="mgr", note="other")
    assert replay == first
    assert len(refunds.list_refunds(data_db, order_id="ord_301")) == (1 if approve else 0)
    assert len(list_audit(data_db, entity=f"approval:{approval.approval_id}")) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [((True, "mgr"), (False, "mgr")), ((False, "mgr"), (True, "mgr")), ((True, "mgr"), (True, "other"))],
)
def test_double_decision_is_an_error(data_db: Database, first: tuple[bool, str], second: tuple[bool, str]) -> None:
    approval = pending(data_db, "cust_003", "ord_301")
    decided = refunds.decide_approval(data_db, approval.approval_id, approve=first[0], by=first[1])
    with pytest.raises(ApprovalAlreadyDecided) as info:
        refunds.decide_approval(data_db, approval.approval_id, approve=second[0], by=second[1])
    assert info.value.approval == decided
    assert len(refunds.list_refunds(data_db, order_id="ord_301")) == (1 if first[0] else 0)


def test_unknown_approval(data_db: Database) -> None:
    with pytest.raises(ApprovalNotFound):
        refunds.decide_approval(data_db, "apr_9999", approve=True, by="mgr")


def refund_outside(db: Database, order: str, customer: str, cents: int, refund_id: str) -> None:
    """A refund written while an approval waits, not through it (say, by finance)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO refunds (refund_id, order_id, customer_id, amount_cents, reason, idempotency_key,"
            " approval_id, rule, created_at, thread_id) VALUES (?, ?, ?, ?, 'finance', ?, NULL, 'manual', ?, NULL)",
            (refund_id, order, customer, cents, f"manual:{refund_id}", "2026-11-25T00:00:00+00:00"),
        )


def test_approval_amount_is_rechecked_against_what_is_left(data_db: Database) -> None:
    small = pending(data_db, "cust_004", "ord_401", thread="t1", requested_amount=20)
    refunds.decide_approval(data_db, small.approval_id, approve=True, by="mgr")
    full = pending(data_db, "cust_004", "ord_401", thread="t2")  # one pending per charge: filed after the first
    refund_outside(data_db, "ord_401", "cust_004", 1000, "rf_manual1")
    capped = refunds.decide_approval(data_db, full.approval_id, approve=True, by="mgr")
    assert capped.amount == 19.99
    assert round(sum(r["amount"] for r in refunds.list_refunds(data_db, order_id="ord_401")), 2) == 49.99


def test_approving_when_nothing_is_left_is_refused_and_stays_pending(data_db: Database) -> None:
    late = pending(data_db, "cust_004", "ord_401", thread="t1")
    refund_outside(data_db, "ord_401", "cust_004", 4999, "rf_manual2")
    with pytest.raises(NothingToRefund):
        refunds.decide_approval(data_db, late.approval_id, approve=True, by="mgr")
    assert refunds.get_approval(data_db, late.approval_id).status == "pending"  # type: ignore[union-attr]
    assert refunds.decide_approval(data_db, late.approval_id, approve=False, by="mgr").status == "rejected"


@pytest.mark.parametrize("decisions", [[(True, "mgr_a"), (True, "mgr_b")], [(True, "mgr_a"), (False, "mgr_b")]])
def test_concurrent_decisions_exactly_one_wins(
    make_db: Callable[..., Database], open_db: Callable[..., Database], decisions: list[tuple[bool, str]]
) -> None:
    approval = pending(make_db(), "cust_003", "ord_301")
    wins: list[Approval] = []
    losses: list[ApprovalAlreadyDecided] = []

    def decide(approve: bool, by: str) -> Callable[[], None]:
        def run() -> None:
            db = open_db()  # its own connection, like another process
            try:
                wins.append(refunds.decide_approval(db, approval.approval_id, approve=approve, by=by))
            except ApprovalAlreadyDecided as exc:
                losses.append(exc)

        return run

    run_together([decide(*d) for d in decisions])
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].approval == wins[0]
    refund_rows = refunds.list_refunds(open_db(), order_id="ord_301")
    assert len(refund_rows) == (1 if wins[0].status == "approved" else 0)


def test_concurrent_identical_decisions_pay_once(
    make_db: Callable[..., Database], open_db: Callable[..., Database]
) -> None:
    approval = pending(make_db(), "cust_003", "ord_301")
    results: list[Approval] = []

    def decide() -> None:
        db = open_db()
        results.append(refunds.decide_approval(db, approval.approval_id, approve=True, by="mgr"))

    run_together([decide] * 3)
    assert len({r.refund_id for r in results}) == 1
    assert len(refunds.list_refunds(open_db(), order_id="ord_301")) == 1


# --- tickets ---------------------------------------------------------------------------------


def test_tickets_are_idempotent_per_thread_and_reason(data_db: Database) -> None:
    first = tickets.create_ticket(data_db, "cust_001", thread_id="t1", reason="Angry", priority="high")
    again = tickets.create_ticket(data_db, "cust_001", thread_id="t1", reason="Angry", priority="high")
    assert first == again and first.ticket_id == "TCK-0001"
    assert (first.status, first.priority, first.customer_id) == ("open", "high", "cust_001")
    other = tickets.create_ticket(data_db, "cust_001", thread_id="t1", reason="Other", priority="low")
    assert other.ticket_id == "TCK-0002"
    no_thread = [
        tickets.create_ticket(data_db, "cust_002", thread_id=None, reason="Call me", priority="medium")
        for _ in range(2)
    ]
    assert no_thread[0].ticket_id != no_thread[1].ticket_id
    assert [t.ticket_id for t in tickets.list_tickets(data_db)] == [
        "TCK-0001",
        "TCK-0002",
        "TCK-0003",
        "TCK-0004",
    ]
    assert [t.ticket_id for t in tickets.list_tickets(data_db, customer_id="cust_002")] == [
        "TCK-0003",
        "TCK-0004",
    ]
    (entry,) = list_audit(data_db, entity="ticket:TCK-0001")
    assert (entry["actor"], entry["action"], entry["details"]["priority"]) == (
        "escalation_agent",
        "ticket.created",
        "high",
    )


def test_ticket_validation(data_db: Database) -> None:
    with pytest.raises(ValueError):
        tickets.create_ticket(data_db, "cust_001", thread_id="t1", reason="x", priority="urgent")
    with pytest.raises(UnknownCustomer):
        tickets.create_ticket(data_db, "cust_999", thread_id="t1", reason="x", priority="low")
    assert tickets.list_tickets(data_db) == []


# --- audit ------------------------------------------------------------------------------------


def test_audit_log(data_db: Database) -> None:
    refunds.request_refund(data_db, "cust_001", "ord_102", reason="dup", thread_id="t1")
    refunds.request_refund(data_db, "cust_002", "ord_101", reason="x", thread_id="t1")
    entries = list_audit(data_db)
    assert [(e["entity"], e["action"]) for e in entries] == [
        ("order:ord_102", "refund.refunded"),
        ("order:ord_101", "refund.not_found"),
    ]
    assert entries[0]["at"] == "2026-11-25T12:00:00+00:00"
    assert entries[0]["details"]["rule"] == "duplicate" and entries[0]["details"]["thread_id"] == "t1"
    assert list_audit(data_db, entity="order:nothing") == []


# --- helpers ----------------------------------------------------------------------------------


def run_together(jobs: list[Callable[[], None]]) -> None:
    """Start the jobs in threads at the same instant and re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def wrap(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]


def test_card_expiry_is_computed_from_the_accounts_today() -> None:
    from tools.accounts import card_expired

    today = date(2026, 11, 25)
    assert card_expired("10/2026", today)
    assert not card_expired("11/2026", today)  # a card works to the end of its month
    assert not card_expired("01/27", today)
    assert card_expired("12/25", today)
    assert not card_expired("soon", today)


def test_the_account_says_what_switching_plan_today_adds_or_credits(data_db: Database) -> None:
    # Alice's Pro period runs Nov 1 to Dec 1: on Nov 25, 6 of 30 days are left.
    alice = accounts.get_account_summary(data_db, "cust_001")
    assert alice.switch_today == {"free": -10.0, "enterprise": 30.0}
    # Dan paid no subscription in November: no running period, nothing is prorated.
    assert set(accounts.get_account_summary(data_db, "cust_004").switch_today.values()) == {0.0}


def test_a_charge_shows_the_refund_request_waiting_for_a_manager(data_db: Database) -> None:
    outcome = refunds.request_refund(data_db, "cust_003", "ord_301", reason="seats unused", thread_id="thr_x")
    assert outcome.approval is not None
    charges = {c.order_id: c for c in accounts.get_account_summary(data_db, "cust_003").charges}
    assert charges["ord_301"].awaiting_approval == outcome.approval.approval_id
    assert charges["ord_302"].awaiting_approval is None
    refunds.decide_approval(data_db, outcome.approval.approval_id, approve=False, by="maya", note="used")
    assert accounts.get_account_summary(data_db, "cust_003").charges[0].awaiting_approval is None
