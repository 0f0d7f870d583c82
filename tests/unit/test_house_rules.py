"""The house's rules, checked on the source: imports run one way
(fuwu <- tenders <- bids <- sla <- chat <- ratings, only fuwu/app.py imports them all),
and no module does anything when imported beyond defining things (no registration)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["fuwu", "tenders", "bids", "sla", "chat", "ratings"]
WIRING_POINT = ROOT / "fuwu" / "app.py"
# Piccolo finds its engine through PICCOLO_CONF, which must be set before any table is
# imported: the one call a module makes when imported, and it registers nothing.
SETS_ENGINE_CONFIG = ROOT / "fuwu" / "__init__.py"


def _modules():
    for package in ORDER:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "piccolo_migrations" not in path.parts:
                yield package, path, ast.parse(path.read_text(), filename=str(path))


def _imported(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def test_no_domain_imports_a_higher_one():
    upward = []
    for package, path, tree in _modules():
        if path == WIRING_POINT:
            continue
        for line, name in _imported(tree):
            if name in ORDER and ORDER.index(name) > ORDER.index(package):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not upward, "imports against the one-way order:\n" + "\n".join(upward)


def test_modules_only_define_things_when_imported():
    """A call at module level (a registration, an append to a registry) is refused;
    what a domain plugs in goes into its Domain object, collected by create_app()."""
    calls = []
    for _, path, tree in _modules():
        if path == SETS_ENGINE_CONFIG:
            continue
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.If) and not (isinstance(node.test, ast.Compare)
                                                 and getattr(node.test.left, "id", "") == "__name__"):
                calls.extend(f"{path.relative_to(ROOT)}:{n.lineno}" for n in node.body
                             if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call))
    assert not calls, "module-level calls (register through the domain object instead):\n" + "\n".join(calls)


def test_every_domain_with_a_domain_module_is_wired():
    from fuwu.app import domains

    wired = {domain.name for domain in domains()}
    declared = {package for package in ORDER if (ROOT / package / "domain.py").exists()}
    assert declared <= wired, f"domain objects not collected by create_app(): {declared - wired}"
    assert [name for name in ORDER if name in wired] == [domain.name for domain in domains()], "wired out of order"
