"""`support demo`: the four classic scenarios plus one approved and one rejected refund.

It runs in a fresh data directory (`<data dir>/demo`), so it is repeatable and never touches
the conversations and refunds in the main one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

from service.settings import Settings

__all__ = ["SCENARIOS", "run_demo"]


@dataclass(frozen=True)
class Scenario:
    title: str
    customer_id: str
    message: str
    expected_route: str  # the specialist that should end up answering
    manager: tuple[str, str, str] | None = None  # (decision, by, note) for a refund that waits


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("Duplicate charge", "cust_001", "I was charged twice this month and want my money back", "RefundAgent"),
    Scenario("Product question", "cust_001", "How do I export my data to CSV?", "FAQAgent"),
    Scenario(
        "Explain a charge",
        "cust_001",
        "Can you explain what the $49.99 charge on March 1st was for?",
        "BillingAgent",
    ),
    Scenario("Plan change", "cust_001", "I want to upgrade from Pro to Enterprise", "BillingAgent"),
    Scenario(
        "Large refund, approved",
        "cust_003",
        "We bought the $899 seat pack by mistake last week, please refund it.",
        "RefundAgent",
        ("approve", "Maya (support manager)", "Bought by mistake; refund within the month."),
    ),
    Scenario(
        "Old refund, rejected",
        "cust_004",
        "I forgot to cancel and want a refund for order ord_401.",
        "RefundAgent",
        ("reject", "Maya (support manager)", "The subscription was used during that period."),
    ),
)


def _rule(title: str) -> None:
    print(f"\n── {title} " + "─" * max(0, 68 - len(title)))


def run_demo(settings: Settings, *, as_json: bool = False) -> int:
    from service.desk import SupportDesk

    demo_dir = settings.data_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_settings = settings.model_copy(update={"data_dir": demo_dir})
    rows: list[dict[str, Any]] = []
    with SupportDesk(demo_settings) as desk:
        if not as_json:
            print(f"Acme Support Desk demo · models: {dict(settings.models)} · data: {demo_dir}")
        for sc in SCENARIOS:
            if not as_json:
                _rule(sc.title)
                print(f"{sc.customer_id} > {sc.message}")
            result = desk.ask(sc.message, customer_id=sc.customer_id)
            if not as_json:
                print(f"{result['final_agent']} > {result['response']}")
            calls, route = result["model_calls"], " → ".join(result["routed_to"])
            if result["pending_proposal"]:
                # The customer agrees to the exact terms shown; code reads the yes and acts, with no model call.
                if not as_json:
                    print(f"{sc.customer_id} > yes")
                result = desk.ask("yes", customer_id=sc.customer_id, thread_id=result["thread_id"])
                calls += result["model_calls"]
                if not as_json:
                    print(f"{result['final_agent']} > {result['response']}")
            decision = None
            if sc.manager and result["pending_approval"]:
                verdict, by, note = sc.manager
                approval_id = result["pending_approval"]["approval_id"]
                if not as_json:
                    print(f"  [manager] {by} {verdict}s {approval_id}: {note}")
                decision = desk.decide(approval_id, approve=verdict == "approve", by=by, note=note)
                if not as_json:
                    print(f"RefundAgent > {decision['customer_reply']}")
            actual = result["final_agent"]
            rows.append(
                {
                    "scenario": sc.title,
                    "customer_id": sc.customer_id,
                    "message": sc.message,
                    "expected_route": sc.expected_route,
                    "actual_route": route,
                    "final_agent": actual,
                    "ok": actual == sc.expected_route,
                    "model_calls": calls,
                    "approval": decision["approval"]["status"] if decision else None,
                }
            )
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        _table(rows)
    return 0 if all(r["ok"] for r in rows) else 1


def _table(rows: list[dict[str, Any]]) -> None:
    _rule("Summary")
    cells = [
        (
            r["message"] if len(r["message"]) <= 50 else r["message"][:49] + "…",
            r["expected_route"],
            r["actual_route"],
            f"{r['final_agent']} {'✓' if r['ok'] else '✗'}",
        )
        for r in rows
    ]
    titles = ("message", "expected", "actual route", "final agent")
    # Columns as wide as their longest cell, so a longer route or agent name never shifts the next column.
    widths = [max(len(t), *(len(c[i]) for c in cells)) + 1 for i, t in enumerate(titles)]
    header = " ".join(f"{t:<{w}}" for t, w in zip(titles, widths, strict=True)) + " calls"
    print(header)
    print("─" * len(header))
    for r, row in zip(rows, cells, strict=True):
        print(" ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)) + f" {r['model_calls']:>5}")
    seed = rows[:4]
    avg = sum(r["model_calls"] for r in seed) / len(seed)
    print(f"\nModel calls per message, four classic scenarios: {avg:.2f} on average.")
