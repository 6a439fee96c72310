from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.errors import PolicyError
from cosell.policy import (
    CREDIT_MODELS,
    MAX_ROLE_WEIGHT_UNITS,
    ROLES,
    SETTINGS,
    Policy,
    PolicyInvalid,
    integer_role_weights,
    load_policy,
    parse_policy,
    render_policy_toml,
)
from cosell.toml_text import MAX_TOML_FILE_BYTES


def test_rendered_defaults_round_trip_to_the_same_version() -> None:
    text = render_policy_toml()
    assert parse_policy(text).version == Policy().version
    for setting in SETTINGS:
        assert setting.help, setting.key
        assert setting.key.rpartition(".")[2] + " = " in text


def test_version_ignores_layout_but_not_values() -> None:
    text = render_policy_toml()
    assert parse_policy(text.replace("min_pct = 0.20", "min_pct = 0.2")).version == Policy().version
    changed = parse_policy(text.replace("min_pct = 0.20", "min_pct = 0.25"))
    assert changed.version != Policy().version
    assert changed.acceleration_min_pct == Decimal("0.25")
    relabelled = parse_policy(text.replace('label = "default"', 'label = "fy27"'))
    assert relabelled.version.startswith("fy27@")


@pytest.mark.parametrize(
    ("toml", "key", "reason"),
    [
        (
            "[windows]\nsourcing_lookbak_days = 3",
            "windows.sourcing_lookbak_days",
            "did you mean windows.sourcing_lookback_days",
        ),
        ("[windows]\nsourcing_lookback_days = 'x'", "windows.sourcing_lookback_days", "not a whole number"),
        ("[windows]\nsourcing_lookback_days = -1", "windows.sourcing_lookback_days", "must not be negative"),
        ("fiscal_year_start_month = 13", "fiscal_year_start_month", "not a month"),
        (
            "[windows]\nsourcing_lookback_days = 180.5",
            "windows.sourcing_lookback_days",
            ": 180.5 is not a whole number",
        ),
        (
            "[windows]\nsourcing_lookback_days = true",
            "windows.sourcing_lookback_days",
            ": true is not a whole number",
        ),
        ("[influence]\nrequires_activity = 1.0", "influence.requires_activity", ": 1.0 is not true or false"),
        ("label = 2026-01-01", "label", ": 2026-01-01 is not a non-empty string"),
        ("[acceleration]\nmin_pct = [0.2]", "acceleration.min_pct", ": [0.2] is not a number"),
        ("workspace_currency = 'USDX'", "workspace_currency", "ISO 4217"),
        ("[acceleration]\nmin_pct = 1.5", "acceleration.min_pct", "below 1"),
        ("[influence]\nrequires_activity = 'yes'", "influence.requires_activity", "true or false"),
        ("[amount_bands]\nedges = [100000, 25000]", "amount_bands.edges", "strictly increasing"),
        ("[stages]\nwon = ['Closed']\nlost = ['Closed']", "stages.won", "both won and lost"),
        ("[credit]\nposition_based_weights = [50, 50]", "credit.position_based_weights", "exactly three"),
        ("[credit]\nposition_based_weights = [0, 0, 0]", "credit.position_based_weights", "not all be 0"),
        (
            "[credit]\nposition_based_weights = [60, -20, 60]",
            "credit.position_based_weights",
            "must not be negative",
        ),
        (
            "[credit]\nposition_based_weights = [20, -40, 20]",
            "credit.position_based_weights",
            "must not be negative",
        ),
        ("this is = = not toml", "(file)", "not valid TOML"),
        ("[stages]\nwon = []", "stages.won", "needs at least one stage"),
        (f'label = "{"x" * 243}"', "label", "is 243 characters long (at most 242)"),
        (
            "[touch_kinds]\npartner_engagement = []",
            "touch_kinds.partner_engagement",
            "needs at least one kind",
        ),
        (
            "[credit.role_weights]\nsourcer = 0.5\nservicer = 999999999999",
            "credit.role_weights",
            "would reach 9,999,999,999,990, above 1,000,000",
        ),
        (
            "[credit.role_weights]\nsourcer = 0.000000000001",
            "credit.role_weights",
            "use fewer decimal places",
        ),
        (
            '[stages]\nwon = ["Closed Won", "Won\\u0001"]',
            "stages.won",
            "'Won\\x01' has a control character (U+0001)",
        ),
        ('[stages]\nlost = ["Lost\\nagain"]', "stages.lost", "has a control character (U+000A)"),
        ('label = "fy27\\t"', "label", "has a control character (U+0009)"),
        ('[stages]\nwon = ["Closed Won "]', "stages.won", "'Closed Won ' has a space at its start or end"),
        (
            "[touch_kinds]\npartner_engagement = ['\u00a0intro']",
            "touch_kinds.partner_engagement",
            "space at its start",
        ),
    ],
)
def test_invalid_policy_names_the_key(toml: str, key: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(toml, "p.toml")
    assert info.value.key == key
    assert reason in str(info.value)
    assert str(info.value).startswith(("p.toml: ", f"p.toml line {info.value.line}: policy key {key}: "))


@given(
    whole=st.sampled_from(["windows.sourcing_lookback_days", "acceleration.min_cohort_size"]),
    number=st.decimals(allow_nan=False, allow_infinity=False, places=3).filter(
        lambda d: d != d.to_integral()
    ),
)
def test_a_wrong_value_is_shown_as_the_file_wrote_it(whole: str, number: Decimal) -> None:
    """The reason quotes the value as TOML text (30.5, true, 1979-05-27), never a Python repr
    (Decimal('30.5'), True, datetime.date(1979, 5, 27)) a controller would not recognise."""
    table, key = whole.split(".")
    for written, shown in [(str(number), str(number)), ("true", "true"), ("1979-05-27", "1979-05-27")]:
        with pytest.raises(PolicyError) as info:
            parse_policy(f"[{table}]\n{key} = {written}\n", "p.toml")
        assert str(info.value) == f"p.toml line 2: policy key {whole}: {shown} is not a whole number"
    with pytest.raises(PolicyError) as info:
        parse_policy("[influence]\nrequires_activity = 1\n[windows]\n", "p.toml")
    assert str(info.value) == "p.toml line 2: policy key influence.requires_activity: 1 is not true or false"
    with pytest.raises(PolicyError) as info:
        parse_policy(f"label = {number}\n", "p.toml")
    assert str(info.value) == f"p.toml line 1: policy key label: {number} is not a non-empty string"


@given(kind=st.sampled_from(sorted(Policy().partner_kinds | Policy().direct_kinds)))
def test_a_kind_moved_to_not_engagement_must_leave_its_engagement_list(kind: str) -> None:
    """Listing a default engagement kind as not engagement alone would change nothing (the
    engagement list wins): refused, naming the kind; taken out of its list too, it is ignored."""
    with pytest.raises(PolicyError) as info:
        parse_policy(f'[touch_kinds]\nnot_engagement = ["{kind}"]\n', "p.toml")
    assert info.value.key == "touch_kinds.not_engagement"
    assert f"{kind}: a kind cannot be both engagement and not engagement" in str(info.value)
    side = "partner_engagement" if kind in Policy().partner_kinds else "direct_engagement"
    kept = sorted(
        (Policy().partner_kinds if side == "partner_engagement" else Policy().direct_kinds) - {kind}
    )
    listed = ", ".join(f'"{k}"' for k in kept)
    policy = parse_policy(f'[touch_kinds]\n{side} = [{listed}]\nnot_engagement = ["{kind}"]\n', "p.toml")
    assert kind in policy.ignored_kinds and kind not in policy.partner_kinds | policy.direct_kinds
    # The other way round, a default ignored kind listed as engagement is engagement.
    moved = parse_policy(f'[touch_kinds]\n{side} = ["{kind}", "marketing_email_sent"]\n', "p.toml")
    assert "marketing_email_sent" in moved.partner_kinds | moved.direct_kinds


def test_stage_mapping_and_bands() -> None:
    policy = Policy()
    assert policy.stage_class("Closed Won") == "won"
    assert policy.stage_class("Closed Lost") == "lost"
    assert policy.stage_class("Negotiation") == "open"
    assert policy.amount_band(Decimal("24999.99")) == 0
    assert policy.amount_band(Decimal("25000")) == 1
    assert policy.amount_band(Decimal("100000")) == 2


def test_policy_doc_is_generated_from_settings() -> None:
    from cosell.policy_doc import DOC_PATH, render_policy_doc

    assert DOC_PATH.read_text(encoding="utf-8") == render_policy_doc(), "run python -m cosell.policy_doc"
    for setting in SETTINGS:
        assert f"`{setting.key}`" in render_policy_doc()


def test_credit_model_must_be_a_registered_model() -> None:
    from cosell.attribution.credit import MODELS

    assert tuple(MODELS) == CREDIT_MODELS  # the policy checks against the registry's names
    with pytest.raises(PolicyError) as info:
        parse_policy('[credit]\nmodel = "linear"\n', "p.toml")
    assert info.value.key == "credit.model"
    assert str(info.value) == (
        "p.toml line 2: policy key credit.model: 'linear' is not one of: role_weighted, even, first_touch, "
        "last_touch, position_based, time_decay"
    )
    with pytest.raises(PolicyError, match=r"'time_decy' is not one of: .* \(did you mean time_decay\?\)$"):
        parse_policy('[credit]\nmodel = "time_decy"\n')
    for model in CREDIT_MODELS:
        assert parse_policy(f'[credit]\nmodel = "{model}"\n').credit_model == model


def test_every_problem_is_listed_at_once() -> None:
    text = (
        'workspace_currency = "usd"\n[credit]\nmodel = "linear"\n[windows]\nsourcing_lookback_days = -1\n'
        "[acceleration]\nmin_pct = 1.5\n[stages]\nwon = 'Closed Won'\nlost = ['Closed Won']\n"
    )
    with pytest.raises(PolicyInvalid) as info:
        parse_policy(text, "p.toml")
    # stages.won is wrong itself, so the won-and-lost cross check (which would compare the default
    # with stages.lost) is not reported on top of it.
    assert [(p.key, p.reason) for p in info.value.problems] == [
        ("workspace_currency", "'usd' is not an ISO 4217 currency code"),
        ("credit.model", "'linear' is not one of: " + ", ".join(CREDIT_MODELS)),
        ("windows.sourcing_lookback_days", "-1 must not be negative"),
        ("stages.won", "must be a list of non-empty strings"),
        ("acceleration.min_pct", "must be below 1"),
    ]
    assert info.value.key == "workspace_currency"  # a PolicyError about the first problem
    assert str(info.value).splitlines()[1] == (
        "p.toml line 3: policy key credit.model: 'linear' is not one of: " + ", ".join(CREDIT_MODELS)
    )


@pytest.mark.parametrize(
    ("toml", "key", "reason"),
    [
        (
            "[windows]\nsourcing_lookback_days = 1" + "0" * 30,
            "windows.sourcing_lookback_days",
            "is too large (at most 36,500)",
        ),
        (
            "[hygiene]\nprompt_expiry_days = 36501",
            "hygiene.prompt_expiry_days",
            "36501 is too large (at most 36,500)",
        ),
        (
            "[acceleration]\nmin_cohort_size = 1000000001",
            "acceleration.min_cohort_size",
            "is too large (at most 1,000,000,000)",
        ),
        (
            "[credit.role_weights]\nsourcer = 1e999999999",
            "credit.role_weights.sourcer",
            "1E+999999999 is too large",
        ),
        (
            "[credit]\ntime_decay_half_life_days = 1e-999999999",
            "credit.time_decay_half_life_days",
            "more than 12 decimal places",
        ),
        (
            "[amount_bands]\nedges = [25000, 1e12]",
            "amount_bands.edges",
            "1E+12 is too large (it must be below 1,000,000,000,000)",
        ),
        ("[credit.role_weights]\nsourcer = nan", "credit.role_weights.sourcer", "NaN is not a number"),
        ("x = 1" + "0" * 5000, "(file)", "not valid TOML: Exceeds the limit (4300 digits)"),
        ("x = " + "[" * 5000 + "]" * 5000, "(file)", "not valid TOML: nested too deeply"),
        ("x = " + "{a = " * 5000 + "1" + "}" * 5000, "(file)", "not valid TOML: nested too deeply"),
    ],
)
def test_numbers_are_bounded(toml: str, key: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(toml, "p.toml")
    assert info.value.key == key
    assert reason in str(info.value)


def test_policy_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "policy.toml"
    path.write_text('[credit]\nmodel = "linear"\n[windows]\nsourcing_lookback_days = -1\n', encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path} line 2: policy key credit.model: 'linear' is not one of: " + ", ".join(CREDIT_MODELS),
        f"{path} line 4: policy key windows.sourcing_lookback_days: -1 must not be negative",
        "2 problems",
    ]
    path.write_bytes(bytes(range(256)))
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"{path}: policy key (file): is not a text file (a policy is TOML text in UTF-8)",
        "1 problem",
    ]
    path.write_text('[credit]\nmodel = "even"\n', encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid, version default@" in result.stdout


@given(
    weights=st.fixed_dictionaries(
        {role: st.decimals(min_value=0, max_value=10**12 - 1, places=12) for role in ROLES}
    )
)
def test_accepted_role_weights_are_bounded_whole_numbers_with_the_same_ratios(
    weights: dict[str, Decimal],
) -> None:
    """The batch engine multiplies a deal's amount in minor units by a role weight as a whole
    number, in 64-bit integers: a policy whose weights, scaled to whole numbers with the same
    ratios, exceed the bound is refused naming credit.role_weights (it checked, then every
    attribution run stopped with an internal overflow error); an accepted one keeps its ratios."""
    text = "[credit.role_weights]\n" + "".join(f"{role} = {w}\n" for role, w in weights.items())
    try:
        policy = parse_policy(text, "p.toml")
    except PolicyError as exc:
        assert exc.key == "credit.role_weights"
        assert max(integer_role_weights(weights).values()) > MAX_ROLE_WEIGHT_UNITS
        return
    scaled = integer_role_weights(policy.role_weights)
    assert max(scaled.values()) <= MAX_ROLE_WEIGHT_UNITS
    for a in ROLES:
        for b in ROLES:
            assert scaled[a] * policy.role_weights[b] == scaled[b] * policy.role_weights[a]


def test_a_problem_names_the_line_that_sets_its_key() -> None:
    """Finance reads a long policy file: each problem names the line of its key, else of the table
    that holds it (an inline table, a cross check over a whole table); a key the file does not set
    (a default in a cross check) has none."""
    text = (
        "# fy27\nlabel = 'x'\n\n[credit]\nmodel = 'linear'\nrole_weights = { sourcer = -1 }\n"
        "  [ windows ]  # days\n  sourcing_lookback_days = -1\n[stages]\nlost = ['Closed Won']\n"
    )
    with pytest.raises(PolicyInvalid) as info:
        parse_policy(text, "p.toml")
    assert [(p.key, p.line) for p in info.value.problems] == [
        ("credit.model", 5),
        ("credit.role_weights.sourcer", 6),
        ("windows.sourcing_lookback_days", 8),
        ("stages.won", 9),
    ]
    assert (
        str(info.value)
        .splitlines()[2]
        .startswith("p.toml line 8: policy key windows.sourcing_lookback_days: ")
    )
    with pytest.raises(PolicyError) as bound:
        parse_policy("label = 'x'\n[credit.role_weights]\nservicer = 999999999999\ninfluencer = 0.5\n")
    assert (bound.value.key, bound.value.line) == ("credit.role_weights", 2)
    with pytest.raises(PolicyError) as one:
        parse_policy("credit.model = 'x'\n")
    assert one.value.line == 1 and str(one.value).startswith("line 1: policy key credit.model: ")


def test_a_policy_that_is_not_a_regular_file_or_too_large_is_refused_without_reading_it(
    tmp_path: Path,
) -> None:
    """/dev/zero given as the policy (or a symlink to it) was read until memory ran out (exit 70,
    an internal error), and a named pipe waited for a writer forever: each is refused by name."""
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "policy.toml"
    link.symlink_to("/dev/zero")
    for path in (Path("/dev/zero"), link, fifo):
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert (info.value.key, info.value.reason) == (
            "(file)",
            "is not a regular file (a policy is a TOML text file)",
        )
        assert str(info.value).startswith(f"{path}: ")
    large = tmp_path / "large.toml"
    large.write_bytes(b'label = "x"\n' + b"#" * MAX_TOML_FILE_BYTES + b"\n")
    with pytest.raises(PolicyError, match=f"is larger than {MAX_TOML_FILE_BYTES:,} bytes"):
        load_policy(large)
    large.write_bytes(b'label = "x"\n' + b"#" * (MAX_TOML_FILE_BYTES - 20) + b"\n")
    assert load_policy(large).version.startswith("x@")
