"""The billing agent: explains charges, invoices and the card on file, quotes and makes plan changes, and hands
refunds, people and other topics on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from llm.entities import (
    asks_about_current_plan,
    billing_issue_type,
    changes_mind,
    extract_amounts,
    extract_plan,
    holds_off,
    is_affirmative,
    mentions_payment_card,
    wants_cancellation,
)
from llm.offline.charges import (
    charge_line,
    criteria,
    explain_charge,
    find_charges_args,
    match_charges,
    match_description,
)
from llm.offline.plans import cancellation, current_plan, plan_change
from llm.offline.records import REASON_CHARS, escalation_record, handback_record, refund_record
from llm.offline.smalltalk import small_talk, small_talk_reply
from llm.offline.triage import asks_why, corrected_route
from llm.offline.turn import TOPIC_CHANGE_CONFIDENCE, Reply, ToolCall, ToolResult, Turn
from llm.offline.wording import money, nice_date, trim
from llm.router import FIRM_SIGNAL, asks_in_general
from tools.mentions import extract_dates, extract_order_ids, mentioned_period

__all__ = ["billing"]

# Words that keep a message in billing's lane even when the router leans elsewhere.
_BILLING_WORDS = re.compile(
    r"\b(?:card|cards|payment\w*|invoice\w*|receipt\w*|charg\w*|bill\w*|plan|plans|tier|subscri\w*|price\w*"
    r"|pricing|cost\w*|seat\w*|upgrad\w*|downgrad\w*|renew\w*|prorat\w*|vat|tax)\b",
    re.I,
)
_MONEY_BACK_RE = re.compile(r"\b(?:back|returned|reimburs\w*)\b", re.I)
_DECLINE_RE = re.compile(r"\bno\W+(?:don'?t|do not) (?:change|do|switch|move|touch)\b", re.I)
_LATEST_RE = re.compile(r"\b(?:latest|last|most recent|newest|recent)\s+(?:charge|payment|bill|transaction)\b", re.I)
_REFUND_OFFER_RE = re.compile(r"\brefund\w*\b[^.?!]*\bsay yes\b|\bsay yes\b[^.?!]*\brefund", re.I)


def billing(turn: Turn) -> Reply:
    """The billing agent's reply to this turn."""
    text = turn.text
    # A hand-off the graph refused ("RefundAgent already handled this message"): billing answers itself.
    last = turn.results[-1] if turn.last_is_tool and turn.results else None
    refused = last is not None and last.error and last.name.startswith("transfer_")
    if last is not None and not refused:
        return Reply(text=_summarise_result(last))
    affirmative = is_affirmative(text)
    small = small_talk(text)
    if small and not turn.signals["billing"] and not turn.signals["refund"]:
        return Reply(text=small_talk_reply(small))
    decision = turn.decision
    # "Never mind", or "we'd lose SSO? then no, don't change anything" (a question, then a plain no).
    if ((changes_mind(text) and "?" not in text) or _DECLINE_RE.search(text)) and not turn.signals["refund"]:
        plan = ((turn.account or {}).get("plan") or {}).get("name")
        stay = f" You stay on the {plan} plan." if plan else ""
        return Reply(text=f"No problem: nothing has been changed.{stay} Just ask if you need anything else.")

    # Only wording about money back goes to refunds: the router alone leans to refunds for bare amounts ("the
    # $899 one") and for "cancel", which billing answers itself.
    money_back = turn.signals["refund"] >= FIRM_SIGNAL or (decision.route == "refund" and _MONEY_BACK_RE.search(text))
    money_back = money_back and not holds_off(text) and not refused  # "don't refund anything yet": billing explains
    money_back = money_back and not asks_why(text)  # "you refunded me, so why am I still on Pro?"
    # A "yes" (or "go ahead, refund the second one") to the refund this agent offered for a duplicate charge.
    offered = extract_order_ids(turn.last_agent_text()) if _REFUND_OFFER_RE.search(turn.last_agent_text()) else []
    offered = [] if refused else offered
    if (affirmative or money_back) and offered and not extract_order_ids(text) and turn.has("transfer_to_refund"):
        record = refund_record(turn.last_agent_text())
        record["reason"] = trim(f"Customer confirmed a refund of a duplicate charge: {text}", REASON_CHARS)
        record["order_id"] = offered[0]
        return Reply(call=ToolCall("transfer_to_refund", record))
    if money_back and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", refund_record(text)))
    # A person for whoever asks for one, or for an off-topic message the router gives to a person.
    off_topic = _off_topic_for_billing(turn) and not affirmative and not refused
    if (turn.asks_for_person() or (off_topic and decision.route == "human")) and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", escalation_record(text)))
    if off_topic and turn.has("transfer_to_triage"):
        route = corrected_route(text, decision.route, turn.signals)
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, route)))

    # "And how do I add a card?": how-to questions are the help center's, even in a billing conversation.
    if asks_in_general(text) and not money_back and not turn.is_follow_up() and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, "faq")))
    if wants_cancellation(text):
        return cancellation(turn)
    if asks_about_current_plan(text):
        return current_plan(turn)
    issue = _billing_issue(turn)
    if issue == "plan_change":
        return plan_change(turn)
    if issue == "invoice_question":
        return _invoices(turn)
    if issue == "payment_method":
        return _payment_method(turn)
    return _charge_dispute(turn)


