"""A manager decides while the customer's next message is still being answered.

The customer may keep writing while a refund waits for a manager; each such turn starts past the
pause and ends paused on the approval again (`graph.routing.turn_end`). While it runs, the thread's
latest checkpoint holds no interrupt. A decision made in that moment must wait for the turn to end,
not call the approval orphaned (which hides the Approve button and tells the manager to reject it).

To hold a turn open for as long as the test needs, the refund agent's model is the local
OpenAI-compatible server, whose answer to the follow-up waits for the test's signal; the other
agents run on the offline model.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAI, Reply, user_text
from tests.live_server import ASSISTANT, LiveServer, customer_token
from tests.support_brain import agent_of, brain
from tests.test_server_api import pause_for_approval, say
from tools.refunds import get_approval, list_refunds

FOLLOW_UP = "Any news on this?"
HOLD_S = 60.0  # the longest the model's answer is held; the test releases it long before


class HeldBrain:
    """The support brain, except that the refund agent's answer to the follow-up waits for `release`."""

    def __init__(self) -> None:
        self.holding = threading.Event()  # set once the follow-up's model request has arrived
        self.release = threading.Event()

    def __call__(self, request: dict[str, Any]) -> Reply:
        if agent_of(request) == "refund" and user_text(request) == FOLLOW_UP:
            self.holding.set()
            self.release.wait(HOLD_S)
            return Reply(content="Your refund request is still with a manager; I'll let you know here.")
        return brain(request)


@pytest.fixture(scope="module")
def held() -> HeldBrain:
    return HeldBrain()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, held: HeldBrain) -> Iterator[LiveServer]:
    with FakeOpenAI(held) as provider:
        env = {
            "SUPPORT_MODEL_REFUND": "openai:gpt-4o",
            "OPENAI_BASE_URL": provider.base_url,
            "OPENAI_API_KEY": "sk-test-not-a-real-key-0000",
            "SUPPORT_MODEL_TIMEOUT": str(HOLD_S + 30),
        }
        live = LiveServer(Path(tmp_path_factory.mktemp("mid-turn")), env=env)
        live.start()
        try:
            yield live
        finally:
            held.release.set()
            live.stop()


def test_an_approval_made_while_the_customer_writes_waits_for_the_turn_and_pays_once(
    server: LiveServer, held: HeldBrain
) -> None:
    client, thread_id, approval_id = pause_for_approval(
        server, "cust_003", "I bought the $899 seat pack ord_301 by accident, I'd like my money back please."
    )
    client.runs.create(thread_id, ASSISTANT, input={"messages": [{"role": "user", "content": FOLLOW_UP}]})
    assert held.holding.wait(30), "the follow-up never reached the refund agent's model"
    assert client.threads.get(thread_id)["status"] == "busy"

    with server.http() as http, ThreadPoolExecutor(1) as pool:
        # Mid-turn the console still offers the approval: the turn will pause on it again.
        listed = http.get(f"/approvals/api/approvals/{approval_id}").json()
        assert listed["live"] is True, listed
        answer = pool.submit(http.post, f"/approvals/api/approvals/{approval_id}/approve", json={})
        # The decision waits for the turn: before the fix it came back at once as a 409 ("orphaned").
        with pytest.raises(TimeoutError):
            answer.result(timeout=3)
        assert get_approval(server.db, approval_id).status == "pending"  # type: ignore[union-attr]
        held.release.set()
        response = answer.result(timeout=90)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resumed"] is True and body["approval"]["status"] == "approved"
    refunds = list_refunds(server.db, order_id="ord_301")
    assert len(refunds) == 1 and refunds[0]["amount"] == pytest.approx(899.0)
    messages = client.threads.get_state(thread_id)["values"]["messages"]
    texts = [str(m["content"]) for m in messages if m["type"] == "ai"]
    # The follow-up was answered, then the decision reached the same conversation, in that order.
    held_reply = next(i for i, t in enumerate(texts) if "still with a manager" in t)
    decided = next(i for i, t in enumerate(texts) if refunds[0]["refund_id"] in t)
    assert held_reply < decided
    assert client.threads.get(thread_id)["status"] == "idle"
    # And the conversation goes on normally afterwards.
    assert say(server.client(customer_token("cust_003")), thread_id, "thanks!")["messages"]
