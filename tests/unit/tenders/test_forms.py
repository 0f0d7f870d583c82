"""The tender form read back into a tender's fields (tenders.forms): a valid form,
each kind of bad field with the message the merchant sees, and the bounds."""

from __future__ import annotations

import datetime

import msgspec
import pytest
from litestar.datastructures import FormMultiDict

from tenders import forms
from tenders.forms import FormProblem
from tenders.schemas import TenderCreate

ZONE = "Asia/Shanghai"


def posted(**fields) -> FormMultiDict:
    """A posted tender form: a valid one, with `fields` changed (None drops a field)."""
    base = {
        "category": "cs_presales", "title": "Pre-sales chat, Double 11", "brief": "Two shifts.",
        "budget_min": "30,000", "budget_max": "¥45000.50", "currency": "CNY", "pricing_models": ["periodic_fee"],
        "visibility": "public", "min_bids": "2",
        "questions_deadline": "2026-12-01T18:00", "bid_deadline": "2026-12-08T18:00",
        "evaluation_end": "2026-12-20T18:00",
        "cs_seats": "12", "cs_coverage_hours": "09:00-24:00", "cs_time_zone": ZONE, "cs_daily_conversations": "800",
        "cs_languages": "zh, en，ja",
        "photo_skus": "999",  # another category's field: ignored
        "sla_0_metric": "first_response_time", "sla_0_statistic": "mean", "sla_0_comparator": "<=",
        "sla_0_target": "30", "sla_0_window": "month", "sla_0_weight": "10", "sla_0_credit": "5",
        "sla_1_metric": "", "sla_1_target": "",  # an empty row
        "round_proposal_review": "1",
        "round_proposal_review_0_name": "Price", "round_proposal_review_0_weight": "40",
        "round_proposal_review_0_price": "1",
        "round_proposal_review_1_name": "Proposal quality", "round_proposal_review_1_weight": "60",
        "round_presentation_0_name": "Presentation", "round_presentation_0_weight": "70",  # round not ticked
    }
    base.update(fields)
    items = []
    for key, value in base.items():
        if value is None:
            continue
        for one in (value if isinstance(value, list) else [value]):
            items.append((key, one))
    return FormMultiDict(items)


def read(form: FormMultiDict) -> dict:
    values = forms.form_values_from_post(form)
    return forms.tender_fields_from_values(values, ZONE, values["category"])


def problem(**fields) -> str:
    with pytest.raises(FormProblem) as caught:
        read(posted(**fields))
    return caught.value.message


def test_a_valid_form_gives_the_tender_fields():
    fields = read(posted())
    assert fields["title"] == "Pre-sales chat, Double 11"
    assert fields["budget_min"] == 3_000_000 and fields["budget_max"] == 4_500_050
    assert fields["requirements"] == {"seats": 12, "coverage_hours": "09:00-24:00", "time_zone": ZONE,
                                      "daily_conversations": 800, "languages": ["zh", "en", "ja"]}
    assert fields["sla_targets"] == [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=",
                                      "target": 30.0, "window": "month", "weight": 10,
                                      "service_credit_percent": 5.0}]
    assert fields["rounds"] == [{"kind": "proposal_review", "criteria": [
        {"name": "Price", "weight": 40, "price": True}, {"name": "Proposal quality", "weight": 60, "price": False}]}]
    assert fields["min_bids"] == 2 and fields["visibility"] == "public"
    # deadlines are typed in the viewer's zone and kept in UTC
    assert fields["bid_deadline"] == datetime.datetime(2026, 12, 8, 10, 0, tzinfo=datetime.timezone.utc)
    msgspec.convert({"category": "cs_presales", **fields}, TenderCreate)  # the schema takes it as it is


def test_a_stored_tender_fills_the_form_and_reads_back_the_same():
    fields = read(posted())
    tender = {"category": "cs_presales", "status": "draft", **fields}
    again = forms.tender_fields_from_values(forms.form_values_from_tender(tender, ZONE), ZONE, "cs_presales")
    assert again == fields


def test_empty_budget_and_minimum_take_their_defaults():
    fields = read(posted(budget_min="", budget_max="", min_bids=""))
    assert fields["budget_min"] == 0 and fields["budget_max"] == 0 and fields["min_bids"] == 1


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("budget_min", "abc", "Budget minimum: enter an amount such as 30000.00."),
    ("budget_min", "-5", "Budget minimum cannot be negative."),
    ("budget_max", "1.234", "Budget maximum has more decimal places than CNY allows."),
    ("budget_max", "100000000001", "Budget maximum is too large."),
    ("min_bids", "1.5", "Minimum number of bids must be a whole number."),
    ("min_bids", "9999999999999", "Minimum number of bids must be a whole number."),
    ("cs_seats", "twelve", "Seats must be a whole number."),
    ("title", "   ", "Give the tender a title."),
    ("pricing_models", None, "Choose at least one pricing model."),
    ("bid_deadline", "next week", "Bid deadline: enter a date and time."),
    ("sla_0_metric", "", "SLA target 1: choose a metric."),
    ("sla_0_target", "", "SLA target 1: enter the target value."),
    ("sla_0_target", "fast", "SLA target must be a number."),
    ("sla_0_weight", "ten", "SLA weight must be a whole number."),
    ("round_proposal_review", None, "Choose at least one evaluation round."),
    ("round_proposal_review_1_name", "", "Proposal review: every criterion with a weight needs a name."),
    ("round_proposal_review_1_weight", "", "Proposal review: give the criterion “Proposal quality” a weight."),
])
def test_each_bad_field_is_named_in_the_message(field, typed, message):
    assert problem(**{field: typed}) == message