def _billing_signal(turn: Turn) -> bool:
    text = turn.text
    return bool(
        turn.signals["billing"] >= FIRM_SIGNAL
        or _BILLING_WORDS.search(text)
        or wants_cancellation(text)
        or mentions_payment_card(text)
        or asks_about_current_plan(text)
        or match_description(turn.charges, text)
        or extract_amounts(text)
        or extract_order_ids(text)
        or extract_plan(text)
        or extract_dates(text, turn.today)
        or mentioned_period(text, turn.today)
    )


def _off_topic_for_billing(turn: Turn) -> bool:
    """The router is fairly sure the message is not about billing and nothing in it says otherwise."""
    decision = turn.decision
    if decision.confidence < TOPIC_CHANGE_CONFIDENCE or turn.is_follow_up():
        return False
    return decision.route in ("faq", "other", "human") and not _billing_signal(turn)


def _billing_issue(turn: Turn) -> str:
    if _billing_signal(turn) or turn.signals["billing"] or not turn.record.get("issue_type"):
        return billing_issue_type(turn.text)
    return str(turn.record["issue_type"])


def _invoices(turn: Turn) -> Reply:
    wants_open = bool(re.search(r"\b(?:open|unpaid|outstanding|due|overdue|owe)\b", turn.text.lower()))
    invoices = [i for i in (turn.account or {}).get("invoices") or [] if isinstance(i, Mapping)]
    asked = _asked_invoices(turn, invoices)
    if asked:
        listing = "; ".join(
            f"{i.get('invoice_id')} for {money(i.get('amount'))} (order {i.get('order_id')}), issued "
            f"{nice_date(i.get('issued_on'))}, {i.get('status')}"
            for i in asked[:5]
        )
        several = len(asked) > 1
        return Reply(
            text=(
                f"Here {'are the invoices' if several else 'is the invoice'}: {listing}. "
                f"You can download {'each' if several else 'it'} as a PDF under Settings → Billing → Invoices."
            )
        )
    described = _describe_invoices(invoices, wants_open=wants_open)
    why = "open invoice" in described and re.search(r"\bwhy\b|\bhow come\b", turn.text, re.I)
    return Reply(text=described + (_expired_card_note(turn) if why else ""))


def _default_card(turn: Turn) -> Mapping[str, Any] | None:
    """The card charges go to: the one marked default, else the only one listed first."""
    methods = [m for m in (turn.account or {}).get("payment_methods") or [] if isinstance(m, Mapping)]
    return next((m for m in methods if m.get("is_default")), methods[0] if methods else None)


def _expired_card_note(turn: Turn) -> str:
    """Why something is unpaid, when the account says so (`expired` is computed by tools.accounts)."""
    default = _default_card(turn)
    if default is None or not default.get("expired"):
        return ""
    return (
        f" The default card on file, ending in {default.get('last4')}, expired {default.get('expires')}, which is"
        " likely why: add a new card under Settings → Billing → Payment methods, then click Pay now on the invoice."
    )


