"""Every value of the policy is a placeholder in the compiled plan (cosell.attribution.engine_params):
two policies that differ in any one value share one compiled plan, and each gets what the reference
implementation gives for it, which is not what the other gets (so the value does reach the rules).

The golden cases are the worlds: each is one where the value changes the outcome. The plans of this
module are compiled into a folder of its own and counted: one per model and policy shape (each is
the suite's plan of its key; a fresh compile is compared with it below).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from cosell.attribution import engine_build, engine_cohort, engine_plan, engine_plan_cache
from cosell.attribution.engine import compiled_plan
from cosell.attribution.engine_params import (
    AS_OF_PLACEHOLDER_US,
    INT,
    Filler,
    Params,
    Shape,
    Slot,
    check_placeholders,
    shape_of,
    slots,
    unique_slots,
    values,
)
from cosell.attribution.engine_plan_cache import PLANS
from cosell.cache_folder import CACHE_ENV
from cosell.engine import DUCKDB, POSTGRES, SPARK
from cosell.policy import Policy
from cosell.store.workspace import as_of_views, open_workspace

sys.path.insert(0, str(Path(__file__).parent))
from plan_support import suite_plan
from test_engine_parity import assert_same, run_engine

import golden

D = Decimal
# The builder itself, for the tests that compile outside the module's counted cache.
BUILD = engine_build.build_plan
KINDS = ["referral", "intro", "joint_call", "implementation"]

# (golden case, setting, the other value): the case's own policy against the same policy with the
# setting changed. Each pair changes the case's result (asserted below).
VARIATIONS = [
    ("lookback_edges", "windows__sourcing_lookback_days", 30),
    ("lead_older_than_lookback", "windows__sourcing_lookback_days", 400),
    ("registration_unlinked", "windows__protection_window_days", 1),
    ("acc_stage_baseline", "windows__baseline_window_days", 10),
    ("acc_stage_baseline", "acceleration__min_cohort_size", 3),
    ("acc_near_miss_pct", "acceleration__min_pct", D("0.1")),
    ("acc_near_miss_days", "acceleration__min_days", 1),
    ("declared_influencer_activity", "influence__requires_activity", False),
    ("declared_influencer_no_activity_required", "influence__requires_activity", True),
    ("kinds_ignored", "touch_kinds__partner_engagement", [*KINDS, "marketing_email_sent"]),
    ("direct_first_guard", "touch_kinds__direct_engagement", ["demo_request"]),
    ("lost_and_open", "stages__won", ["Won", "Closed Won (EMEA)"]),
    ("lost_and_open", "stages__lost", ["Closed Lost", "Prospecting"]),
    ("cohort_levels_and_band_edge", "amount_bands__edges", [D(1000), D("50000.5")]),
    ("cohort_levels_and_band_edge", "fiscal_year_start_month", 2),
    ("credit_role_weighted", "workspace_currency", "EUR"),
    ("credit_role_weighted", "credit__role_weights__influencer", D("2.5")),
    ("credit_role_weighted", "credit__role_weights__sourcer", D(0)),
    ("credit_role_weighted", "label", "o'brien \\ ünïcode"),  # the policy version, a text value
]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter[tuple[Shape, str]]]:
    """The plans compiled in this module (by shape and model), into a folder of the module's own.
    A compile gives the suite's plan of the same key (:func:`plan_support.suite_plan`)."""
    made: Counter[tuple[Shape, str]] = Counter()

    def counting(inputs: Any, shape: Shape, model: str, *args: Any) -> engine_plan.Plan:
        made[(shape, model)] += 1
        return suite_plan(inputs, shape, model, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("plans")))
        mp.setattr(engine_build, "build_plan", counting)
        PLANS.clear()
        yield made
        PLANS.clear()


@pytest.mark.parametrize(("name", "key", "other"), VARIATIONS, ids=[f"{c}-{k}" for c, k, _ in VARIATIONS])
def test_two_policies_differing_in_one_value_share_one_plan(
    name: str, key: str, other: Any, builds: Counter[tuple[Shape, str]]
) -> None:
    case = golden.load_case(name)
    first, second = case.policy, case.policy.with_values(**{key: other})
    shape = shape_of(Params.from_policy(first, 0))
    assert shape_of(Params.from_policy(second, 0)) == shape
    ws = golden.case_workspace(case)
    try:
        results = []
        for policy in (first, second):
            got = run_engine(ws.con, policy, case.as_of, case.model)
            assert_same(golden.run_reference(ws.con, policy, case.as_of, case.model), got)
            results.append(got)
    finally:
        ws.close()
    assert results[0] != results[1]
    # Both ran the one plan of this shape and model, compiled once in this module.
    assert builds[(shape, case.model)] == 1


