"""The real langchain-openai client against a local OpenAI-compatible server (real HTTP, 127.0.0.1).

Covers what only a real provider protocol shows: the requests each agent sends (tools, prompts,
no customer id anywhere a model could fill it), tool calls in parallel and malformed, usage
fields, retries after 500/429/timeouts, a provider that stays down, and streaming.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from graph.builder import AGENTS
from nodes.prompts import AGENT_INSTRUCTIONS, SHARED_PREFIX, handoff_instructions
from service.desk import SupportDesk
from service.settings import Settings
from tests.conftest import TODAY
from tests.fake_openai import FakeOpenAI, Reply, protocol_errors, system_text, tools_offered
from tests.support_brain import agent_of, brain
from tests.test_conversations import TABLE
from tools.refunds import list_refunds
from tools.tickets import list_tickets

MODELS = {"triage": "openai:gpt-4o", "billing": "openai:gpt-4o", "refund": "openai:gpt-4o", "faq": "openai:gpt-4o-mini"}
# Model calls each seed scenario takes: triage + refund; triage + faq; triage + billing (a
# lookup, then the answer); triage + billing.
CALLS = [2, 2, 3, 2]
APOLOGY = "something went wrong on our side"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self, name: str) -> list[logging.LogRecord]:
        return [r for r in self.records if getattr(r, "event", None) == name]


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(brain) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-0000")
        yield server


@pytest.fixture
def real_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "desk",
        today=TODAY,
        models=MODELS,
        model_timeout=5.0,
        model_max_retries=2,
    )


@pytest.fixture
def desk(provider: FakeOpenAI, real_settings: Settings) -> Iterator[SupportDesk]:
    with SupportDesk(real_settings) as d:
        yield d


@pytest.fixture
def logs() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger("support")
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def speaker(request: dict[str, Any]) -> str:
    """Which agent's prompt a request carries (independent of the tools, which we check)."""
    found = [key for key, text in AGENT_INSTRUCTIONS.items() if text in system_text(request)]
    assert len(found) == 1, found
    return found[0]


