"""compute_round_scores, by hand: price criteria give weight x lowest / price, the
lowest taken among bids of the same pricing model and unit; other criteria give
weight x (evaluators' mean 0-10) / 10; the round score is the sum."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bids.services.evaluation import compute_round_scores

CRITERIA = [{"name": "Price", "weight": 40, "price": True}, {"name": "Quality", "weight": 60}]


def _bid(bid_id: str, price: int, model: str = "periodic_fee", unit: str = "") -> dict:
    return {"id": bid_id, "price_amount": price, "pricing_model": model, "price_unit": unit}


def test_price_points_compare_only_bids_of_the_same_pricing_model_and_unit():
    bids = [_bid("a", 4_000_000), _bid("b", 5_000_000), _bid("c", 100, "metered", "conversation"),
            _bid("d", 125, "metered", "conversation"), _bid("e", 50, "metered", "order")]
    means = {("a", 1): 7.0, ("b", 1): 9.0, ("c", 1): 7.5, ("d", 1): 10.0, ("e", 1): 0.5}
    scores = compute_round_scores(CRITERIA, bids, means)
    # a: 40 + 60*0.70 = 82 | b: 40*4/5 = 32 + 54 = 86 | c: 40 + 45 = 85 | d: 40*100/125 = 32 + 60 = 92 | e: 40 + 3 = 43
    assert {bid: total for bid, (total, _) in scores.items()} == {"a": 82.0, "b": 86.0, "c": 85.0, "d": 92.0, "e": 43.0}
    assert scores["b"][1] == {"0": {"points": 32.0, "price": True}, "1": {"points": 54.0, "mean": 9.0}}
    assert scores["e"][1]["0"] == {"points": 40.0, "price": True}  # alone in its unit: the lowest


def test_points_are_rounded_to_four_places():
    bids = [_bid("cheap", 3_000_000), _bid("dear", 7_000_000)]
    means = {("cheap", 1): 6.6667, ("dear", 1): 20 / 3}
    scores = compute_round_scores(CRITERIA, bids, means)
    # dear: 40 * 3/7 = 17.142857… -> 17.1429; 60 * 6.666… / 10 = 40.0 -> total 57.142857… -> 57.1429
    assert scores["dear"] == (57.1429, {"0": {"points": 17.1429, "price": True}, "1": {"points": 40.0, "mean": 6.6667}})
    assert scores["cheap"][0] == round(40 + 60 * 6.6667 / 10, 4) == 80.0002


def test_a_criterion_without_any_score_gives_no_points():
    scores = compute_round_scores(CRITERIA, [_bid("x", 10)], {})
    assert scores["x"] == (40.0, {"0": {"points": 40.0, "price": True}, "1": {"points": 0.0, "mean": None}})


def test_a_round_without_a_price_criterion_is_the_weighted_mean_of_scores():
    criteria = [{"name": "Pitch", "weight": 70}, {"name": "Team", "weight": 30}]
    scores = compute_round_scores(criteria, [_bid("p", 1), _bid("q", 999)], {("p", 0): 10, ("p", 1): 5, ("q", 0): 8,
                                                                            ("q", 1): 10})
    assert scores["p"][0] == 85.0 and scores["q"][0] == 86.0  # price plays no part here


def test_no_bids_no_scores():
    assert compute_round_scores(CRITERIA, [], {}) == {}


offers = st.lists(st.tuples(st.integers(1, 10**9), st.sampled_from([("periodic_fee", ""), ("metered", "order"),
                                                                    ("metered", "conversation")]),
                            st.floats(0, 10)), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(offers)
def test_scores_stay_within_0_and_100_and_the_lowest_price_of_each_group_gets_the_full_weight(rows):
    bids = [_bid(f"b{i}", price, model, unit) for i, (price, (model, unit), _) in enumerate(rows)]
    means = {(f"b{i}", 1): mean for i, (_, _, mean) in enumerate(rows)}
    scores = compute_round_scores(CRITERIA, bids, means)
    for bid in bids:
        total, details = scores[bid["id"]]
        assert 0 <= total <= 100.0001
        group = [b["price_amount"] for b in bids if (b["pricing_model"], b["price_unit"]) ==
                 (bid["pricing_model"], bid["price_unit"])]
        assert details["0"]["points"] == pytest.approx(40 * min(group) / bid["price_amount"], abs=1e-4)
        if bid["price_amount"] == min(group):
            assert details["0"]["points"] == 40.0
