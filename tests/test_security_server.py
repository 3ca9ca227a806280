"""The server's security defaults against a real `langgraph dev`: who may do what, hostile input, decisions.

One server for the module (`tests/live_server.py`). The authorisation matrix sends well over 100
attempts (no token, bad tokens, customers against other customers' threads, stateless runs,
commands, state edits, the store, crons, the console) and checks each answer and that nothing
changed. The fuzz sends the hostile corpus (`tests/hostile.py`) through the runs API.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from service.validation import clean_text
from tests.hostile import HOSTILE_TEXTS, INPUT_SHAPES
from tests.live_server import ASSISTANT, MANAGER, LiveServer, customer_token, live_server
from tools.audit import list_audit
from tools.refunds import get_approval, list_refunds

__all__ = ["live_server"]

SEAT_PACK = "I purchased the $899 seat pack by accident, I'd like my money back please."
OLD_ORDER = "Could you refund order ord_401? I meant to cancel that subscription ages ago."
SECOND = "second-manager"  # a second manager token, "Sam" (tests/live_server.py)


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def waiting_approval(server: LiveServer, customer: str, text: str) -> tuple[str, str]:
    """The customer asks for a refund that needs a manager; returns (thread id, approval id) once it waits.

    The desk may first propose the refund and file it only after the customer says yes.
    """
    client = server.client(customer_token(customer))
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, ASSISTANT, input=user(text))
    for _ in range(3):
        if client.threads.get(thread_id)["status"] == "interrupted":
            break
        client.runs.wait(thread_id, ASSISTANT, input=user("yes"))
    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted", thread
    payload = next(iter(thread["interrupts"].values()))[0]["value"]
    return thread_id, payload["approval"]["approval_id"]


def reject(server: LiveServer, approval_id: str) -> None:
    """Settle an approval so a later test can file its own for the same charge."""
    with server.http() as http:
        http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "Test over"})


@pytest.fixture(scope="module")
def carols_request(live_server: LiveServer) -> tuple[str, str]:
    """cust_003's $899 refund waiting for a manager, the target of the matrix."""
    return waiting_approval(live_server, "cust_003", SEAT_PACK)


BAD_TOKENS = [
    None,
    "",
    "Bearer",
    "Bearer null",
    "Basic demo-manager",
    "Token demo-manager",
    "Bearer DEMO-MANAGER",
    "Bearer demo-manage",
    "Bearer demo-managerx",
    "Bearer demo-cust_999",
    "Bearer demo-cust_003 demo-manager",
    "Bearer second-manager2",
]


