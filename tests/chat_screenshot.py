"""Draw docs/chat.png: the customer chat page with a refund proposal waiting for Confirm / Cancel.

Run with `make screenshot`. It starts a throwaway server on a temporary data directory, has Dan
(cust_004) ask two things through the real API, then asks for a refund in the page itself in
headless Chromium, and photographs it at 1280 × 720.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser import CHROMIUM_FLAGS, chromium_path
from tests.live_server import LiveServer, customer_token
from tests.test_server_api import OLD_ORDER, pause_for_approval, say

CUSTOMER = "cust_004"


def main(target: Path) -> int:
    browser_path = chromium_path()
    if browser_path is None:
        print("Debian's chromium is needed: apt-get install -y chromium", file=sys.stderr)
        return 2
    os.environ["SUPPORT_DEMO_TOKENS"] = "1"  # read by the server this process starts
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.start()
        try:
            client = server.client(customer_token(CUSTOMER))
            say(client, client.threads.create()["thread_id"], "How can I export all my data as a CSV file?")
            pause_for_approval(server, CUSTOMER, OLD_ORDER)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
                page.goto(server.url + "/chat")
                page.get_by_label("Customer token").fill(customer_token(CUSTOMER))
                page.keyboard.press("Enter")
                expect(page.locator("#thread-list a")).to_have_count(2)
                page.get_by_label("Your message").fill("Please refund ord_402, the reporting add-on was never used")
                page.keyboard.press("Enter")
                expect(page.locator("#log .proposal")).to_be_visible(timeout=30_000)
                expect(page.locator("#thread-list a")).to_have_count(3)
                page.locator("#log .proposal .confirm").focus()  # show the focus ring a keyboard user sees
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target))
                browser.close()
        finally:
            server.stop()
    print(f"Saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/chat.png")))
