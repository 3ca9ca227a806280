"""The graph on Aegra with real processes: two instances, one Postgres, one Redis, all on 127.0.0.1.

One pair of instances for the whole module (`tests/aegra_cluster.py`); the tests that pay a refund use
different charges, since a charge can only be refunded once. The kill -9 test comes last (pytest
keeps the file's order) and leaves both instances running.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from evals.server_bench import run_server_bench
from tests.aegra_cluster import AegraPair, LiveAegra, aegra_pair
from tests.live_server import ASSISTANT, MANAGER, customer_token
from tests.test_security_server import BAD_TOKENS, endpoints, send, user
from tests.test_server_api import (
    BIG_SEAT_PACK,
    last_reply,
    pause_for_approval,
    say,
    test_an_empty_or_overlong_message_is_a_400_and_runs_nothing,
    test_the_run_context_comes_from_the_token_not_the_request,
)
from tools.refunds import list_refunds

__all__ = [
    "aegra_pair",
    "test_an_empty_or_overlong_message_is_a_400_and_runs_nothing",
    "test_the_run_context_comes_from_the_token_not_the_request",
]

pytestmark = pytest.mark.aegra


@pytest.fixture(scope="module")
def live_server(aegra_pair: AegraPair) -> LiveAegra:
    """The `langgraph dev` tests imported above run here against instance A."""
    return aegra_pair.a


def test_a_conversation_alternates_between_instances(aegra_pair: AegraPair) -> None:
    on_a = aegra_pair.a.client(customer_token("cust_001"))
    on_b = aegra_pair.b.client(customer_token("cust_001"))
    thread_id = on_a.threads.create()["thread_id"]
    questions = ["Which plan am I on?", "How do I export my data as CSV?", "And what was my last charge?"]
    for turn, (client, text) in enumerate(zip((on_a, on_b, on_a), questions, strict=True), start=1):
        values = say(client, thread_id, text)
        humans = [m["content"] for m in values["messages"] if m["type"] == "human"]
        assert humans == questions[:turn]  # each instance continued the other's checkpoint
        assert last_reply(values)["content"]
    assert on_b.threads.get_state(thread_id)["values"] == on_a.threads.get_state(thread_id)["values"]


def test_a_refund_filed_through_a_is_approved_in_bs_console_and_paid_once(aegra_pair: AegraPair) -> None:
    client, thread_id, approval_id = pause_for_approval(aegra_pair.a, "cust_003", BIG_SEAT_PACK)
    assert list_refunds(aegra_pair.a.db, order_id="ord_301") == []
    with aegra_pair.b.http() as http:
        pending = http.get("/approvals/api/approvals", params={"status": "pending"}).json()["approvals"]
        mine = next(a for a in pending if a["approval_id"] == approval_id)
        assert mine["live"] is True  # B reads A's conversation from Postgres
        answer = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={"note": "Seat pack unused"})
        assert answer.status_code == 200, answer.text
        again = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
    with aegra_pair.a.http() as http:
        rival = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "too late"})
    body = answer.json()
    assert body["resumed"] is True and body["approval"]["decided_by"] == "Maya (demo)"
    assert again.status_code == 409 and rival.status_code == 409
    refunds = list_refunds(aegra_pair.a.db, order_id="ord_301")
    assert len(refunds) == 1 and refunds[0]["amount"] == pytest.approx(899.0)
    assert refunds[0]["refund_id"] in body["customer_reply"]
    for server in (aegra_pair.a, aegra_pair.b):  # the customer sees the outcome wherever they ask
        state = server.client(customer_token("cust_003")).threads.get_state(thread_id)
        assert state["values"]["messages"][-1]["content"] == body["customer_reply"]
    assert client.threads.get(thread_id)["status"] == "idle"
    with aegra_pair.a.http() as http:  # the console's whole-transcript route, on the other instance
        transcript = http.get(f"/approvals/api/threads/{thread_id}/transcript")
    assert transcript.status_code == 200, transcript.text
    said = [m["text"] for m in transcript.json()["messages"]]
    assert said[-1] == body["customer_reply"] and any("ord_301" in text for text in said[:-1])


def test_no_token_or_a_bad_one_gets_401_on_both_instances(aegra_pair: AegraPair) -> None:
    thread_id = aegra_pair.a.client(customer_token("cust_005")).threads.create()["thread_id"]
    wrong = []
    for server in (aegra_pair.a, aegra_pair.b):
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for header in BAD_TOKENS:
                headers = {} if header is None else {"Authorization": header}
                for method, path, body in endpoints(thread_id, "apr_9999"):
                    status = send(http, method, path, body, headers).status_code
                    if status != 401:
                        wrong.append((server.port, header, method, path, status))
    assert wrong == []


def test_a_customer_cannot_reach_anothers_conversation_or_decide(aegra_pair: AegraPair) -> None:
    carol = aegra_pair.a.client(customer_token("cust_003"))
    thread_id = carol.threads.create()["thread_id"]
    say(carol, thread_id, "Which plan am I on?")
    before = carol.threads.get_state(thread_id)["values"]
    resume = {"resume": {"decision": "approve", "by": "Chief Financial Officer"}}
    attempts: list[tuple[str, str, str, Any, set[int]]] = []
    for other in ("cust_001", "cust_005"):  # someone else's conversation looks like none at all
        attempts += [
            (other, "GET", f"/threads/{thread_id}", None, {404}),
            (other, "GET", f"/threads/{thread_id}/state", None, {404}),
            (other, "POST", f"/threads/{thread_id}/history", {}, {404}),
            (other, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "input": user("hi")}, {404}),
            (other, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "command": resume}, {404}),
            (other, "POST", f"/threads/{thread_id}/state", {"values": {"messages": []}}, {403, 404}),
            (other, "DELETE", f"/threads/{thread_id}", None, {404}),
        ]
    attempts += [
        ("cust_003", "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "command": resume}, {403}),
        ("cust_003", "POST", f"/threads/{thread_id}/state", {"values": {"messages": []}}, {403}),
        ("cust_003", "GET", "/approvals/api/approvals", None, {403}),
        ("cust_003", "POST", "/approvals/api/approvals/apr_0001/approve", {}, {403}),
        # Aegra merges the body's context over the handler's: anything but the customer is refused.
        (
            "cust_003",
            "POST",
            f"/threads/{thread_id}/runs/wait",
            {"assistant_id": ASSISTANT, "input": user("hi"), "context": {"customer_id": "cust_001", "x": 1}},
            {400},
        ),
    ]
    wrong = []
    for server in (aegra_pair.a, aegra_pair.b):
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for customer, method, path, body, expected in attempts:
                headers = {"Authorization": f"Bearer {customer_token(customer)}"}
                status = send(http, method, path, body, headers).status_code
                if status not in expected:
                    wrong.append((server.port, customer, method, path, status, expected))
    assert wrong == []
    with httpx.Client(base_url=aegra_pair.b.url, timeout=60) as http:
        as_erin = {"Authorization": f"Bearer {customer_token('cust_005')}"}
        found = http.post("/threads/search", json={}, headers=as_erin)
        # Aegra lists runs by their creator: another customer's thread has none for Erin (`langgraph dev`: 404).
        their_runs = http.get(f"/threads/{thread_id}/runs", headers=as_erin)
    assert thread_id not in {t["thread_id"] for t in found.json()}
    assert their_runs.status_code == 404 or their_runs.json() == []
    assert carol.threads.get_state(thread_id)["values"] == before


def test_a_manager_token_cannot_make_up_who_decided_on_aegra(aegra_pair: AegraPair) -> None:
    """Aegra runs the body's resume as sent: a "by" other than the token's holder is refused, not rewritten."""
    manager = aegra_pair.a.client(MANAGER)
    thread_id = manager.threads.create()["thread_id"]
    with aegra_pair.a.http() as http:
        refused = http.post(
            f"/threads/{thread_id}/runs/wait",
            json={
                "assistant_id": ASSISTANT,
                "command": {"resume": {"decision": "approve", "by": "Chief Financial Officer"}},
                "context": {"customer_id": "cust_002"},
            },
        )
    assert refused.status_code == 400, refused.text
    assert "Maya (demo)" in refused.text


def test_fifty_customers_five_turns_each_without_an_error(aegra_pair: AegraPair) -> None:
    result = run_server_bench(aegra_pair.a.url, clients=50, turns_each=5, timeout=300, stream=True)
    assert result["errors"] == 0, result["error_samples"]
    assert result["succeeded"] == 250


def test_kill_9_during_payments_the_other_instance_finishes_them_and_pays_once(aegra_pair: AegraPair) -> None:
    """Runs posted to A, A killed at once: B's reaper takes over the runs A held once their lease lapses."""
    asks = {
        "cust_004": "Please refund the $29 add-on I bought a few days ago.",
        "cust_001": "I was charged twice this month, please refund the duplicate.",
    }
    orders = {"cust_004": "ord_402", "cust_001": "ord_102"}
    threads = {}
    for customer, text in asks.items():
        client = aegra_pair.b.client(customer_token(customer))
        thread_id = client.threads.create()["thread_id"]
        proposed = say(client, thread_id, text)
        assert proposed["proposal"]["kind"] == "refund", proposed.get("proposal")
        threads[customer] = thread_id
    runs = {
        customer: aegra_pair.a.client(customer_token(customer)).runs.create(thread_id, ASSISTANT, input=user("yes"))
        for customer, thread_id in threads.items()
    }
    aegra_pair.a.kill()
    try:
        deadline = time.monotonic() + 120
        for customer, run in runs.items():
            client = aegra_pair.b.client(customer_token(customer))
            status = ""
            while time.monotonic() < deadline:
                status = client.runs.get(threads[customer], run["run_id"])["status"]
                if status in ("success", "error", "interrupted", "timeout"):
                    break
                time.sleep(0.5)
            assert status == "success", (customer, status, aegra_pair.b.log()[-3000:])
            refunds = list_refunds(aegra_pair.b.db, order_id=orders[customer])
            assert len(refunds) == 1, refunds  # paid, and paid once
            reply = client.threads.get_state(threads[customer])["values"]["messages"][-1]["content"]
            assert refunds[0]["refund_id"] in reply
    finally:
        aegra_pair.a.start(timeout=120)