def endpoints(thread_id: str, approval_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/threads/search", {}),
        ("GET", f"/threads/{thread_id}", None),
        ("GET", f"/threads/{thread_id}/state", None),
        ("POST", f"/threads/{thread_id}/state", {"values": {"pending_approval": None}}),
        ("POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "input": user("hi")}),
        (
            "POST",
            f"/threads/{thread_id}/runs/wait",
            {"assistant_id": ASSISTANT, "command": {"resume": {"decision": "approve", "by": "x"}}},
        ),
        ("POST", "/runs/wait", {"assistant_id": ASSISTANT, "input": user("hi")}),
        ("POST", "/store/items/search", {"namespace_prefix": []}),
        ("POST", "/runs/crons", {"assistant_id": ASSISTANT, "schedule": "* * * * *", "input": user("hi")}),
        ("GET", "/approvals/api/me", None),
        ("GET", "/approvals/api/approvals", None),
        ("POST", f"/approvals/api/approvals/{approval_id}/approve", {}),
    ]


def send(http: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return (
        http.request(method, path, json=body, headers=headers)
        if body is not None
        else http.request(method, path, headers=headers)
    )


def test_no_token_or_a_bad_one_gets_401_everywhere(live_server: LiveServer, carols_request: tuple[str, str]) -> None:
    thread_id, approval_id = carols_request
    answers = []
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        for header in BAD_TOKENS:
            headers = {} if header is None else {"Authorization": header}
            for method, path, body in endpoints(thread_id, approval_id):
                answers.append((header, method, path, send(http, method, path, body, headers)))
    wrong = [(h, m, p, r.status_code, r.text[:200]) for h, m, p, r in answers if r.status_code != 401]
    assert not wrong
    assert len(answers) >= 100
    assert all(r.json().get("detail") for *_, r in answers)  # a JSON reason, never a stack trace
    assert get_approval(live_server.db, approval_id).status == "pending"  # type: ignore[union-attr]
    assert list_refunds(live_server.db, order_id="ord_301") == []


def test_customers_reach_only_their_own_and_never_act_as_a_manager(
    live_server: LiveServer, carols_request: tuple[str, str]
) -> None:
    thread_id, approval_id = carols_request
    before = live_server.client(MANAGER).threads.get_state(thread_id)["values"]
    resume = {"resume": {"decision": "approve", "by": "Chief Financial Officer"}}
    attempts: list[tuple[str, str, str, Any, set[int]]] = []
    for other in ("cust_001", "cust_005"):  # someone else's conversation looks like none at all
        attempts += [
            (other, "GET", f"/threads/{thread_id}", None, {404}),
            (other, "GET", f"/threads/{thread_id}/state", None, {404}),
            (other, "POST", f"/threads/{thread_id}/history", {}, {404}),
            (other, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "input": user("hi")}, {404}),
            (other, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "command": resume}, {403}),
            (other, "POST", f"/threads/{thread_id}/state", {"values": {"pending_approval": None}}, {403, 404}),
            (other, "PATCH", f"/threads/{thread_id}", {"metadata": {"customer_id": other}}, {403, 404}),
            (other, "DELETE", f"/threads/{thread_id}", None, {404}),
            (other, "POST", f"/threads/{thread_id}/copy", {}, {403, 404, 409}),
            (other, "GET", f"/threads/{thread_id}/runs", None, {404}),
        ]
    owner = "cust_003"
    attempts += [
        (owner, "POST", f"/threads/{thread_id}/runs/wait", {"assistant_id": ASSISTANT, "command": resume}, {403}),
        (owner, "POST", f"/threads/{thread_id}/state", {"values": {"pending_approval": None}}, {403}),
        (owner, "POST", f"/threads/{thread_id}/state", {"values": {}, "as_node": "approval"}, {403}),
        (owner, "PATCH", f"/threads/{thread_id}", {"metadata": {"customer_id": "cust_001"}}, {403}),
        (owner, "POST", "/runs/wait", {"assistant_id": ASSISTANT, "command": resume}, {400, 403}),
        (
            owner,
            "POST",
            f"/threads/{thread_id}/runs",
            {"assistant_id": ASSISTANT, "input": user("hi"), "multitask_strategy": "rollback"},
            {400},
        ),
        (
            owner,
            "POST",
            f"/threads/{thread_id}/runs",
            {"assistant_id": ASSISTANT, "input": user("hi"), "multitask_strategy": "interrupt"},
            {400},
        ),
        (owner, "POST", "/store/items/search", {"namespace_prefix": []}, {403}),
        (owner, "PUT", "/store/items", {"namespace": ["x"], "key": "k", "value": {"a": 1}}, {403}),
        (
            owner,
            "POST",
            "/runs/crons",
            {"assistant_id": ASSISTANT, "schedule": "* * * * *", "input": user("hi")},
            {403},
        ),
        (
            owner,
            "POST",
            f"/threads/{thread_id}/runs/crons",
            {"assistant_id": ASSISTANT, "schedule": "* * * * *"},
            {403},
        ),
        (owner, "POST", "/assistants", {"graph_id": ASSISTANT, "config": {}}, {403}),
        (owner, "GET", "/approvals/api/me", None, {403}),
        (owner, "GET", "/approvals/api/approvals", None, {403}),
        (owner, "GET", f"/approvals/api/approvals/{approval_id}", None, {403}),
        (owner, "POST", f"/approvals/api/approvals/{approval_id}/approve", {}, {403}),
        (owner, "POST", f"/approvals/api/approvals/{approval_id}/reject", {"reason": "x"}, {403}),
        # The Studio header is not a way around the token while Studio access is off.
        (owner, "POST", "/threads/search", {}, {403}),
    ]
    answers = []
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        for customer, method, path, body, expected in attempts:
            headers = {"Authorization": f"Bearer {customer_token(customer)}"}
            if path == "/threads/search":
                headers["x-auth-scheme"] = "langsmith"
            try:
                status = send(http, method, path, body, headers).status_code
            except httpx.HTTPError as exc:  # a dropped connection is a failure too, and says which attempt
                status = f"{type(exc).__name__}: {exc}"  # type: ignore[assignment]
            answers.append((customer, method, path, status, expected))
    wrong = [a for a in answers if a[3] not in a[4]]
    assert wrong == [], "\n".join(map(str, wrong))
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        found = http.post("/threads/search", json={}, headers={"Authorization": f"Bearer {customer_token('cust_005')}"})
    assert thread_id not in {t["thread_id"] for t in found.json()}
    assert get_approval(live_server.db, approval_id).status == "pending"  # type: ignore[union-attr]
    assert list_refunds(live_server.db, order_id="ord_301") == []
    assert live_server.client(MANAGER).threads.get_state(thread_id)["values"] == before
    # The owner may still write: answered, and the thread goes back to waiting for the manager.
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        body = {"assistant_id": ASSISTANT, "input": user("any news?")}
        headers = {"Authorization": f"Bearer {customer_token(owner)}"}
        assert send(http, "POST", f"/threads/{thread_id}/runs/wait", body, headers).status_code == 200
    assert live_server.client(MANAGER).threads.get(thread_id)["status"] == "interrupted"
    assert get_approval(live_server.db, approval_id).status == "pending"  # type: ignore[union-attr]


