"""The refund agent: works out which charge the customer means and asks `process_refund` for it; reports the
outcome; hands people and other topics on."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from llm.entities import (
    asks_about_refund_policy,
    asks_about_refund_status,
    asks_about_timing,
    asks_for_refund_now,
    asks_what_would_happen,
    changes_mind,
    extract_amounts,
    holds_off,
    is_affirmative,
)
from llm.offline.charges import (
    charge_line,
    charged_in,
    criteria,
    has_amount,
    is_refundable,
    match_charges,
    match_description,
    named_orders,
)
from llm.offline.records import escalation_record, handback_record
from llm.offline.smalltalk import small_talk, small_talk_reply
from llm.offline.triage import asks_why, corrected_route
from llm.offline.turn import TOPIC_CHANGE_CONFIDENCE, Reply, ToolCall, ToolResult, Turn
from llm.offline.wording import money, trim
from llm.router import FIRM_SIGNAL, rule_signals
from tools.amounts import asked_amounts, read_amounts
from tools.mentions import extract_dates, extract_order_ids, mentioned_period
from tools.policy import MANAGER_REVIEW_TIME, REFUND_ARRIVAL_TIME

__all__ = ["asks_for_refund", "pick_charge", "refund", "refund_reason"]

_DUPLICATE_RE = re.compile(
    r"\b(?:twice|two times|2 times|2x|x2|(?:2|two) x \$?\d[\d.,]*\d|double\w*|duplicat\w*|dupe\w*|identical"
    r"|second (?:charge|one|\$?\d[\d.,]*\d)"
    r"|extra (?:one|charge)|charged again|more than once)\b",
    re.I,
)
# Asking for money back without the word "refund" ("could I get $20 back?").
_MONEY_BACK_RE = re.compile(r"\b(?:back|returned|reimburs\w*|credit(?:ed)?)\b", re.I)
# The charge the agent just talked about: "refund that one", "this charge", "the same one".
_THAT_ONE_RE = re.compile(r"(?<!not )\b(?:that|this|the same) (?:one|charge|payment|order)\b", re.I)
# Agreeing to an offer in one's own words, and the offers it can answer.
_GO_AHEAD_RE = re.compile(
    r"\b(?:go ahead|do (?:it|that)|let'?s do (?:it|that)|submit it|send it|ask (?:for it|them|a manager)"
    r"|file it|request it|please do|yes please)\b",
    re.I,
)
_OFFERED_RE = re.compile(r"\bif you'?d like me to ask for it\b|\bjust say so\b|\bsay yes\b", re.I)
_NEGATED_RE = re.compile(
    r"\b(?:not|rather than|instead of)\s+(?:the\s+|that\s+|this\s+|my\s+)?[\w-]+(?:\s+[\w-]+)?", re.I
)
# Money arriving ("when will it show up on my card?"), as opposed to the next charge ("when do I get charged?").
_ARRIVAL_RE = re.compile(r"\b(?:show up|land|arrive|appear|hit|see it|get it|reach|on my card|refund\w*|money)\b", re.I)
_LISTING_RE = re.compile(
    r"\b(?:list|show|send)\b[\w\s]{0,12}\b(?:invoices|charges|payments)\b|\bwhat (?:charges|invoices|payments)\b", re.I
)
# "Why was I charged twice?" asks for an explanation; the customer may ask for the money back after it.
_WHY_RE = re.compile(
    r"^\W*(?:why|how come)\b(?![^.?!]*\b(?:refund|back)\b)(?![\s\S]*\brefund (?:it|me|that|this|the)\b)", re.I
)
_LATEST_RE = re.compile(r"\b(?:latest|last|most recent|recent)\s+(?:charge|payment|one|bill|transaction)\b", re.I)
_YES_NO_RE = re.compile(r"^\W*(?:is|are|was|were|did|does|do|has|have)\b", re.I)
_MADE_RE = re.compile(r"\brf_\d+", re.I)  # the reference of a refund made in this conversation
# Where the money goes ("will it go back to my visa?"), not a request ("could the other one come back too?").
_GOES_BACK_RE = re.compile(
    r"\b(?:will|does|would|is) (?:it|that|the (?:money|refund))\b[^.?!]{0,20}\b(?:go|goes|going|come|comes|coming)"
    r" back\b|\b(?:which|what|same) card\b",
    re.I,
)
_STOP_RE = re.compile(r"^\W*(?:no|nope|nah|wait|hold on|hold off|not now|not yet|stop)\b", re.I)
_PROPOSED_RE = re.compile(r'\bReply "yes" to go ahead\b|\bI can refund \$', re.I)
# "And the reporting add-on as well", "what about the onboarding one?": another charge for the same request.
_ALSO_RE = re.compile(r"^\W*(?:and|also|plus|what about|how about|same for)\b|\b(?:too|as well)\W*$", re.I)
_HOW_TO_RE = re.compile(r"\bhow (?:do|can|would|should) (?:i|we)\b", re.I)


def refund(turn: Turn) -> Reply:
    """The refund agent's reply to this turn."""
    text = turn.text
    if turn.last_is_tool and turn.results:
        return _summarise_result(turn.results[-1])
    small = small_talk(text)
    if small and not turn.signals["refund"]:
        return Reply(text=small_talk_reply(small))
    if turn.asks_for_person() and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", escalation_record(text)))
    # "Forget that one - I want september back" names another charge: that is a new request, not a retreat.
    elsewhere = named_orders(turn.charges, text) or mentioned_period(text, turn.today) or extract_amounts(text)
    # "Wait, hold off on that - I need to check first" after a proposal (code already cancelled it).
    stop = changes_mind(text) or (_STOP_RE.match(text) and _PROPOSED_RE.search(turn.last_agent_text()))
    if stop and "?" not in text and not elsewhere:
        return Reply(text="No problem: nothing has been refunded or changed. Just ask if you need anything else.")
    # "How long till it's on my card?" after a refund: when refunds arrive, and which ones were made ("how long
    # would it take?" before any refund is the policy, FAQ's) ... or while one waits for a manager ("any news?").
    # "How long will that one take?", "will it go back to the visa?" once this conversation made a refund: that one.
    made = any(_MADE_RE.search(str(h.get("text", ""))) for h in turn.history if h.get("role") == "agent")
    just_made = made and max(turn.signals["billing"], turn.signals["faq"]) < FIRM_SIGNAL
    lands = bool(_ARRIVAL_RE.search(text)) and not re.search(r"\bwould\b", text, re.I)
    arrival = asks_about_timing(text) and not asks_for_refund_now(text) and (just_made or lands)
    goes_back = just_made and _GOES_BACK_RE.search(text) and not (turn.signals["refund"] or extract_amounts(text))
    arrival = arrival or bool(goes_back)
    waiting = any(c.get("awaiting_approval") for c in turn.charges)
    about_it = asks_about_refund_status(text) or _BYPASS_RE.search(text)
    if (arrival or (waiting and about_it)) and any(_has_refund(c) for c in turn.charges):
        return Reply(text=_refund_status(turn))
    # "Can you list my invoices?", "what charges do I have?": a billing question, whatever came before.
    if not turn.signals["refund"] and _LISTING_RE.search(text) and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, "billing")))
    # "While the october one waits, how do I remove the old card?": a how-to that mentions a charge in passing.
    how_to = _HOW_TO_RE.search(text) and not (turn.signals["refund"] or _MONEY_BACK_RE.search(text))
    refers_to_charge = not how_to and bool(
        turn.signals["refund"]
        or named_orders(turn.charges, text)
        or extract_amounts(text)
        # A day or month counts when a charge was made then ("slowness on tuesday" names no charge).
        or ((extract_dates(text, turn.today) or mentioned_period(text, turn.today)) and _dated(turn))
        or _DUPLICATE_RE.search(text)
        or _LATEST_RE.search(text)
        or is_affirmative(text)
        or _takes_the_offer(turn)
        or (_ALSO_RE.search(text) and not turn.signals["billing"] and match_description(turn.charges, text))
    )
    # An unsure "other" is more likely a muddled answer to our question than a new topic.
    route = corrected_route(text, turn.decision.route, turn.signals)  # "what card do you have for us?": billing
    changed_topic = route in ("faq", "billing") or (
        turn.decision.route == "other" and turn.decision.confidence >= TOPIC_CHANGE_CONFIDENCE
    )
    if not refers_to_charge and changed_topic and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, route)))
    if asks_about_refund_status(text):
        return Reply(text=_refund_status(turn))
    # A question about what a refund would mean, or "just explain first", proposes nothing.
    # ... unless the message asks for the refund outright ("can we get it refunded? how long will that take").
    asking = asks_for_refund_now(text) and not holds_off(text)
    # "Is the add-on refundable?", "are unused seats refunded?": a yes/no question about refunds asks for nothing.
    yes_no = _YES_NO_RE.search(text) and "?" in text and re.search(r"\brefund", text, re.I)
    why = _WHY_RE.search(text) and asks_why(text)  # "why twice? give it back" asks for the money
    if (holds_off(text) or asks_what_would_happen(text) or why or yes_no) and not asking:
        return _answer_without_acting(turn)
    # How refunds work is answered by the help center's refund policy article, not by refunding something.
    if asks_about_refund_policy(text) and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, "faq")))
    # Nobody gets a refund they did not ask for: "explain ord_401" or "cancel my account" is not a request.
    if not asks_for_refund(turn) and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, "billing")))

    charge_id, requested = pick_charge(turn)
    if charge_id is None:
        return Reply(text=_which_charge(turn))
    if not turn.has("propose_refund"):
        return Reply(text=f"I can see {charge_id}; our refunds team will take it from here.")
    return Reply(call=ToolCall("propose_refund", _charge_args(charge_id, requested, reason=refund_reason(turn))))


