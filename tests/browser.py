"""Headless Chromium for tests: Debian's `chromium`, driven by Playwright (no browser download).

Outside CI a machine without chromium skips these tests with the reason; in CI (CI=true) a
missing browser is a failure, because `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    found = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    return found


def require_chromium() -> str:
    """The browser's path; skips the test (or fails it in CI) when it is missing."""
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does this)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