def test_a_ticked_round_needs_a_criterion():
    assert problem(round_presentation="1", round_presentation_0_name="", round_presentation_0_weight="") == \
        "Presentation: add at least one criterion, or untick the round."


def test_only_the_chosen_categorys_requirements_are_read():
    fields = read(posted(category="photography", photo_skus="40", photo_models="2", photo_location="Hangzhou"))
    assert fields["requirements"] == {"skus": 40, "models": 2, "location": "Hangzhou"}


def test_the_form_reads_at_most_twenty_rows_and_bounded_text():
    many = {f"sla_{i}_{key}": value for i in range(30)
            for key, value in (("metric", "first_response_time"), ("target", "30"))}
    values = forms.form_values_from_post(posted(**many, title="x" * 50_000))
    assert len([row for row in values["sla"] if row["metric"]]) == forms.MAX_ROWS
    assert len(values["title"]) == 20_000
    criteria = {f"round_proposal_review_{i}_{key}": value for i in range(30)
                for key, value in (("name", f"c{i}"), ("weight", "1"))}
    values = forms.form_values_from_post(posted(**criteria))
    assert len(values["rounds"]["proposal_review"]["criteria"]) == forms.MAX_ROWS


def test_a_new_form_offers_empty_rows_and_suggested_deadlines():
    values = forms.new_form_values(ZONE)
    assert len(values["sla"]) == forms.SLA_ROWS and values["rounds"]["proposal_review"]["on"]
    assert values["questions_deadline"] < values["bid_deadline"] < values["evaluation_end"]


def test_tender_and_bid_forms_read_money_alike():
    from bids.pages import minor_units

    for typed in ("1,234.5", "¥8.10", "￥8.10", "1 000"):
        assert forms.parse_major_units(typed, "CNY", "Budget") == minor_units(typed, "CNY")


# --- SLA targets: rates in percent, times with their unit ------------------------------


def _target(**row) -> dict:
    fields = read(posted(**{f"sla_0_{key}": value for key, value in row.items()}))
    return fields["sla_targets"][0]


def test_a_conversion_rate_is_typed_in_percent_and_kept_as_a_fraction():
    target = _target(metric="inquiry_conversion_rate", statistic="rate", comparator=">=", target="30")
    assert target["target"] == 0.3
    assert _target(metric="milestone_on_time_rate", target="95.5%")["target"] == 0.955


def test_a_time_is_typed_with_its_unit_and_kept_in_seconds():
    assert _target(target="5", unit="minutes")["target"] == 300
    assert _target(target="1.5", unit="hours")["target"] == 5400
    assert _target(target="25", unit="seconds")["target"] == 25
    assert _target(target="25")["target"] == 25  # no unit sent: seconds


@pytest.mark.parametrize(("row", "message"), [
    ({"metric": "inquiry_conversion_rate", "target": "130"},
     "SLA target 1: Inquiry conversion rate is a percentage from 0 to 100."),
    ({"metric": "inquiry_conversion_rate", "target": "-1"},
     "SLA target 1: Inquiry conversion rate is a percentage from 0 to 100."),
    ({"metric": "first_response_time", "target": "31", "unit": "days"},  # an unknown unit counts as seconds
     None),
    ({"metric": "resolution_time", "target": "721", "unit": "hours"},
     "SLA target 1: Resolution time must be from 0 seconds to 30 days."),
    ({"metric": "service_attitude", "target": "6"}, "SLA target 1: Service attitude is a rating from 0 to 5."),
    ({"metric": "first_response_time", "target": "NaN"}, "SLA target must be a number."),
    ({"metric": "first_response_time", "target": "25", "credit": "150"},
     "SLA target 1: the service credit is a percentage from 0 to 100."),
])
def test_a_target_outside_its_metrics_bounds_is_refused_clearly(row, message):
    fields = {f"sla_0_{key}": value for key, value in row.items()}
    if message is None:
        read(posted(**fields))
        return
    assert problem(**fields) == message


def test_a_stored_target_shows_in_the_form_as_typed():
    tender = {"category": "cs_presales", "status": "draft", **read(posted()), "sla_targets": [
        {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.3},
        {"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 300},
        {"metric": "resolution_time", "statistic": "p90", "comparator": "<=", "target": 45},
    ]}
    rows = forms.form_values_from_tender(tender, ZONE)["sla"]
    assert [(r["target"], r["unit"]) for r in rows[:3]] == [("30", "seconds"), ("5", "minutes"), ("45", "seconds")]
    assert "Inquiry conversion rate, rate >= 30 %" in forms.describe_sla(tender["sla_targets"][0])
    assert "First response time, mean <= 5 min" in forms.describe_sla(tender["sla_targets"][1])
