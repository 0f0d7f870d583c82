"""The shared lists of values: one home each, a label for every value, and the audit
actions every domain records shown as words."""

import re
import typing
from pathlib import Path

import msgspec
import pytest

from bids import states as bid_states
from fuwu import i18n, values
from fuwu.schemas import OrganisationCreate
from ratings import states as ratings_states
from sla import states as sla_states
from tenders import states as tender_states
from tenders.schemas import SLATarget, TenderCreate

ROOT = Path(__file__).resolve().parents[3]


def _literal(struct, name):
    (field,) = [f for f in msgspec.structs.fields(struct) if f.name == name]
    kind = field.type
    while typing.get_origin(kind) is not typing.Literal:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return typing.get_args(kind)


def test_schemas_accept_exactly_the_listed_values():
    assert _literal(SLATarget, "metric") == values.SLA_METRICS.values
    assert _literal(SLATarget, "statistic") == values.SLA_STATISTICS.values
    assert _literal(SLATarget, "window") == values.SLA_WINDOWS.values
    assert _literal(TenderCreate, "category") == values.CATEGORIES.values
    assert _literal(TenderCreate, "visibility") == tender_states.VISIBILITIES.values
    assert _literal(OrganisationCreate, "size") == values.MERCHANT_SIZES.values


def test_a_value_shows_its_label_in_the_readers_language():
    assert values.label("category", "cs_presales") == "Customer service (pre-sales)"
    assert values.label("size", "key_account") == "Key account"
    token = i18n.current_locale.set("zh_Hans")
    try:
        assert values.label("size", "key_account") == "重点客户"
        assert values.label("action", "bid_scored") == "已评分"
    finally:
        i18n.current_locale.reset(token)
    assert values.label("category", "plumbing") == "plumbing"  # unknown values as they are
    assert values.label("size", None) == ""


@pytest.mark.parametrize("domain_list", [tender_states.AUDIT_ACTIONS, bid_states.AUDIT_ACTIONS,
                                         sla_states.AUDIT_ACTIONS, tender_states.AUDIT_OBJECTS,
                                         bid_states.AUDIT_OBJECTS, sla_states.AUDIT_OBJECTS,
                                         ratings_states.AUDIT_ACTIONS, ratings_states.AUDIT_OBJECTS])
def test_domain_audit_labels_are_the_words_the_shell_shows(domain_list):
    # The shell shows another domain's audit action as its words: the domain's own
    # labels must be exactly those words, or the two pages would disagree.
    for code in domain_list:
        if code in values.AUDIT_ACTIONS or code in values.AUDIT_OBJECTS:
            continue
        assert domain_list.labels[code] == values.humanised(code)


def _recorded(folder: str, keyword: str) -> set[str]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        found |= set(re.findall(keyword + r'="([a-z_]+)"', path.read_text()))
    return found


@pytest.mark.parametrize("folder, actions, objects", [
    ("fuwu", values.AUDIT_ACTIONS, values.AUDIT_OBJECTS),
    ("tenders", tender_states.AUDIT_ACTIONS, tender_states.AUDIT_OBJECTS),
    ("bids", bid_states.AUDIT_ACTIONS, bid_states.AUDIT_OBJECTS),
    ("sla", sla_states.AUDIT_ACTIONS, sla_states.AUDIT_OBJECTS),
    ("ratings", ratings_states.AUDIT_ACTIONS, ratings_states.AUDIT_OBJECTS),
])
def test_every_audit_action_a_domain_records_has_a_label(folder, actions, objects):
    known_actions = set(actions) | set(values.AUDIT_ACTIONS)
    known_objects = set(objects) | set(values.AUDIT_OBJECTS) | set(tender_states.AUDIT_OBJECTS)
    assert _recorded(folder, "action") <= known_actions
    assert _recorded(folder, "object_type") <= known_objects
    if folder == "tenders":  # the status changes: action=f"status_{target}"
        assert {f"status_{s}" for s in tender_states.ALL if s != tender_states.DRAFT} <= known_actions


