"""Manager approval: pause, approve or reject, survive restarts, never pay twice."""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

import pytest
from langgraph.types import Command

from graph.context import Context
from service.desk import SupportDesk
from service.errors import InvalidRequest
from service.settings import Settings
from tests.conftest import ask_and_confirm
from tools.refunds import decide_approval, get_approval, list_refunds

LARGE = "We bought the $899 seat pack by mistake last week, please refund it."
OLD = "I forgot to cancel, please refund order ord_401."


def pause(desk: SupportDesk, customer: str = "cust_003", message: str = LARGE) -> dict[str, Any]:
    result = ask_and_confirm(desk, message, customer_id=customer)
    assert result["pending_approval"] is not None, result
    return result


def test_large_refund_waits_for_a_manager_with_what_they_need(desk: SupportDesk) -> None:
    result = pause(desk)
    pending = result["pending_approval"]
    assert result["final_agent"] == "RefundAgent"
    assert pending["order_id"] == "ord_301"
    assert pending["amount"] == pytest.approx(899.00)
    assert pending["rule"] == "over_500"
    assert pending["approval_id"] in result["response"]
    assert list_refunds(desk.db, order_id="ord_301") == []
    interrupts = desk.graph.get_state(desk._config(result["thread_id"])).interrupts
    payload = interrupts[0].value
    assert payload["approval"]["approval_id"] == pending["approval_id"]
    assert payload["action_request"]["args"]["order_id"] == "ord_301"


def test_old_charge_needs_approval_too(desk: SupportDesk) -> None:
    result = pause(desk, "cust_004", OLD)
    assert result["pending_approval"]["rule"] == "older_than_30_days"


def test_approve_pays_exactly_once_and_tells_the_customer(desk: SupportDesk) -> None:
    result = pause(desk)
    approval_id = result["pending_approval"]["approval_id"]
    outcome = desk.decide(approval_id, approve=True, by="maya", note="ok")
    assert outcome["approval"]["status"] == "approved"
    refunds = list_refunds(desk.db, order_id="ord_301")
    assert len(refunds) == 1 and refunds[0]["amount"] == pytest.approx(899.00)
    assert "approved" in outcome["customer_reply"]
    history = desk.history(result["thread_id"])
    assert history[-1]["text"] == outcome["customer_reply"]
    assert not desk.graph.get_state(desk._config(result["thread_id"])).interrupts


def test_reject_records_the_reason_and_pays_nothing(desk: SupportDesk) -> None:
    result = pause(desk, "cust_004", OLD)
    approval_id = result["pending_approval"]["approval_id"]
    outcome = desk.decide(approval_id, approve=False, by="maya", note="used during the period")
    assert outcome["approval"]["status"] == "rejected"
    assert "used during the period" in outcome["customer_reply"]
    assert list_refunds(desk.db, order_id="ord_401") == []


def test_after_a_rejection_a_smaller_refund_within_policy_is_paid_as_proposed(desk: SupportDesk) -> None:
    result = desk.ask("refund the whole seat pack please", customer_id="cust_003")
    paused = desk.ask("yes", customer_id="cust_003", thread_id=result["thread_id"])
    desk.decide(paused["pending_approval"]["approval_id"], approve=False, by="maya", note="seats were used")
    smaller = desk.ask("ok, then just 250 back on it", customer_id="cust_003", thread_id=result["thread_id"])
    assert (smaller["pending_proposal"] or {}).get("amount") == pytest.approx(250.0), smaller["response"]
    desk.ask("yes", customer_id="cust_003", thread_id=result["thread_id"])
    # What was proposed is what is paid: the earlier rejection was of another request (one that needed a manager).
    assert [r["amount"] for r in list_refunds(desk.db, order_id="ord_301")] == [pytest.approx(250.0)]


def test_while_a_manager_decides_the_customer_can_keep_talking_and_still_gets_the_decision(desk: SupportDesk) -> None:
    result = pause(desk)
    thread, approval_id = result["thread_id"], result["pending_approval"]["approval_id"]
    news = desk.ask("hey, any news about that?", customer_id="cust_003", thread_id=thread)
    # Answered from the account, which shows the request waiting, with the policy's review time.
    assert approval_id in news["response"] and "one business day" in news["response"], news["response"]
    other = desk.ask("How do I export my data to CSV?", customer_id="cust_003", thread_id=thread)
    assert other["final_agent"] == "FAQAgent" and "Export" in other["response"]
    assert other["pending_approval"]["approval_id"] == approval_id  # still waiting, shown as such
    assert [m["text"] for m in desk.history(thread) if m["role"] == "customer"][-2:] == [
        "hey, any news about that?",
        "How do I export my data to CSV?",
    ]  # both messages kept in the thread
    assert get_approval(desk.db, approval_id).status == "pending"  # type: ignore[union-attr]
    outcome = desk.decide(approval_id, approve=True, by="maya")
    assert outcome["delivered"] and "approved" in outcome["customer_reply"]
    assert desk.history(thread)[-1]["text"] == outcome["customer_reply"]
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1
    assert not desk.graph.get_state(desk._config(thread)).interrupts


