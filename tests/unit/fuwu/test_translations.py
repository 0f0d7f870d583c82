"""The Simplified Chinese catalog covers every message the code and templates mark,
keeps their placeholders, and actually translates them."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from fuwu import messages

# Texts that are legitimately the same in Chinese: abbreviations, units, currency codes, the
# brand and language names.
SAME_IN_CHINESE = {"API", "CNY", "SLA", "Fuwu", "English", "简体中文", "%(size)s KB", "%(size)s MB"}

PERCENT = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE = re.compile(r"\{(\w*)(?:[!:][^{}]*)?\}")


def _texts(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _percent(text: str) -> set[str]:
    return set(PERCENT.findall(text))


def _brace(text: str) -> set[str]:
    return set(BRACE.findall(text.replace("{{", "").replace("}}", "")))


def _stray_percent(text: str) -> int:
    """Percent signs that are neither a %(name)s placeholder nor an escaped %%."""
    return PERCENT.sub("", text).replace("%%", "").count("%")


@pytest.fixture(scope="module")
def template():
    with messages.extract().open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def catalog():
    with messages.CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans")


@pytest.fixture(scope="module")
def translated(catalog):
    return [m for m in catalog if m.id and all(_texts(m.string))]


def test_every_message_is_translated(template, catalog):
    missing = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or not all(_texts(entry.string)) or entry.fuzzy:
            missing.append(_texts(message.id)[0])
    assert not missing, (
        f"{len(missing)} message(s) have no Simplified Chinese translation. Run `python -m fuwu.messages`, "
        "then translate them in fuwu/locale/zh_Hans/LC_MESSAGES/messages.po:\n"
        + "\n".join(f"  {m!r}" for m in missing)
    )


def test_translations_keep_placeholders(translated):
    wrong = []
    for message in translated:
        ids = _texts(message.id)
        expected_percent = set().union(*(_percent(i) for i in ids))
        expected_brace = set().union(*(_brace(i) for i in ids))
        escaped = max(i.count("%%") for i in ids)
        for text in _texts(message.string):
            if (_percent(text) != expected_percent or _brace(text) != expected_brace
                    or text.count("%%") != escaped or _stray_percent(text) > max(_stray_percent(i) for i in ids)):
                wrong.append(f"  {ids[0]!r} -> {text!r}")
    assert not wrong, (
        "Translations must keep the %(name)s and {name} placeholders and the %% signs of their message id:\n"
        + "\n".join(wrong)
    )


def test_translations_are_not_left_in_english(translated):
    untranslated = [
        _texts(m.id)[0] for m in translated
        if _texts(m.id)[0] not in SAME_IN_CHINESE and _texts(m.string)[0] == _texts(m.id)[0]
    ]
    assert not untranslated, (
        "These translations are identical to the English text; translate them, or add them to "
        "SAME_IN_CHINESE if they are the same in Chinese:\n" + "\n".join(f"  {m!r}" for m in untranslated)
    )


def test_placeholder_patterns():
    assert _percent("Join %(org)s, %(n)d, 100%") == {"org", "n"}
    assert _brace("{name} joined {org} {{literal}}") == {"name", "org"}
    assert _stray_percent("credit %(credit)s%% of 100%") == 1


@pytest.mark.parametrize("locale, source, context, expected", [
    ("en", '{{ _("Service credit %%") }}', {}, "Service credit %"),
    ("en", '{{ _("Join %(org)s", org=name) }}', {"name": "<b>Shop</b>"}, "Join &lt;b&gt;Shop&lt;/b&gt;"),
    ("zh_Hans", '{{ _("Join %(org)s", org=name) }}', {"name": "A&B"}, "加入 A&amp;B"),
    ("zh_Hans", '{{ _("Providers") }}', {}, "服务商"),
])
def test_a_templates_texts_are_translated_and_their_values_escaped(locale, source, context, expected):
    # `_()` in templates is fuwu.app.template_gettext, not Jinja's new-style gettext:
    # the same answers (the translation is markup, %% a percent sign, values escaped).
    from jinja2 import Environment

    from fuwu import i18n
    from fuwu.app import template_gettext

    environment = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    token = i18n.current_locale.set(locale)
    try:
        jinja = environment.from_string(source.replace("_(", "gettext(")).render(**context)
        environment.globals["_"] = template_gettext
        ours = environment.from_string(source).render(**context)
    finally:
        i18n.current_locale.reset(token)
    assert ours == jinja == expected