def test_a_stateless_run_acts_for_the_token_not_the_body(live_server: LiveServer) -> None:
    client = live_server.client(customer_token("cust_002"))
    values = client.runs.wait(
        None,
        ASSISTANT,
        input=user("Which plan am I on?"),
        context={"customer_id": "cust_001"},
        metadata={"customer_id": "cust_001"},
    )
    assert isinstance(values, dict)
    reply = next(m["content"] for m in reversed(values["messages"]) if m["type"] == "ai" and m["content"])
    assert "Enterprise" in reply and "Alice" not in reply and "Pro plan" not in reply  # Bob's plan, not Alice's


@pytest.mark.parametrize("context", [None, {}, {"customer_id": ""}, {"customer_id": "cust_999"}])
def test_a_manager_run_must_name_a_real_customer(live_server: LiveServer, context: dict[str, str] | None) -> None:
    with live_server.http() as http:
        body: dict[str, Any] = {"assistant_id": ASSISTANT, "input": user("Which plan am I on?")}
        if context is not None:
            body["context"] = context
        stateless = http.post("/runs/wait", json=body)
        thread = http.post("/threads", json={}).json()["thread_id"]
        on_thread = http.post(f"/threads/{thread}/runs/wait", json=body)
    for answer in (stateless, on_thread):
        assert answer.status_code == 400, answer.text
        assert "customer" in answer.json()["detail"]


def test_a_manager_run_for_a_customer_is_audited_with_both_names(live_server: LiveServer) -> None:
    manager = live_server.client(MANAGER)
    thread_id = manager.threads.create()["thread_id"]
    manager.runs.wait(thread_id, ASSISTANT, input=user("Which plan am I on?"), context={"customer_id": "cust_002"})
    assert manager.threads.get_state(thread_id)["values"]["account"]["customer_id"] == "cust_002"
    rows = [r for r in list_audit(live_server.db, entity="customer:cust_002") if r["details"]["thread_id"] == thread_id]
    assert [(r["actor"], r["action"], r["details"]["customer_id"]) for r in rows] == [
        ("Maya (demo)", "run.for_customer", "cust_002")
    ]
    assert manager.threads.get(thread_id)["metadata"]["customer_id"] == "cust_002"  # the customer sees it
    with pytest.raises(httpx.HTTPStatusError) as wrong:  # the thread is Bob's; it cannot be run as Alice
        manager.runs.wait(thread_id, ASSISTANT, input=user("And my invoices?"), context={"customer_id": "cust_001"})
    assert wrong.value.response.status_code == 400


def test_the_decider_recorded_is_the_token_holder_not_the_body(live_server: LiveServer) -> None:
    thread_id, approval_id = waiting_approval(live_server, "cust_004", OLD_ORDER)
    with live_server.http(SECOND) as http:
        answer = http.post(
            f"/threads/{thread_id}/runs/wait",
            json={
                "assistant_id": ASSISTANT,
                "command": {
                    "resume": {"decision": "reject", "by": "Chief Financial Officer", "note": "Past the window"}
                },
            },
        )
    assert answer.status_code == 200, answer.text
    approval = get_approval(live_server.db, approval_id)
    assert approval is not None and approval.status == "rejected" and approval.decided_by == "Sam"
    audit = list_audit(live_server.db, entity=f"approval:{approval_id}")
    assert [r["actor"] for r in audit] == ["Sam"]
    resumed = [
        r for r in list_audit(live_server.db, entity="customer:cust_004") if r["details"]["thread_id"] == thread_id
    ]
    assert [(r["actor"], r["action"]) for r in resumed] == [("Sam", "run.resume_for_customer")]


def fork_past(server: LiveServer, thread_id: str) -> None:
    """A manager re-runs the thread from its first checkpoint (Studio's time travel): the pause is left behind."""
    manager = server.client(MANAGER)
    history = manager.threads.get_history(thread_id, limit=100)
    first = history[-1]["checkpoint"]["checkpoint_id"]  # oldest last
    manager.runs.wait(
        thread_id,
        ASSISTANT,
        input=user("How do I export my data?"),
        checkpoint_id=first,
        context={"customer_id": "cust_003"},
    )
    assert manager.threads.get(thread_id)["status"] == "idle"


