"""`python -m fuwu.messages`: extracts every message id from the code and templates
and merges them into the zh_Hans catalog (new ids arrive untranslated)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ["N_", "InvalidInput:2", "Conflict:2", "Forbidden:2", "NotFound:2", "NotAuthenticated:2",
            "TooManyRequests:2", "FuwuError:2", "LoginRequired:2"]
CATALOG = ROOT / "fuwu" / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
TEMPLATE = ROOT / "build" / "messages.pot"
SOURCES = ["fuwu", "tenders", "bids", "sla", "chat", "ratings"]


def extract() -> Path:
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"), *keywords,
         "--no-location", "--sort-output", "--omit-header", "-o", str(TEMPLATE), *SOURCES],
        cwd=ROOT, check=True, capture_output=True,
    )
    return TEMPLATE


def main() -> None:
    template = extract()
    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    if CATALOG.exists():
        command = ["update", "-i", str(template), "-o", str(CATALOG), "-l", "zh_Hans", "--no-fuzzy-matching",
                   "--ignore-obsolete", "--width", "120"]
    else:
        command = ["init", "-i", str(template), "-o", str(CATALOG), "-l", "zh_Hans", "--width", "120"]
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *command], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
