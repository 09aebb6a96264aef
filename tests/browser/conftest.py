"""Browser tests of the dashboard: Python Playwright driving Debian's chromium, headless.

Playwright's own browsers are never downloaded: the tests launch ``/usr/bin/chromium`` (or
``$SEVERA_SANDBOX_CHROMIUM``). Without it, or without the ``playwright`` package, every test here is
skipped with the reason and how to install it; nothing else is affected.

Every page a test opens is watched: a console error, a page error, a failed request or an answer
of 500 or more fails the test. Each screen a test looks at is saved as a PNG under
``test-artifacts/screenshots/`` (``$SEVERA_SANDBOX_ARTIFACTS`` to put it elsewhere).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.ports import PortPlan
from sandbox.up import Sandbox, UpOptions

CHROMIUM = os.environ.get("SEVERA_SANDBOX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL = "install it with: sudo apt-get install -y chromium (Debian/Ubuntu); the package playwright comes with `make venv`"
ARTIFACTS = Path(
    os.environ.get("SEVERA_SANDBOX_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
SCREENSHOTS = ARTIFACTS / "screenshots"


def _why_skip() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the browser tests need the Python package playwright; {INSTALL}"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and shutil.which(CHROMIUM) is None:
        return f"the browser tests need chromium at {CHROMIUM} (not found); {INSTALL}"
    return None


SKIP = _why_skip()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SKIP is None:
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=SKIP))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A whole sandbox on free ports, its worker passing every half second; Maventa delivers a
    sent invoice after 6 s (time enough to fail one on purpose)."""
    box = Sandbox(UpOptions(plan=PortPlan.any_free(), interval=0.5, delivery_seconds=6.0))
    box.start()
    try:
        yield box
    finally:
        box.stop(save=False)


@dataclass
class Watched:
    """A page whose console errors, page errors and failed requests are collected."""

    page: Any
    base: str
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, f"GET {path}: {response and response.status}"
        return response

    def shot(self, name: str) -> Path:
        """Save the whole page as test-artifacts/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '-', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)


@pytest.fixture
def web(browser: Any, sandbox: Sandbox) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="fi-FI")
    # the tests reload pages themselves: the dashboard's auto-refresh stays off
    context.add_init_script("try { localStorage.setItem('severa-sandbox.autorefresh', 'off'); } catch (e) {}")
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = Watched(page, sandbox.root_url("dashboard"))

    def on_console(message: Any) -> None:
        if message.type == "error":
            watched.problems.append(f"console error on {page.url}: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 500:
            watched.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.problems.append(f"page error on {page.url}: {exc}"))
    page.on(
        "requestfailed",
        lambda r: watched.problems.append(f"request failed: {r.method} {r.url} ({r.failure})"),
    )
    page.on("response", on_response)
    try:
        yield watched
    finally:
        context.close()
    assert not watched.problems, "\n".join(watched.problems)
