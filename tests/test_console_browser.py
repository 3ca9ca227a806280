"""The approval console in a real headless Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import browser
from tests.live_server import MANAGER, LiveServer, customer_token, live_server
from tests.test_server_api import BIG_SEAT_PACK, OLD_ORDER, pause_for_approval
from tools.refunds import get_approval, list_refunds

__all__ = ["browser", "live_server"]


def test_a_manager_signs_in_sees_the_refund_and_approves_it_with_the_keyboard(
    live_server: LiveServer, browser: Browser
) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_003", BIG_SEAT_PACK)
    page = browser.new_page()
    try:
        page.goto(live_server.addresses.console)
        page.get_by_label("Manager token").fill(MANAGER)
        page.keyboard.press("Enter")
        card = page.locator(f"article[data-approval='{approval_id}']")
        expect(card).to_contain_text("$899.00")
        expect(card).to_contain_text("Carol Diaz")
        expect(card).to_contain_text("over_500")
        expect(card).to_contain_text("seat pack by accident")
        expect(page.locator("#who")).to_contain_text("Maya (demo)")

        note = card.get_by_label(f"Approval note for {approval_id}")
        note.focus()
        page.keyboard.type("Unused seats")
        page.keyboard.press("Enter")  # submits the approve form

        row = page.locator(f"#history tr[data-approval='{approval_id}']")
        expect(row).to_contain_text("approved", timeout=30_000)
        expect(row).to_contain_text("Maya (demo)")
        expect(row).to_contain_text("Unused seats")
        expect(card).to_have_count(0)
        # The card's place shows what the customer was told, with the refund id, until dismissed.
        outcome = page.locator(f"article[data-outcome='{approval_id}']")
        expect(outcome).to_contain_text("The customer was told:")
        expect(outcome).to_contain_text("a manager approved your refund of $899.00")
        approval = get_approval(live_server.db, approval_id)
        assert approval is not None and approval.refund_id
        expect(outcome).to_contain_text(approval.refund_id)
        expect(row).to_contain_text(approval.refund_id)
        outcome.get_by_role("button", name="Dismiss").click()
        expect(outcome).to_have_count(0)
    finally:
        page.close()

    assert approval.status == "approved" and approval.decided_by == "Maya (demo)"
    assert len(list_refunds(live_server.db, order_id="ord_301")) == 1
    assert client.threads.get(thread_id)["status"] == "idle"


def test_sign_out_shows_only_once_signed_in(live_server: LiveServer, browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(live_server.addresses.console)
        expect(page.get_by_label("Manager token")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        page.get_by_label("Manager token").fill(MANAGER)
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        expect(page.get_by_label("Manager token")).to_be_visible()
    finally:
        page.close()


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A server of its own with one decided refund (a history row) and one waiting (a card)."""
    server = LiveServer(tmp_path_factory.mktemp("layout-data"))
    server.start()
    try:
        _, _, decided = pause_for_approval(server, "cust_004", OLD_ORDER)
        with server.http() as http:
            http.post(f"/approvals/api/approvals/{decided}/reject", json={"reason": "Seats were assigned and used"})
        pause_for_approval(server, "cust_003", BIG_SEAT_PACK)
        yield server, decided
    finally:
        server.stop()


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_overflows_sideways(layout_server: tuple[LiveServer, str], browser: Browser, width: int) -> None:
    server, approval_id = layout_server
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(server.addresses.console)
        page.get_by_label("Manager token").fill(MANAGER)
        page.keyboard.press("Enter")
        expect(page.locator(f"#history tr[data-approval='{approval_id}']")).to_contain_text("Seats were assigned")
        expect(page.locator("article[data-approval]").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for selector in ("#history table", "article[data-approval]", "header"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, selector
    finally:
        page.close()


def test_a_customer_token_is_turned_away(live_server: LiveServer, browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(live_server.addresses.console)
        page.get_by_label("Manager token").fill(customer_token("cust_001"))
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_contain_text(re.compile("only managers", re.I))
        expect(page.locator("#console")).to_be_hidden()
    finally:
        page.close()


def test_a_rejection_needs_a_reason_which_the_customer_reads(live_server: LiveServer, browser: Browser) -> None:
    client, thread_id, approval_id = pause_for_approval(live_server, "cust_004", OLD_ORDER)
    page = browser.new_page()
    try:
        page.goto(live_server.addresses.console)
        page.get_by_label("Manager token").fill(MANAGER)
        page.keyboard.press("Enter")
        card = page.locator(f"article[data-approval='{approval_id}']")
        card.get_by_role("button", name="Reject").click()
        expect(card.locator(".msg")).to_contain_text("customer reads")
        assert get_approval(live_server.db, approval_id).status == "pending"  # type: ignore[union-attr]

        card.get_by_label(f"Rejection reason for {approval_id}").fill("Outside the 30-day window")
        card.get_by_role("button", name="Reject").click()
        row = page.locator(f"#history tr[data-approval='{approval_id}']")
        expect(row).to_contain_text("rejected", timeout=30_000)
    finally:
        page.close()
    assert list_refunds(live_server.db, order_id="ord_401") == []
    reply = client.threads.get_state(thread_id)["values"]["messages"][-1]["content"]
    assert "Outside the 30-day window" in reply
