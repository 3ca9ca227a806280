"""Every failure ends in a polite answer: step limit, model errors, tool errors, bad handoffs."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage

from service.desk import SupportDesk
from service.settings import Settings
from tests.scripted_model import ScriptedChatModel, tool_call
from tools.tickets import list_tickets

APOLOGY = "something went wrong on our side"


def desk_with(settings: Settings, **models: Any) -> SupportDesk:
    return SupportDesk(settings, models=models)


def test_a_model_that_loops_hits_the_step_limit_and_falls_back(settings: Settings) -> None:
    looping = ScriptedChatModel(steps=[tool_call("lookup_charge", {"order_id": "ord_101"})])
    triage = ScriptedChatModel(
        steps=[tool_call("transfer_to_billing", {"issue_type": "charge_dispute", "summary": "charge"})]
    )
    with desk_with(settings.model_copy(update={"step_limit": 12}), triage=triage, billing=looping) as desk:
        result = desk.ask("What is ord_101?", customer_id="cust_001")
    assert result["final_agent"] == "FallbackAgent"
    assert APOLOGY in result["response"]
    assert 3 <= len(looping.calls) <= 6  # bounded by the limit, not by luck


def test_the_default_step_limit_is_25(settings: Settings) -> None:
    looping = ScriptedChatModel(steps=[tool_call("search_faq", {"query": "x"})])
    triage = ScriptedChatModel(steps=[tool_call("transfer_to_faq", {"topic": "x", "specific_question": "x"})])
    with desk_with(settings, triage=triage, faq=looping) as desk:
        result = desk.ask("How does it work?", customer_id="cust_001")
    assert result["final_agent"] == "FallbackAgent"
    # 25 steps: intake and triage (no proposal waits, so no confirm step), then faq/tools pairs until the reserve
    # is reached, then fallback.
    assert len(looping.calls) == 11


def test_a_model_exception_ends_politely_and_money_matters_get_a_ticket(settings: Settings) -> None:
    triage = ScriptedChatModel(steps=[tool_call("transfer_to_refund", {"reason": "double charge"})])
    broken = ScriptedChatModel(steps=[RuntimeError("provider exploded")])
    with desk_with(settings, triage=triage, refund=broken) as desk:
        result = desk.ask("Refund my double charge", customer_id="cust_001")
        tickets = list_tickets(desk.db, customer_id="cust_001")
    assert result["final_agent"] == "FallbackAgent"
    assert "Traceback" not in result["response"] and "exploded" not in result["response"]
    assert len(tickets) == 1 and tickets[0].ticket_id in result["response"]


def test_a_tool_exception_ends_politely(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools import accounts

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(accounts, "get_charge", boom)
    triage = ScriptedChatModel(
        steps=[tool_call("transfer_to_billing", {"issue_type": "charge_dispute", "summary": "s"})]
    )
    billing = ScriptedChatModel(steps=[tool_call("lookup_charge", {"order_id": "ord_101"})])
    with desk_with(settings, triage=triage, billing=billing) as desk:
        result = desk.ask("What is ord_101?", customer_id="cust_001")
    assert result["final_agent"] == "FallbackAgent"
    assert "disk on fire" not in result["response"]


def test_a_malformed_handoff_is_sent_back_once_then_falls_back(settings: Settings) -> None:
    bad = tool_call("transfer_to_billing", {"issue_type": "not-a-type", "summary": "x"})
    triage = ScriptedChatModel(steps=[bad])
    with desk_with(settings, triage=triage) as desk:
        result = desk.ask("Explain my invoice", customer_id="cust_001")
    assert len(triage.calls) == 2
    assert "Invalid arguments" in triage.calls[1][-1].content  # the model saw the validation error
    assert result["final_agent"] == "FallbackAgent"


def test_a_malformed_handoff_can_be_corrected(settings: Settings) -> None:
    bad = tool_call("transfer_to_billing", {"issue_type": "not-a-type", "summary": "x"})
    good = tool_call("transfer_to_billing", {"issue_type": "invoice_question", "summary": "x"}, "call_2")
    triage = ScriptedChatModel(steps=[bad, good])
    billing = ScriptedChatModel(steps=[AIMessage(content="Your latest invoice is paid.")])
    with desk_with(settings, triage=triage, billing=billing) as desk:
        result = desk.ask("Explain my invoice", customer_id="cust_001")
    assert result["final_agent"] == "BillingAgent"
    assert result["metadata"][0]["record"]["issue_type"] == "invoice_question"


def test_an_invented_tool_is_answered_not_run(settings: Settings) -> None:
    triage = ScriptedChatModel(
        steps=[tool_call("transfer_to_billing", {"issue_type": "charge_dispute", "summary": "s"})]
    )
    billing = ScriptedChatModel(
        steps=[
            tool_call("propose_refund", {"order_id": "ord_102", "reason": "x"}),
            AIMessage(content="Sorry."),
        ]
    )
    with desk_with(settings, triage=triage, billing=billing) as desk:
        result = desk.ask("Refund ord_102", customer_id="cust_001")
        from tools.refunds import list_refunds

        assert list_refunds(desk.db, customer_id="cust_001") == []
    answer = billing.calls[1][-1]
    assert "not available" in answer.content
    assert result["response"] == "Sorry."


def test_a_specialist_cannot_hand_the_same_message_back_and_forth(settings: Settings) -> None:
    # Triage sends to refund, refund hands back, triage sends to refund again: refused, then the fallback.
    triage = ScriptedChatModel(steps=[tool_call("transfer_to_refund", {"reason": "money"})])
    refund = ScriptedChatModel(steps=[tool_call("transfer_to_triage", {"reason": "not mine"})])
    with desk_with(settings, triage=triage, refund=refund) as desk:
        result = desk.ask("refund please", customer_id="cust_001")
    assert result["routed_to"].count("RefundAgent") == 1
    assert result["final_agent"] == "FallbackAgent"
    assert len(refund.calls) == 1 and len(triage.calls) == 3  # the second transfer was refused once, then again
