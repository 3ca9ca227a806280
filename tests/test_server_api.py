"""The LangGraph server end to end: a real `langgraph dev`, the SDK, the console API, SQLite.

One server for the whole module (see `tests/live_server.py`). Tests that pay a refund use
different charges, since a charge can only be refunded once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import SyncLangGraphClient

from service.desk import SupportDesk
from service.settings import Settings
from tests.conftest import TODAY
from tests.live_server import ASSISTANT, MANAGER, LiveServer, customer_token, live_server
from tools.refunds import decide_approval, get_approval, list_refunds

__all__ = ["live_server"]

BIG_SEAT_PACK = "I purchased the $899 seat pack by accident, I'd like my money back please."
OLD_ORDER = "Could you refund order ord_401? I meant to cancel that subscription ages ago."


def say(client: SyncLangGraphClient, thread_id: str, text: str, **extra: Any) -> dict[str, Any]:
    values = client.runs.wait(thread_id, ASSISTANT, input={"messages": [{"role": "user", "content": text}]}, **extra)
    assert isinstance(values, dict), values
    return values


def error_text(response: httpx.Response) -> str:
    """The one-line reason of a refusal: `langgraph dev` says ``detail``, Aegra (Agent Protocol) ``message``."""
    body = response.json()
    return str(body.get("detail") or body.get("message") or "")


def last_reply(values: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in reversed(values["messages"]) if m["type"] == "ai" and m["content"])


def pause_for_approval(server: LiveServer, customer: str, text: str) -> tuple[SyncLangGraphClient, str, str]:
    """A customer asks for a refund that needs a manager; returns (client, thread id, approval id)."""
    client = server.client(customer_token(customer))
    thread = client.threads.create()
    proposed = say(client, thread["thread_id"], text)
    assert proposed["proposal"]["kind"] == "approval_request"  # nothing is filed before the customer's yes
    say(client, thread["thread_id"], "yes")
    thread = client.threads.get(thread["thread_id"])
    assert thread["status"] == "interrupted"
    # From the state's tasks, which both engines return (Aegra's thread has no "interrupts").
    state = client.threads.get_state(thread["thread_id"])
    payload = next(i["value"] for task in state["tasks"] for i in task.get("interrupts") or [])
    assert payload["action_request"]["action"] == "refund"
    return client, thread["thread_id"], payload["approval"]["approval_id"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("   ", "empty"),
        ("\x1b\x00\x07 \r\n", "empty"),
        ("x" * 8001, "limit is 8000"),
        ([{"type": "text", "text": "y" * 8001}], "limit is 8000"),
    ],
)
def test_an_empty_or_overlong_message_is_a_400_and_runs_nothing(
    live_server: LiveServer, content: Any, needle: str
) -> None:
    client = live_server.client(customer_token("cust_002"))
    thread = client.threads.create()
    with pytest.raises(httpx.HTTPStatusError) as refused:
        client.runs.wait(thread["thread_id"], ASSISTANT, input={"messages": [{"role": "user", "content": content}]})
    assert refused.value.response.status_code == 400
    assert needle in error_text(refused.value.response)
    assert client.runs.list(thread["thread_id"]) == []
    assert not (client.threads.get(thread["thread_id"]).get("values") or {}).get("messages")


@pytest.mark.parametrize(
    ("customer", "text", "agent"),
    [
        ("cust_001", "What exactly was the $49.99 charge on my card this month?", "BillingAgent"),
        ("cust_001", "How can I export all my data as a CSV file?", "FAQAgent"),
        ("cust_004", "Please refund the $29 add-on I bought a few days ago.", "RefundAgent"),
    ],
)
def test_a_conversation_reaches_each_specialist(live_server: LiveServer, customer: str, text: str, agent: str) -> None:
    client = live_server.client(customer_token(customer))
    thread = client.threads.create()
    values = say(client, thread["thread_id"], text)
    assert values["routed_to"][0] == "TriageAgent"
    assert values["routed_to"][-1] == agent
    assert last_reply(values)["name"] == agent
    assert client.threads.get(thread["thread_id"])["status"] == "idle"


def test_the_run_context_comes_from_the_token_not_the_request(live_server: LiveServer) -> None:
    client = live_server.client(customer_token("cust_002"))
    thread = client.threads.create(metadata={"customer_id": "cust_001"})
    assert thread["metadata"]["customer_id"] == "cust_002"
    values = say(client, thread["thread_id"], "Which plan am I on right now?", context={"customer_id": "cust_001"})
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"]["account"]["customer_id"] == "cust_002"
    assert "Alice" not in last_reply(values)["content"]


def test_a_manager_approves_in_the_console_and_the_thread_resumes_once(live_server: LiveServer) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_003", BIG_SEAT_PACK)
    assert list_refunds(live_server.db, order_id="ord_301") == []
    with live_server.http() as http:
        pending = http.get("/approvals/api/approvals", params={"status": "pending"}).json()["approvals"]
        assert approval_id in [a["approval_id"] for a in pending]
        answer = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={"note": "Seat pack unused"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        again = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
        rival = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "too late"})
    assert body["resumed"] is True and body["approval"]["status"] == "approved"
    assert body["approval"]["decided_by"] == "Maya (demo)"
    assert again.status_code == 409 and rival.status_code == 409
    refunds = list_refunds(live_server.db, order_id="ord_301")
    assert len(refunds) == 1 and refunds[0]["amount"] == pytest.approx(899.0)
    state = client.threads.get_state(thread_id)
    assert client.threads.get(thread_id)["status"] == "idle"
    assert state["values"]["messages"][-1]["content"] == body["customer_reply"]
    assert refunds[0]["refund_id"] in body["customer_reply"]
    runs = client.runs.list(thread_id)
    # The request, the customer's yes, and the manager's resume: all server runs.
    assert len(runs) == 3 and all(r["status"] == "success" for r in runs)


def test_a_manager_rejects_with_a_reason_and_nothing_is_paid(live_server: LiveServer) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    with live_server.http() as http:
        no_reason = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "  "})
        answer = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "Used all month"})
    assert no_reason.status_code == 400
    assert answer.status_code == 200, answer.text
    assert answer.json()["approval"]["status"] == "rejected"
    assert list_refunds(live_server.db, order_id="ord_401") == []
    reply = client.threads.get_state(thread_id)["values"]["messages"][-1]["content"]
    assert "Used all month" in reply


def test_two_managers_at_the_same_moment_exactly_one_wins(live_server: LiveServer) -> None:
    _, _, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)

    async def decide(token: str, kind: str, body: dict[str, str]) -> int:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=90) as http:
            url = f"/approvals/api/approvals/{approval_id}/{kind}"
            response = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            return response.status_code

    async def both() -> list[int]:
        return list(
            await asyncio.gather(
                decide(MANAGER, "reject", {"reason": "Outside the refund window"}),
                decide("second-manager", "reject", {"reason": "Policy says no"}),
            )
        )

    assert sorted(asyncio.run(both())) == [200, 409]
    approval = get_approval(live_server.db, approval_id)
    assert approval is not None and approval.status == "rejected"
    assert approval.decided_by in ("Maya (demo)", "Sam")


def test_a_customer_cannot_read_resume_or_list(live_server: LiveServer) -> None:
    owner, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    other = live_server.client(customer_token("cust_005"))
    with pytest.raises(httpx.HTTPStatusError) as missing:
        other.threads.get(thread_id)
    assert missing.value.response.status_code == 404
    assert thread_id not in [t["thread_id"] for t in other.threads.search()]
    with pytest.raises(httpx.HTTPStatusError) as resume:
        owner.runs.wait(thread_id, ASSISTANT, command={"resume": {"decision": "approve", "by": "me"}})
    assert resume.value.response.status_code == 403
    with pytest.raises(httpx.HTTPStatusError) as edit:
        owner.threads.update_state(thread_id, {"pending_approval": None})
    assert edit.value.response.status_code == 403
    # A new message is answered, and the thread goes back to waiting for the manager.
    assert approval_id in last_reply(say(owner, thread_id, "Any news on my refund?"))["content"]
    assert owner.threads.get(thread_id)["status"] == "interrupted"
    with live_server.http(customer_token("cust_004")) as http:
        listed = http.get("/approvals/api/approvals")
        decided = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
    assert listed.status_code == 403 and decided.status_code == 403
    assert listed.json()["detail"]
    assert get_approval(live_server.db, approval_id).status == "pending"  # type: ignore[union-attr]
    with live_server.http() as http:  # settled, so later tests can file their own request for ord_401
        assert http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "No"}).status_code == 200


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_unknown_callers_get_401_with_a_json_error(live_server: LiveServer, token: str | None) -> None:
    with live_server.http(token) as http:
        api = http.post("/threads/search", json={})
        console = http.get("/approvals/api/approvals")
        studio_header = http.post("/threads/search", json={}, headers={"x-auth-scheme": "langsmith"})
    assert api.status_code == 401 and api.json()["detail"]
    assert console.status_code == 401 and console.json()["detail"]
    assert studio_header.status_code == 403  # Studio access is off for this server


def test_twenty_concurrent_conversations_complete(live_server: LiveServer) -> None:
    customers = ["cust_001", "cust_002", "cust_003", "cust_005"]
    texts = ["How do I reset my password?", "Why is my invoice still open?", "What plans do you offer?"]

    async def converse(i: int) -> str:
        token = customer_token(customers[i % len(customers)])
        client = get_client(url=live_server.url, headers={"Authorization": f"Bearer {token}"}, api_key=None)
        try:
            thread = await client.threads.create()
            run = await client.runs.create(
                thread["thread_id"], ASSISTANT, input={"messages": [{"role": "user", "content": texts[i % 3]}]}
            )
            await client.runs.join(thread["thread_id"], run["run_id"])
            return str((await client.runs.get(thread["thread_id"], run["run_id"]))["status"])
        finally:
            await client.aclose()

    async def all_of_them() -> list[str]:
        return list(await asyncio.gather(*(converse(i) for i in range(20))))

    assert asyncio.run(all_of_them()) == ["success"] * 20
    assert "database is locked" not in live_server.log()


def test_a_generic_inbox_answer_from_a_manager_resumes_the_thread(live_server: LiveServer) -> None:
    _, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    manager = live_server.client(MANAGER)
    values = manager.runs.wait(
        thread_id,
        ASSISTANT,
        command={"resume": [{"type": "response", "args": "Annual plans are not refundable"}]},
        context={"customer_id": "cust_004"},
    )
    assert isinstance(values, dict)
    approval = get_approval(live_server.db, approval_id)
    assert approval is not None and approval.status == "rejected"
    assert approval.decided_by == "Maya (demo)" and approval.note == "Annual plans are not refundable"
    assert "Annual plans are not refundable" in values["messages"][-1]["content"]


def test_a_decision_made_with_the_cli_on_a_server_thread_lets_the_customer_go_on(live_server: LiveServer) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    with SupportDesk(Settings(data_dir=live_server.data_dir, today=TODAY)) as desk:
        outcome = desk.decide(approval_id, approve=False, by="Sam", note="Past the window")
    assert "Past the window" in outcome["customer_reply"]
    values = say(client, thread_id, "Alright. How do I download my invoices?")
    assert values["messages"][-1]["type"] == "ai"
    assert client.threads.get(thread_id)["status"] == "idle"


def test_a_decision_made_while_the_server_was_away_is_delivered_at_start(live_server: LiveServer) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    live_server.stop()
    # Decided outside the server (as the CLI does, or a crash right after the commit).
    decide_approval(live_server.db, approval_id, approve=False, by="Sam", note="Decided offline")
    live_server.start()
    client = live_server.client(customer_token("cust_004"))
    deadline = time.monotonic() + 60
    while client.threads.get(thread_id)["status"] != "idle" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.threads.get(thread_id)["status"] == "idle"
    assert "Decided offline" in client.threads.get_state(thread_id)["values"]["messages"][-1]["content"]


def test_an_approval_survives_a_server_restart(live_server: LiveServer) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    live_server.restart()
    client = live_server.client(customer_token("cust_004"))
    assert client.threads.get(thread_id)["status"] == "interrupted"
    with live_server.http() as http:
        answer = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={"note": "Goodwill"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["resumed"] is True
    assert len(list_refunds(live_server.db, order_id="ord_401")) == 1
    assert client.threads.get(thread_id)["status"] == "idle"
    assert "approved" in client.threads.get_state(thread_id)["values"]["messages"][-1]["content"]


def test_server_storage_is_bounded_and_the_server_does_not_warn_otherwise(live_server: LiveServer) -> None:
    import sqlite3

    from service.checkpointer import KEEP_CHECKPOINTS

    client = live_server.client(customer_token("cust_002"))
    thread = client.threads.create()["thread_id"]
    for text in ("How do I reset my password?", "What plans do you offer?", "Thanks!"):
        say(client, thread, text)  # the server enters the checkpointer on first use: it has by now
    log = live_server.log()
    assert "missing aprune" not in log and "missing adelete_for_runs" not in log, log[-2000:]
    assert "grow without bound" not in log
    with sqlite3.connect(live_server.data_dir / "checkpoints.db") as conn:
        per_thread = conn.execute("SELECT thread_id, COUNT(*) FROM checkpoints GROUP BY thread_id").fetchall()
    assert per_thread and max(n for _, n in per_thread) <= KEEP_CHECKPOINTS, per_thread
