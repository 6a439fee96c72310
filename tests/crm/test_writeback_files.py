"""The write-back's values and importer files: hand-checked CSVs for both CRMs, formula escaping,
the evidence summary's limit, the explanation link, and never a declared field (a property test)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cosell.crm.fields import declared_names, result_names
from cosell.crm.writeback import evidence_summary, record, records, writeback_csv, writeback_header
from cosell.errors import CosellError, PolicyError
from cosell.policy import MAX_LABEL_CHARS, parse_policy
from cosell.results import AttributionRow

SOURCED = AttributionRow(
    opportunity_id="006A00000000001", tier="sourced", primary_partner_id="001P00000000007",
    engagement_at="2026-05-03T10:00:00Z", cycle_days="40", baseline_days="", cycle_reduction_days="",
    rules="S1 S3", remaining_days="", as_of="2026-11-01T00:00:00Z", policy_version="fy27@abc123",
    evidence="partner:001P00000000007 lead:00Q1 touch:00T9",
)  # fmt: skip
NONE = replace(SOURCED, opportunity_id="006A00000000002", tier="none", primary_partner_id="", engagement_at="",
               rules="", evidence="")  # fmt: skip
HOSTILE = replace(SOURCED, opportunity_id="006A00000000003", primary_partner_id='=HYPERLINK("http://x")')

SALESFORCE_CSV = (
    "Id,Cosell_Tier__c,Cosell_Primary_Partner__c,Cosell_Rules__c,Cosell_Evidence__c,Cosell_Explanation__c,"
    "Cosell_Attribution_As_Of__c,Cosell_Policy_Version__c\n"
    "006A00000000001,sourced,001P00000000007,S1 S3,partner engaged 2026-05-03T10:00:00Z; evidence: "
    "partner:001P00000000007 lead:00Q1 touch:00T9,cosell explain 006A00000000001,2026-11-01T00:00:00.000Z,"
    "fy27@abc123\n"
    "006A00000000002,none,#N/A,#N/A,no partner evidence,cosell explain 006A00000000002,"
    "2026-11-01T00:00:00.000Z,fy27@abc123\n"
    '006A00000000003,sourced,"\'=HYPERLINK(""http://x"")",S1 S3,partner engaged 2026-05-03T10:00:00Z; '
    "evidence: partner:001P00000000007 lead:00Q1 touch:00T9,cosell explain 006A00000000003,"
    "2026-11-01T00:00:00.000Z,fy27@abc123\n"
)
# 2026-11-01T00:00:00Z = (56 * 365 + 14 leap days + 304 days of 2026) * 86,400 s = 1,793,491,200 s.
HUBSPOT_CSV = (
    "hs_object_id,cosell_tier,cosell_primary_partner,cosell_rules,cosell_evidence,cosell_explanation,"
    "cosell_attribution_as_of,cosell_policy_version\n"
    "006A00000000001,sourced,001P00000000007,S1 S3,partner engaged 2026-05-03T10:00:00Z; evidence: "
    "partner:001P00000000007 lead:00Q1 touch:00T9,https://cosell.example.com/explain/006A00000000001,"
    "1793491200000,fy27@abc123\n"
    "006A00000000002,none,,,no partner evidence,https://cosell.example.com/explain/006A00000000002,"
    "1793491200000,fy27@abc123\n"
)


def test_the_salesforce_data_loader_file() -> None:
    got = writeback_csv("salesforce", records([HOSTILE, NONE, SOURCED], "salesforce")).decode()
    assert got == SALESFORCE_CSV


def test_the_hubspot_import_file_with_an_explanation_link() -> None:
    link = "https://cosell.example.com/explain/{opportunity_id}"
    assert writeback_csv("hubspot", records([NONE, SOURCED], "hubspot", link)).decode() == HUBSPOT_CSV


def test_the_evidence_summary_keeps_whole_ids_within_the_limit() -> None:
    row = replace(SOURCED, evidence=" ".join(f"touch:T{i:03d}" for i in range(10)))
    # 48 characters of head, 10 a id and a space between, 13 for " ... (7 more)": 93 for three ids.
    text = evidence_summary(row, 93)
    assert (
        text
        == "partner engaged 2026-05-03T10:00:00Z; evidence: touch:T000 touch:T001 touch:T002 ... (7 more)"
    )
    assert len(text) == 93
    assert evidence_summary(row, 92).endswith("touch:T001 ... (8 more)")
    assert evidence_summary(row, 10_000).endswith("touch:T009")
    assert evidence_summary(row, 60) == "partner engaged 2026-05-03T10:00:00Z; evidence: ... (10 more)"


def test_a_value_longer_than_its_field_is_an_error_naming_the_deal() -> None:
    with pytest.raises(CosellError, match=r"deal 006A00000000001: cosell Policy Version is 300 characters"):
        record(replace(SOURCED, policy_version="p" * 300), "salesforce")


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@given(tier=st.sampled_from(["sourced", "accelerated", "influenced", "none"]), partner=_text, rules=_text,
       evidence=_text, crm=st.sampled_from(["salesforce", "hubspot"]))  # fmt: skip
def test_the_write_back_never_names_a_declared_field(
    tier: str, partner: str, rules: str, evidence: str, crm: str
) -> None:
    row = replace(SOURCED, tier=tier, primary_partner_id=partner, rules=rules, evidence=evidence)
    rec = record(row, crm)
    names = [name for name, _ in rec.values]
    assert names == list(result_names(crm))
    assert not set(names) & declared_names(crm)
    assert not set(writeback_header(crm)) & declared_names(crm)


@example(label="x" * (MAX_LABEL_CHARS + 1))
@example(label="\u8ca1" * MAX_LABEL_CHARS)
@given(
    label=st.integers(1, MAX_LABEL_CHARS + 20).flatmap(
        lambda n: st.text(st.characters(categories=["L", "N"]), min_size=n, max_size=n)
    )
)
def test_every_accepted_policy_label_fits_the_policy_version_field(label: str) -> None:
    """A policy is run before it is written back: a label the policy accepts gives a version its CRM
    field holds, in both CRMs (a 5,000-character label checked, then every write-back failed)."""
    try:
        version = parse_policy(f'label = "{label}"\n', "p.toml").version
    except PolicyError as exc:
        assert len(label) > MAX_LABEL_CHARS and exc.key == "label" and "characters long" in exc.reason
        return
    for crm in ("salesforce", "hubspot"):
        values = dict(record(replace(SOURCED, policy_version=version), crm).values)
        assert version in values.values()