def test_a_second_request_while_one_waits_queues_behind_it_and_either_can_be_decided_first(
    desk: SupportDesk,
) -> None:
    first = pause(desk, "cust_002", "please refund the September subscription, ord_203, we didn't use it")
    thread = first["thread_id"]
    desk.ask("and the August one too please, ord_204", customer_id="cust_002", thread_id=thread)
    second = desk.ask("yes", customer_id="cust_002", thread_id=thread)
    waiting = [a.approval_id for a in desk.approvals(status="pending")]
    assert len(waiting) == 2 and second["pending_approval"]["approval_id"] == waiting[0]
    # The manager decides the later one first: it is applied to that one, and the first still waits.
    outcome = desk.decide(waiting[1], approve=False, by="maya", note="that month was used")
    assert outcome["delivered"] and "that month was used" in outcome["customer_reply"]
    assert [a.approval_id for a in desk.approvals(status="pending")] == [waiting[0]]
    assert get_approval(desk.db, waiting[1]).status == "rejected"  # type: ignore[union-attr]
    assert desk.graph.get_state(desk._config(thread)).interrupts  # still paused, on the first
    desk.decide(waiting[0], approve=True, by="maya")
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_002")] == ["ord_203"]
    assert not desk.graph.get_state(desk._config(thread)).interrupts


def test_a_pending_approval_survives_a_restart(settings: Settings) -> None:
    with SupportDesk(settings) as first:
        result = pause(first)
    with SupportDesk(settings) as second:  # a new process: new connections, same files
        waiting = second.approvals(status="pending")
        assert [a.approval_id for a in waiting] == [result["pending_approval"]["approval_id"]]
        outcome = second.decide(waiting[0].approval_id, approve=True, by="maya")
        assert outcome["approval"]["status"] == "approved"
        assert len(list_refunds(second.db, order_id="ord_301")) == 1
        assert second.history(result["thread_id"])[-1]["agent"] == "RefundAgent"


