"""Draw docs/approvals-console.png: the console with two refunds waiting and one decided.

Run with `make screenshot` (1280 px wide; `python -m tests.console_screenshot out.png 390` for a
phone). It starts a throwaway server on a temporary data directory, makes
the approvals through the real API, and photographs the page in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser import CHROMIUM_FLAGS, chromium_path
from tests.live_server import MANAGER, LiveServer
from tests.test_server_api import BIG_SEAT_PACK, OLD_ORDER, pause_for_approval


def main(target: Path, width: int = 1280) -> int:
    browser_path = chromium_path()
    if browser_path is None:
        print("Debian's chromium is needed: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.start()
        try:
            _, _, first = pause_for_approval(server, "cust_004", OLD_ORDER)
            with server.http() as http:
                http.post(f"/approvals/api/approvals/{first}/reject", json={"reason": "Used through the whole period"})
            pause_for_approval(server, "cust_003", BIG_SEAT_PACK)
            pause_for_approval(
                server, "cust_004", "Please refund ord_401, we stopped using that subscription long ago."
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
                page.goto(server.addresses.console)
                page.get_by_label("Manager token").fill(MANAGER)
                page.keyboard.press("Enter")
                expect(page.locator("article[data-approval]")).to_have_count(2)
                expect(page.locator("#history tbody tr")).to_have_count(1)
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target), full_page=True)
                browser.close()
        finally:
            server.stop()
    print(f"Saved {target}")
    return 0


if __name__ == "__main__":
    # python -m tests.console_screenshot [PATH] [WIDTH]: 1280 px for the README; 390 px shows a phone.
    sys.exit(
        main(
            Path(sys.argv[1] if len(sys.argv) > 1 else "docs/approvals-console.png"),
            int(sys.argv[2]) if len(sys.argv) > 2 else 1280,
        )
    )