def property_names(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from property_names(item)


def assert_thread_answers_every_tool_call(desk: SupportDesk, thread_id: str) -> None:
    messages = desk.graph.get_state({"configurable": {"thread_id": thread_id}}).values["messages"]
    asked = [tc["id"] for m in messages if isinstance(m, AIMessage) for tc in m.tool_calls]
    answered = [m.tool_call_id for m in messages if isinstance(m, ToolMessage)]
    assert sorted(asked) == sorted(answered)


# --- the seed scenarios ---------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "calls"), list(zip(TABLE, CALLS, strict=True)))
def test_seed_scenarios_on_the_openai_client(
    desk: SupportDesk, provider: FakeOpenAI, scenario: tuple[str, str], calls: int
) -> None:
    message, final_agent = scenario
    result = desk.ask(message, customer_id="cust_001")
    assert result["final_agent"] == final_agent
    assert result["routed_to"] == ["TriageAgent", final_agent]
    assert result["model_calls"] == calls == len(provider.requests)
    assert result["response"]
    # Usage is what the provider reported, call by call.
    usage = result["usage"]
    assert [c["total_tokens"] for c in usage["calls"]] == [u["total_tokens"] for u in provider.usage_sent]
    assert usage["total_tokens"] == sum(u["total_tokens"] for u in provider.usage_sent) > 0
    assert usage["input_tokens"] == sum(u["prompt_tokens"] for u in provider.usage_sent)
    assert set(usage["by_agent"]) == {"TriageAgent", final_agent}
    assert sum(a["total_tokens"] for a in usage["by_agent"].values()) == usage["total_tokens"]
    names = {"TriageAgent": "triage", "BillingAgent": "billing", "RefundAgent": "refund", "FAQAgent": "faq"}
    assert all(f"openai:{c['model']}" == MODELS[names[c["agent"]]] for c in usage["calls"])
    assert_thread_answers_every_tool_call(desk, result["thread_id"])


def test_the_duplicate_charge_is_refunded_once_from_a_real_tool_call(desk: SupportDesk, provider: FakeOpenAI) -> None:
    proposed = desk.ask(TABLE[0][0], customer_id="cust_001")
    assert proposed["metadata"][0]["record"]["priority"] == "high"
    assert proposed["pending_proposal"]["order_id"] == "ord_102"
    assert list_refunds(desk.db, customer_id="cust_001") == []
    calls = len(provider.requests)
    result = desk.ask("yes", customer_id="cust_001", thread_id=proposed["thread_id"])
    assert len(provider.requests) == calls  # the yes is read by code: no model call
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_001")] == ["ord_102"]
    assert "ord_102" in result["response"] and "49.99" in result["response"]


def test_every_request_follows_the_contract(desk: SupportDesk, provider: FakeOpenAI) -> None:
    for message, _ in TABLE:
        desk.ask(message, customer_id="cust_001")
    seen = set()
    for request in provider.requests:
        agent = speaker(request)
        seen.add(agent)
        spec = AGENTS[agent]
        assert request["model"] == MODELS[agent].removeprefix("openai:")
        assert sorted(tools_offered(request)) == sorted([*spec.data_tools, *spec.handoffs])
        assert agent_of(request) == agent  # the brain's guess agrees with the prompt
        system = system_text(request)
        assert system.startswith(SHARED_PREFIX)
        assert handoff_instructions(spec.handoffs) in system
        assert not [n for n in property_names(request["tools"]) if "customer" in n.lower()]
        assert protocol_errors(request) == []
    assert seen == {"triage", "billing", "refund", "faq"}


def test_a_refund_that_needs_approval(desk: SupportDesk, provider: FakeOpenAI) -> None:
    proposed = desk.ask("Please refund ord_301, we bought far too many seats", customer_id="cust_003")
    assert proposed["model_calls"] == 2 == len(provider.requests)
    assert proposed["pending_proposal"]["kind"] == "approval_request"
    result = desk.ask("yes", customer_id="cust_003", thread_id=proposed["thread_id"])
    pending = result["pending_approval"]
    assert pending and pending["order_id"] == "ord_301"
    assert result["model_calls"] == 0 and len(provider.requests) == 2
    assert list_refunds(desk.db, customer_id="cust_003") == []
    outcome = desk.decide(pending["approval_id"], approve=True, by="Maya")
    assert "approved" in outcome["customer_reply"]
    assert len(provider.requests) == 2  # the outcome is written by code, no model call
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_003")] == ["ord_301"]


# --- tool calls -----------------------------------------------------------------------------


def test_two_data_tool_calls_in_one_message_both_run(desk: SupportDesk, provider: FakeOpenAI) -> None:
    result = desk.ask("Can you show my invoices and the $49.99 charge?", customer_id="cust_001")
    assert result["final_agent"] == "BillingAgent"
    last = provider.requests[-1]["messages"]
    calls = last[-3]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["find_charges", "list_invoices"]
    answers = last[-2:]
    assert [a["tool_call_id"] for a in answers] == [c["id"] for c in calls]
    assert "charges" in json.loads(answers[0]["content"]) and "invoices" in json.loads(answers[1]["content"])
    assert "49.99" in result["response"] and "invoices" in result["response"]


def test_a_handoff_next_to_a_data_tool_call(desk: SupportDesk, provider: FakeOpenAI) -> None:
    first = desk.ask("Can you explain the $49.99 charge from this month?", customer_id="cust_001")
    second = desk.ask(
        "That one was a duplicate, I want my money back for it.", customer_id="cust_001", thread_id=first["thread_id"]
    )
    assert second["routed_to"] == ["BillingAgent", "RefundAgent"]
    assert second["final_agent"] == "RefundAgent"
    desk.ask("yes", customer_id="cust_001", thread_id=first["thread_id"])
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_001")] == ["ord_102"]
    assert_thread_answers_every_tool_call(desk, first["thread_id"])
    # A third message in the thread sends the whole exchange back: the provider accepts it.
    desk.ask("Thanks, and how do I export my data?", customer_id="cust_001", thread_id=first["thread_id"])
    assert all(protocol_errors(r) == [] for r in provider.requests)


def test_malformed_json_is_sent_back_once_and_can_be_corrected(desk: SupportDesk, provider: FakeOpenAI) -> None:
    def script(request: dict[str, Any]) -> Reply:
        if agent_of(request) == "triage" and request["messages"][-1]["role"] != "tool":
            return Reply(tool_calls=[("transfer_to_billing", '{"issue_type": "charge_dispute", "summ')])
        if agent_of(request) == "triage":
            return Reply(tool_calls=[("transfer_to_billing", {"issue_type": "plan_change", "summary": "upgrade"})])
        return brain(request)

    provider.script = script
    result = desk.ask("I want to upgrade from Pro to Enterprise", customer_id="cust_001")
    assert result["final_agent"] == "BillingAgent"
    triage_requests = [r for r in provider.requests if speaker(r) == "triage"]
    assert len(triage_requests) == 2
    error = triage_requests[1]["messages"][-1]
    assert error["role"] == "tool" and error["content"].startswith("Invalid arguments")
    assert result["metadata"][0]["record"]["issue_type"] == "plan_change"


def test_a_record_that_fails_validation_twice_falls_back_with_a_ticket(desk: SupportDesk, provider: FakeOpenAI) -> None:
    provider.script = lambda request: Reply(tool_calls=[("transfer_to_refund", {"priority": "yesterday"})])
    result = desk.ask("I want my money back for the double charge", customer_id="cust_001")
    assert len(provider.requests) == 2  # sent back once with the validation error, then given up
    assert "Invalid arguments" in provider.requests[1]["messages"][-1]["content"]
    assert result["final_agent"] == "FallbackAgent"
    tickets = list_tickets(desk.db, customer_id="cust_001")
    assert len(tickets) == 1 and tickets[0].ticket_id in result["response"]
    assert list_refunds(desk.db, customer_id="cust_001") == []


# --- provider failures ------------------------------------------------------------------------


def failing_first(failure: Reply) -> Any:
    """The brain, except that the very first request fails with `failure`."""
    state = {"failed": False}

    def script(request: dict[str, Any]) -> Reply:
        if not state["failed"]:
            state["failed"] = True
            return failure
        return brain(request)

    return script


@pytest.mark.parametrize(
    "failure",
    [
        Reply(status=500, error_code="server_error"),
        Reply(status=429, error_code="rate_limit_exceeded", headers={"retry-after-ms": "20"}),
        Reply(status=503),
        Reply(delay=3.0),  # well over the client's timeout below
    ],
    ids=["500", "429", "503", "timeout"],
)
def test_a_transient_failure_is_retried(
    provider: FakeOpenAI, real_settings: Settings, logs: Records, failure: Reply
) -> None:
    provider.script = failing_first(failure)
    with SupportDesk(real_settings.model_copy(update={"model_timeout": 1.0})) as desk:
        result = desk.ask(TABLE[1][0], customer_id="cust_001")
    assert result["final_agent"] == "FAQAgent"
    assert len(provider.requests) == 3  # triage twice (one failure, one retry), then FAQ
    assert result["model_calls"] == 2
    retries = logs.events("model_retry")
    assert len(retries) == 1 and retries[0].attempt == 1  # type: ignore[attr-defined]
    if failure.status == 429:  # the server's Retry-After is honoured (within the cap)
        assert retries[0].wait_s >= 0.02  # type: ignore[attr-defined]
    assert not logs.events("incident")


def test_a_provider_that_stays_down_gets_a_polite_answer_and_an_incident(
    desk: SupportDesk, provider: FakeOpenAI, real_settings: Settings, logs: Records
) -> None:
    provider.script = lambda request: Reply(status=503, error_code="overloaded")
    result = desk.ask("I was charged twice and I want a refund", customer_id="cust_001")
    assert len(provider.requests) == 1 + real_settings.model_max_retries  # bounded
    assert result["final_agent"] == "FallbackAgent"
    assert APOLOGY in result["response"]
    assert "503" not in result["response"] and "Traceback" not in result["response"]
    assert list_refunds(desk.db, customer_id="cust_001") == []  # nothing half-done
    # The message was about a refund, so a person follows up even though triage never finished.
    tickets = list_tickets(desk.db, customer_id="cust_001")
    assert len(tickets) == 1 and tickets[0].ticket_id in result["response"]
    assert len(logs.events("incident")) == 1
    assert len(logs.events("model_retry")) == real_settings.model_max_retries


def test_the_openai_path_never_loads_the_offline_model(tmp_path: Path) -> None:
    # A refund message while the provider is down: the fallback still files a ticket, without the offline router.
    code = f"""
import sys
from service.desk import SupportDesk
from service.settings import Settings
from tools.tickets import list_tickets
settings = Settings(data_dir={str(tmp_path / "desk")!r}, today="{TODAY}", models={MODELS!r}, model_max_retries=0)
with SupportDesk(settings) as desk:
    result = desk.ask("I was charged twice and I want my money back", customer_id="cust_001")
    tickets = list_tickets(desk.db, customer_id="cust_001")
print(result["final_agent"], len(tickets), sorted(m for m in sys.modules if m.startswith("llm.")))
"""
    env = {**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-test-not-a-real-key-0000"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    final, tickets, modules = run.stdout.strip().split(" ", 2)
    assert (final, tickets) == ("FallbackAgent", "1")
    assert "llm.router" not in modules and "llm.offline" not in modules, modules


def test_an_exhausted_quota_is_not_retried(desk: SupportDesk, provider: FakeOpenAI, logs: Records) -> None:
    # The client retries every 429; waiting does not refill a quota, so this one is not retried.
    provider.script = lambda request: Reply(status=429, error_code="insufficient_quota")
    result = desk.ask("How do I export my data to CSV?", customer_id="cust_001")
    assert len(provider.requests) == 1
    assert logs.events("model_retry") == []
    assert result["final_agent"] == "FallbackAgent" and APOLOGY in result["response"]


def test_a_stream_that_breaks_is_never_shown_twice(desk: SupportDesk, provider: FakeOpenAI, logs: Records) -> None:
    def script(request: dict[str, Any]) -> Reply:
        if agent_of(request) == "faq":  # the connection drops after "Hello there "
            return Reply(content="Hello there friend, here is how to export your data.", break_after=2)
        return brain(request)

    provider.script = script
    pieces: list[tuple[str, str, str]] = []
    result = desk.ask("How do I export my data to CSV?", customer_id="cust_001", on_text=lambda *p: pieces.append(p))
    shown = "".join(text for _, _, text in pieces)
    assert shown.count("Hello there") == 1 and "friend" not in shown
    assert [agent_of(r) for r in provider.requests] == ["triage", "faq"]  # the broken stream was not re-sent
    assert logs.events("model_retry") == []
    # The customer is told something went wrong, in a message of its own, and the thread keeps only that.
    assert result["final_agent"] == "FallbackAgent" and APOLOGY in result["response"]
    assert pieces[-1][0] == "FallbackAgent" and pieces[-1][1] != pieces[0][1]
    assert "Hello there" not in " ".join(m["text"] for m in desk.history(result["thread_id"]))


def test_a_rejected_key_is_not_retried(desk: SupportDesk, provider: FakeOpenAI) -> None:
    provider.script = lambda request: Reply(status=401, error_code="invalid_api_key")
    result = desk.ask("How do I export my data to CSV?", customer_id="cust_001")
    assert len(provider.requests) == 1
    assert result["final_agent"] == "FallbackAgent"
    assert list_tickets(desk.db, customer_id="cust_001") == []  # a how-to question is not a money matter


def test_every_model_call_is_logged_with_its_usage(desk: SupportDesk, provider: FakeOpenAI, logs: Records) -> None:
    desk.ask(TABLE[2][0], customer_id="cust_001")
    calls = logs.events("model_call")
    assert [r.total_tokens for r in calls] == [u["total_tokens"] for u in provider.usage_sent]  # type: ignore[attr-defined]
    assert [r.agent for r in calls] == ["TriageAgent", "BillingAgent", "BillingAgent"]  # type: ignore[attr-defined]
    assert {r.model for r in calls} == {"gpt-4o"}  # type: ignore[attr-defined]


# --- streaming ----------------------------------------------------------------------------------


def test_the_desk_streams_tokens_and_counts_streamed_usage(desk: SupportDesk, provider: FakeOpenAI) -> None:
    pieces: list[tuple[str, str, str]] = []
    result = desk.ask(TABLE[1][0], customer_id="cust_001", on_text=lambda *p: pieces.append(p))
    assert all(r["stream"] is True for r in provider.requests)
    assert all(r["stream_options"] == {"include_usage": True} for r in provider.requests)
    assert len(pieces) > 5 and {agent for agent, _, _ in pieces} == {"FAQAgent"}
    assert "".join(text for _, _, text in pieces) == result["response"]
    assert result["usage"]["total_tokens"] == sum(u["total_tokens"] for u in provider.usage_sent) > 0


def test_code_written_replies_are_streamed_whole(desk: SupportDesk, provider: FakeOpenAI) -> None:
    pieces: list[tuple[str, str, str]] = []
    result = desk.ask(TABLE[0][0], customer_id="cust_001", on_text=lambda *p: pieces.append(p))
    assert pieces == [("RefundAgent", pieces[0][1], result["response"])]


def test_support_chat_prints_the_reply_as_it_arrives(provider: FakeOpenAI, tmp_path: Path) -> None:
    import os
    import queue
    import subprocess
    import sys

    gate = threading.Event()

    def script(request: dict[str, Any]) -> Reply:
        reply = brain(request)
        if agent_of(request) == "faq":
            reply.gate = gate  # the stream stops after its first word until the test has seen it
        return reply

    provider.script = script
    env = {
        **os.environ,
        "OPENAI_BASE_URL": provider.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key-0000",
        "SUPPORT_MODEL": "openai:gpt-4o-mini",
        "SUPPORT_DATA_DIR": str(tmp_path / "chat"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "chat", "--customer", "cust_001"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdin and proc.stdout
    out: queue.Queue[bytes] = queue.Queue()
    stdout = proc.stdout

    def pump() -> None:
        for data in iter(lambda: stdout.read1(4096), b""):
            out.put(data)

    threading.Thread(target=pump, daemon=True).start()

    def read_until(marker: str) -> str:
        seen = ""
        while marker not in seen:
            seen += out.get(timeout=30).decode()
        return seen

    try:
        proc.stdin.write(b"How do I export my data to CSV?\n")
        proc.stdin.flush()
        so_far = read_until("FAQAgent> Here ")
        assert "Export." not in so_far  # the rest has not been sent yet, and was not printed
        gate.set()
        so_far += read_until("you> ")
        assert "choose Export." in so_far
        proc.stdin.write(b"quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        gate.set()
        if proc.poll() is None:
            proc.kill()
    assert all(r["stream"] is True for r in provider.requests)


def test_two_refunds_proposed_in_parallel_propose_one_and_say_so(desk: SupportDesk, provider: FakeOpenAI) -> None:
    def script(request: dict[str, Any]) -> Reply:
        if agent_of(request) == "refund":
            return Reply(
                tool_calls=[
                    ("propose_refund", {"order_id": "ord_402", "reason": "not used"}),
                    ("propose_refund", {"order_id": "ord_401", "reason": "not used"}),
                ]
            )
        return brain(request)

    provider.script = script
    proposed = desk.ask("Refund ord_402 and ord_401 please", customer_id="cust_004")
    assert proposed["pending_proposal"]["order_id"] == "ord_402"
    assert "ord_402" in proposed["response"] and "ask me again about ord_401" in proposed["response"]
    result = desk.ask("yes", customer_id="cust_004", thread_id=proposed["thread_id"])
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_004")] == ["ord_402"]
    assert result["pending_approval"] is None  # ord_401 (old, needs a manager) was never proposed
    assert_thread_answers_every_tool_call(desk, result["thread_id"])