def test_no_list_of_values_is_written_out_twice():
    # Each list has one home; a second copy of its values (as a tuple, a Literal or
    # a dict of labels) elsewhere is what this test catches. The demo data uses single
    # values, not lists.
    lists = [values.CATEGORIES, values.MERCHANT_SIZES, values.PRICING_MODELS, values.SLA_METRICS,
             tender_states.ROUND_KINDS]
    # tenders/schemas.py maps each category to the requirements it takes (checked below).
    homes = {ROOT / "fuwu" / "values.py", ROOT / "tenders" / "states.py", ROOT / "tenders" / "schemas.py"}
    for path in [*ROOT.glob("fuwu/**/*.py"), *ROOT.glob("tenders/**/*.py"), *ROOT.glob("bids/**/*.py"),
                 *ROOT.glob("*/templates/**/*.html")]:
        if path in homes or "piccolo_migrations" in path.parts or "demo" in path.name:
            continue
        text = path.read_text()
        # a run of three or more quoted values in a row, as a tuple, list or Literal has them
        for run in re.finditer(r"""(["'][a-z_0-9]+["'](?:\s*[:,]\s*[^,\n]*?)?,\s*(?:#[^\n]*\n\s*)?){3,}""", text):
            if ":" in run.group(0) and "N_(" not in run.group(0):
                continue  # a mapping of each value to a setting of its own, not a second list of labels
            words = re.findall(r"""["']([a-z_0-9]+)["']""", run.group(0))
            for listed in lists:
                present = [w for w in words if w in listed]
                assert len(set(present)) < 3, f"{path.relative_to(ROOT)} repeats {present}"


def test_every_category_has_its_requirements():
    from tenders.schemas import REQUIREMENTS_BY_CATEGORY

    assert tuple(REQUIREMENTS_BY_CATEGORY) == values.CATEGORIES.values


def test_moments_in_messages_read_in_the_readers_zone_and_language():
    moment = "2026-12-08T10:00:00+00:00"
    zone = i18n.current_timezone.set("Asia/Shanghai")
    try:
        assert i18n.translate_format("{starts_at} at {place}.", {"starts_at": moment, "place": "HQ"}) == \
            "Dec 8, 2026 18:00 at HQ."
        assert i18n.translate_format("Closed at {deadline}.", {"deadline": i18n.Moment(moment)}) == \
            "Closed at Dec 8, 2026 18:00."
        assert i18n.translate_format("Closed at {deadline}.", {"deadline": moment}) == f"Closed at {moment}."
        locale = i18n.current_locale.set("zh_Hans")
        try:
            assert i18n.format_moment(moment) == "2026年12月8日 18:00"
        finally:
            i18n.current_locale.reset(locale)
    finally:
        i18n.current_timezone.reset(zone)
    assert i18n.format_moment(moment) == "Dec 8, 2026 10:00"  # no reader's zone known: UTC
    assert i18n.format_moment("not a time") == "not a time"


def test_sla_targets_show_with_their_units():
    assert values.format_target("inquiry_conversion_rate", 0.3) == "30 %"
    assert values.format_target("first_pass_acceptance_rate", 0.07) == "7 %"
    assert values.format_target("first_response_time", 25) == "25 s"
    assert values.format_target("first_response_time", 24.5) == "24.5 s"
    assert values.format_target("next_response_time", 120) == "2 min"
    assert values.format_target("resolution_time", 7200) == "2 h"
    assert values.format_target("service_attitude", 4.8) == "4.8 of 5"
    token = i18n.current_locale.set("zh_Hans")
    try:
        assert values.format_target("next_response_time", 120) == "2 分钟"
    finally:
        i18n.current_locale.reset(token)


def test_the_schema_refuses_a_rate_given_as_percent():
    good = {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.3}
    assert msgspec.convert(good, SLATarget).target == 0.3
    for metric, target in (("inquiry_conversion_rate", 30), ("service_attitude", 6),
                           ("first_response_time", 40 * 24 * 3600)):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({**good, "metric": metric, "target": target}, SLATarget)
