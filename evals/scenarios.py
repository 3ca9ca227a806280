"""The scenario suite: multi-turn conversations with checks on the outcome, in the manner of tau-bench.

A scenario is a JSON file under `evals/scenarios/`: a customer, the messages they send, how a
scripted customer answers the agent's questions (a proposal nobody scripted an answer for is
answered "yes"), what a scripted manager decides when a refund waits for approval, and what must
be true at the end. Outcomes are checked on the database end
state (compared exactly, so any path to the right state passes), the final agent, and facts the
replies must and must never contain. Every run starts from a fresh data directory and a fixed day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from math import comb
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.harness import DEFAULT_TODAY, fresh_desk
from service.desk import SupportDesk
from service.errors import InvalidRequest
from service.settings import Settings

__all__ = [
    "SCENARIO_DIR",
    "Scenario",
    "load_scenarios",
    "run_scenario",
    "run_suite",
]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

# A scripted customer never talks forever, even to an agent that keeps asking.
MAX_MESSAGES = 12
# What the scripted customer says to a pending proposal when the scenario scripts no answer.
AUTO_YES = "yes"

AGENTS = Literal["TriageAgent", "BillingAgent", "RefundAgent", "FAQAgent", "EscalationAgent", "FallbackAgent"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Strict):
    """The scripted customer's answer when the agent's reply contains any of `when` (once each)."""

    when: list[str] = Field(min_length=1)
    say: str = Field(min_length=1)


class Manager(_Strict):
    """What the manager decides on any refund that waits for approval."""

    decision: Literal["approve", "reject"]
    by: str = Field(min_length=1)
    note: str | None = None


class RefundRow(_Strict):
    order_id: str
    amount: float = Field(gt=0)
    rule: str


class ApprovalRow(_Strict):
    order_id: str
    amount: float = Field(gt=0)
    status: Literal["pending", "approved", "rejected"]


class Expect(_Strict):
    """The outcome. Database lists hold only rows created during the scenario, compared exactly."""

    final_agent: AGENTS
    refunds: list[RefundRow] = []
    approvals: list[ApprovalRow] = []
    tickets: int = Field(0, ge=0)
    plan: str | None = None
    replies_contain: list[str] = []
    replies_never_contain: list[str] = []


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    covers: list[str] = Field(min_length=1)
    customer_id: str
    turns: list[str] = Field(min_length=1)
    answers: list[Answer] = []
    manager: Manager | None = None
    expect: Expect


def load_scenarios(directory: Path = SCENARIO_DIR, *, only: Sequence[str] = ()) -> list[Scenario]:
    """Every `*.json` scenario in `directory`, sorted by id; `only` keeps the named ids.

    Raises:
        InvalidRequest: a file is not a valid scenario, two share an id, or an `only` id is unknown.
    """
    scenarios: dict[str, Scenario] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            scenario = Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise InvalidRequest(f"{path.name} is not a valid scenario: {exc}") from exc
        if scenario.id in scenarios:
            raise InvalidRequest(f"{path.name}: scenario id {scenario.id!r} is used twice")
        scenarios[scenario.id] = scenario
    unknown = [name for name in only if name not in scenarios]
    if unknown:
        raise InvalidRequest(f"unknown scenario {', '.join(unknown)}")
    picked = [scenarios[name] for name in only] if only else list(scenarios.values())
    return sorted(picked, key=lambda s: s.id)


def _converse(desk: SupportDesk, scenario: Scenario) -> dict[str, Any]:
    """Play the customer (and the manager) and return the transcript."""
    pending_turns = list(scenario.turns)
    unused = list(scenario.answers)
    transcript: list[dict[str, str]] = []
    thread_id: str | None = None
    final_agent = ""
    model_calls = 0
    tokens = 0
    while pending_turns and len([t for t in transcript if t["role"] == "customer"]) < MAX_MESSAGES:
        text = pending_turns.pop(0)
        result = desk.ask(text, customer_id=scenario.customer_id, thread_id=thread_id)
        thread_id = result["thread_id"]
        transcript += [{"role": "customer", "text": text}, {"role": result["final_agent"], "text": result["response"]}]
        final_agent = result["final_agent"]
        model_calls += result["model_calls"]
        tokens += result["usage"]["input_tokens"]
        reply = result["response"]
        if result["pending_approval"] and scenario.manager is not None:
            m = scenario.manager
            approval_id = result["pending_approval"]["approval_id"]
            outcome = desk.decide(approval_id, approve=m.decision == "approve", by=m.by, note=m.note)
            reply = outcome["customer_reply"] or ""
            transcript += [{"role": "manager", "text": f"{m.decision} {approval_id}"}]
            transcript += [{"role": "RefundAgent", "text": reply}]
            final_agent = "RefundAgent"
        lowered = reply.lower()
        for answer in unused:
            if any(cue.lower() in lowered for cue in answer.when):
                unused.remove(answer)
                pending_turns.insert(0, answer.say)
                break
        else:
            if result.get("pending_proposal"):
                # The scripted customer agrees to whatever is proposed unless the scenario says otherwise:
                # a desk that proposes what nobody asked for is then caught on the database end state.
                pending_turns.insert(0, AUTO_YES)
    return {
        "transcript": transcript,
        "final_agent": final_agent,
        "thread_id": thread_id,
        "model_calls": model_calls,
        "prompt_tokens": tokens,
    }


def end_state(desk: SupportDesk, customer_id: str) -> dict[str, Any]:
    """Rows the conversation created (refunds, approvals, tickets) and the customer's plan."""
    with desk.db.connect() as conn:
        refunds = [
            {"order_id": r[0], "amount": r[1] / 100, "rule": r[2]}
            for r in conn.execute(
                "SELECT order_id, amount_cents, rule FROM refunds WHERE (rule IS NULL OR rule <> 'seed')"
                " ORDER BY order_id, refund_id"
            )
        ]
        approvals = [
            {"order_id": r[0], "amount": r[1] / 100, "status": r[2]}
            for r in conn.execute("SELECT order_id, amount_cents, status FROM approvals ORDER BY order_id, approval_id")
        ]
        tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        plan = conn.execute("SELECT plan_id FROM customers WHERE id = ?", (customer_id,)).fetchone()[0]
        others = conn.execute(
            "SELECT order_id FROM charges WHERE customer_id != ? UNION ALL "
            "SELECT name FROM customers WHERE id != ? UNION ALL SELECT email FROM customers WHERE id != ?",
            (customer_id, customer_id, customer_id),
        ).fetchall()
    return {
        "refunds": refunds,
        "approvals": approvals,
        "tickets": tickets,
        "plan": plan,
        "others": [r[0] for r in others],
    }