def test_an_orphaned_approval_is_flagged_cannot_be_approved_and_a_rejection_reaches_the_customer(
    live_server: LiveServer, carols_request: tuple[str, str]
) -> None:
    thread_id, approval_id = carols_request
    with live_server.http() as http:
        listed = http.get("/approvals/api/approvals", params={"status": "pending"}).json()["approvals"]
        assert next(a for a in listed if a["approval_id"] == approval_id)["live"] is True
        fork_past(live_server, thread_id)
        listed = http.get("/approvals/api/approvals", params={"status": "pending"}).json()["approvals"]
        assert next(a for a in listed if a["approval_id"] == approval_id)["live"] is False
        assert http.get(f"/approvals/api/approvals/{approval_id}").json()["live"] is False
        approve = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
        assert approve.status_code == 409 and "live branch" in approve.json()["detail"]
        assert approve.json()["approval"]["status"] == "pending"
        assert list_refunds(live_server.db, order_id="ord_301") == []
        rejected = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "Asked again later"})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["approval"]["status"] == "rejected" and body["resumed"] is False and body["delivered"] is True
    last = live_server.client(customer_token("cust_003")).threads.get_state(thread_id)["values"]["messages"][-1]
    assert "Asked again later" in last["content"] and last["content"] == body["customer_reply"]


def test_a_decision_for_a_lost_thread_is_reported_undelivered(live_server: LiveServer) -> None:
    thread_id, approval_id = waiting_approval(live_server, "cust_004", OLD_ORDER)
    live_server.client(MANAGER).threads.delete(thread_id)
    with live_server.http() as http:
        approve = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
        rejected = http.post(f"/approvals/api/approvals/{approval_id}/reject", json={"reason": "Thread gone"})
    assert approve.status_code == 409
    assert rejected.status_code == 200 and rejected.json()["delivered"] is False
    assert rejected.json()["customer_reply"] is None


def test_concurrent_runs_on_one_thread_are_queued_and_none_is_lost(live_server: LiveServer) -> None:
    token = customer_token("cust_001")
    texts = [f"Question {i}: how do I export my data?" for i in range(8)]

    async def all_at_once() -> tuple[str, list[str]]:
        client = get_client(url=live_server.url, headers={"Authorization": f"Bearer {token}"}, api_key=None)
        try:
            thread_id = (await client.threads.create())["thread_id"]
            runs = await asyncio.gather(*(client.runs.create(thread_id, ASSISTANT, input=user(t)) for t in texts))
            for run in runs:
                await client.runs.join(thread_id, run["run_id"])
            statuses = [(await client.runs.get(thread_id, r["run_id"]))["status"] for r in runs]
            return thread_id, statuses
        finally:
            await client.aclose()

    thread_id, statuses = asyncio.run(all_at_once())
    assert statuses == ["success"] * len(texts)
    messages = live_server.client(token).threads.get_state(thread_id)["values"]["messages"]
    assert sorted(m["content"] for m in messages if m["type"] == "human") == sorted(texts)
    assert sum(1 for m in messages if m["type"] == "ai" and not m.get("tool_calls")) >= len(texts)


def texts_of(payload: Any) -> list[str]:
    """Every string inside a payload (to find the over-long ones)."""
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [t for v in payload.values() for t in texts_of(v)]
    if isinstance(payload, list):
        return [t for v in payload for t in texts_of(v)]
    return []


def fuzz_cases() -> list[Any]:
    texts = [user(t) for t in HOSTILE_TEXTS]
    parts = [{"messages": [{"role": "user", "content": [{"type": "text", "text": t}]}]} for t in HOSTILE_TEXTS]
    return INPUT_SHAPES + texts + parts


def test_hostile_input_through_the_runs_api_gets_a_reply_or_a_4xx(live_server: LiveServer) -> None:
    cases = fuzz_cases()
    assert len(cases) >= 150
    refunds_before = list_refunds(live_server.db)
    token = customer_token("cust_002")

    async def one(client: httpx.AsyncClient, payload: Any) -> tuple[Any, int, str]:
        thread_id = (await client.post("/threads", json={})).json()["thread_id"]
        answer = await client.post(
            f"/threads/{thread_id}/runs/wait", json={"assistant_id": ASSISTANT, "input": payload}
        )
        return payload, answer.status_code, answer.text

    async def everything() -> list[tuple[Any, int, str]]:
        limit = asyncio.Semaphore(6)
        async with httpx.AsyncClient(
            base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:

            async def bounded(payload: Any) -> tuple[Any, int, str]:
                async with limit:
                    return await one(client, payload)

            return list(await asyncio.gather(*(bounded(p) for p in cases)))

    results = asyncio.run(everything())
    bad = [(str(p)[:80], s, t[:200]) for p, s, t in results if not (s == 200 or 400 <= s < 500) or "Traceback" in t]
    assert bad == []
    for _payload, status, text in results:
        if status == 200:  # a normal reply, written by the desk
            assert '"messages"' in text
    too_long = [s for p, s, _ in results if any(len(clean_text(t).strip()) > 8000 for t in texts_of(p))]
    assert len(too_long) >= 8 and all(s == 400 for s in too_long)
    assert list_refunds(live_server.db) == refunds_before