def _dated(turn: Turn) -> bool:
    return bool(match_charges(turn.charges, turn.text, turn.today)[0])


def _answer_without_acting(turn: Turn) -> Reply:
    """Explain the charges or ask the policy (read-only); timing and general policy go to the help center."""
    text = turn.text
    duplicates = [c for c in turn.charges if c.get("duplicate_of")]
    if _DUPLICATE_RE.search(text) and duplicates:
        lines = []
        for dup in duplicates[:2]:
            original = next((c for c in turn.charges if c.get("order_id") == dup.get("duplicate_of")), None)
            pair = [c for c in (original, dup) if c]
            lines.append(" and ".join(charge_line(c) for c in pair) + f": {dup['order_id']} is the duplicate.")
        return Reply(
            text=f"Here are the two charges: {' '.join(lines)} Nothing has been refunded. "
            "When you'd like the duplicate back, just say so."
        )
    charge_id, requested = pick_charge(turn)
    if asks_about_timing(text) or charge_id is None or not turn.has("check_refund"):
        # How long refunds take is the help center's; a charge this agent cannot tell apart, billing's to explain.
        charge = extract_amounts(text) or named_orders(turn.charges, text) or _DUPLICATE_RE.search(text)
        about = "billing" if charge and not asks_about_timing(text) else "faq"
        if turn.has("transfer_to_triage"):
            return Reply(call=ToolCall("transfer_to_triage", handback_record(text, about)))
        return Reply(text=_which_charge(turn))
    return Reply(call=ToolCall("check_refund", _charge_args(charge_id, requested)))


