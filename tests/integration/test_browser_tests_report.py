"""A run on a machine without Chromium (issue 8, point 22) says at its end how many
browser tests it skipped and how to run them; FUWU_REQUIRE_BROWSER=1 turns the
missing browser into a failure. Runs pytest itself on two browser tests with the
browser pointed at a path that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ["tests/e2e/test_shell_pages.py::test_provider_sign_up_does_not_show_the_shop_size",
         "tests/e2e/test_shell_pages.py::test_log_out_returns_to_start_page_and_dashboard_then_asks_to_log_in"]


def run_without_browser(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("FUWU_DATA_DIR", "FUWU_REQUIRE_BROWSER", "PYTEST_ADDOPTS")}
    environment.update(FUWU_CHROMIUM="/nonexistent/chromium", **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *TESTS], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)


def test_a_run_without_chromium_ends_by_saying_how_many_browser_tests_were_skipped():
    run = run_without_browser()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tail = run.stdout.strip().splitlines()[-3:]
    notice = "\n".join(tail)
    assert "2 browser tests (tests/e2e) were skipped" in notice, run.stdout[-3000:]
    assert "apt-get install chromium" in notice and "FUWU_REQUIRE_BROWSER=1" in notice


def test_fuwu_require_browser_makes_a_missing_chromium_fail_the_run():
    run = run_without_browser(FUWU_REQUIRE_BROWSER="1")
    assert run.returncode != 0
    assert "FUWU_REQUIRE_BROWSER=1 but /nonexistent/chromium is not installed" in run.stdout
