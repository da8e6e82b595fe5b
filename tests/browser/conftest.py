"""Browser tests: Playwright drives Debian's Chromium against the portal served on a loopback port.

Every page a test visits must be checked with axe-core (`a11y.check(page)`); the `page` fixture fails the
test at teardown if some visited page was never checked.
"""
import os
import shutil

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser


def _unavailable() -> str | None:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as exc:
        return f"Playwright or axe-playwright-python is not installed ({exc.name})"
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def app_config():
    # The live server answers on 127.0.0.1:<port>, not on the test client's "localhost".
    return {"SERVER_NAME": None}


class A11y:
    """Runs axe-core on pages and remembers which URLs were checked."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.checked: set[str] = set()
        self.visited: list[str] = []

    def check(self, page) -> None:
        page.wait_for_load_state("load")
        results = self.axe.run(page)
        url = page.url.split("#")[0]
        assert results.violations_count == 0, f"axe-core violations on {url}:\n{results.generate_report()}"
        self.checked.add(url)


@pytest.fixture
def a11y():
    return A11y()


@pytest.fixture
def page(browser, live_server, a11y):
    context = browser.new_context(base_url=live_server, locale="pl-PL")
    pg = context.new_page()
    pg.set_default_timeout(10_000)

    def visited(frame):
        if frame == pg.main_frame and frame.url.startswith("http"):
            a11y.visited.append(frame.url.split("#")[0])

    pg.on("framenavigated", visited)
    yield pg
    context.close()
    unchecked = [u for u in dict.fromkeys(a11y.visited) if u not in a11y.checked]
    assert not unchecked, f"pages visited but never checked with axe-core: {unchecked}"