def test_deciding_twice_is_refused_and_changes_nothing(desk: SupportDesk) -> None:
    approval_id = pause(desk)["pending_approval"]["approval_id"]
    desk.decide(approval_id, approve=True, by="maya")
    before = get_approval(desk.db, approval_id)
    for approve in (True, False):
        with pytest.raises(InvalidRequest, match="already approved"):
            desk.decide(approval_id, approve=approve, by="sam", note="no")
    assert get_approval(desk.db, approval_id) == before
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def test_resuming_twice_never_pays_twice(desk: SupportDesk) -> None:
    result = pause(desk)
    approval_id = result["pending_approval"]["approval_id"]
    desk.decide(approval_id, approve=True, by="maya")
    resume = Command(resume={"decision": "approve", "by": "maya", "note": None})
    desk.graph.invoke(resume, desk._config(result["thread_id"]), context=Context(customer_id="cust_003"))
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def test_a_decision_committed_before_a_crash_is_completed_not_lost(desk: SupportDesk) -> None:
    result = pause(desk)
    approval_id = result["pending_approval"]["approval_id"]
    decide_approval(desk.db, approval_id, approve=True, by="maya")  # committed, then "crash"
    assert desk.graph.get_state(desk._config(result["thread_id"])).interrupts
    outcome = desk.decide(approval_id, approve=True, by="maya")
    assert "approved" in outcome["customer_reply"]
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def test_two_managers_deciding_at_once_exactly_one_wins(settings: Settings) -> None:
    with SupportDesk(settings) as desk:
        approval_id = pause(desk)["pending_approval"]["approval_id"]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(name: str, approve: bool) -> None:
        with SupportDesk(settings) as own:
            barrier.wait()
            try:
                own.decide(approval_id, approve=approve, by=name, note="reason")
                outcomes.append(f"won:{name}")
            except InvalidRequest:
                outcomes.append(f"lost:{name}")

    workers = [threading.Thread(target=decide, args=(n, a)) for n, a in (("maya", True), ("sam", False))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["lost", "won"]
    with SupportDesk(settings) as desk:
        final = get_approval(desk.db, approval_id)
        assert final is not None
        assert len(list_refunds(desk.db, order_id="ord_301")) == (1 if final.status == "approved" else 0)


def test_unknown_approval_and_missing_reason_are_refused(desk: SupportDesk) -> None:
    with pytest.raises(InvalidRequest, match="unknown approval"):
        desk.decide("apr_9999", approve=True, by="maya")
    approval_id = pause(desk)["pending_approval"]["approval_id"]
    with pytest.raises(InvalidRequest, match="reason"):
        desk.decide(approval_id, approve=False, by="maya", note="")


def test_re_deciding_an_old_approval_never_decides_a_later_one_in_the_same_thread(desk: SupportDesk) -> None:
    # Alice's older monthly charges are past the 30-day window, so each refund request waits for a manager.
    first = pause(desk, "cust_001", "Please refund order ord_105, I did not use the product that month.")
    old_id = first["pending_approval"]["approval_id"]
    desk.decide(old_id, approve=False, by="maya", note="used during the period")
    second = pause_in(desk, first["thread_id"], "Then please refund order ord_106 instead.")
    new_id = second["pending_approval"]["approval_id"]
    assert new_id != old_id
    # The same decision again is refused, and above all does not resume the thread into the new approval.
    with pytest.raises(InvalidRequest, match="already rejected"):
        desk.decide(old_id, approve=False, by="maya", note="used during the period")
    assert get_approval(desk.db, new_id).status == "pending"  # type: ignore[union-attr]
    assert desk.graph.get_state(desk._config(first["thread_id"])).interrupts


def pause_in(desk: SupportDesk, thread_id: str, message: str) -> dict[str, Any]:
    result = ask_and_confirm(desk, message, customer_id="cust_001", thread_id=thread_id)
    assert result["pending_approval"] is not None, result
    return result


def test_a_second_request_for_a_waiting_charge_is_told_it_is_already_waiting(desk: SupportDesk) -> None:
    first = pause(desk)["pending_approval"]["approval_id"]
    again = desk.ask(LARGE, customer_id="cust_003")  # the same charge asked about again in another conversation
    assert again["pending_approval"] is None
    assert first in again["response"] and "already waiting" in again["response"]
    assert not desk.graph.get_state(desk._config(again["thread_id"])).interrupts
    assert [a.approval_id for a in desk.approvals(status="pending")] == [first]
    desk.decide(first, approve=True, by="maya")
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1


def refund_elsewhere(desk: SupportDesk, order_id: str, cents: int) -> None:
    """A refund written outside the conversation (say, by finance) while an approval waits."""
    with desk.db.transaction() as conn:
        conn.execute(
            "INSERT INTO refunds (refund_id, order_id, customer_id, amount_cents, reason, idempotency_key,"
            " approval_id, rule, created_at, thread_id) VALUES ('ref_x', ?, 'cust_003', ?, 'finance', 'x', NULL,"
            " 'manual', '2026-11-25T00:00:00+00:00', NULL)",
            (order_id, cents),
        )


def test_approving_a_request_for_a_charge_refunded_meanwhile_is_refused_and_stays_pending(desk: SupportDesk) -> None:
    result = pause(desk)
    approval_id = result["pending_approval"]["approval_id"]
    refund_elsewhere(desk, "ord_301", 89900)
    with pytest.raises(InvalidRequest, match=r"nothing left to refund.*reject"):
        desk.decide(approval_id, approve=True, by="maya")
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1
    still = get_approval(desk.db, approval_id)
    assert still is not None and still.status == "pending"
    assert desk.graph.get_state(desk._config(result["thread_id"])).interrupts  # not lost: still waiting
    outcome = desk.decide(approval_id, approve=False, by="maya", note="already refunded by finance")
    assert outcome["approval"]["status"] == "rejected" and outcome["delivered"]


def test_control_characters_never_reach_a_managers_screen(desk: SupportDesk) -> None:
    result = pause(desk, message="Please refund the \x1b[8m$899 seat pack\x1b[0m\x07, bought by mistake.\r\nThanks")
    approval = get_approval(desk.db, result["pending_approval"]["approval_id"])
    assert approval is not None
    assert "$899 seat pack" in approval.reason and "bought by mistake" in approval.reason
    assert not [c for c in approval.reason if unicodedata.category(c) == "Cc"]  # no ESC, BEL or CR left
    human = desk.graph.get_state(desk._config(result["thread_id"])).values["messages"][0]
    assert not [c for c in human.text if c != "\n" and unicodedata.category(c) == "Cc"]
    with pytest.raises(InvalidRequest, match="empty"):
        desk.ask("\x1b\x00\x07 \r\n", customer_id="cust_003")


def test_a_direct_resume_that_cannot_be_applied_keeps_the_thread_waiting(desk: SupportDesk) -> None:
    paused = pause(desk)
    approval_id = paused["pending_approval"]["approval_id"]
    refund_elsewhere(desk, "ord_301", 89900)
    config = desk._config(paused["thread_id"])
    context = Context(customer_id="cust_003")
    desk.graph.invoke(Command(resume={"type": "accept"}), config, context=context)  # e.g. from Studio
    assert desk.graph.get_state(config).interrupts  # still waiting, no error
    still = get_approval(desk.db, approval_id)
    assert still is not None and still.status == "pending"
    assert len(list_refunds(desk.db, order_id="ord_301")) == 1
    desk.graph.invoke(Command(resume={"type": "response", "args": "Already refunded"}), config, context=context)
    assert not desk.graph.get_state(config).interrupts
    decided = get_approval(desk.db, approval_id)
    assert decided is not None and decided.status == "rejected" and decided.note == "Already refunded"
    assert "Already refunded" in desk.history(paused["thread_id"])[-1]["text"]
