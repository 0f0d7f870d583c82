"""Every error detail in the code can be translated: it is a literal message id that the
extractor sees (never an f-string or a text put together at run time), and its {name}
placeholders are exactly the params it is raised with. Terms, lists of terms and
phrases inside a sentence are translated too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fuwu import i18n
from fuwu.errors import Conflict, not_found
from fuwu.i18n import Phrase, Term, Terms
from tests.unit.fuwu.test_translations import _brace

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("fuwu", "tenders", "bids", "sla", "chat", "ratings")
ERRORS = {"FuwuError", "InvalidInput", "NotAuthenticated", "Forbidden", "NotFound", "Conflict", "TooManyRequests",
          "LoginRequired"}


def _error_calls():
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            if "piccolo_migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name not in ERRORS:
                    continue
                detail = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "detail"), None)
                params = next((k.value for k in node.keywords if k.arg == "params"), None)
                yield f"{path.relative_to(ROOT)}:{node.lineno}", detail, params


def _literal(node) -> str | None:
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_" and node.args:
        node = node.args[0]
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


CALLS = list(_error_calls())


def test_the_scan_finds_the_errors():
    assert len(CALLS) > 100
    assert any(params is not None for _, _, params in CALLS)


def test_every_detail_is_a_message_id_the_extractor_sees():
    # A variable is allowed: a helper's parameter, whose callers pass literals marked with N_.
    built = [where for where, detail, _ in CALLS
             if detail is not None and _literal(detail) is None and not isinstance(detail, ast.Name)]
    assert not built, ("Error details built at run time cannot be translated; use {name} and params=:\n"
                       + "\n".join(built))


def test_placeholders_match_the_params():
    wrong = []
    for where, detail, params in CALLS:
        text = _literal(detail)
        if text is None:
            continue
        if params is None:
            if _brace(text):
                wrong.append(f"{where}: {text!r} has placeholders but no params")
            continue
        if not isinstance(params, ast.Dict) or not all(isinstance(k, ast.Constant) for k in params.keys):
            wrong.append(f"{where}: params must be a dict literal with string keys")
            continue
        names = {k.value for k in params.keys}
        if names != _brace(text):
            wrong.append(f"{where}: {text!r} has {sorted(_brace(text))}, params {sorted(names)}")
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def chinese():
    token = i18n.current_locale.set("zh_Hans")
    yield
    i18n.current_locale.reset(token)


def test_terms_lists_and_phrases_are_translated_inside_the_sentence(chinese):
    refusal = Conflict("x", "Your role ({role}) cannot do this. Ask someone with the role {allowed}.",
                       params={"role": Term("agent"), "allowed": Terms(["owner", "manager"], " or ")})
    assert refusal.detail == "Your role (agent) cannot do this. Ask someone with the role owner or manager."
    assert "客服" in refusal.localised() and "所有者或经理" in refusal.localised()
    short = Conflict("x", "Leave providers at least {duration} to bid: move the bid deadline later.",
                     params={"duration": Phrase("{count} days", count=3)})
    assert short.detail == "Leave providers at least 3 days to bid: move the bid deadline later."
    assert "3 天" in short.localised()
    assert not_found("Tender").localised() != not_found("Tender").detail


def test_durations_read_whole_in_english():
    from tenders.services.lifecycle import _duration

    assert [_duration(s) for s in (86400, 2 * 86400, 3600, 5400, 1)] == [
        "1 day", "2 days", "1 hour", "90 minutes", "1 second"]
