"""Plan files: parsing, and every check `cosell plans check` makes, with its message naming the rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cosell.pay.plan_check import check_folder
from cosell.pay.plan_parse import example_plan, example_plan_text, parse_plan, parse_plan_text
from cosell.pay.plans import NoPlanInForce, Plan, PlanInvalid, PlanSet

HEAD = """
plan_id = "{plan_id}"
version = {version}
effective_from = {start}
{end}currency = "USD"
"""


def text(
    rules: str = "", *, plan_id: str = "p", version: int = 1, start: str = "2026-01-01", end: str = ""
) -> str:
    end_line = f"effective_to = {end}\n" if end else ""
    body = rules or '[[rules]]\nid = "base"\npercent = 1\n'
    return HEAD.format(plan_id=plan_id, version=version, start=start, end=end_line) + body


def problems(rules: str, file: str = "plans/2026.toml") -> list[str]:
    plan, found = parse_plan_text(text(rules), file)
    assert plan is None
    return [str(p) for p in found]


def plan(rules: str = "", file: str = "plans/2026.toml", **kw: object) -> Plan:
    return parse_plan(text(rules, **kw), file)  # type: ignore[arg-type]


def at(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


# ---- parsing ----------------------------------------------------------------------------------------


def test_example_plan_is_valid_and_has_every_kind_of_rule() -> None:
    p = example_plan()
    assert p.label == "partners-2026@1"
    assert p.effective_from == at("2026-01-01T00:00:00Z") and p.effective_to is None
    ids = [r.id for r in p.rules]
    assert ids == [
        "referral-sourced",
        "referral-sourced-gold",
        "cosell-20",
        "sourced-other",
        "influence-fee",
        "servicer-share",
        "sourced-expansion-bonus",
    ]
    assert p.rule("sourced-expansion-bonus").additive
    assert p.rule("cosell-20").role == frozenset({"sourcer", "co_seller"})
    assert p.rule("referral-sourced").percent == Decimal(10)
    assert p.rep_commission is not None and p.rep_commission.partner_pay == "on_top"
    assert p.digest == parse_plan(example_plan_text()).digest


def test_values_are_exact_decimals_and_instants_are_utc() -> None:
    p = plan(
        '[[rules]]\nid = "r"\npercent = 12.5\nflat = 0.10\ncap = 99.99\n',
        start="2026-07-01T00:00:00+02:00",
        end='"2027-01-01"',
    )
    rule = p.rule("r")
    assert (rule.percent, rule.flat, rule.cap) == (Decimal("12.5"), Decimal("0.10"), Decimal("99.99"))
    assert p.effective_from == at("2026-06-30T22:00:00Z")
    assert p.effective_to == at("2027-01-01T00:00:00Z")


def test_specificity_counts_the_constrained_keys() -> None:
    p = plan(
        '[[rules]]\nid = "any"\nflat = 1\n'
        '[[rules]]\nid = "two"\ntier = ["sourced", "influenced"]\nrole = "sourcer"\nflat = 1\n'
    )
    assert p.rule("any").specificity == 0
    assert p.rule("two").specificity == 2


# ---- every check, with its message ---------------------------------------------------------------


def test_percent_over_100_names_the_rule() -> None:
    assert problems('[[rules]]\nid = "cosell-20"\npercent = 120\n') == [
        'plans/2026.toml rule "cosell-20": percent 120 is over 100'
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("percent = -1", "percent -1 is negative"),
        ("flat = -5", "flat -5 is negative"),
        ("percent = 1\ncap = -0.5", "cap -0.5 is negative"),
        ("percent = 1\nminimum = -2", "minimum -2 is negative"),
    ],
)
def test_negative_amounts_name_the_rule(line: str, message: str) -> None:
    assert problems(f'[[rules]]\nid = "neg"\n{line}\n') == [f'plans/2026.toml rule "neg": {message}']


def test_cap_below_its_minimum() -> None:
    assert problems('[[rules]]\nid = "r"\npercent = 10\ncap = 100\nminimum = 250\n') == [
        'plans/2026.toml rule "r": cap 100 is below its minimum 250'
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'tier = "sorced"',
            "tier 'sorced' is not one of sourced, accelerated, influenced, none (did you mean 'sourced'?)",
        ),
        (
            'partner_type = ["referral", "cosell"]',
            "partner_type 'cosell' is not one of referral, co_sell, reseller, integration, agency, affiliate, "
            "services (did you mean 'co_sell'?)",
        ),
        (
            'role = "seller"',
            "role 'seller' is not one of sourcer, co_seller, influencer, reseller, servicer (did you mean 'reseller'?)",
        ),
        (
            'opportunity_type = "upsell"',
            "opportunity_type 'upsell' is not one of new_business, expansion, renewal",
        ),
        ('tier = "none"', "tier 'none' deals have no partner credits, so this can never pay"),
        ("role = []", "role must be a value or a non-empty list of values"),
    ],
)
def test_unknown_match_values_name_the_rule(line: str, message: str) -> None:
    assert problems(f'[[rules]]\nid = "r"\n{line}\npercent = 1\n') == [f'plans/2026.toml rule "r": {message}']


def test_duplicate_rule_ids() -> None:
    found = problems(
        '[[rules]]\nid = "r"\ntier = "sourced"\npercent = 1\n[[rules]]\nid = "r"\ntier = "influenced"\nflat = 1\n'
    )
    assert found == ['plans/2026.toml rule "r": duplicate rule id']


def test_overlapping_rules_with_no_precedence_name_both_rules() -> None:
    found = problems(
        '[[rules]]\nid = "sourced-5"\ntier = "sourced"\npercent = 5\n'
        '[[rules]]\nid = "referral-10"\npartner_type = "referral"\npercent = 10\n'
    )
    assert found == [
        'plans/2026.toml rules "referral-10" and "sourced-5": overlapping rules with no precedence: both '
        "match tier sourced, partner_type referral (give one a higher priority, or make one more specific)"
    ]


def test_overlapping_lists_clash_and_disjoint_lists_do_not() -> None:
    clash = problems(
        '[[rules]]\nid = "a"\ntier = ["sourced", "influenced"]\nflat = 1\n'
        '[[rules]]\nid = "b"\ntier = ["influenced", "accelerated"]\nflat = 2\n'
    )
    assert clash == [
        'plans/2026.toml rules "a" and "b": overlapping rules with no precedence: both match tier influenced '
        "(give one a higher priority, or make one more specific)"
    ]
    plan(
        '[[rules]]\nid = "a"\ntier = "sourced"\nflat = 1\n[[rules]]\nid = "b"\ntier = ["influenced", "accelerated"]\nflat = 2\n'
    )


def test_overlap_resolved_where_a_more_specific_rule_wins() -> None:
    """tier sourced and partner_type referral only tie on sourced referral credits, which a third wins."""
    p = plan(
        '[[rules]]\nid = "sourced-5"\ntier = "sourced"\npercent = 5\n'
        '[[rules]]\nid = "referral-10"\npartner_type = "referral"\npercent = 10\n'
        '[[rules]]\nid = "sourced-referral-12"\ntier = "sourced"\npartner_type = "referral"\npercent = 12\n'
    )
    assert len(p.rules) == 3


def test_priority_resolves_an_overlap_but_an_equal_priority_does_not() -> None:
    rules = '[[rules]]\nid = "a"\ntier = "sourced"\npercent = 5\n{a}[[rules]]\nid = "b"\nrole = "sourcer"\npercent = 10\n{b}'
    plan(rules.format(a="priority = 2\n", b=""))
    plan(rules.format(a="", b="priority = -1\n"))
    assert problems(rules.format(a="priority = 3\n", b="priority = 3\n")) == [
        'plans/2026.toml rules "a" and "b": overlapping rules with no precedence: both match tier sourced, '
        "role sourcer (give one a higher priority, or make one more specific)"
    ]


def test_additive_rules_never_clash_and_two_catch_alls_do() -> None:
    plan('[[rules]]\nid = "a"\npercent = 5\n[[rules]]\nid = "b"\nflat = 10\nadditive = true\n')
    assert problems('[[rules]]\nid = "a"\npercent = 5\n[[rules]]\nid = "b"\nflat = 10\n') == [
        'plans/2026.toml rules "a" and "b": overlapping rules with no precedence: both match every credit '
        "(give one a higher priority, or make one more specific)"
    ]


def test_program_tiers_compare_without_case_when_checking_overlap() -> None:
    found = problems(
        '[[rules]]\nid = "g1"\nprogram_tier = "Gold"\npercent = 5\n[[rules]]\nid = "g2"\nprogram_tier = "gold"\nflat = 1\n'
    )
    assert found == [
        'plans/2026.toml rules "g1" and "g2": overlapping rules with no precedence: both match program_tier '
        "gold (give one a higher priority, or make one more specific)"
    ]


def test_other_rule_problems_are_named() -> None:
    found = problems(
        '[[rules]]\nid = "typo"\npercnt = 3\nflat = 1\n'
        '[[rules]]\nid = "empty"\ntier = "sourced"\n'
        '[[rules]]\ntier = "influenced"\nflat = 1\n'
        '[[rules]]\nid = "digits"\nrole = "servicer"\nflat = 1.005\n'
        '[[rules]]\nid = "flag"\nrole = "reseller"\nflat = 1\nadditive = "yes"\npriority = 1.5\n'
    )
    assert found == [
        "plans/2026.toml rule \"typo\": unknown key 'percnt' (did you mean 'percent'?)",
        'plans/2026.toml rule "empty": pays nothing: give a percent, a flat fee, or both',
        "plans/2026.toml: rule #3 has no id (every rule needs a unique id)",
        'plans/2026.toml rule "digits": flat 1.005 has non-zero digits beyond the 2 decimal places USD allows',
        "plans/2026.toml rule \"flag\": additive 'yes' is not true or false",
        'plans/2026.toml rule "flag": priority 1.5 is not a whole number',
    ]


@pytest.mark.parametrize("bad", ["\\n", "\\t", "\\u001b[2J", "\\u0000", "\\u007f"])
def test_plan_and_rule_ids_have_no_control_characters(bad: str) -> None:
    """Found by fuzzing plan files: a line break or an escape in a plan or rule id was loaded, then
    split the load message and every ledger line and statement that names the plan version."""
    found = problems(
        f'[[rules]]\nid = "ok"\nflat = 1\n[[rules]]\nid = "r{bad}1"\nrole = "servicer"\nflat = 1\n'
    )
    shown = repr(f"r{bad}1".encode().decode("unicode_escape"))
    assert found == [
        f"plans/2026.toml: rule #2 id {shown} has a control character (a line break, a tab, ...)"
    ]
    plan_, found = parse_plan_text(text(plan_id=f"p{bad}2026"), "f.toml")
    assert plan_ is None
    shown = repr(f"p{bad}2026".encode().decode("unicode_escape"))
    assert [str(p) for p in found] == [
        f"f.toml: plan_id {shown} has a control character (a line break, a tab, ...)"
    ]
    assert plan(plan_id="p-ü 2026 ✓").plan_id == "p-ü 2026 ✓"  # any printable name is fine


def test_fees_follow_the_one_minor_unit_rule() -> None:
    # money.fits_minor_unit, as for imported amounts: zeros past the minor unit are fine.
    jpy = text('[[rules]]\nid = "fee"\nflat = 5000.00\ncap = 9000.000\n').replace('"USD"', '"JPY"')
    assert parse_plan(jpy, "plans/jpy.toml").rule("fee").flat == Decimal(5000)
    refused = jpy.replace("5000.00", "5000.50")
    plan_, found = parse_plan_text(refused, "plans/jpy.toml")
    assert plan_ is None
    assert [str(p) for p in found] == [
        'plans/jpy.toml rule "fee": flat 5000.5 has non-zero digits beyond the 0 decimal places JPY allows'
    ]


def test_wrong_typed_values_are_shown_as_toml_not_python() -> None:
    """Found by fuzzing plan files: `percent = true` was reported as "percent True" and
    `effective_from = 12:00:00` as "datetime.time(12, 0)", Python's spelling, not the file's."""
    assert problems('[[rules]]\nid = "r"\npercent = true\nflat = false\npriority = true\n') == [
        'plans/2026.toml rule "r": percent true is not a number',
        'plans/2026.toml rule "r": flat false is not a number',
        'plans/2026.toml rule "r": priority true is not a whole number',
    ]
    plan_, found = parse_plan_text(text(start="12:00:00"), "f.toml")
    assert plan_ is None
    assert [str(p) for p in found] == [
        "f.toml: effective_from 12:00:00 must be a date or an ISO 8601 instant"
    ]


def test_non_finite_and_huge_numbers() -> None:
    assert problems('[[rules]]\nid = "r"\npercent = nan\nflat = inf\n') == [
        'plans/2026.toml rule "r": percent NaN is not a number',
        'plans/2026.toml rule "r": flat Infinity is not a number',
    ]
    largest = plan(
        '[[rules]]\nid = "r"\nflat = 99999999999999.99\ncap = 99999999999999.99\nminimum = 1.100\n'
    )
    assert largest.rule("r").flat == Decimal("99999999999999.99")
    assert problems('[[rules]]\nid = "r"\nflat = 1000000000000000000000000000000\ncap = 1e14\n') == [
        'plans/2026.toml rule "r": flat 1000000000000000000000000000000 is too large: a plan amount has at '
        "most 14 digits before the decimal point (what the ledger holds)",
        'plans/2026.toml rule "r": cap 100000000000000 is too large: a plan amount has at most 14 digits '
        "before the decimal point (what the ledger holds)",
    ]


def test_percents_and_priorities_are_bounded() -> None:
    assert problems(
        '[[rules]]\nid = "r"\npercent = 12.3456789\npriority = 10000001\n'
        '[[rules]]\nid = "s"\ntier = "sourced"\npercent = 1e-999999999\n'
    ) == [
        'plans/2026.toml rule "r": percent 12.3456789 has more than 6 decimal places',
        'plans/2026.toml rule "r": priority 10000001 is not a whole number from -1,000,000 to 1,000,000',
        'plans/2026.toml rule "s": percent 1E-999999999 has more than 6 decimal places',
    ]
    assert (
        plan('[[rules]]\nid = "r"\npercent = 12.345678\npriority = -1000000\n').rule("r").priority
        == -1_000_000
    )


def test_every_problem_is_listed_at_once() -> None:
    found = problems(
        '[[rules]]\nid = "cosell-20"\npartner_type = "co_sell"\npercent = 120\n'
        '[[rules]]\nid = "fee"\ntier = "influenced"\nflat = -5\n'
        '[[rules]]\nid = "fee"\ntier = "accelerated"\nflat = 5\n'
    )
    assert found == [
        'plans/2026.toml rule "cosell-20": percent 120 is over 100',
        'plans/2026.toml rule "fee": flat -5 is negative',
        'plans/2026.toml rule "fee": duplicate rule id',
    ]


def test_plan_level_problems() -> None:
    bad = (
        'plan_id = "a@b"\nversion = 0\neffective_from = "soon"\neffective_to = 2020-01-01\ncurrency = "XYZ"\n'
        "colour = 1\n"
        '[rep_commission]\nsourced = 5\ndirect = 101\npartner_pay = "halves"\n'
    )
    plan_, found = parse_plan_text(bad, "f.toml")
    assert plan_ is None
    assert [str(p) for p in found] == [
        "f.toml: unknown key 'colour'",
        "f.toml: plan_id must be a non-empty name without '@'",
        "f.toml: version 0 must be a whole number from 1 to 2,147,483,647",
        "f.toml: effective_from 'soon' must be a date or an ISO 8601 instant",
        "f.toml: currency 'XYZ' is not an ISO 4217 currency code (the workspace currency)",
        "f.toml: rep_commission: influenced (percent of the deal amount) is missing",
        "f.toml: rep_commission: direct 101 is over 100",
        "f.toml: rep_commission: partner_pay 'halves' must be 'on_top' or 'out_of_rep'",
    ]


def test_effective_to_must_follow_effective_from() -> None:
    _, found = parse_plan_text(text(start="2026-07-01", end="2026-07-01"), "f.toml")
    assert [str(p) for p in found] == [
        "f.toml: effective_to 2026-07-01T00:00:00Z is not after effective_from 2026-07-01T00:00:00Z"
    ]


def test_not_toml_and_empty_plan() -> None:
    _, found = parse_plan_text("plan_id = ", "f.toml")
    assert len(found) == 1 and str(found[0]).startswith("f.toml: not valid TOML: ")
    _, found = parse_plan_text("x = " + "[" * 5000 + "]" * 5000, "f.toml")  # a RecursionError in tomllib
    assert [str(p) for p in found] == ["f.toml: not valid TOML: nested too deeply"]
    _, found = parse_plan_text(
        'plan_id = "p"\nversion = 1\neffective_from = 2026-01-01\ncurrency = "USD"\n', "f.toml"
    )
    assert [str(p) for p in found] == ["f.toml: the plan has no rules and no rep_commission: it pays nothing"]


def test_parse_plan_raises_with_every_problem() -> None:
    with pytest.raises(PlanInvalid) as info:
        parse_plan(text('[[rules]]\nid = "x"\npercent = 101\nflat = -1\n'), "f.toml")
    assert str(info.value) == 'f.toml rule "x": percent 101 is over 100\nf.toml rule "x": flat -1 is negative'
    assert info.value.exit_code == 1


# ---- a folder of versions: gaps and overlaps -------------------------------------------------------


def test_consecutive_versions_with_no_gap_are_fine() -> None:
    v1 = plan(version=1, start="2026-01-01", end="2026-07-01", file="v1.toml")
    v2 = plan(version=2, start="2026-07-01", file="v2.toml")
    assert check_folder([v2, v1]) == []


def test_a_gap_between_versions_of_one_plan() -> None:
    v1 = plan(version=1, start="2026-01-01", end="2026-07-01", file="v1.toml")
    v2 = plan(version=2, start="2026-08-01", file="v2.toml")
    assert [str(p) for p in check_folder([v1, v2])] == [
        "v2.toml: a gap in effective dates: p@1 ends 2026-07-01T00:00:00Z but p@2 starts 2026-08-01T00:00:00Z"
    ]


def test_an_overlap_between_versions_of_one_plan() -> None:
    v1 = plan(version=1, start="2026-01-01", end="2026-07-01", file="v1.toml")
    v2 = plan(version=2, start="2026-06-01", file="v2.toml")
    assert [str(p) for p in check_folder([v1, v2])] == [
        "v2.toml: an overlap in effective dates: p@1 runs until 2026-07-01T00:00:00Z but p@2 starts "
        "2026-06-01T00:00:00Z"
    ]


def test_open_ended_version_is_superseded_but_not_at_the_same_instant() -> None:
    v1 = plan(version=1, start="2026-01-01", file="v1.toml")
    assert check_folder([v1, plan(version=2, start="2026-07-01", file="v2.toml")]) == []
    assert [str(p) for p in check_folder([v1, plan(version=2, start="2026-01-01", file="v2.toml")])] == [
        "v2.toml: an overlap in effective dates: p@1 and p@2 both take effect 2026-01-01T00:00:00Z"
    ]


def test_versions_out_of_date_order_and_duplicates() -> None:
    v1 = plan(version=1, start="2026-07-01", file="v1.toml")
    v2 = plan(version=2, start="2026-01-01", file="v2.toml")
    assert [str(p) for p in check_folder([v1, v2])] == [
        "v2.toml: p@2 takes effect 2026-01-01T00:00:00Z, before p@1 (2026-07-01T00:00:00Z)"
    ]
    again = plan(version=1, start="2026-07-01", file="copy.toml")
    assert [str(p) for p in check_folder([v1, again])] == ["copy.toml: p@1 is also defined in v1.toml"]


def test_two_plans_overlapping_and_a_gap_between_plans() -> None:
    a = plan(plan_id="a", start="2026-01-01", end="2026-07-01", file="a.toml")
    b = plan(plan_id="b", start="2026-06-01", file="b.toml")
    assert [str(p) for p in check_folder([a, b])] == [
        "b.toml: an overlap in effective dates: a@1 runs until 2026-07-01T00:00:00Z but b@1 starts "
        "2026-06-01T00:00:00Z"
    ]
    # A gap between two different plans is allowed: no plan is in force in between.
    later = plan(plan_id="b", start="2026-09-01", file="b.toml")
    assert check_folder([a, later]) == []


# ---- the plan in force ----------------------------------------------------------------------------


def test_plan_in_force_by_close_time_at_the_boundary_instants() -> None:
    v1 = plan(version=1, start="2026-01-01")
    v2 = plan(version=2, start="2026-07-01T00:00:00Z", end="2027-01-01")
    plans = PlanSet((v1, v2))
    assert plans.in_force(at("2026-01-01T00:00:00Z")).label == "p@1"
    assert plans.in_force(at("2026-06-30T23:59:59.999999Z")).label == "p@1"
    assert plans.in_force(at("2026-07-01T00:00:00Z")).label == "p@2"
    assert plans.in_force(at("2026-12-31T23:59:59.999999Z")).label == "p@2"
    with pytest.raises(
        NoPlanInForce, match=re.escape("no compensation plan is in force at 2025-12-31T23:59:59.999999Z")
    ):
        plans.in_force(at("2025-12-31T23:59:59.999999Z"))
    assert plans.find(at("2027-01-01T00:00:00Z")) is None  # effective_to is exclusive
    assert plans.by_label("p@2") is v2


def test_a_correction_with_the_same_start_replaces_the_earlier_version() -> None:
    v1 = plan('[[rules]]\nid = "a"\npercent = 1\n', version=1, start="2026-01-01")
    v2 = plan('[[rules]]\nid = "a"\npercent = 2\n', version=2, start="2026-01-01")
    assert PlanSet((v1, v2)).in_force(at("2026-03-01T00:00:00Z")).label == "p@2"


def test_docs_describe_every_key_of_the_plan_file() -> None:
    from pathlib import Path

    from cosell.pay.plan_parse import _REP_KEYS, _RULE_KEYS, _TOP_KEYS

    doc = (Path(__file__).parents[2] / "docs" / "pay-plans.md").read_text(encoding="utf-8")
    for key in (*_TOP_KEYS, *_RULE_KEYS, *_REP_KEYS):
        assert f"`{key}`" in doc or f"`[{key}]`" in doc or f"`[[{key}]]`" in doc, key
