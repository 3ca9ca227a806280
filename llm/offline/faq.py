"""The FAQ agent: answers product questions from help-center articles, searching when none were given, and hands
money matters and people on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from llm.entities import (
    asks_about_refund_policy,
    asks_about_timing,
    asks_what_would_happen,
    extract_amounts,
)
from llm.offline.articles import answer_from, best_article
from llm.offline.records import escalation_record, handback_record
from llm.offline.smalltalk import out_of_scope_reply, small_talk, small_talk_reply
from llm.offline.triage import ACCESS_RE
from llm.offline.turn import Reply, ToolCall, Turn
from llm.offline.wording import trim
from llm.router import FIRM_SIGNAL, has_domain_signal
from tools.mentions import extract_order_ids

__all__ = ["faq"]

_REFUNDED_RE = re.compile(r"\brefunded\b|\bapr_\d+", re.I)


def faq(turn: Turn) -> Reply:
    """The FAQ agent's reply to this turn."""
    text = turn.text
    small = small_talk(text)
    if small:
        return Reply(text=small_talk_reply(small))
    if turn.asks_for_person() and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", escalation_record(text)))
    route = turn.decision.route
    money_matter = (
        not asks_about_refund_policy(text)
        and not asks_what_would_happen(text)
        and route in ("billing", "refund")
        and (turn.signals[route] >= FIRM_SIGNAL or extract_amounts(text) or extract_order_ids(text))
        and not ACCESS_RE.search(text)  # "can one of them see invoices but not projects?": roles and permissions
    )
    # "When will the money be back?" once this conversation refunded something: the refund specialist knows which.
    refunded = any(_REFUNDED_RE.search(str(h.get("text", ""))) for h in turn.history if h.get("role") != "customer")
    money_matter = money_matter or (refunded and route == "refund" and asks_about_timing(text))
    if money_matter and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(text, route)))
    if route == "other" and turn.signals["other"] and not has_domain_signal(text):
        return Reply(text=out_of_scope_reply())

    articles = _articles(turn)
    if articles is None:
        if turn.has("search_faq"):
            return Reply(call=ToolCall("search_faq", {"query": trim(text, 500)}))
        articles = []
    question = text or str(turn.record.get("specific_question") or "")
    best = best_article(articles, question)
    if best is None:
        return Reply(
            text="I'm sorry, I couldn't find an answer to that in our help center, and I'd rather not guess. "
            "Would you like me to connect you with a member of our support team?"
        )
    return Reply(text=answer_from(best, question))


def _articles(turn: Turn) -> list[dict[str, Any]] | None:
    """The articles of this turn's latest `search_faq` result, else of the knowledge block (None: neither)."""
    for result in reversed(turn.results):
        if result.name == "search_faq" and isinstance(result.data, Mapping):
            found = result.data.get("articles")
            if isinstance(found, list):
                return [a for a in found if isinstance(a, dict)]
    return turn.knowledge