def test_a_fresh_compile_for_another_policy_is_the_same_plan(builds: Counter[tuple[Shape, str]]) -> None:
    ws = open_workspace(":memory:")
    try:
        as_of_views(ws.con, None)
        shared = compiled_plan(ws.con, Policy(), "role_weighted")
        other = Policy().with_values(
            windows__sourcing_lookback_days=3, acceleration__min_pct=D("0.5"), stages__won=["Won"]
        )
        assert compiled_plan(ws.con, other, "role_weighted") is shared
        columns = engine_plan_cache.input_columns(ws.con)
    finally:
        ws.close()
    # Both compiled here: the shared plan may have been compiled by another process of the suite,
    # and Ibis writes a few column lists (EXCLUDE) in an order that varies between processes.
    fresh = BUILD(columns, shape_of(Params.from_policy(Policy(), 0)), "role_weighted")
    assert [(op.kind, op.name, op.when) for op in fresh.ops] == [
        (op.kind, op.name, op.when) for op in shared.ops
    ]
    assert BUILD(columns, shape_of(Params.from_policy(other, 0)), "role_weighted") == fresh


def test_another_number_of_band_edges_is_another_plan() -> None:
    two, three = (
        shape_of(Params.from_policy(Policy().with_values(amount_bands__edges=edges), 0))
        for edges in ([D(1), D(2)], [D(1), D(2), D(3)])
    )
    assert (two.bands, three.bands) == (2, 3)
    assert engine_plan_cache.plan_key(two, "even", ()) != engine_plan_cache.plan_key(three, "even", ())


def test_two_placeholders_with_one_token_are_a_collision() -> None:
    made = list(slots(Shape(2, ("influencer", "sourcer"))).values())
    assert len({s.token for s in made}) == len(made)
    with pytest.raises(ValueError, match="placeholder collision: weight_x and lookback_us"):
        unique_slots([*made, Slot("weight_x", INT, next(s.token for s in made if s.name == "lookback_us"))])


def test_a_rule_constant_in_the_placeholders_range_is_a_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cohort medians' sentinel moved into the placeholders' range: the built plan is refused
    # (at run time it would be read as a value).
    monkeypatch.setattr(engine_cohort, "_SENTINEL", 7_258_118_398_000_999)
    shape = shape_of(Params.from_policy(Policy(), 0))
    columns = _fresh_inputs()
    with pytest.raises(AssertionError, match="placeholder collision: 7258118398000999"):
        BUILD(columns, shape, "role_weighted")


def test_the_check_refuses_a_missing_or_misplaced_placeholder() -> None:
    shape = Shape(0, ())
    known = slots(shape)
    lookback, kinds = known["lookback_us"].token, known["won_stages"].token
    check_placeholders([f"SELECT x - {lookback} WHERE s IN ({kinds})"], shape, {"lookback_us", "won_stages"})
    with pytest.raises(AssertionError, match="not in the compiled plan: lookback_us"):
        check_placeholders([f"SELECT x WHERE s IN ({kinds})"], shape, {"lookback_us", "won_stages"})
    with pytest.raises(AssertionError, match="won_stages is not the only item of an IN list"):
        check_placeholders([f"SELECT {kinds} = s"], shape, {"won_stages"})
    with pytest.raises(AssertionError, match="placeholder collision"):
        check_placeholders([f"SELECT x - {lookback}"], shape, set())


