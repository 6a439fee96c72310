from __future__ import annotations

from decimal import Decimal

import pytest

from cosell.errors import PolicyError
from cosell.policy import SETTINGS, Policy, parse_policy, render_policy_toml


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
        ("workspace_currency = 'USDX'", "workspace_currency", "ISO 4217"),
        ("[acceleration]\nmin_pct = 1.5", "acceleration.min_pct", "below 1"),
        ("[influence]\nrequires_activity = 'yes'", "influence.requires_activity", "true or false"),
        ("[amount_bands]\nedges = [100000, 25000]", "amount_bands.edges", "strictly increasing"),
        ("[stages]\nwon = ['Closed']\nlost = ['Closed']", "stages.won", "both won and lost"),
        ("[credit]\nposition_based_weights = [50, 50]", "credit.position_based_weights", "exactly three"),
        ("this is = = not toml", "(file)", "not valid TOML"),
    ],
)
def test_invalid_policy_names_the_key(toml: str, key: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(toml, "p.toml")
    assert info.value.key == key
    assert reason in str(info.value)
    assert str(info.value).startswith("p.toml: ")


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
