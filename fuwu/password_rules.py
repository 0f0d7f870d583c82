"""What makes a new password too easy to guess (NIST SP 800-63B, 5.1.1.2): being on a
list of passwords common in breaches (shipped as fuwu/data/common-passwords.txt),
repeating a short pattern, running a sequence of letters, digits or keyboard keys,
or holding the e-mail's name. Length is checked by the schemas (8 at least).

`python -m fuwu.password_rules --regenerate` rebuilds the list from the one Django
ships (a dependency of channels)."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
MIN_LENGTH = 8

COMMON = "common"
REPETITIVE = "repetitive"
SEQUENTIAL = "sequential"
EMAIL_NAME = "email_name"

# Runs a password may not consist of: the alphabet, digits and keyboard rows, either way.
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
         "1qaz2wsx3edc4rfv5tgb6yhn", "qazwsxedcrfvtgbyhnujmikolp")
_TRAILING = re.compile(r"[\d\W_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _repetitive(text: str) -> bool:
    """One unit repeated (aaaaaaaa, abababab, 123123123), or at most two characters."""
    if len(set(text)) <= 2:
        return True
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size)
               for size in range(1, len(text) // 2 + 1))


def _sequential(text: str) -> bool:
    """A stretch of one of the runs, forwards or backwards (12345678, hgfedcba, qwertyui)."""
    for run in _RUNS:
        for candidate in (run, run[::-1]):
            if text in candidate:
                return True
    # Steps of one through any characters (e.g. 13579bdf is not; 23456789 is).
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return steps in ({1}, {-1})


def weakness(password: str, email: str = "") -> str | None:
    """Why `password` is too easy to guess, or None: COMMON, REPETITIVE, SEQUENTIAL or
    EMAIL_NAME."""
    lowered = password.lower()
    compact = re.sub(r"\s+", "", lowered)
    common = common_passwords()
    if lowered in common or compact in common or _TRAILING.sub("", lowered) in common:
        return COMMON
    if _repetitive(compact):
        return REPETITIVE
    if _sequential(compact):
        return SEQUENTIAL
    name = email.split("@", 1)[0].lower()
    names = {name, re.sub(r"[^a-z0-9]", "", name)}
    if any(len(part) >= 3 and part in compact for part in names):
        return EMAIL_NAME
    return None


def regenerate() -> int:
    """Rebuilds the list from Django's (the passwords of at least MIN_LENGTH
    characters among its 20,000, most common first)."""
    import gzip

    import django

    source = Path(django.__file__).parent / "contrib" / "auth" / "common-passwords.txt.gz"
    seen: dict[str, None] = {}
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        for line in lines:
            entry = line.strip().lower()
            if len(entry) >= MIN_LENGTH:
                seen.setdefault(entry)
    header = [
        "# The most common passwords of at least 8 characters (the shortest Fuwu accepts), most common first,",
        f"# lower-cased: the {len(seen)} such entries among the 20,000 of the list Django {django.__version__} ships as",
        "# django/contrib/auth/common-passwords.txt.gz (Royce Williams' list, from breach corpora).",
        "# Regenerate with: python -m fuwu.password_rules --regenerate",
    ]
    LIST.write_text("\n".join(header + list(seen)) + "\n", encoding="utf-8")
    return len(seen)


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        print(f"{regenerate()} passwords written to {LIST}")
    else:
        print(__doc__)
