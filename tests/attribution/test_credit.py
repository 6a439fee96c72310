"""Credit models, hand-computed: shares are exact fractions, amounts split to the minor unit."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cosell.attribution.credit import (
    MODELS,
    CreditTouch,
    ModelSettings,
    PartnerRole,
    compute_shares,
    decay_weight,
    format_share,
    get_model,
    split_amount,
)
from cosell.errors import PolicyError, UsageError
from cosell.policy import parse_policy

DAY = 86_400_000_000
ROLES = [
    PartnerRole("P1", "sourcer", Decimal(50)),
    PartnerRole("P2", "influencer", Decimal(15)),
    PartnerRole("P3", "co_seller", Decimal(30)),
]
# X = day 100; touches at days 48 (P2), 70 (P1), 89 (P2), 99 (P3).
X = 100 * DAY
TOUCHES = [
    CreditTouch("T4", 99 * DAY, "P3"),
    CreditTouch("T1", 48 * DAY, "P2"),
    CreditTouch("T3", 89 * DAY, "P2"),
    CreditTouch("T2", 70 * DAY, "P1"),
]


def shares(model: str, touches: list[CreditTouch] = TOUCHES) -> dict[str, Fraction]:
    return dict(compute_shares(model, ROLES, touches, X).shares)


def test_role_weighted_is_weight_over_total() -> None:
    assert shares("role_weighted") == {"P1": Fraction(10, 19), "P2": Fraction(3, 19), "P3": Fraction(6, 19)}


def test_even() -> None:
    assert shares("even") == {"P1": Fraction(1, 3), "P2": Fraction(1, 3), "P3": Fraction(1, 3)}


def test_first_and_last_touch_follow_time_not_input_order() -> None:
    assert shares("first_touch") == {"P1": 0, "P2": 1, "P3": 0}
    assert shares("last_touch") == {"P1": 0, "P2": 0, "P3": 1}


def test_first_touch_ties_on_time_go_to_the_smaller_touch_id() -> None:
    tied = [CreditTouch("T9", DAY, "P1"), CreditTouch("T10", DAY, "P3")]
    assert shares("first_touch", tied)["P3"] == 1  # "T10" < "T9"


def test_position_based_40_20_40() -> None:
    # first T1 (P2) 40%, last T4 (P3) 40%, middle T2 (P1) and T3 (P2) 10% each.
    assert shares("position_based") == {"P1": Fraction(1, 10), "P2": Fraction(1, 2), "P3": Fraction(2, 5)}
    one = [CreditTouch("T1", DAY, "P1")]
    assert shares("position_based", one) == {"P1": 1, "P2": 0, "P3": 0}
    two = [CreditTouch("T1", DAY, "P1"), CreditTouch("T2", 2 * DAY, "P3")]
    assert shares("position_based", two) == {"P1": Fraction(1, 2), "P2": 0, "P3": Fraction(1, 2)}
    five = [CreditTouch(f"T{i}", i * DAY, p) for i, p in enumerate(["P1", "P2", "P2", "P2", "P3"])]
    # middle 20% over three touches: 1/15 each, P2 3/15 = 1/5.
    assert shares("position_based", five) == {
        "P1": Fraction(2, 5),
        "P2": Fraction(1, 5),
        "P3": Fraction(2, 5),
    }


def test_time_decay_halves_every_half_life() -> None:
    assert decay_weight(0, Decimal(14)) == 1
    assert decay_weight(14 * DAY, Decimal(14)) == Decimal("0.5")
    assert decay_weight(28 * DAY, Decimal(14)) == Decimal("0.25")
    # Two touches 14 days apart: weights 1 and 1/2, shares exactly 2/3 and 1/3.
    pair = [CreditTouch("T1", X - 14 * DAY, "P1"), CreditTouch("T2", X, "P2")]
    assert shares("time_decay", pair) == {"P1": Fraction(1, 3), "P2": Fraction(2, 3), "P3": 0}


def test_time_decay_shares_sum_exactly_to_one_with_28_digit_weights() -> None:
    split = compute_shares("time_decay", ROLES, TOUCHES, X)
    assert sum(split.shares.values()) == 1
    assert {p: format_share(s) for p, s in split.shares.items()} == {
        "P1": "0.123437",
        "P2": "0.357752",
        "P3": "0.518811",
    }
    weight = decay_weight(52 * DAY, Decimal(14))
    assert len(weight.as_tuple().digits) == 28


def test_half_life_comes_from_the_settings() -> None:
    pair = [CreditTouch("T1", X - 7 * DAY, "P1"), CreditTouch("T2", X, "P2")]
    split = compute_shares("time_decay", ROLES, pair, X, ModelSettings(half_life_days=Decimal(7)))
    assert split.shares["P1"] == Fraction(1, 3)


def test_time_decay_with_every_weight_below_a_decimal_counts_ages_from_the_newest_touch() -> None:
    # A half-life of under a tenth of a second: touches 99 and 100 days before close weigh
    # 2^-99,000,000 and less (zero as a Decimal); seen from the newest touch, the shares are the same.
    tiny = ModelSettings(half_life_days=Decimal("0.000001"))
    pair = [CreditTouch("T1", X - 100 * DAY, "P1"), CreditTouch("T2", X - 99 * DAY, "P2")]
    assert decay_weight(99 * DAY, tiny.half_life_days) == 0
    split = compute_shares("time_decay", ROLES, pair, X, tiny)
    assert split.shares == {"P1": 0, "P2": 1, "P3": 0}
    tied = [CreditTouch("T1", X - 99 * DAY, "P1"), CreditTouch("T2", X - 99 * DAY, "P3")]
    assert compute_shares("time_decay", ROLES, tied, X, tiny).shares == {
        "P1": Fraction(1, 2),
        "P2": 0,
        "P3": Fraction(1, 2),
    }


@settings(deadline=2000, max_examples=30)
@example(ages=[DAY, 2 * DAY], half_life=Decimal("0.000001"))  # 2^-1,000,000: a million-bit fraction
@given(
    ages=st.lists(st.integers(min_value=0, max_value=400 * DAY), min_size=1, max_size=5),
    half_life=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6),
)
def test_time_decay_shares_are_exact_and_quick_for_any_half_life(ages: list[int], half_life: Decimal) -> None:
    touches = [CreditTouch(f"T{i}", X - age, ("P1", "P2", "P3")[i % 3]) for i, age in enumerate(ages)]
    split = compute_shares("time_decay", ROLES, touches, X, ModelSettings(half_life_days=half_life))
    assert sum(split.shares.values()) == 1
    newest = max(t.occurred_at for t in touches)  # the newest touch never weighs less than an older one
    best = {t.partner_id for t in touches if t.occurred_at == newest}
    assert all(split.shares[p] >= split.shares[q] / len(touches) for p in best for q in split.shares)
    assert all(s.denominator.bit_length() < 100_000 for s in split.shares.values())


@pytest.mark.parametrize("model", ["first_touch", "last_touch", "position_based", "time_decay"])
def test_touch_models_without_touches_fall_back_to_role_weighted(model: str) -> None:
    split = compute_shares(model, ROLES, [], X)
    assert split.fell_back
    assert split.shares == shares("role_weighted")


def test_touches_of_partners_without_a_role_are_ignored() -> None:
    stray = [CreditTouch("T0", 0, "P9"), *TOUCHES]
    assert shares("first_touch", stray) == shares("first_touch")


def test_split_usd_largest_remainder_ties_to_larger_weight() -> None:
    amounts = split_amount(Decimal("10000.00"), "USD", ROLES, shares("even"))
    # 333333.33 cents each; the one left cent goes to the larger role weight (P1 sourcer).
    assert amounts == {"P1": Decimal("3333.34"), "P2": Decimal("3333.33"), "P3": Decimal("3333.33")}


def test_split_role_weighted_to_the_cent() -> None:
    amounts = split_amount(Decimal("10000.00"), "USD", ROLES, shares("role_weighted"))
    # 526315.79, 157894.74, 315789.47 cents: floors leave 2 cents, to P1 (.79) and P2 (.74).
    assert amounts == {"P1": Decimal("5263.16"), "P2": Decimal("1578.95"), "P3": Decimal("3157.89")}
    assert sum(amounts.values()) == Decimal("10000.00")


def test_split_jpy_has_no_minor_unit() -> None:
    two = ROLES[:2]
    split = compute_shares("role_weighted", two, [], X)
    amounts = split_amount(Decimal("1000"), "JPY", two, split.shares)
    # 769.23 + 230.77 yen: floors 769 + 230, the left yen to the larger remainder (P2).
    assert amounts == {"P1": Decimal("769"), "P2": Decimal("231")}
    assert format(amounts["P1"], "f") == "769"


def test_split_ties_on_equal_weight_go_to_the_smaller_partner_id() -> None:
    roles = [PartnerRole("P2", "influencer", Decimal(15)), PartnerRole("P1", "influencer", Decimal(15))]
    amounts = split_amount(Decimal("0.01"), "USD", roles, {"P1": Fraction(1, 2), "P2": Fraction(1, 2)})
    assert amounts == {"P1": Decimal("0.01"), "P2": Decimal("0.00")}


def test_format_share_is_half_even_with_six_decimals() -> None:
    assert format_share(Fraction(1)) == "1.000000"
    assert format_share(Fraction(0)) == "0.000000"
    assert format_share(Fraction(1, 3)) == "0.333333"
    assert format_share(Fraction(5, 10_000_000)) == "0.000000"  # 0.0000005 -> even
    assert format_share(Fraction(15, 10_000_000)) == "0.000002"  # 0.0000015 -> even


def test_all_weights_zero_splits_evenly() -> None:
    roles = [PartnerRole("P1", "sourcer", Decimal(0)), PartnerRole("P2", "servicer", Decimal(0))]
    assert compute_shares("role_weighted", roles, [], X).shares == {
        "P1": Fraction(1, 2),
        "P2": Fraction(1, 2),
    }


def test_every_model_is_registered() -> None:
    assert set(MODELS) == {
        "role_weighted",
        "even",
        "first_touch",
        "last_touch",
        "position_based",
        "time_decay",
    }


def test_unknown_model_suggests_the_closest_name() -> None:
    with pytest.raises(UsageError, match="did you mean time_decay"):
        get_model("time_decy")
    with pytest.raises(UsageError, match="did you mean role_weighted"):
        get_model("role-weighted")
    # Capitals: "EVEN" had no suggestion at all (difflib compares case-sensitively).
    with pytest.raises(UsageError, match="did you mean even"):
        get_model("EVEN")
    with pytest.raises(UsageError, match="did you mean first_touch"):
        get_model("First_Touch")


@settings(max_examples=60)
@given(
    weights=st.lists(st.integers(-100, 100), min_size=3, max_size=3),
    partners=st.lists(st.sampled_from(["P1", "P2", "P3"]), min_size=3, max_size=6),
)
def test_position_weights_a_policy_accepts_give_every_partner_a_share_from_0_to_1(
    weights: list[int], partners: list[str]
) -> None:
    """A policy refuses a negative position weight: [60, -20, 60] gave a middle partner -1/5 of the
    deal and another 6/5, and [20, -40, 20] divided by zero."""
    toml = f"[credit]\nposition_based_weights = {weights}"
    try:
        policy = parse_policy(toml, "p.toml")
    except PolicyError:
        assert min(weights) < 0 or not any(weights)
        return
    touches = [CreditTouch(f"T{i}", (i + 1) * DAY, p) for i, p in enumerate(partners)]
    model_settings = ModelSettings(policy.position_based_weights, policy.time_decay_half_life_days)
    split = compute_shares("position_based", ROLES, touches, X, model_settings)
    assert sum(split.shares.values()) == 1
    assert all(0 <= share <= 1 for share in split.shares.values())
