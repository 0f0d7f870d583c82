"""Amounts people type, read once for every form (fuwu.money.parse_amount)."""

import pytest

from fuwu.money import AmountError, amount_input, format_money, parse_amount


@pytest.mark.parametrize(("typed", "currency", "minor"), [
    ("12345.67", "CNY", 1_234_567), ("0.29", "CNY", 29), ("19.99", "CNY", 1_999), ("30000", "CNY", 3_000_000),
    ("1,234.5", "CNY", 123_450), ("1，234.5", "CNY", 123_450), ("1 234.50", "CNY", 123_450),
    ("¥8.10", "CNY", 810), ("￥8.10", "CNY", 810), ("$8.10", "USD", 810), ("€8.10", "EUR", 810),
    ("HK$8.10", "HKD", 810), ("1200", "JPY", 1200), ("  42 ", "CNY", 4200),
    ("99999999999.99", "CNY", 9_999_999_999_999), ("0", "CNY", 0),
])
def test_typed_amounts_become_exact_minor_units(typed, currency, minor):
    assert parse_amount(typed, currency) == minor


@pytest.mark.parametrize(("typed", "reason"), [
    ("abc", "not_a_number"), ("1e400", "too_large"), ("NaN", "not_a_number"), ("Infinity", "not_a_number"),
    ("1.2.3", "not_a_number"), ("¥", None), ("-1", "negative"), ("12.345", "too_precise"),
    ("100000000001", "too_large"), ("9" * 40, "not_a_number"),
])
def test_what_is_not_money_is_refused_with_its_reason(typed, reason):
    if reason is None:  # a symbol alone is nothing typed
        assert parse_amount(typed, "CNY") is None
        return
    with pytest.raises(AmountError) as caught:
        parse_amount(typed, "CNY")
    assert caught.value.reason == reason


def test_yen_have_no_decimals():
    with pytest.raises(AmountError) as caught:
        parse_amount("10.5", "JPY")
    assert caught.value.reason == "too_precise"


def test_empty_is_nothing_unless_required():
    assert parse_amount("", "CNY") is None
    assert parse_amount(None, "CNY") is None
    assert parse_amount("   ", "CNY") is None
    with pytest.raises(AmountError) as caught:
        parse_amount("", "CNY", required=True)
    assert caught.value.reason == "missing"


def test_zero_only_where_allowed():
    assert parse_amount("0.00", "CNY") == 0
    with pytest.raises(AmountError) as caught:
        parse_amount("0.00", "CNY", allow_zero=False)
    assert caught.value.reason == "zero"


def test_minor_units_show_again_as_typed():
    assert amount_input(1_234_567, "CNY") == "12345.67"
    assert amount_input(5, "CNY") == "0.05"
    assert amount_input(0, "CNY") == "0.00"
    assert amount_input(1200, "JPY") == "1200"
    assert amount_input(None, "CNY") == ""
    for minor in (0, 5, 1_234_567, 9_999_999_999_999):
        assert parse_amount(amount_input(minor, "CNY"), "CNY") == minor
        assert parse_amount(format_money(minor, "CNY"), "CNY") == minor  # what a page shows reads back