def _asked_invoices(turn: Turn, invoices: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The invoices of the charges the message names (order id, amount, date, period or description)."""
    matched = match_charges(turn.charges, turn.text, turn.today)[0] or match_description(turn.charges, turn.text)
    orders = {str(c.get("order_id")) for c in matched}
    return [i for i in invoices if str(i.get("order_id")) in orders]


def _describe_invoices(invoices: Sequence[Mapping[str, Any]], *, wants_open: bool) -> str:
    if not invoices:
        return "There are no invoices on your account yet."
    open_ones = [i for i in invoices if i.get("status") == "open"]
    if open_ones:
        lines = "; ".join(
            f"{i.get('invoice_id')} for {money(i.get('amount'))}, due {nice_date(i.get('due_on'))}"
            for i in open_ones[:5]
        )
        head = f"You have {len(open_ones)} open invoice{'s' if len(open_ones) > 1 else ''}: {lines}."
    else:
        head = "You have no open invoices: everything is paid."
    if open_ones and wants_open:
        tail = "You can pay or download them as PDFs under Settings → Billing → Invoices."
    else:
        recent = "; ".join(
            f"{i.get('invoice_id')} ({money(i.get('amount'))}, issued "
            f"{nice_date(i.get('issued_on'))}, {i.get('status')})"
            for i in invoices[:3]
        )
        tail = (
            f"Your latest invoices are {recent}. Each can be downloaded as a PDF under Settings → Billing → Invoices."
        )
    return f"{head} {tail}"


def _payment_method(turn: Turn) -> Reply:
    account = turn.account or {}
    default = _default_card(turn)
    how = (
        "To change it, go to Settings → Billing → Payment methods, add the new card and make it the default; "
        "future charges will use it."
    )
    if default is None:
        return Reply(text=f"I don't see a card on file for your account yet. {how}")
    expired = bool(default.get("expired"))
    brand = str(default.get("brand", "card")).title()
    text = (
        f"Your default payment method is {'an' if brand[:1] in 'AEIOU' else 'a'} {brand} "
        f"ending in {default.get('last4')}, {'which expired' if expired else 'expiring'} {default.get('expires')}. "
        f"{how}"
    )
    failed = [c for c in turn.charges if c.get("status") == "failed"]
    open_invoices = [i for i in account.get("invoices") or [] if isinstance(i, Mapping) and i.get("status") == "open"]
    if failed:
        text += f" Note that the charge {charge_line(failed[0])} failed; once the card is updated we'll retry it."
    elif open_invoices:
        first = open_invoices[0]
        text += (
            f" Invoice {first.get('invoice_id')} for {money(first.get('amount'))} is still open: once the card is "
            "updated, click Pay now on it to settle it."
        )
    return Reply(text=text)


def _charge_dispute(turn: Turn) -> Reply:
    text = turn.text
    charges = turn.charges
    orders = extract_order_ids(text)
    matched, relaxed = match_charges(charges, text, turn.today)
    if orders and not matched and turn.has("lookup_charge"):
        return Reply(call=ToolCall("lookup_charge", {"order_id": orders[0]}))
    # <account> shows the recent charges; the tool looks further back.
    look_further = not orders and (turn.account or {}).get("older_charges")
    if (not matched or relaxed) and look_further and turn.has("find_charges"):
        args = find_charges_args(text, turn.today)
        if args["amount"] is not None or args["date"] is not None:
            return Reply(call=ToolCall("find_charges", args))
    if not matched and re.search(r"\b(?:twice|double|duplicate)\b", text.lower()):
        matched = [c for c in charges if c.get("duplicate_of")]
    if not matched and not orders:
        matched = match_description(charges, text)
    if not matched and charges and _LATEST_RE.search(text):
        matched = [charges[0]]  # charges are newest first
    if matched:
        explained = " ".join(explain_charge(c) for c in matched[:3])
        if any(c.get("status") in ("unpaid", "failed") for c in matched[:3]):
            explained += _expired_card_note(turn)
        if relaxed:
            explained = f"I don't see that amount on the date you mentioned, but this one matches it. {explained}"
        if len(matched) > 3:
            explained += f" There are {len(matched) - 3} more matching charges."
        return Reply(text=explained)
    recent = "; ".join(charge_line(c) for c in charges[:3])
    asked = criteria(text, turn.today)
    intro = (
        f"I couldn't find a charge {asked} on your account." if asked else "Which charge would you like me to explain?"
    )
    if recent:
        return Reply(text=f"{intro} Your 3 most recent charges are: {recent}. Which one do you mean?")
    return Reply(text=f"{intro} There are no charges on your account yet.")


def _summarise_result(result: ToolResult) -> str:
    """The customer's answer from a billing tool's result."""
    data = result.data
    if result.error or (isinstance(data, Mapping) and "error" in data):
        detail = data.get("error") if isinstance(data, Mapping) else data
        return f"Sorry, I couldn't complete that just now ({detail}). Could you tell me a bit more so I can try again?"
    if not isinstance(data, Mapping):
        return f"Here's what I found: {trim(str(data), 400)}"
    if result.name == "lookup_charge":
        if data.get("status") == "found" and isinstance(data.get("charge"), Mapping):
            return explain_charge(data["charge"])
        order = data.get("order_id") or result.args.get("order_id")
        return (
            f"I couldn't find a charge with order id {order} on your account. "
            "Could you check the id, or tell me the amount and date?"
        )
    if result.name == "find_charges":
        found = [c for c in data.get("charges") or [] if isinstance(c, Mapping)]
        if not found:
            return (
                "I couldn't find a charge matching that amount and date on your "
                "account. Could you double-check them, or give me the order id?"
            )
        return " ".join(explain_charge(c) for c in found[:3])
    if result.name == "propose_plan_change":
        return f"I couldn't quote that change: {data.get('reason', 'the change was rejected')}."
    return f"Here's what I found: {trim(json.dumps(data, default=str), 400)}"
