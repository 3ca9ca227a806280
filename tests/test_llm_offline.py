"""The offline chat model playing each agent, its tool calls, structured output and the block protocol."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from graph.handoffs import (
    BillingHandoffInput,
    EscalationInput,
    FAQHandoffInput,
    RefundHandoffInput,
    TriageHandback,
)
from llm.offline import OfflineChatModel
from llm.protocol import (
    ACCOUNT_TAG,
    HANDOFF_TAG,
    HISTORY_TAG,
    KNOWLEDGE_TAG,
    parse_blocks,
    render_block,
)
from tools.records import AccountSummary, Charge, Invoice, PaymentMethod, Plan

TODAY = date(2026, 3, 18)

# --------------------------------------------------------------------------- tool schemas


class _LookupCharge(BaseModel):
    order_id: str


class _FindCharges(BaseModel):
    amount: float | None = None
    date: str | None = None


class _ListInvoices(BaseModel):
    status: str | None = None


class _ChangePlan(BaseModel):
    new_plan: str


class _ProcessRefund(BaseModel):
    order_id: str
    reason: str
    amount: float | None = Field(default=None, gt=0)


class _SearchFAQ(BaseModel):
    query: str


ARGS: dict[str, type[BaseModel]] = {
    "transfer_to_billing": BillingHandoffInput,
    "transfer_to_refund": RefundHandoffInput,
    "transfer_to_faq": FAQHandoffInput,
    "transfer_to_triage": TriageHandback,
    "escalate_to_human": EscalationInput,
    "lookup_charge": _LookupCharge,
    "find_charges": _FindCharges,
    "list_invoices": _ListInvoices,
    "propose_plan_change": _ChangePlan,
    "propose_refund": _ProcessRefund,
    "search_faq": _SearchFAQ,
}
ROLE_TOOLS = {
    "triage": ("transfer_to_billing", "transfer_to_refund", "transfer_to_faq", "escalate_to_human"),
    "billing": (
        "lookup_charge",
        "find_charges",
        "list_invoices",
        "propose_plan_change",
        "transfer_to_refund",
        "transfer_to_triage",
        "escalate_to_human",
    ),
    "refund": ("propose_refund", "lookup_charge", "transfer_to_triage", "escalate_to_human"),
    "faq": ("search_faq", "transfer_to_triage", "escalate_to_human"),
}


def schema(name: str) -> dict[str, Any]:
    model = ARGS[name]
    return convert_to_openai_tool({**model.model_json_schema(), "title": name, "description": f"The {name} tool."})


# --------------------------------------------------------------------------- an account

PLANS = [
    Plan(id="free", name="Free", monthly_price=0, features=["3 projects"]),
    Plan(id="pro", name="Pro", monthly_price=29, features=["Unlimited projects", "Integrations"]),
    Plan(
        id="enterprise",
        name="Enterprise",
        monthly_price=99,
        features=["Unlimited projects", "Integrations", "SAML SSO", "Audit log"],
    ),
]


def _charge(order_id: str, amount: float, on: date, description: str, **extra: Any) -> Charge:
    return Charge(
        order_id=order_id,
        amount=amount,
        description=description,
        kind=extra.pop("kind", "subscription"),
        charged_on=on,
        status=extra.pop("status", "paid"),
        invoice_id=extra.pop("invoice_id", f"inv_{order_id[4:]}"),
        refundable_amount=extra.pop("refundable_amount", amount),
        age_days=(TODAY - on).days,
        **extra,
    )


ACCOUNT = AccountSummary(
    customer_id="cus_42",
    name="Robin",
    email="robin@example.com",
    plan=PLANS[1],
    member_since=date(2025, 6, 1),
    today=TODAY,
    charges=[
        _charge("ord_305", 29.0, date(2026, 3, 2), "Pro plan, monthly (March 2026)", duplicate_of="ord_304"),
        _charge("ord_304", 29.0, date(2026, 3, 2), "Pro plan, monthly (March 2026)"),
        _charge("ord_299", 64.5, date(2026, 2, 14), "Extra storage add-on", kind="add_on"),
        _charge("ord_290", 29.0, date(2026, 2, 2), "Pro plan, monthly (February 2026)"),
        _charge("ord_280", 29.0, date(2026, 1, 2), "Pro plan, monthly (January 2026)", refundable_amount=0.0),
    ],
    invoices=[
        Invoice(
            invoice_id="inv_305",
            order_id="ord_305",
            amount=29.0,
            issued_on=date(2026, 3, 2),
            due_on=date(2026, 3, 30),
            status="open",
        ),
        Invoice(
            invoice_id="inv_299",
            order_id="ord_299",
            amount=64.5,
            issued_on=date(2026, 2, 14),
            due_on=date(2026, 2, 28),
            status="paid",
        ),
    ],
    payment_methods=[
        PaymentMethod(method_id="pm_1", brand="mastercard", last4="5100", expires="04/2027", is_default=True)
    ],
    available_plans=PLANS,
)

KNOWLEDGE = [
    {
        "slug": "export-data",
        "title": "Exporting your data",
        "body": (
            "You can export projects and reports at any time, on every plan.\n\n"
            "1. Open the project you want to export.\n"
            "2. Click the **menu** and choose **Export**, then pick CSV or JSON.\n\n"
            "Large exports are prepared in the background and we email you a download link. "
            "Our offices are closed on public holidays."
        ),
        "score": 6.4,
    },
    {"slug": "webhooks", "title": "Webhooks", "body": "Webhooks send events to your server.", "score": 0.9},
]

# --------------------------------------------------------------------------- helpers

MODEL = OfflineChatModel()


def system(*, account: bool = True, **blocks: Any) -> SystemMessage:
    parts = ["You are an agent of the Acme support desk."]
    if account:
        parts.append(render_block(ACCOUNT_TAG, ACCOUNT))
    for tag, value in blocks.items():
        parts.append(render_block(tag, value))
    return SystemMessage(content="\n\n".join(parts))


def ask(role: str, text: str, *extra: BaseMessage, sys: SystemMessage | None = None) -> AIMessage:
    messages = [sys or system(), HumanMessage(content=text), *extra]
    reply = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS[role]]).invoke(messages)
    assert isinstance(reply, AIMessage)
    return reply


def only_call(reply: AIMessage) -> tuple[str, dict[str, Any]]:
    assert len(reply.tool_calls) == 1, reply
    call = reply.tool_calls[0]
    ARGS[call["name"]].model_validate(call["args"])  # every call validates against its schema
    assert "customer_id" not in call["args"]
    assert re.fullmatch(r"call_\d+", call["id"] or "")
    return call["name"], call["args"]


def tool_exchange(name: str, args: dict[str, Any], result: dict[str, Any]) -> list[BaseMessage]:
    call = {"name": name, "args": args, "id": "call_1", "type": "tool_call"}
    return [
        AIMessage(content="", tool_calls=[call]),
        ToolMessage(content=json.dumps(result), tool_call_id="call_1", name=name),
    ]


# --------------------------------------------------------------------------- triage


@pytest.mark.parametrize(
    ("text", "tool", "model"),
    [
        (
            "You took my subscription fee twice, give it back (ord_305)",
            "transfer_to_refund",
            RefundHandoffInput,
        ),
        ("What is the $64.50 charge on Feb 14?", "transfer_to_billing", BillingHandoffInput),
        ("How would I go about exporting a project?", "transfer_to_faq", FAQHandoffInput),
        ("I want a human being to handle this, now!", "escalate_to_human", EscalationInput),
    ],
)
def test_triage_routes_with_valid_records(text: str, tool: str, model: type[BaseModel]) -> None:
    name, args = only_call(ask("triage", text))
    assert name == tool
    model.model_validate(args)


def test_triage_refund_record_carries_entities() -> None:
    _, args = only_call(ask("triage", "Refund ord_299 please, the $64.50 add-on was never used!!"))
    record = RefundHandoffInput.model_validate(args)
    assert record.order_id == "ord_299"
    assert record.original_charge_amount == 64.5
    assert "never used" in record.reason


def test_triage_billing_record() -> None:
    _, args = only_call(ask("triage", "Please upgrade our workspace from Pro to Enterprise"))
    record = BillingHandoffInput.model_validate(args)
    assert record.issue_type == "plan_change"
    assert "enterprise" in record.summary.lower()


def test_triage_escalation_is_never_low_priority() -> None:
    _, args = only_call(ask("triage", "can I speak to someone on your team please, no rush"))
    assert EscalationInput.model_validate(args).priority != "low"


def test_triage_answers_small_talk_and_out_of_scope_in_text() -> None:
    hello = ask("triage", "Hello!")
    thanks = ask("triage", "thank you!")
    poem = ask("triage", "write a limerick about my cat")
    for reply in (hello, thanks, poem):
        assert not reply.tool_calls
        assert reply.content
    assert "welcome" in str(thanks.content).lower()
    for reply in (hello, poem):
        assert "billing" in str(reply.content).lower() and "refund" in str(reply.content).lower()


def test_triage_sends_a_bare_yes_back_to_billing() -> None:
    history = [
        {"role": "customer", "agent": None, "text": "move me to enterprise"},
        {
            "role": "agent",
            "agent": "BillingAgent",
            "text": "Switching you to the Enterprise plan costs $99.00/month",
        },
    ]
    name, _ = only_call(ask("triage", "yes", sys=system(**{HISTORY_TAG: history})))
    assert name == "transfer_to_billing"


# --------------------------------------------------------------------------- billing


def test_billing_explains_a_charge_from_the_account() -> None:
    reply = ask("billing", "What's the 64.50 charge from February 14th?")
    assert not reply.tool_calls
    text = str(reply.content)
    assert "ord_299" in text and "$64.50" in text and "inv_299" in text
    assert "storage" in text.lower()


def test_billing_flags_a_duplicate_charge() -> None:
    text = str(ask("billing", "why is there a charge on March 2 for $29?").content)
    assert "ord_305" in text and "duplicate" in text.lower() and "refund" in text.lower()


def test_billing_lists_recent_charges_when_nothing_matches() -> None:
    text = str(ask("billing", "Explain the $812.00 charge").content)
    assert "couldn't find" in text.lower()
    assert all(order in text for order in ("ord_305", "ord_304", "ord_299"))
    assert "ord_280" not in text  # only the three most recent


def test_billing_proposes_a_plan_change_the_customer_asks_for() -> None:
    # The model only understands the request; code quotes it (tools.plans) and waits for the yes.
    name, args = only_call(ask("billing", "I'd like to go up to the Enterprise tier"))
    assert (name, args) == ("propose_plan_change", {"new_plan": "enterprise"})


def test_billing_answers_a_plan_question_without_proposing() -> None:
    reply = ask("billing", "What's in the Enterprise plan?")
    assert not reply.tool_calls
    assert "$99.00" in str(reply.content)


def test_billing_quote_lists_only_real_gains_and_keeps_plan_on_no() -> None:
    text = str(ask("billing", "What would the free plan cost me?").content)
    assert "$0.00" in text and "$29.00 less" in text
    assert "Integrations" in text  # what the customer would lose
    history = [{"role": "agent", "agent": "BillingAgent", "text": text}]
    reply = ask("billing", "no, leave it", sys=system(**{HISTORY_TAG: history}))
    assert not reply.tool_calls
    assert "Pro" in str(reply.content)


def test_billing_seat_question_uses_plan_features() -> None:
    text = str(ask("billing", "We need more seats for new hires").content)
    assert "Pro" in text and "$29.00" in text
    assert "Enterprise" in text and "$99.00" in text


def test_billing_matches_amount_when_the_date_is_off() -> None:
    text = str(ask("billing", "What is the $64.50 charge from February 20?").content)
    assert "ord_299" in text and "February 14" in text
    assert "date you mentioned" in text


def test_billing_does_not_change_plan_without_a_proposal() -> None:
    reply = ask("billing", "yes")
    assert all(call["name"] != "propose_plan_change" for call in reply.tool_calls)


def test_billing_confirmed_duplicate_goes_to_refund() -> None:
    offer = str(ask("billing", "what is the March 2 charge of $29?").content)
    history = [{"role": "agent", "agent": "BillingAgent", "text": offer}]
    name, args = only_call(ask("billing", "yes please", sys=system(**{HISTORY_TAG: history})))
    assert name == "transfer_to_refund"
    assert RefundHandoffInput.model_validate(args).order_id == "ord_305"


def test_billing_invoices_and_payment_method() -> None:
    invoices = str(ask("billing", "Do I have any unpaid invoices?").content)
    assert "inv_305" in invoices and "$29.00" in invoices
    card = str(ask("billing", "Which card are you billing at the moment?").content)
    assert "5100" in card and "04/2027" in card and "Mastercard" in card


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("Actually I just want my money back for ord_299", "transfer_to_refund"),
        ("How do I set up single sign-on with Okta?", "transfer_to_triage"),
        ("Put me through to a real person", "escalate_to_human"),
    ],
)
def test_billing_hands_off_what_is_not_billing(text: str, tool: str) -> None:
    assert only_call(ask("billing", text))[0] == tool


def test_billing_looks_up_older_charges_and_summarises_results() -> None:
    # <account> shows only recent charges and counts the others; the tool looks further back.
    recent = ACCOUNT.model_dump(mode="json") | {"charges": [], "older_charges": len(ACCOUNT.charges)}
    sys = SystemMessage(content=render_block(ACCOUNT_TAG, recent))
    name, args = only_call(ask("billing", "what was the $64.50 charge on 2026-02-14?", sys=sys))
    assert (name, args) == ("find_charges", {"amount": 64.5, "date": "2026-02-14"})
    found = {"charges": [ACCOUNT.charges[2].model_dump(mode="json")]}
    reply = ask("billing", "what was the $64.50 charge on 2026-02-14?", *tool_exchange(name, args, found), sys=sys)
    assert not reply.tool_calls
    assert "ord_299" in str(reply.content)

    rejected = {"status": "rejected", "reason": "you are already on the Enterprise plan"}
    done = ask("billing", "yes", *tool_exchange("propose_plan_change", {"new_plan": "enterprise"}, rejected))
    assert "already on the Enterprise plan" in str(done.content)


# --------------------------------------------------------------------------- refund


def test_refund_picks_the_verified_duplicate() -> None:
    name, args = only_call(ask("refund", "I got billed double this month, please fix it"))
    assert name == "propose_refund"
    assert args["order_id"] == "ord_305"
    assert args.get("amount") is None


def test_refund_uses_order_id_from_message_or_handoff() -> None:
    assert only_call(ask("refund", "refund ord_290 please"))[1]["order_id"] == "ord_290"
    handoff = {
        "from": "TriageAgent",
        "tool": "transfer_to_refund",
        "record": {"order_id": "ord_299", "reason": "x"},
    }
    name, args = only_call(ask("refund", "I want a refund", sys=system(**{HANDOFF_TAG: handoff})))
    assert (name, args["order_id"]) == ("propose_refund", "ord_299")


def test_refund_unknown_order_still_asks_the_tool() -> None:
    name, args = only_call(ask("refund", "Refund ord_999999"))
    assert (name, args["order_id"]) == ("propose_refund", "ord_999999")


def test_refund_by_amount_and_partial_amount() -> None:
    assert only_call(ask("refund", "Please refund the $64.50 I paid"))[1] == {
        "order_id": "ord_299",
        "reason": "Please refund the $64.50 I paid",
    }
    _, args = only_call(ask("refund", "Could I get $20 back on ord_299? I barely used the storage"))
    assert args["order_id"] == "ord_299" and args["amount"] == 20.0


def test_refund_by_month() -> None:
    # Four $29 charges, one of them last month.
    assert only_call(ask("refund", "refund the $29 charge from last month"))[1]["order_id"] == "ord_290"
    # Two refundable charges last month: ask rather than guess.
    reply = ask("refund", "refund the charge from last month")
    assert not reply.tool_calls
    assert "ord_299" in str(reply.content) and "ord_290" in str(reply.content)


def test_refund_by_amount_and_loose_period() -> None:
    # Charged on Feb 14, "last week" from Mar 18 is loose: the amount decides.
    assert only_call(ask("refund", "refund the $64.50 storage I bought last week"))[1]["order_id"] == "ord_299"


def test_refund_asks_which_charge_when_ambiguous() -> None:
    reply = ask("refund", "I want a refund")
    assert not reply.tool_calls
    text = str(reply.content)
    assert "ord_305" in text and "ord_299" in text
    assert "ord_280" not in text  # nothing left to refund on it


def test_refund_topic_change_goes_back_to_triage() -> None:
    name, args = only_call(ask("refund", "Unrelated, but how do I invite a colleague to my workspace?"))
    assert name == "transfer_to_triage"
    assert "invite" in TriageHandback.model_validate(args).reason


def test_a_refund_result_code_left_to_the_model_is_reported_plainly() -> None:
    # Code states every proposal and outcome; anything else is reported without claiming money moved.
    args = {"order_id": "ord_299"}
    odd = {"status": "unexpected", "order_id": "ord_299", "explanation": "It cannot be refunded."}
    reply = ask("refund", "refund ord_299", *tool_exchange("propose_refund", args, odd))
    assert not reply.tool_calls
    assert "can't refund ord_299" in str(reply.content) and "refunded $" not in str(reply.content)


# --------------------------------------------------------------------------- faq


def test_faq_answers_from_knowledge_and_names_the_article() -> None:
    reply = ask("faq", "How can I export a project as CSV?", sys=system(**{KNOWLEDGE_TAG: KNOWLEDGE}))
    assert not reply.tool_calls
    text = str(reply.content)
    assert "Exporting your data" in text
    assert "Export" in text
    assert "holidays" not in text  # only the sentences relevant to the question


def test_faq_admits_when_knowledge_is_irrelevant() -> None:
    reply = ask("faq", "Can I embed a live chart in Notion?", sys=system(**{KNOWLEDGE_TAG: KNOWLEDGE}))
    text = str(reply.content).lower()
    assert not reply.tool_calls
    assert "couldn't find" in text and ("person" in text or "team" in text)


def test_faq_searches_when_no_knowledge_was_given_and_answers_from_results() -> None:
    name, args = only_call(ask("faq", "How can I export a project as CSV?"))
    assert name == "search_faq" and "export" in args["query"].lower()
    found = {"articles": KNOWLEDGE}
    reply = ask("faq", "How can I export a project as CSV?", *tool_exchange(name, args, found))
    assert "Exporting your data" in str(reply.content)


def test_faq_hands_money_questions_back_to_triage() -> None:
    reply = ask("faq", "I was charged $29 twice and want it refunded", sys=system(**{KNOWLEDGE_TAG: KNOWLEDGE}))
    assert only_call(reply)[0] == "transfer_to_triage"


# --------------------------------------------------------------------------- model plumbing


@pytest.mark.parametrize("choice", ["any", "none", "escalate_to_human", {"type": "function", "function": {}}])
def test_a_forced_tool_choice_is_refused_plainly(choice: Any) -> None:
    # The desk never forces a tool; a caller that does learns so at once, not from a made-up record.
    tools = [schema(n) for n in ROLE_TOOLS["triage"]]
    with pytest.raises(NotImplementedError, match="tool_choice"):
        MODEL.bind_tools(tools, tool_choice=choice)
    with pytest.raises(NotImplementedError):
        MODEL.with_structured_output(BillingHandoffInput)


def test_auto_tool_choice_is_the_models_own_choice() -> None:
    tools = [schema(n) for n in ROLE_TOOLS["triage"]]
    messages = [HumanMessage(content="how do exports work?")]
    assert MODEL.bind_tools(tools, tool_choice="auto").invoke(messages).tool_calls == (
        MODEL.bind_tools(tools).invoke(messages).tool_calls
    )


def test_only_bound_tools_are_called() -> None:
    reply = MODEL.bind_tools([schema("transfer_to_triage")]).invoke([system(), HumanMessage(content="refund ord_299")])
    assert all(call["name"] == "transfer_to_triage" for call in reply.tool_calls)


def test_usage_and_metadata() -> None:
    reply = ask("triage", "I need a refund")
    usage = reply.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["model_name"] == "acme-offline"
    assert MODEL._llm_type == "acme-offline"
    bare = MODEL.invoke([system(), HumanMessage(content="I need a refund")])
    # Tool schemas count as input.
    assert bare.usage_metadata is not None and bare.usage_metadata["input_tokens"] < usage["input_tokens"]


def test_same_input_same_output() -> None:
    first = ask("billing", "What's the 64.50 charge from February 14th?")
    second = ask("billing", "What's the 64.50 charge from February 14th?")
    assert first.content == second.content
    a = ask("refund", "double charged, refund it")
    b = ask("refund", "double charged, refund it")
    assert a.tool_calls == b.tool_calls


# --------------------------------------------------------------------------- protocol


def test_render_block_format() -> None:
    block = render_block(HISTORY_TAG, [{"role": "customer", "agent": None, "text": "hi"}])
    assert block == '<history>\n[{"role": "customer", "agent": null, "text": "hi"}]\n</history>'
    assert render_block("x", {"on": date(2026, 1, 2)}) == '<x>\n{"on": "2026-01-02"}\n</x>'


def test_parse_blocks_round_trip() -> None:
    handoff = {"from": "TriageAgent", "tool": "transfer_to_billing", "record": {"summary": "a\nb </handoff>"}}
    text = "\n\n".join(
        [
            "Prose mentioning <account> in passing.",
            render_block(ACCOUNT_TAG, ACCOUNT),
            render_block(HANDOFF_TAG, handoff),
            "<knowledge>\nnot json\n</knowledge>",
        ]
    )
    blocks = parse_blocks(text)
    assert blocks[ACCOUNT_TAG] == ACCOUNT.model_dump(mode="json")
    assert blocks[HANDOFF_TAG] == handoff
    assert KNOWLEDGE_TAG not in blocks
