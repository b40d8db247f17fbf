"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: /usr/bin/chromium or the tests are skipped, loudly.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would
# otherwise refuse to run here (SynchronousOnlyOperation).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1366, "height": 768}
# Every run writes fresh screenshots to docs/screenshots/latest/ (not tracked); the curated set in
# docs/screenshots/ is refreshed deliberately: SCREENSHOTS_DIR=docs/screenshots make test.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "latest"
).resolve()
PASSWORD = "pw"  # tests/factories.py UserFactory


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def browser_context():
    from playwright.sync_api import sync_playwright

    user_data_dir = tempfile.mkdtemp(prefix="handoff-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                user_data_dir=user_data_dir,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,
                timezone_id="Europe/London",
                locale="en-GB",
            )
            context.set_default_timeout(10_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(user_data_dir, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shoot():
    """shoot(page, name): a 1366×768 PNG in SCREENSHOTS (viewport only, to stay small)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=False)
        return path

    return take


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def sign_in(page, live_server, user):
    """A signed-in session without the login page (log_in tests that page; this saves seconds a test)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))


@pytest.fixture
def fast_polling(settings):
    settings.WORKSPACE_POLL_SECONDS = 1
    return settings
