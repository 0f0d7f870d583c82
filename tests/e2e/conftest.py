"""Browser tests: the real app served by uvicorn in a subprocess, driven by Playwright
through Debian's Chromium (/usr/bin/chromium).

The async Playwright API is used: pytest-asyncio runs every test and fixture of this
suite inside one session-scoped event loop, and the sync API refuses to start inside a
running loop. Without Chromium the tests are skipped, unless FUWU_REQUIRE_BROWSER=1
(as CI sets), in which case they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import free_port, healthy

# FUWU_CHROMIUM names another Chromium (or, in the suite's own test, a missing one).
CHROMIUM = os.environ.get("FUWU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
STARTUP_TIMEOUT = 20.0
E2E_DIR = Path(__file__).resolve().parent
NO_BROWSER = "browser tests need it"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e carries the e2e marker (-m e2e / -m 'not e2e')."""
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A run without Chromium says so at the end, where it is seen, rather than only
    as a row of "s" among the dots: after every other summary, just above the counts."""
    yield
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if NO_BROWSER in str(getattr(report, "longrepr", ""))]
    if not skipped:
        return
    terminalreporter.write_sep("!", f"{len(skipped)} browser tests skipped", yellow=True, bold=True)
    terminalreporter.write_line(
        f"{len(skipped)} browser tests (tests/e2e) were skipped: {CHROMIUM} is not installed. "
        "Install Chromium (apt-get install chromium) to run them; "
        "set FUWU_REQUIRE_BROWSER=1 to make a missing browser fail the run instead.",
        yellow=True, bold=True,
    )


def _require_browser() -> None:
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium); {NO_BROWSER}"
    if os.environ.get("FUWU_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FUWU_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(database):
    """The real app in a uvicorn subprocess on a free port, sharing the tests' database
    (tests/conftest.py set FUWU_DATA_DIR, FUWU_SECRET_KEY, FUWU_RUN_SCHEDULER=0 and maybe
    DATABASE_URL in os.environ; `database` has migrated it). Yields the base URL."""
    _require_browser()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_file = tempfile.NamedTemporaryFile(prefix="fuwu-e2e-server-", suffix=".log", delete=False)
    env = dict(os.environ)
    env["FUWU_RUN_SCHEDULER"] = "0"
    env.setdefault("PYTHONUNBUFFERED", "1")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fuwu.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )

    def output() -> str:
        log_file.flush()
        return Path(log_file.name).read_text(errors="replace")

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not healthy(f"{base_url}/healthz"):
        if process.poll() is not None:
            pytest.fail(f"the app server exited with {process.returncode} before answering /healthz:\n{output()}",
                        pytrace=False)
        if time.monotonic() > deadline:
            process.kill()
            process.wait(5)
            pytest.fail(f"the app server did not answer /healthz within {STARTUP_TIMEOUT:.0f} s:\n{output()}",
                        pytrace=False)
        time.sleep(0.1)
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log_file.close()
        if os.environ.get("FUWU_E2E_SERVER_LOG") == "1":
            sys.stderr.write(output())
        os.unlink(log_file.name)


@pytest.fixture(scope="session")
async def browser():
    """One headless Chromium for the session (async Playwright API)."""
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_page(browser, live_server):
    """Factory of pages, each in its own browser context (own cookies), closed at the end."""
    contexts = []

    async def factory(locale: str = "en-GB"):
        context = await browser.new_context(base_url=live_server, locale=locale,
                                            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield factory
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page):
    return await new_page()


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / name)
