"""Streaming and usage with the offline model, which streams its replies word by word."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli.main import main
from tests.conftest import ask_and_confirm


def test_the_reply_arrives_in_pieces_that_add_up_to_the_response(desk: Any) -> None:
    pieces: list[tuple[str, str, str]] = []
    result = desk.ask("How do I export my data to CSV?", customer_id="cust_001", on_text=lambda *p: pieces.append(p))
    assert len(pieces) > 5
    assert {agent for agent, _, _ in pieces} == {"FAQAgent"}
    assert "".join(text for _, _, text in pieces) == result["response"]


def test_a_thread_waiting_for_a_manager_streams_the_next_reply_once(desk: Any) -> None:
    first = ask_and_confirm(desk, "Please refund ord_301, the seats were never used", customer_id="cust_003")
    assert first["pending_approval"]
    pieces: list[Any] = []
    thread = first["thread_id"]
    again = desk.ask("Any news?", customer_id="cust_003", thread_id=thread, on_text=lambda *p: pieces.append(p))
    assert "".join(text for _, _, text in pieces) == again["response"]
    assert again["pending_approval"] == first["pending_approval"]


def test_ask_json_reports_usage_per_agent_and_per_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--customer", "cust_001", "--json", "How do I export my data to CSV?"]) == 0
    usage = json.loads(capsys.readouterr().out)["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert set(usage["by_agent"]) == {"TriageAgent", "FAQAgent"}
    assert [c["agent"] for c in usage["calls"]] == ["TriageAgent", "FAQAgent"]
    assert sum(c["total_tokens"] for c in usage["calls"]) == usage["total_tokens"]