def _charge_args(charge_id: str, requested: float | None, **more: Any) -> dict[str, Any]:
    """Arguments naming the charge, and the amount when the customer asked for part of it."""
    return {"order_id": charge_id, **more} | ({"amount": requested} if requested is not None else {})


def asks_for_refund(turn: Turn) -> bool:
    """Whether this message, the handoff or an earlier customer message asks for money back.

    A "yes" counts too: it answers the refund an agent offered or the charge the refund agent asked about.
    """
    if _MONEY_BACK_RE.search(turn.text) or is_affirmative(turn.text):
        return True
    earlier = [str(item.get("text", "")) for item in turn.history if item.get("role") == "customer"]
    asked = [turn.text, str(turn.record.get("reason") or ""), *earlier]
    return any(rule_signals(text)["refund"] or _DUPLICATE_RE.search(text) for text in asked)


def refund_reason(turn: Turn) -> str:
    """Why the customer wants the refund: this message, the handoff record, or an earlier message asking for one."""
    if turn.signals["refund"] or _DUPLICATE_RE.search(turn.text):
        return trim(turn.text, 1000)
    if turn.record.get("reason"):
        return trim(str(turn.record["reason"]), 1000)
    for item in turn.history:
        if item.get("role") == "customer" and rule_signals(str(item.get("text", "")))["refund"]:
            return trim(str(item["text"]), 1000)
    return trim(turn.text, 1000) or "Customer requested a refund."


# "The rest of it back": all that is left of the charge, whatever amounts the message mentions besides.
_REST_RE = re.compile(
    r"\b(?:the rest|remainder|remaining|what'?s left|whatever is left|full refund|in full|full amount|entire)\b", re.I
)
# Where one clause ends and the next begins: "refund this month's pro charge, we're moving to annual".
_CLAUSE_RE = re.compile(r"[.?!;]+|,\s*(?=(?:we|i|it|as|because|since|but|so|and)\b)|\b(?:and )?also\b", re.I)


