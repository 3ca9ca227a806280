"""The customer chat page (/chat) in a real headless Chromium against a real `langgraph dev`.

One server and one browser for the module; each test opens its own browser context (its own
sessionStorage, so its own sign-in). Each test that moves money uses its own customer and charge,
since a charge is refunded only once. The test that stops the server comes last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import browser
from tests.live_server import MANAGER, LiveServer, customer_token
from tests.test_server_api import BIG_SEAT_PACK, say
from tools.accounts import get_account_summary
from tools.refunds import get_approval, list_approvals, list_refunds

__all__ = ["browser"]

REPLY_TIMEOUT = 30_000  # ms; a reply takes well under a second offline, but the machine may be busy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("chat-data"))
    # The demo tokens may become opt-in; these tests rely on them, so they ask for them explicitly.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SUPPORT_DEMO_TOKENS", "1")
        live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in(page: Page, server: LiveServer, customer: str, *, query: str = "") -> None:
    page.goto(server.addresses.chat + query)  # the address `support serve` prints
    expect(page.locator("#app")).to_be_hidden()
    page.get_by_label("Customer token").fill(customer_token(customer))
    page.keyboard.press("Enter")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def last_reply(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#log .msg[data-role=ai]").last


def test_a_customer_signs_in_and_a_question_is_answered_as_it_is_written(
    server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    # Record what the streaming area shows over time: a reply that streams shows several lengths.
    page.add_init_script(
        """window.__seen = new Set();
        new MutationObserver(() => { const t = document.getElementById("typing");
          if (t && t.textContent.length) window.__seen.add(t.textContent.length); })
        .observe(document, { subtree: true, childList: true, characterData: true });"""
    )
    sign_in(page, server, "cust_001")
    expect(page.locator("#who-name")).to_have_text("Alice Johnson")
    assert page.evaluate("sessionStorage.getItem('support-chat-token')") == "demo-cust_001"

    send(page, "How can I export all my data as a CSV file?")
    reply = last_reply(page)
    expect(reply).to_contain_text(re.compile("export", re.I), timeout=REPLY_TIMEOUT)
    expect(reply).to_have_attribute("data-agent", "FAQAgent")
    expect(reply.locator(".who")).to_have_text("Help center")
    expect(page.get_by_label("Your message")).to_have_value("")
    assert page.evaluate("window.__seen.size") >= 3, "the reply did not stream"

    # The conversation is in the list and in the address, so it can be continued later.
    thread_id = re.search(r"thread=([0-9a-f-]+)", page.url).group(1)  # type: ignore[union-attr]
    item = page.locator(f"#thread-list a[data-thread='{thread_id}']")
    expect(item).to_contain_text("How can I export all my data")
    expect(item).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#log .msg")).to_have_count(0)
    item.click()
    expect(page.locator("#log .msg")).to_have_count(2)
    expect(page.locator("#log")).to_have_attribute("role", "log")


def test_a_refund_confirmed_by_clicking_is_paid_exactly_once(server: LiveServer, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, server, "cust_004")
    send(page, "Please refund ord_402, it was never used")
    card = page.locator("#log .proposal")
    expect(card).to_have_attribute("data-kind", "refund", timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("$29.00")
    expect(card).to_contain_text("ord_402")
    expect(card).to_contain_text("Advanced reporting add-on")
    expect(page.locator("#thread-list .badge")).to_have_text("Needs your answer")
    assert list_refunds(server.db, order_id="ord_402") == []  # a proposal writes nothing

    card.get_by_role("button", name="Confirm").click()
    expect(last_reply(page)).to_contain_text("refunded $29.00", timeout=REPLY_TIMEOUT)
    expect(page.locator("#log .msg[data-role=customer] .bubble").last).to_have_text("yes")
    expect(card).to_have_count(0)
    refunds = list_refunds(server.db, order_id="ord_402")
    assert [r["amount"] for r in refunds] == [29.0]

    # Coming back to it shows the outcome and no card; a second "yes" pays nothing more.
    page.reload()
    expect(page.locator("#log .msg")).to_have_count(4)
    expect(page.locator("#log .proposal")).to_have_count(0)
    send(page, "yes")
    expect(page.locator("#log .msg[data-role=customer]")).to_have_count(3)
    expect(page.get_by_role("button", name="Send")).to_be_enabled(timeout=REPLY_TIMEOUT)  # the reply is in
    expect(page.locator("#log .msg").last).to_have_attribute("data-role", "ai")
    assert len(list_refunds(server.db, order_id="ord_402")) == 1


def test_a_proposal_cancelled_from_the_keyboard_writes_nothing(server: LiveServer, context: BrowserContext) -> None:
    before = list_refunds(server.db, order_id="ord_502")
    page = context.new_page()
    sign_in(page, server, "cust_005")
    send(page, "Please refund $60 from ord_502, we ran short")
    card = page.locator("#log .proposal")
    expect(card).to_contain_text("$60.00", timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("ord_502")

    # Keyboard only: from the message box, Shift+Tab reaches Cancel, and Enter presses it.
    page.get_by_label("Your message").focus()
    page.keyboard.press("Shift+Tab")
    expect(card.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#log .msg[data-role=customer] .bubble").last).to_have_text("no")
    expect(card).to_have_count(0, timeout=REPLY_TIMEOUT)
    expect(last_reply(page)).to_contain_text(re.compile("cancel|won't|not", re.I))
    assert list_refunds(server.db, order_id="ord_502") == before
    assert all(a.order_id != "ord_502" for a in list_approvals(server.db))


def test_a_plan_change_card_shows_the_quote_and_a_typed_yes_works(server: LiveServer, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, server, "cust_001")
    page.get_by_role("button", name="New conversation").click()
    send(page, "I'd like to go up to the Enterprise tier")
    card = page.locator("#log .proposal")
    expect(card).to_have_attribute("data-kind", "plan_change", timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("from Pro to Enterprise")
    expect(card).to_contain_text("New price$199.99 a month")
    expect(card).to_contain_text("Difference+$150.00 a month")
    expect(card).to_contain_text("Next invoice$30.00 for the rest of this billing period")
    assert get_account_summary(server.db, "cust_001").plan.id == "pro"

    send(page, "yes")
    expect(card).to_have_count(0, timeout=REPLY_TIMEOUT)
    expect(last_reply(page)).to_contain_text("Enterprise")
    assert get_account_summary(server.db, "cust_001").plan.id == "enterprise"


def test_the_899_refund_waits_for_a_manager_and_the_decision_appears(
    server: LiveServer, browser: Browser, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, server, "cust_003")
    send(page, BIG_SEAT_PACK)
    card = page.locator("#log .proposal")
    expect(card).to_have_attribute("data-kind", "approval_request", timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("Ask a manager to approve a $899.00 refund")
    card.get_by_role("button", name="Confirm").click()

    waiting = page.locator("#waiting")
    expect(waiting).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(waiting).to_contain_text("$899.00")
    expect(waiting).to_contain_text("ord_301")
    expect(waiting.locator(".waited")).not_to_be_empty()
    expect(page.locator("#thread-list .badge")).to_have_text("Waiting for a manager")
    approval_id = waiting.get_attribute("data-approval")
    assert approval_id and get_approval(server.db, approval_id).status == "pending"  # type: ignore[union-attr]

    # The customer can keep writing while a manager decides; the answer says the request still waits.
    send(page, "Any news on this?")
    expect(page.locator("#log .msg.ai").last).to_contain_text(approval_id, timeout=REPLY_TIMEOUT)
    expect(page.locator("#log .msg", has_text="Any news on this?")).to_have_count(1)
    expect(waiting).to_be_visible()

    # A manager approves in the console, in another browser context (another person's browser).
    manager = browser.new_context()
    try:
        console = manager.new_page()
        console.goto(server.addresses.console)
        console.get_by_label("Manager token").fill(MANAGER)
        console.keyboard.press("Enter")
        console.locator(f"article[data-approval='{approval_id}']").get_by_role("button", name="Approve").click()
        expect(console.locator(f"#history tr[data-approval='{approval_id}']")).to_contain_text(
            "approved", timeout=REPLY_TIMEOUT
        )
    finally:
        manager.close()

    # The customer's page notices by itself.
    decision = page.locator("#log .msg.decision")
    expect(decision).to_contain_text("approved your refund of $899.00", timeout=REPLY_TIMEOUT)
    expect(waiting).to_be_hidden()
    assert len(list_refunds(server.db, order_id="ord_301")) == 1


def test_another_customers_thread_in_the_address_shows_nothing(server: LiveServer, context: BrowserContext) -> None:
    client = server.client(customer_token("cust_002"))
    thread_id = client.threads.create()["thread_id"]
    say(client, thread_id, "Why is invoice inv_201 still open? My card ends in 4242.")

    page = context.new_page()
    sign_in(page, server, "cust_001", query=f"?thread={thread_id}")
    expect(page.locator("#unavailable")).to_contain_text("isn't available")
    expect(page.locator("#log .msg")).to_have_count(0)
    expect(page.locator("#composer")).to_be_hidden()
    assert "inv_201" not in page.content() and "4242" not in page.content()
    expect(page.locator(f"#thread-list [data-thread='{thread_id}']")).to_have_count(0)
    page.get_by_role("button", name="Start a new conversation").click()
    expect(page.get_by_label("Your message")).to_be_focused()


def test_a_message_over_the_limit_and_an_unknown_token_are_one_line_and_keep_the_text(
    server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, server, "cust_002")
    long_text = "x" * 8001
    send(page, long_text)
    expect(page.locator("#error")).to_have_text(
        "That message can't be sent: the message is 8001 characters long; the limit is 8000."
        " Your message is still in the box."
    )
    expect(page.locator("#count")).to_contain_text("8,001 / 8,000")
    expect(page.get_by_label("Your message")).to_have_value(long_text)
    expect(page.locator("#log .msg")).to_have_count(0)

    # The token stops working (revoked, or it expired): back to sign-in, with the draft kept.
    page.evaluate("sessionStorage.setItem('support-chat-token', 'demo-revoked')")
    send(page, "Where is my invoice?")
    expect(page.locator("#login-error")).to_contain_text("expired or the token isn't recognised")
    page.get_by_label("Customer token").fill("not-a-token")
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_have_text("That token isn't recognised. Check it and try again.")
    page.get_by_label("Customer token").fill(customer_token("cust_002"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your message")).to_have_value("Where is my invoice?")

    # A manager's token is not a customer's.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Customer token").fill(MANAGER)
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("This page is for customers")


def test_the_page_at_390_px(server: LiveServer, browser: Browser, tmp_path: Path) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = phone.new_page()
        sign_in(page, server, "cust_004")
        send(page, "Could you refund order ord_401? I meant to cancel that subscription ages ago.")
        card = page.locator("#log .proposal")
        expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
        for name in ("Confirm", "Cancel"):
            box = card.get_by_role("button", name=name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
        shot = tmp_path / "chat-390.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000

        # The list of conversations is a panel behind the header's button.
        toggle = page.get_by_role("button", name="Conversations")
        expect(page.locator("#threads")).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#nav-who")).to_have_text("Signed in as Dan Okafor")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "chat-390-list.png"))
        page.locator("#thread-list a").first.click()
        expect(page.locator("#threads")).to_be_hidden()
        expect(card).to_be_visible()
    finally:
        phone.close()


def test_the_server_being_down_is_one_line_and_keeps_the_text(server: LiveServer, context: BrowserContext) -> None:
    """Last in the module: it stops the server (the fixture's stop afterwards does nothing)."""
    page = context.new_page()
    sign_in(page, server, "cust_002")
    server.stop()
    send(page, "Hello, is anyone there?")
    expect(page.locator("#error")).to_have_text(
        "Can't reach the support desk right now. Check your connection and try again. Your message is still in the box."
    )
    expect(page.get_by_label("Your message")).to_have_value("Hello, is anyone there?")
    expect(page.locator("#log .msg")).to_have_count(0)
