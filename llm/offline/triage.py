"""The triage agent: greets, refuses what is out of scope, and hands every request to the right specialist."""

from __future__ import annotations

import re
from collections.abc import Mapping

from llm.entities import (
    asks_about_current_plan,
    asks_about_refund_policy,
    asks_for_refund_now,
    asks_what_would_happen,
    billing_issue_type,
    extract_amounts,
    is_affirmative,
    mentions_payment_card,
    wants_cancellation,
)
from llm.offline.records import TRANSFERS, billing_record, refund_record
from llm.offline.requests import action_last, other_request
from llm.offline.smalltalk import out_of_scope_reply, small_talk, small_talk_reply
from llm.offline.turn import Reply, ToolCall, Turn
from llm.router import FIRM_SIGNAL, asks_in_general
from tools.mentions import extract_order_ids

__all__ = ["ACCESS_RE", "asks_why", "corrected_route", "triage"]

_WHY_RE = re.compile(r"\b(?:why|how come)\b", re.I)
ACCESS_RE = re.compile(r"\b(?:access to|permissions?|roles?)\b", re.I)  # who may see what: a roles question
# "Refund it", "give it back": the money asked for outright, whatever "why" came before.
_REFUND_IT_RE = re.compile(
    r"\brefund (?:it|that|this|them|me|us|the|my|our)\b|\b(?:give|send|pay|put) (?:it|that|this|them|the money)\b"
    r"[^.?!]{0,20}\bback\b",
    re.I,
)


def asks_why(text: str) -> bool:
    """A "why" question that does not also ask for the money back ("why twice?? refund it" does)."""
    return bool(_WHY_RE.search(text)) and not (asks_for_refund_now(text) or _REFUND_IT_RE.search(text))


def triage(turn: Turn) -> Reply:
    """The triage agent's reply to this turn: small talk in text, or one transfer."""
    text = turn.text
    route = _saas_route(turn)
    # A specialist handed the customer back and said where they belong: follow it, or the two would loop.
    handed_back = str(turn.record.get("reason") or "") if turn.handoff.get("tool") == "transfer_to_triage" else ""
    for hint, target in (("a product question", "faq"), ("a billing matter", "billing")):
        if handed_back.startswith(f"The customer now asks about {hint}"):
            route = target
    small = small_talk(text)
    # "Am I talking to a real person?" asks about the assistant; it is not a request for one.
    if small == "assistant" or (
        small and not any(turn.signals[r] >= FIRM_SIGNAL for r in ("billing", "refund", "human", "faq"))
    ):
        return Reply(text=small_talk_reply(small))
    if route == "other":
        return _continuation(turn) or Reply(text=out_of_scope_reply())
    if route in TRANSFERS and turn.has(TRANSFERS[route][0]):
        # A second request in the same message is named for the graph to take up next, never dropped.
        other = other_request(text, route, corrected_route) if route != "human" else None
        route, other = action_last(text, route, other, corrected_route)
        tool, record = TRANSFERS[route]
        return Reply(call=ToolCall(tool, record(text) | ({"also": other} if other else {})))
    return Reply(text=out_of_scope_reply())


def _continuation(turn: Turn) -> Reply | None:
    """A short follow-up ("yes", "ord_102", "the $49 one") goes back to the specialist who asked."""
    text = turn.text
    # A specialist who handed the customer back did not take the follow-up: don't send it to them again.
    follow_up = turn.is_follow_up() and turn.handoff.get("tool") != "transfer_to_triage"
    if not (is_affirmative(text) or extract_order_ids(text) or extract_amounts(text) or follow_up):
        return None
    last = turn.last_agent().lower()
    context = f"{turn.last_agent_text()} {text}"
    if "refund" in last and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", refund_record(text)))
    if "billing" in last and turn.has("transfer_to_billing"):
        return Reply(call=ToolCall("transfer_to_billing", billing_record(text, billing_issue_type(context))))
    return None


def corrected_route(text: str, route: str, signals: Mapping[str, float]) -> str:
    """The router's route for ``text``, with the SaaS corrections `_saas_route` describes."""
    general = asks_in_general(text)  # "how do I cancel?" is answered by the help center
    if not signals["refund"] and not signals["other"] and route in ("faq", "refund", "other") and not general:
        card = billing_issue_type(text) == "payment_method" and (
            signals["billing"] >= FIRM_SIGNAL or mentions_payment_card(text)
        )
        if card or wants_cancellation(text) or asks_about_current_plan(text):
            route = "billing"
    # "Why are there two charges?", "you refunded me, so why am I still on Pro?": a question about the account,
    # not a request for money back (that would say so: "why was I charged twice? I want it back").
    if route == "refund" and asks_why(text) and not asks_what_would_happen(text):
        return "billing"
    # "Can a member see invoices without access to projects?": who may see what is a roles question.
    if route == "billing" and ACCESS_RE.search(text) and not signals["refund"]:
        return "faq"
    return "faq" if asks_about_refund_policy(text) else route


def _saas_route(turn: Turn) -> str:
    """The router's route, corrected where a SaaS account differs from the banking text it learnt from.

    The card on file, the plan one is on and cancelling the subscription are billing matters here (the
    banking data files card questions under FAQ and "cancel" under refunds); how refunds work in general
    is answered by the help center; and a specialist who just handed the customer back is not sent the
    same message again.
    """
    text = turn.text
    decision = turn.decision
    route = corrected_route(text, decision.route, turn.signals)
    returned_from = str(turn.handoff.get("from") or "")
    if turn.handoff.get("tool") == "transfer_to_triage" and route != "other" and route in returned_from.lower():
        # A charge named without a request ("ord_301") is a question for billing, not for refunds.
        if route == "refund" and (extract_order_ids(text) or extract_amounts(text)):
            return "billing"
        others = [r for r in decision.scores if r not in (route, "other")]
        route = max(others, key=lambda r: decision.scores[r], default="other")
    return route