def test_values_are_written_in_exactly_once() -> None:
    policy = Policy().with_values(
        label="'__cosell_param_workspace_currency__' 7258118398000001",
        stages__won=["it's", "a\\b"],
        stages__lost=[],
        acceleration__min_pct=D("0.125"),
        amount_bands__edges=[D("0.000000000001"), D("99999999999.5")],
    )
    params = Params.from_policy(policy, AS_OF_PLACEHOLDER_US - 1)
    shape = shape_of(params)
    known = slots(shape)
    sql = (
        f"SELECT {known['as_of_us'].token} - {known['lookback_us'].token} AS a, "
        f"{known['policy_version'].token} AS v, {known['workspace_currency'].token} AS c, "
        f"'x' IN ({known['won_stages'].token}) AS w, 'x' IN ({known['lost_stages'].token}) AS l, "
        f"{known['keep_numerator'].token} AS kn, {known['keep_denominator'].token} AS kd, "
        f"CAST({known['band_edge_0'].token} AS DECIMAL(38, 12)) AS e0, "
        f"CAST({known['band_edge_1'].token} AS DECIMAL(38, 12)) AS e1, "
        f"'{known['as_of_text'].token}' AS t, 1 - {known['requires_activity'].token} AS r"
    )
    filled = Filler(shape, values(params), DUCKDB).fill(sql)
    ws = open_workspace(":memory:")
    try:
        row = ws.con.execute(filled).fetchall()[0]
    finally:
        ws.close()
    assert row[0] == AS_OF_PLACEHOLDER_US - 1 - 180 * 86_400_000_000
    assert row[1] == policy.version  # the text that looks like placeholders stays as it is
    assert row[2:5] == ("USD", False, False)
    assert (row[5], row[6]) == (7, 8)  # 1 - 0.125 = 7/8
    assert (row[7], row[8]) == (D("0.000000000001"), D("99999999999.5"))
    assert row[9] == "2199-12-31T23:59:59.987653Z"
    assert row[10] == 0
    ws = open_workspace(":memory:")
    try:
        won = Filler(shape, values(params), DUCKDB).fill(
            f"SELECT s FROM (VALUES ('it''s'), ('a\\b'), ('x')) v(s) WHERE s IN ({known['won_stages'].token}) "
            "ORDER BY s"
        )
        assert [r[0] for r in ws.con.execute(won).fetchall()] == ["a\\b", "it's"]
    finally:
        ws.close()


def test_a_negative_value_cannot_start_a_comment() -> None:
    shape = Shape(0, ())
    token = slots(shape)["lookback_us"].token
    params = Params.from_policy(Policy(), 0)
    run = values(params) | {"lookback_us": -5}
    filled = Filler(shape, run, DUCKDB).fill(f"SELECT 3 -{token} AS x")
    assert filled == "SELECT 3 -CAST(-5 AS BIGINT) AS x"
    ws = open_workspace(":memory:")
    try:
        assert ws.con.execute(filled).fetchall() == [(8,)]
    finally:
        ws.close()


def test_a_small_value_keeps_its_placeholders_64_bit_type() -> None:
    # The plan compiled a 16-digit placeholder, a BIGINT to the engine, and left out the rules'
    # casts to int64; the bare value 5025 is a 32-bit INTEGER, and a role weight of 50.25 (scaled
    # to 5025) times a share's 1,000,000 overflowed (found by fuzzing the credit split's weights).
    shape = Shape(0, ("sourcer",))
    token = slots(shape)["weight_sourcer"].token
    run = values(Params.from_policy(Policy(), 0)) | {"weight_sourcer": 5025}
    filled = Filler(shape, run, DUCKDB).fill(f"SELECT {token} * 1000000 AS x")
    ws = open_workspace(":memory:")
    try:
        assert ws.con.execute(filled).fetchall() == [(5_025_000_000,)]
    finally:
        ws.close()


@pytest.mark.parametrize("dialect", [DUCKDB, POSTGRES, SPARK], ids=lambda d: d.name)
def test_each_dialect_writes_a_text_as_sqlglot_reads_it(dialect: Any) -> None:
    for text in ("plain", "it's", "a\\b", "'';--", "ünï"):
        literal = dialect.string_literal(text)
        parsed = sqlglot.parse_one(f"SELECT {literal}", read=dialect.sqlglot_name)
        assert parsed.expressions[0].this == text


def _fresh_inputs() -> tuple[tuple[str, str, str], ...]:
    ws = open_workspace(":memory:")
    try:
        as_of_views(ws.con, None)
        return engine_plan_cache.input_columns(ws.con)
    finally:
        ws.close()
