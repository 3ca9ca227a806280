"""Proposals: nothing moves until the customer's explicit yes to exact terms, read and executed by code."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from nodes.answers import read_answer
from tools.accounts import get_account_summary
from tools.agent_tools import ToolContext, run_tool
from tools.amounts import counter_offer, read_amounts
from tools.audit import list_audit
from tools.plans import add_month, billing_period, included_features, prorated_cents, quote_plan_change
from tools.proposals import Proposal, execute_proposal, propose_plan_change, propose_refund
from tools.refunds import list_approvals, list_refunds, request_refund

# --- reading a yes or a no ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["yes", "Yes please", "yes, go ahead", "Yep, do it.", "ok", "OK confirm", "sure thing", "Yes please refund it",
     "go ahead", "sounds good", "Confirmed!", "yes please, thanks", "absolutely, go ahead"],
)  # fmt: skip
def test_an_explicit_yes_is_a_yes(text: str) -> None:
    assert read_answer(text) == "yes"


@pytest.mark.parametrize(
    "text",
    ["no", "No thanks", "nope", "cancel", "don't", "Never mind", "wait", "not now", "no, leave it"],
)
def test_a_decline_is_a_no(text: str) -> None:
    assert read_answer(text) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "yes but only $20",  # a condition changes the terms
        "yes?",  # a question
        "yes, and what about my invoice",  # more than a yes
        "thanks",  # politeness agrees to nothing
        "I think so, maybe",
        "Would I need a manager to approve a refund of the seat pack",
        "please",
        "actually yes",  # a hedge
        "",
    ],
)
def test_anything_else_is_an_ordinary_message(text: str) -> None:
    assert read_answer(text) is None


def test_a_yes_may_name_exactly_what_was_proposed() -> None:
    assert read_answer("yes refund ord_102", naming=["ord_102"]) == "yes"
    assert read_answer("yes refund ord_101") is None  # another charge is not what was proposed


# --- reading amounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("Just refund sixty dollars of it please.", [60.0]),
        ("eight hundred ninety-nine dollars back", [899.0]),
        ("could I get 30 back", [30.0]),
        ("I was charged $49.99 twice", [49.99]),
        ("$1,000.50 back", [1000.5]),
        ("a hundred and twenty bucks", [120.0]),
        ("refund ord_102 from November 15th", []),  # ids and dates are not money
        ("please send back 15 on the add-on", [15.0]),
        ("some money back please, like 40$", [40.0]),  # the sign after the figure
        ("one hundred ninety nine ninety nine back, from 2 months ago", [199.99]),  # spoken cents beside typed digits
        ("ok, refund exactly 300 of ord_301", [300.0]),
        ("it came back 2 weeks later", []),  # a count of days or weeks after "back" is not money
    ],
)
def test_amounts_are_read_from_words_and_figures(text: str, amounts: list[float]) -> None:
    reading = read_amounts(text)
    assert reading.amounts == amounts and reading.ambiguous == []


@pytest.mark.parametrize("text", ["-$50 please", "refund $8.99e2", "$50-60 back", "$1,00", "refund $50 to $60"])
def test_ambiguous_amounts_are_flagged_not_guessed(text: str) -> None:
    reading = read_amounts(text)
    assert reading.ambiguous and reading.amounts == []


# --- plan facts ------------------------------------------------------------------------------------


def test_months_roll_over_to_the_last_day() -> None:
    assert add_month(date(2026, 1, 31)) == date(2026, 2, 28)
    assert add_month(date(2026, 12, 15)) == date(2027, 1, 15)


def test_proration_counts_the_days_left_in_the_period() -> None:
    period = (date(2026, 11, 1), date(2026, 12, 1))  # 30 days
    assert prorated_cents(15000, today=date(2026, 11, 16), period=period) == 7500
    assert prorated_cents(-3000, today=date(2026, 11, 1), period=period) == -3000
    assert prorated_cents(15000, today=date(2026, 11, 16), period=None) == 0


def test_a_quote_is_computed_from_the_account(desk: Any) -> None:
    account = get_account_summary(desk.db, "cust_001")  # Alice, Pro, billed monthly
    quote = quote_plan_change(account, "enterprise")
    period = billing_period(account)
    assert period is not None and quote.next_renewal == period[1] == account.next_renewal
    assert (quote.old_monthly_price, quote.new_monthly_price, quote.monthly_difference) == (49.99, 199.99, 150.0)
    days_left, days = (period[1] - account.today).days, (period[1] - period[0]).days
    assert quote.prorated_amount == pytest.approx(round(150.0 * days_left / days, 2))
    assert "SSO (SAML and OIDC)" in quote.gained and quote.direction == "upgrade"
    assert "Unlimited team members" not in quote.lost


def test_a_quote_counts_what_a_plan_inherits(desk: Any) -> None:
    # Bob is on Enterprise, which lists "Everything in Pro": leaving it for Free loses Pro's features as well.
    down = quote_plan_change(get_account_summary(desk.db, "cust_002"), "free")
    assert {"API access", "SSO (SAML and OIDC)"} <= set(down.lost)
    assert not any(f.startswith("Everything in") for f in down.lost) and down.gained == []  # Free's limits
    up = quote_plan_change(get_account_summary(desk.db, "cust_001"), "enterprise")  # Alice, Pro
    assert up.lost == [] and "API access" not in up.gained


def test_a_downgrade_proposal_names_everything_lost_and_no_gains(desk: Any) -> None:
    result = desk.ask("we'd like to drop down to the free plan", customer_id="cust_002")  # Bob, Enterprise
    assert result["pending_proposal"] is not None, result["response"]
    reply = result["response"]
    assert "API access" in reply and "SSO (SAML and OIDC)" in reply and "You'd gain" not in reply


def test_included_features_read_a_plan_named_inside_another() -> None:
    catalogue = {"pro": ["API access", "Everything in Team"], "team": ["Chat", "Everything in Pro"]}
    # Own features first; a catalogue that goes round in a circle still ends.
    assert included_features(["SSO", "Everything in Pro"], catalogue) == [
        "SSO",
        "API access",
        "Chat",
        "Everything in Pro",
    ]
    assert included_features(["Everything in Gold"], catalogue) == ["Everything in Gold"]  # no such plan


# --- proposing and executing -------------------------------------------------------------------------


def test_a_proposal_writes_nothing(desk: Any) -> None:
    proposal = propose_refund(desk.db, "cust_005", "ord_502", reason="ran short", requested_amount=60)
    assert isinstance(proposal, Proposal) and (proposal.kind, proposal.amount) == ("refund", 60.0)
    plan = propose_plan_change(desk.db, "cust_001", "free")
    assert plan.quote is not None and plan.quote.direction == "downgrade"
    assert list_refunds(desk.db, customer_id="cust_005") == [] or all(
        r["rule"] == "seed" for r in list_refunds(desk.db, customer_id="cust_005")
    )
    assert get_account_summary(desk.db, "cust_001").plan.id == "pro"


def test_executing_does_exactly_what_was_proposed_once(desk: Any) -> None:
    proposal = propose_refund(desk.db, "cust_005", "ord_502", reason="ran short", requested_amount=60)
    assert isinstance(proposal, Proposal)
    before = len(list_refunds(desk.db, order_id="ord_502"))
    first = execute_proposal(desk.db, proposal, customer_id="cust_005", thread_id="t1")
    again = execute_proposal(desk.db, proposal, customer_id="cust_005", thread_id="t1")
    refunds = list_refunds(desk.db, order_id="ord_502")
    assert first.status == again.status == "done"
    assert len(refunds) == before + 1 and refunds[-1]["amount"] == 60.0
    assert refunds[-1]["idempotency_key"] == f"proposal:{proposal.proposal_id}"


def test_nothing_happens_when_the_facts_changed_since_the_proposal(desk: Any) -> None:
    proposal = propose_refund(desk.db, "cust_004", "ord_402", reason="unused", requested_amount=None)
    assert isinstance(proposal, Proposal) and proposal.amount == 29.0
    request_refund(desk.db, "cust_004", "ord_402", reason="elsewhere", thread_id="other", requested_amount=10)
    execution = execute_proposal(desk.db, proposal, customer_id="cust_004", thread_id="t")
    assert execution.status == "not_done"
    assert [r["amount"] for r in list_refunds(desk.db, order_id="ord_402")] == [10.0]


def test_an_approval_request_is_filed_only_on_execution(desk: Any) -> None:
    proposal = propose_refund(desk.db, "cust_003", "ord_301", reason="mistake", requested_amount=None)
    assert isinstance(proposal, Proposal) and proposal.kind == "approval_request"
    assert list_approvals(desk.db) == []
    execution = execute_proposal(desk.db, proposal, customer_id="cust_003", thread_id="t")
    assert execution.status == "awaiting_approval" and len(list_approvals(desk.db)) == 1


# --- the conversation ----------------------------------------------------------------------------------


def test_yes_executes_with_no_model_call_and_no_cancels(desk: Any) -> None:
    proposed = desk.ask(
        "The onboarding session ran short. Just refund sixty dollars of it please.", customer_id="cust_005"
    )
    terms = proposed["pending_proposal"]
    assert (terms["order_id"], terms["amount"]) == ("ord_502", 60.0)
    assert "$60.00" in proposed["response"] and "yes" in proposed["response"]
    done = desk.ask("yes please", customer_id="cust_005", thread_id=proposed["thread_id"])
    assert done["model_calls"] == 0 and done["pending_proposal"] is None
    assert [r["amount"] for r in list_refunds(desk.db, order_id="ord_502")][-1] == 60.0

    again = desk.ask("Please refund ord_402, it was never used", customer_id="cust_004")
    cancelled = desk.ask("no", customer_id="cust_004", thread_id=again["thread_id"])
    assert cancelled["model_calls"] == 0 and "won't" in cancelled["response"]
    assert list_refunds(desk.db, order_id="ord_402") == []
    assert any(a["action"] == "proposal.cancelled" for a in list_audit(desk.db))


def test_a_proposal_lapses_on_any_other_message_and_a_later_yes_does_nothing(desk: Any) -> None:
    proposed = desk.ask("Please refund ord_402, it was never used", customer_id="cust_004")
    assert proposed["pending_proposal"]
    other = desk.ask("How do I export my data?", customer_id="cust_004", thread_id=proposed["thread_id"])
    assert other["pending_proposal"] is None
    desk.ask("yes", customer_id="cust_004", thread_id=proposed["thread_id"])
    assert list_refunds(desk.db, order_id="ord_402") == []


def test_a_conditional_yes_is_read_by_the_agent_not_executed(desk: Any) -> None:
    proposed = desk.ask("Please refund ord_402, it was never used", customer_id="cust_004")
    answer = desk.ask("yes but only $20", customer_id="cust_004", thread_id=proposed["thread_id"])
    assert list_refunds(desk.db, order_id="ord_402") == []
    assert answer["pending_proposal"] and answer["pending_proposal"]["amount"] == 20.0


def test_an_ambiguous_amount_is_asked_about(desk: Any) -> None:
    result = desk.ask("refund -$50 from ord_502 please", customer_id="cust_005")
    assert result["pending_proposal"] is None
    assert '"-$50"' in result["response"] and "How much" in result["response"]


# --- questions are answered, not acted on -----------------------------------------------------------------


def test_a_policy_question_is_answered_by_the_policy_and_proposes_nothing(desk: Any) -> None:
    result = desk.ask("Would I need a manager to approve a refund of the seat pack?", customer_id="cust_003")
    assert result["pending_proposal"] is None and list_approvals(desk.db) == []
    assert "would need a manager's approval" in result["response"] and "$899.00" in result["response"]


def test_just_explain_explains_the_charges_and_proposes_nothing(desk: Any) -> None:
    text = "I think I was charged twice this month. Don't do anything yet, just explain what the two charges are."
    result = desk.ask(text, customer_id="cust_001")
    assert result["pending_proposal"] is None
    assert "ord_101" in result["response"] and "ord_102" in result["response"]


def test_a_hypothetical_refund_question_reaches_the_help_center_without_looping(desk: Any) -> None:
    text = "If I asked for my money back on the reporting add-on, how long would it take to reach my card?"
    result = desk.ask(text, customer_id="cust_004")
    assert result["final_agent"] == "FAQAgent" and result["pending_proposal"] is None
    assert result["routed_to"].count("RefundAgent") <= 1  # no ping-pong between specialists


@pytest.mark.parametrize(
    ("order", "amount"),
    [("ord_102", 20.0), ("ord_101", 49.99)],  # the order that was offered is bounded; another order is not
)
def test_a_counter_offer_bounds_whatever_a_model_asks_for(desk: Any, order: str, amount: float) -> None:
    # Alice was offered $49.99 on ord_102 and answered with a figure: a model asking for more gets at most that.
    ctx = ToolContext(
        db=desk.db,
        customer_id="cust_001",
        thread_id="thr_counter",
        customer_text="hmm, 20 would do for that one",
        answered_offer=("ord_102", 49.99),
    )
    result = run_tool("propose_refund", {"order_id": order, "reason": "double charge", "amount": 49.99}, ctx)
    assert result.data.get("status") == "proposed", result.data
    assert result.data["proposal"]["amount"] == pytest.approx(amount), result.data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("that's generous, but 60 feels fair", 60.0),
        ("that's generous, but sixty feels fair", 60.0),  # in words, as customers write it
        ("a hundred is too much, how about seventy?", 70.0),
        ("sixty five bucks would do", 65.0),
        ("we only used it for 2 weeks", None),  # a count of something, not money
        ("fine by me, but 3 of our 5 seats were never used", None),
        ("one more thing: is that the seat pack?", None),
        ("150 would be better", None),  # more than offered is not a counter-offer
    ],
)
def test_counter_offer_reads_a_smaller_figure_in_digits_or_words(text: str, expected: float | None) -> None:
    assert counter_offer(text, 100.0) == expected


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("we only used half of the onboarding, refund half of it", 50.0),  # $100 is left on ord_502
        ("$30 back please, the trainer missed half of it", 30.0),  # a named amount wins over "half"
        ("the whole session was useless, refund all of it", 100.0),
    ],
)
def test_half_bounds_whatever_a_model_asks_for(desk: Any, text: str, amount: float) -> None:
    ctx = ToolContext(db=desk.db, customer_id="cust_005", thread_id="thr_half", customer_text=text)
    result = run_tool("propose_refund", {"order_id": "ord_502", "reason": "ran short", "amount": 100}, ctx)
    assert result.data.get("status") == "proposed", result.data
    assert result.data["proposal"]["amount"] == pytest.approx(amount), result.data