def _described(charges: Sequence[Mapping[str, Any]], text: str) -> list[Mapping[str, Any]]:
    """The charge the words describe, read first from the clause that asks for the money back ("refund this
    month's pro charge, we're moving to annual"), then, when that clause only points back ("I'd like that money
    back"), from the whole message."""
    clauses = [c for c in _CLAUSE_RE.split(text) if c.strip()]
    asking = [c for c in clauses if rule_signals(c)["refund"] or _MONEY_BACK_RE.search(c)]
    if len(clauses) > 1 and len(asking) == 1 and (found := match_description(charges, asking[0])):
        return found
    return match_description(charges, text)


def _mentioned(text: str) -> list[float]:
    """The amounts in the message, without money the customer says they already got back ("you gave me 20 back")."""
    received = set(read_amounts(text).amounts) - set(asked_amounts(text).amounts)
    return [a for a in extract_amounts(text) if a not in received]


def pick_charge(turn: Turn) -> tuple[str | None, float | None]:
    """The order id to refund and, for a partial refund the customer asked for, the amount."""
    text = turn.text
    charges = turn.charges
    by_id = {str(c.get("order_id", "")).lower(): c for c in charges}
    rest = bool(_REST_RE.search(text))  # "the rest of it": no amount, not even the one the request began with
    amounts = [] if rest else _mentioned(text)
    meant = _NEGATED_RE.sub(" ", text)  # "refund that one, not the seats": the seats are not what is meant
    days, period = extract_dates(meant, turn.today), mentioned_period(meant, turn.today)
    described = _described(charges, meant)
    record = turn.record
    orders = named_orders(charges, text)
    # What the message itself says about the charge wins over the handoff and over the charge just discussed
    # ("I meant the double charge from 1 November", "not October: refund that one instead").
    own = bool(days or period or described or _DUPLICATE_RE.search(text))
    if not orders and record.get("order_id") and not amounts and not own:
        orders = extract_order_ids(str(record["order_id"])) or [str(record["order_id"])]
    if not orders and not own and (_THAT_ONE_RE.search(text) or amounts):
        orders = extract_order_ids(turn.last_agent_text())[:1]  # "only $20 then", "that one": the charge just discussed
    if orders:
        order = orders[0]
        charge = by_id.get(order.lower())
        return order, (_partial(charge, amounts) if charge is not None else None)
    if not amounts and record.get("original_charge_amount") and not (days or rest or own):
        amounts = [float(record["original_charge_amount"])]

    # The handoff's reason counts only when this message names no charge of its own ("also the october one").
    duplicate_words = _DUPLICATE_RE.search(text) or (not own and _DUPLICATE_RE.search(str(record.get("reason", ""))))
    duplicates = [c for c in charges if c.get("duplicate_of")]
    if duplicate_words and duplicates:
        duplicates = [c for c in duplicates if has_amount(c, amounts)] or duplicates  # no amounts: none fits
        return str(duplicates[0]["order_id"]), None  # charges are newest first

    search = text if extract_amounts(text) else f"{text} {' '.join(money(a) for a in amounts)}"
    matched, _ = match_charges(charges, search, turn.today)
    if not matched and amounts and (days or period):
        # "Twenty back on the one from Oct 1st": no charge is for $20, so the day names the charge and the
        # amount is the part wanted back.
        on_day = [c for c in charges if charged_in(c, days, period)]
        if len(on_day) == 1:
            return str(on_day[0]["order_id"]), _partial(on_day[0], amounts)
    if len(matched) > 1:
        # "This month's pro charge": the period first, then the words, even for a charge that cannot be refunded
        # (the policy says so); only when the words don't choose, a charge that still can be.
        refundable = [c for c in matched if is_refundable(c)]
        matched = _described(matched, text) or refundable or matched
    if len(matched) == 1:  # "ten of the 29 back": the charge by its amount, the part by the other one
        return str(matched[0]["order_id"]), _partial(matched[0], amounts)
    if period and not amounts:
        in_month = [c for c in charges if charged_in(c, period=period) and is_refundable(c)]
        if len(in_month) == 1:
            return str(in_month[0]["order_id"]), None
    latest = next((c for c in charges if is_refundable(c)), None)  # charges are newest first
    if _LATEST_RE.search(text) and not amounts and latest is not None:
        return str(latest["order_id"]), None
    described = described or _spoken_of(turn)  # "refund it", "ask them for the full refund": the charge just discussed
    if not described:
        return None, None
    return str(described[0]["order_id"]), _partial(described[0], amounts)


