"""Browser journeys: Playwright driving Debian's chromium against a real ``fiberdesk serve``.

Each test worker builds one small demo operator on SQLite (the real demo builder, limited
to the premises nearest Towson), starts ``fiberdesk serve`` on a free port with its
in-process delivery worker, and opens one headless chromium. Journeys sign in through the
sign-in page like a person would. Screenshots go to ``artifacts/screenshots/`` (or
``$FIBERDESK_ARTIFACTS/screenshots``), one per step that matters, for a person to look at.

Without ``/usr/bin/chromium`` these tests skip, except under ``CI=true`` where they fail:
``.ci/run`` installs the ``chromium`` package.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("FIBERDESK_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("FIBERDESK_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
#: every demo user's password (services/demo/people.py)
DEMO_PASSWORD = "fiberdesk-demo"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fiberdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a freshly built small demo operator on SQLite."""
    db = tmp_path_factory.mktemp("browser-demo") / "demo.db"
    env = {
        **os.environ,
        "FIBERDESK_DATABASE_URL": f"sqlite:///{db}",
        "FIBERDESK_SECRET_KEY": "browser-tests-secret",
        # the journeys of one test worker share a server and a client address; the limit
        # itself is tested in tests/e2e (a 429 here would only make the journeys flaky)
        "FIBERDESK_PUBLIC_RATE_LIMIT_PER_MINUTE": "1000",
        # mail goes nowhere: the journeys look at pages, the outbox tests look at mail
        "FIBERDESK_SMTP_HOST": "127.0.0.1",
        "FIBERDESK_SMTP_PORT": str(_free_port()),
    }
    _cli("db", "upgrade", env=env)
    _cli("demo", "--force", "--premises-limit", "6000", "--customers", "300", env=env)
    return env


@pytest.fixture(scope="session")
def base_url(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running ``fiberdesk serve`` on the demo database."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fiberdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=demo_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"fiberdesk serve did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: sync Playwright keeps an event loop running in this thread until it
    stops, and tests of other files that run in the same worker need the thread free."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"no chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield browser
    browser.close()


def _page(browser: Browser, base_url: str, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A desktop-sized tab of its own (fresh cookies)."""
    yield from _page(browser, base_url, DESKTOP)


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A 390 px wide tab of its own, as on a phone."""
    yield from _page(browser, base_url, PHONE)


class Shots:
    """Numbered screenshots of one test: ``shots(page, "quote")``."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in page as a person would."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()


def assert_no_unlabelled_fields(page: Page) -> None:
    """Every visible form field has a label a screen reader would read."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.getAttribute('aria-labelledby'))
            .map(e => e.name || e.id || e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == [], f"fields without a label: {unlabelled}"


def assert_fits(page: Page) -> None:
    """Nothing makes the page scroll sideways (checked at 390 px)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow} px wider than the screen"
