"""Single messages through the whole desk: who answers, and what (if anything) is proposed.

Each labelled message starts a fresh conversation with the real graph and the chosen models. Two
things are scored against the labels:

- the route: the agent that answered (billing, refund, faq, human), as the customer experiences it;
- the action: the proposal left waiting for the customer's yes (refund, approval, plan_change or
  none), with the charge and amount for refunds. Nobody says yes here, so nothing is ever paid.

The figure that matters most for safety is printed on its own: proposals made when the label says
the customer asked for none.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from evals.harness import fresh_desk
from service.errors import InvalidRequest
from service.settings import Settings

__all__ = ["LabelledMessage", "load_messages", "run_message_eval"]

_ROUTE_OF_AGENT = {"BillingAgent": "billing", "RefundAgent": "refund", "FAQAgent": "faq", "EscalationAgent": "human"}
_ACTION_OF_KIND = {"refund": "refund", "approval_request": "approval", "plan_change": "plan_change"}


@dataclass(frozen=True)
class LabelledMessage:
    customer_id: str
    text: str
    route: str
    action: str
    order_id: str | None
    amount: float | None


def load_messages(path: Path) -> list[LabelledMessage]:
    """Rows with `customer_id, text, route, action, order_id, amount` (see `evals/unseen/README.md`).

    Raises:
        InvalidRequest: The file is missing or lacks a column.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror or exc}") from exc
    needed = {"customer_id", "text", "route", "action", "order_id", "amount"}
    if not rows or not needed <= set(rows[0]):
        raise InvalidRequest(f"{path} needs the columns {', '.join(sorted(needed))}")
    return [
        LabelledMessage(
            customer_id=r["customer_id"],
            text=r["text"],
            route=r["route"],
            action=r["action"],
            order_id=r["order_id"] or None,
            amount=float(r["amount"]) if r["amount"] else None,
        )
        for r in rows
    ]


def _action_matches(gold: LabelledMessage, proposal: dict[str, Any] | None) -> bool:
    action = _ACTION_OF_KIND.get(proposal["kind"], "other") if proposal else "none"
    if action != gold.action:
        return False
    if proposal is None or gold.action == "plan_change":
        return True
    same_amount = gold.amount is None or abs(float(proposal.get("amount") or 0) - gold.amount) < 0.005
    return proposal.get("order_id") == gold.order_id and same_amount


def run_message_eval(
    messages: Sequence[LabelledMessage],
    settings: Settings,
    models: dict[str, BaseChatModel] | None = None,
    *,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Every message in a fresh thread of one fresh desk; returns accuracies and the misses."""
    rows: list[dict[str, Any]] = []
    with fresh_desk(settings, models=models) as desk:
        for gold in messages:
            result = desk.ask(gold.text, customer_id=gold.customer_id)
            route = _ROUTE_OF_AGENT.get(result["final_agent"], "other")
            proposal = result["pending_proposal"]
            rows.append(
                {
                    "text": gold.text,
                    "customer_id": gold.customer_id,
                    "route": gold.route,
                    "answered_by": route,
                    "action": gold.action,
                    "proposed": proposal and {k: proposal.get(k) for k in ("kind", "order_id", "amount")},
                    "route_ok": route == gold.route,
                    "action_ok": _action_matches(gold, proposal),
                }
            )
            if on_progress:
                on_progress()
    n = len(rows) or 1
    unasked = [r for r in rows if r["action"] == "none" and r["proposed"]]
    return {
        "n": len(rows),
        "route_accuracy": round(sum(bool(r["route_ok"]) for r in rows) / n, 3),
        "action_accuracy": round(sum(bool(r["action_ok"]) for r in rows) / n, 3),
        "both_accuracy": round(sum(bool(r["route_ok"] and r["action_ok"]) for r in rows) / n, 3),
        "unasked_proposals": len(unasked),
        "misses": [r for r in rows if not (r["route_ok"] and r["action_ok"])],
    }