def _takes_the_offer(turn: Turn) -> bool:
    """ "Ok, let's do that then, submit it": a go-ahead for the refund this agent just said it could ask for."""
    return bool(_GO_AHEAD_RE.search(turn.text) and _OFFERED_RE.search(turn.last_agent_text()))


def _spoken_of(turn: Turn) -> list[Mapping[str, Any]]:
    """The one charge the latest lines of the conversation were about: the agent's, then the customer's."""
    by_id = {str(c.get("order_id", "")).lower(): c for c in turn.charges}
    named = [o for o in extract_order_ids(turn.last_agent_text()) if o in by_id]
    if len(named) == 1:
        return [by_id[named[0]]]
    said = [str(h.get("text", "")) for h in turn.history if h.get("role") == "customer"]
    return match_description(turn.charges, said[-1]) if said else []


def _partial(charge: Mapping[str, Any], amounts: list[float]) -> float | None:
    """The part of the charge the customer asked for ("$50 back from ..."), or None for all that is left ("half of
    it" is read by code, `tools.amounts.asks_for_half`, for every model)."""
    full = float(charge.get("refundable_amount") or charge.get("amount") or 0)
    smaller = [a for a in amounts if 0 < a < full - 0.005]
    return smaller[0] if smaller else None


# "Approve it yourself", "skip the manager": pressure to bypass the review of a refund that waits.
_BYPASS_RE = re.compile(
    r"\b(?:yourself|skip|bypass|override|approved by me|i (?:approve|authori[sz]e)|release (?:the|my|our) \w+)\b", re.I
)


def _has_refund(charge: Mapping[str, Any]) -> bool:
    return float(charge.get("refunded_amount") or 0) > 0 or bool(charge.get("awaiting_approval"))


def _refund_status(turn: Turn) -> str:
    """The refunds made on the account and those waiting for a manager, from the charges."""
    refunded = [c for c in turn.charges if float(c.get("refunded_amount") or 0) > 0]
    waiting = [c for c in turn.charges if c.get("awaiting_approval")]
    if not refunded and not waiting:
        return "I don't see any refunds on your account so far. Would you like to ask for one?"
    parts = []
    if refunded:
        listing = "; ".join(
            f"{money(c.get('refunded_amount'))} of the {money(c.get('amount'))} charge {c.get('order_id')} "
            f"({c.get('description', 'a charge')})"
            for c in refunded[:5]
        )
        parts.append(f"Refunds on your account so far: {listing}.")
    if waiting:
        listing = ", ".join(f"{c.get('order_id')} (request {c.get('awaiting_approval')})" for c in waiting[:5])
        parts.append(
            f"Still waiting for a manager's decision: {listing}. Reviews normally finish within {MANAGER_REVIEW_TIME}, "
            "and the decision will appear right here."
        )
    return " ".join([*parts, f"A refund goes back to the card it was paid with, usually within {REFUND_ARRIVAL_TIME}."])


def _which_charge(turn: Turn) -> str:
    if any(c.get("awaiting_approval") for c in turn.charges) and not extract_amounts(turn.text):
        # "Skip the approval and just refund it": the request waiting for a manager is the one meant.
        return f"{_refund_status(turn)} If you meant another charge, tell me its order id."
    refundable = [c for c in turn.charges if is_refundable(c)][:5]
    asked = criteria(turn.text, turn.today)
    intro = f"I couldn't match a single charge {asked}." if asked else "I can help with that refund."
    if not refundable:
        return f"{intro} I don't see any charges on your account that can still be refunded."
    listing = "; ".join(charge_line(c) for c in refundable)
    return (
        f"{intro} Which charge would you like refunded? Your recent charges are: {listing}. Just tell me the order id."
    )


def _summarise_result(result: ToolResult) -> Reply:
    """The customer's answer from a tool result that code left to the model, such as an unexpected status.

    Code states every refund proposal and outcome itself (tools node, `nodes.refund.conclude_refund`).
    """
    data = result.data
    if result.error or not isinstance(data, Mapping) or "error" in data:
        detail = data.get("error") if isinstance(data, Mapping) else data
        return Reply(
            text=f"Sorry, I couldn't process that just now ({trim(str(detail), 200)}). Which charge should I refund?"
        )
    order = data.get("order_id") or result.args.get("order_id")
    explanation = str(data.get("explanation") or "").strip()
    return Reply(text=f"I'm sorry, I can't refund {order}. {explanation}".strip())