def _rows(rows: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return sorted((r.model_dump() for r in rows), key=lambda r: json.dumps(r, sort_keys=True))


def check(scenario: Scenario, run: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Every way the outcome differs from the scenario's expectations (empty when it passes)."""
    expect = scenario.expect
    failures: list[str] = []
    if run["final_agent"] != expect.final_agent:
        failures.append(f"final agent {run['final_agent']}, expected {expect.final_agent}")
    for name, expected in (("refunds", expect.refunds), ("approvals", expect.approvals)):
        got = sorted(state[name], key=lambda r: json.dumps(r, sort_keys=True))
        if got != _rows(expected):
            failures.append(f"{name} {got}, expected {_rows(expected)}")
    if state["tickets"] != expect.tickets:
        failures.append(f"{state['tickets']} tickets, expected {expect.tickets}")
    if expect.plan is not None and state["plan"] != expect.plan:
        failures.append(f"plan {state['plan']}, expected {expect.plan}")
    replies = "\n".join(t["text"] for t in run["transcript"] if t["role"] not in ("customer", "manager"))
    said = "\n".join(t["text"] for t in run["transcript"] if t["role"] == "customer").lower()
    for fact in expect.replies_contain:
        if fact.lower() not in replies.lower():
            failures.append(f"no reply says {fact!r}")
    for fact in expect.replies_never_contain:
        if fact.lower() in replies.lower():
            failures.append(f"a reply says {fact!r}, which it must never say")
    # Always checked: no reply reveals another customer's orders, name or email (unless the
    # customer typed it themselves, e.g. asking about someone else's order id).
    for private in state["others"]:
        if private.lower() in said:
            continue
        if re.search(rf"(?<![\w@.]){re.escape(private)}(?![\w@])", replies, flags=re.IGNORECASE):
            failures.append(f"a reply reveals another customer's {private!r}")
    return failures


def run_scenario(scenario: Scenario, settings: Settings, models: dict[str, BaseChatModel]) -> dict[str, Any]:
    """One run of one scenario in a fresh data directory."""
    with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
        run = _converse(desk, scenario)
        state = end_state(desk, scenario.customer_id)
    failures = check(scenario, run, state)
    state.pop("others")
    return {
        "id": scenario.id,
        "passed": not failures,
        "failures": failures,
        "final_agent": run["final_agent"],
        "model_calls": run["model_calls"],
        "prompt_tokens": run["prompt_tokens"],
        "state": state,
        "transcript": run["transcript"],
    }


def pass_hat(successes: int, trials: int, k: int) -> float:
    """tau-bench's pass^k: the chance that k runs drawn from `trials` (with `successes`) all pass."""
    if k > trials:
        raise ValueError("k cannot exceed the number of trials")
    return comb(successes, k) / comb(trials, k)


def run_suite(
    scenarios: Sequence[Scenario],
    settings: Settings,
    models: dict[str, BaseChatModel],
    *,
    k: int = 1,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run every scenario `k` times and report pass rate and pass^j for j = 1..k.

    Returns:
        `{"n", "k", "pass_rate", "pass_hat_k", "pass_hat", "scenarios": [...]}` where each scenario
        has `passes`, `pass_hat_k`, its failures and the transcript of its first failing run.
    """
    per_scenario: list[dict[str, Any]] = []
    for scenario in scenarios:
        runs = []
        for _ in range(k):
            runs.append(run_scenario(scenario, settings, models))
            if on_progress is not None:
                on_progress()
        passes = sum(r["passed"] for r in runs)
        failed = next((r for r in runs if not r["passed"]), None)
        per_scenario.append(
            {
                "id": scenario.id,
                "title": scenario.title,
                "covers": scenario.covers,
                "passes": passes,
                "runs": k,
                "pass_hat_k": round(pass_hat(passes, k, k), 4),
                "model_calls": runs[0]["model_calls"],
                "prompt_tokens": runs[0]["prompt_tokens"],
                "failures": failed["failures"] if failed else [],
                "failed_transcript": failed["transcript"] if failed else None,
            }
        )
    n = len(per_scenario)
    total_passes = sum(s["passes"] for s in per_scenario)
    curve = {
        str(j): round(sum(pass_hat(s["passes"], k, j) for s in per_scenario) / n, 4) if n else 0.0
        for j in range(1, k + 1)
    }
    return {
        "n": n,
        "k": k,
        "pass_rate": round(total_passes / (n * k), 4) if n else 0.0,
        "pass_hat_k": curve[str(k)] if n else 0.0,
        "pass_hat": curve,
        "scenarios": per_scenario,
    }
