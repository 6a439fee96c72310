"""The rules appendix states the policy in force: hand-written sentences for the default policy,
each setting changed changes its sentence, and over generated policies every stated setting's value
is in the text (so the appendix cannot drift from what cosell computes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.appendix import MODEL_SETTINGS, NOT_STATED, Appendix, build_appendix, stated_settings
from cosell.policy import CREDIT_MODELS, SETTINGS, Policy

DATED = date(2026, 11, 1)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]  # fmt: skip


def clauses(policy: Policy) -> dict[str, str]:
    return {c.number: c.text for c in build_appendix(policy, DATED).clauses()}


def test_the_default_policy_in_hand_written_sentences() -> None:
    text = clauses(Policy())
    version = Policy().version
    assert text["1.1"] == (
        f"These rules are those of policy version {version}. Every attribution result records the "
        "policy version it was decided under; a change to any setting below gives a new version."
    )
    assert text["1.4"] == (
        "A deal's lookback is the 180 days up to and including its creation. Its window runs from "
        "the start of its lookback to its close (for an open deal, the evaluation date)."
    )
    assert "else 90 days after it was registered" in text["1.8"]
    assert text["2.3"] == (
        "Direct first: a claim is blocked when our own team logged a direct engagement touch on the "
        "deal or its account inside the lookback at or before the claim's time; a tie goes to the "
        "direct team. A direct touch older than the lookback of 180 days never blocks. A blocked "
        "claim sources nothing; the deal may still be accelerated or influenced."
    )
    assert text["2.4"] == (
        "A deal has at most one sourcing partner: among the claims not blocked, the earliest wins "
        "(first in, first win). At the same instant the order is a registration (S2), then a partner "
        "lead (S1), then an earliest touch (S3), then a declaration (S4), then the smaller partner "
        "id. Any other partner with a claim not blocked sources nothing and takes a role under "
        "clause 4.1 (influencer, unless declared in another role); the deal is marked double-sourced."
    )
    assert text["2.6"].endswith("and it passes the acceleration test (section 3).")
    assert text["4.1"].startswith(
        "Each partner with evidence on a deal in tier sourced, accelerated or influenced"
    )
    assert text["2.7"].endswith(
        "A declared partner counts only with logged activity: a partner engagement touch by that "
        "partner on the deal at or before its close, or, for the partner named in the CRM fields, a "
        "non-empty partner activity log."
    )
    assert text["3.2"] == (
        "Comparable deals are the direct-only won deals that closed in the 365 days up to the deal's "
        "close and passed through that stage, at the narrowest of three cohort levels with at least "
        "10 deals: level 1, the same segment and amount band; level 2, the same segment; level 3, "
        "all of them. An empty segment is a segment of its own."
    )
    assert text["3.3"].startswith(
        "For the cohort levels, the amount bands, in USD, are: under 25,000; 25,000 to under "
        "100,000; 100,000 and above."
    )
    assert text["3.3"].endswith("(the fiscal year starts in January).")
    assert text["3.6"] == (
        "The deal is accelerated when its remaining time is at most the baseline less 20% (at most "
        "80% of the baseline) and at least 7 days shorter than the baseline; both must hold."
    )
    assert (
        text["4.3"]
        == "The role weights are: sourcer 50, co-seller 30, reseller 30, influencer 15, servicer 5."
    )
    assert text["4.4"] == (
        "Credit model role_weighted: each partner's share is its role's weight divided by the sum of "
        "the weights of the roles on the deal; when they are all 0, the deal is split evenly."
    )
    assert text["4.5"] == (
        "Shares are exact fractions that sum to 1, stated with 6 decimals. Each partner's amount, in "
        "the deal's currency, is the deal amount times its share rounded down to the currency's "
        "minor unit (for example 0.01 USD); the units left over go one each to the partners with the "
        "largest remainders, ties to the larger role weight, then the smaller partner id, so that "
        "the amounts add up exactly to the deal amount."
    )
    assert list(text)[-1] == "5.2"


def _without_version(appendix: Appendix, policy: Policy) -> list[str]:
    # The hash changes with any setting; the label and every other word only with their own.
    return [c.text.replace(policy.digest, "<hash>") for c in appendix.clauses()]


# One changed value per setting (a model's own parameters under that model).
CHANGES: dict[str, Any] = {
    "label": "fy27-rules",
    "workspace_currency": "JPY",
    "fiscal_year_start_month": 4,
    "windows.sourcing_lookback_days": 183,
    "windows.protection_window_days": 61,
    "windows.baseline_window_days": 400,
    "acceleration.min_pct": Decimal("0.35"),
    "acceleration.min_days": 11,
    "acceleration.min_cohort_size": 25,
    "influence.requires_activity": False,
    "touch_kinds.partner_engagement": ["referral", "co_marketing"],
    "touch_kinds.direct_engagement": ["cold_call"],
    "touch_kinds.not_engagement": ["newsletter"],
    "amount_bands.edges": [Decimal("10000"), Decimal("1250000")],
    "stages.won": ["Won - Booked"],
    "stages.lost": ["Lost", "Disqualified"],
    "credit.model": "even",
    "credit.position_based_weights": [Decimal(30), Decimal(45), Decimal(25)],
    "credit.time_decay_half_life_days": Decimal("21.5"),
    "credit.role_weights.sourcer": Decimal("55.5"),
    "credit.role_weights.co_seller": Decimal(31),
    "credit.role_weights.reseller": Decimal(29),
    "credit.role_weights.influencer": Decimal(16),
    "credit.role_weights.servicer": Decimal(4),
    "hygiene.prompt_expiry_days": 21,
    "metrics.min_deals_for_confidence": 50,
}
# What the sentence says after the change (hand-written).
CHANGED_TEXT = {
    "label": "fy27-rules@",
    "workspace_currency": "(for example 1 JPY)",
    "fiscal_year_start_month": "the fiscal year starts in April",
    "windows.sourcing_lookback_days": "lookback is the 183 days",
    "windows.protection_window_days": "else 61 days after it was registered",
    "windows.baseline_window_days": "closed in the 400 days up to",
    "acceleration.min_pct": "baseline less 35% (at most 65% of the baseline)",
    "acceleration.min_days": "at least 11 days shorter than the baseline",
    "acceleration.min_cohort_size": "with at least 25 deals",
    "influence.requires_activity": "A declared partner counts whether or not it has logged activity.",
    "touch_kinds.partner_engagement": "partner engagement kind (referral and co_marketing)",
    "touch_kinds.direct_engagement": "direct engagement kind (cold_call)",
    "touch_kinds.not_engagement": "(newsletter, and any kind not listed)",
    "amount_bands.edges": "are: under 10,000; 10,000 to under 1,250,000; 1,250,000 and above.",
    "stages.won": 'current stage is "Won - Booked"',
    "stages.lost": 'lost when it is "Lost" and "Disqualified"',
    "credit.model": "Credit model even: every partner with a role gets an equal share.",
    "credit.position_based_weights": "the first weighs 30, the last 25, and the touches between share 45",
    "credit.time_decay_half_life_days": "weighs 2^(-age/21.5 days)",
    "credit.role_weights.sourcer": "sourcer 55.5,",
    "credit.role_weights.co_seller": "co-seller 31,",
    "credit.role_weights.reseller": "reseller 29,",
    "credit.role_weights.influencer": "influencer 16,",
    "credit.role_weights.servicer": "servicer 4.",
}


def test_every_setting_is_stated_or_named_as_not_stated() -> None:
    assert set(CHANGES) == {s.key for s in SETTINGS}
    for model in CREDIT_MODELS:
        policy = Policy().with_values(credit__model=model)
        stated = stated_settings(policy)
        expected = {s.key for s in SETTINGS} - set(NOT_STATED)
        expected -= {key for key, m in MODEL_SETTINGS.items() if m != model}
        assert stated == expected, model


def test_changing_a_setting_changes_its_sentence() -> None:
    for key, value in CHANGES.items():
        model = MODEL_SETTINGS.get(key, "role_weighted")
        before = Policy().with_values(credit__model=model)
        after = before.with_values(**{key.replace(".", "__"): value})
        old = _without_version(build_appendix(before, DATED), before)
        new = _without_version(build_appendix(after, DATED), after)
        text = " ".join(c.text for c in build_appendix(after, DATED).clauses())
        if key in NOT_STATED:
            assert new == old, key  # only the version moved: no sentence is about it
            continue
        assert new != old, key
        assert CHANGED_TEXT[key] in text, key
        assert CHANGED_TEXT[key] not in " ".join(c.text for c in build_appendix(before, DATED).clauses()), key


def test_the_credit_model_in_force_is_the_one_described() -> None:
    for model in CREDIT_MODELS:
        text = clauses(Policy().with_values(credit__model=model))
        assert text["4.4"].startswith(f"Credit model {model}")
        assert ("no such touch is split by role weights" in " ".join(text.values())) == (
            model in ("first_touch", "last_touch", "position_based", "time_decay")
        )


def test_the_date_is_the_one_given() -> None:
    appendix = build_appendix(Policy(), date(2027, 2, 1))
    assert appendix.dated == date(2027, 2, 1)
    assert ("Dated", "2027-02-01") in appendix.facts
    assert "dated 2027-02-01" in appendix.subtitle


# --- generated policies -------------------------------------------------------------------------


def _num(value: Decimal | int) -> str:
    """The number as a person writes it: thousands separators, no trailing zeros (test's own)."""
    text = format(Decimal(value), "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


identifiers = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).map(lambda s: f"k{s}")
amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    # A policy lists at least one partner engagement kind and one won stage.
    kinds = draw(st.lists(identifiers, min_size=1, max_size=9, unique=True))
    cut1, cut2 = sorted(draw(st.lists(st.integers(1, len(kinds)), min_size=2, max_size=2)))
    stages = draw(st.lists(st.text(alphabet="ABCDEF wxyz-", min_size=1, max_size=15).map(str.strip).filter(bool),
                           min_size=1, max_size=4, unique=True))  # fmt: skip
    split = draw(st.integers(1, len(stages)))
    days = st.integers(0, 36_500)
    values: dict[str, Any] = {
        "label": draw(st.text(alphabet="abcxyz0-9", min_size=1, max_size=10)),
        "workspace_currency": draw(st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP"])),
        "fiscal_year_start_month": draw(st.integers(1, 12)),
        "windows.sourcing_lookback_days": draw(days),
        "windows.protection_window_days": draw(days),
        "windows.baseline_window_days": draw(days),
        "acceleration.min_pct": draw(st.decimals(min_value=0, max_value=Decimal("0.99"), places=2)),
        "acceleration.min_days": draw(days),
        "acceleration.min_cohort_size": draw(st.integers(1, 1_000_000)),
        "influence.requires_activity": draw(st.booleans()),
        "touch_kinds.partner_engagement": kinds[:cut1],
        "touch_kinds.direct_engagement": kinds[cut1:cut2],
        "touch_kinds.not_engagement": kinds[cut2:],
        "amount_bands.edges": sorted(set(draw(st.lists(amounts, max_size=4)))),
        "stages.won": stages[:split],
        "stages.lost": stages[split:],
        "credit.model": draw(st.sampled_from(CREDIT_MODELS)),
        "credit.position_based_weights": draw(st.lists(amounts, min_size=3, max_size=3).filter(any)),
        "credit.time_decay_half_life_days": draw(amounts.filter(lambda d: d > 0)),
        "hygiene.prompt_expiry_days": draw(days),
        "metrics.min_deals_for_confidence": draw(st.integers(0, 10**6)),
    }
    for role in ("sourcer", "co_seller", "reseller", "influencer", "servicer"):
        # within the policy's bound: as whole numbers (cents here) at most 1,000,000
        values[f"credit.role_weights.{role}"] = draw(st.decimals(min_value=0, max_value=10_000, places=2))
    return Policy().with_values(**{k.replace(".", "__"): v for k, v in values.items()})


def expected_phrases(p: Policy, key: str) -> list[str]:
    """What the appendix must say for a setting, written from the value (not from the appendix)."""
    v = p.values[key]
    if key == "label":
        return [f"{v}@{p.digest}"]
    if key == "workspace_currency":
        return [f"Amounts are in {v}, the workspace currency"]
    if key == "fiscal_year_start_month":
        return [f"the fiscal year starts in {MONTHS[v - 1]}"]
    if key == "windows.sourcing_lookback_days":
        return [f"lookback is the {_num(v)} day", f"lookback of {_num(v)} day"]
    if key == "windows.protection_window_days":
        return [f"else {_num(v)} day"]
    if key == "windows.baseline_window_days":
        return [f"closed in the {_num(v)} day"]
    if key == "acceleration.min_pct":
        return [f"baseline less {_num(v * 100)}%", f"at most {_num((1 - v) * 100)}% of the baseline"]
    if key == "acceleration.min_days":
        return [f"at least {_num(v)} day"]
    if key == "acceleration.min_cohort_size":
        return [f"with at least {_num(v)} deal"]
    if key == "influence.requires_activity":
        return ["counts only with logged activity" if v else "whether or not it has logged activity"]
    if key.startswith("touch_kinds."):
        return list(v)
    if key == "amount_bands.edges":
        return [f"{_num(e)} and above" if i == len(v) - 1 else f"{_num(e)} to under" for i, e in enumerate(v)]
    if key.startswith("stages."):
        return [f'"{name}"' for name in v]
    if key == "credit.model":
        return [f"Credit model {v}"]
    if key == "credit.position_based_weights":
        first, middle, last = v
        return [f"the first weighs {_num(first)}, the last {_num(last)}", f"share {_num(middle)} equally"]
    if key == "credit.time_decay_half_life_days":
        return [f"2^(-age/{_num(v)} days)"]
    if key.startswith("credit.role_weights."):
        return [f"{key.rsplit('.', 1)[1].replace('_', '-')} {_num(v)}"]
    raise AssertionError(f"no expectation for {key}")


@settings(max_examples=150, deadline=None)
@given(policies())
def test_every_stated_settings_value_is_in_the_appendix(policy: Policy) -> None:
    appendix = build_appendix(policy, DATED)
    text = " ".join(c.text for c in appendix.clauses())
    for key in stated_settings(policy):
        for phrase in expected_phrases(policy, key):
            assert phrase in text, (key, phrase)
    assert build_appendix(policy, DATED) == appendix  # the same policy, the same appendix
