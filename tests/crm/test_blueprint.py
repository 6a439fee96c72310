"""``cosell blueprint``: the Salesforce files validate against the Metadata API schema subset
(salesforce-metadata-subset.xsd), the HubSpot files against HubSpot's property JSON shape
(hubspot_shape.py), hand-checked files match byte for byte, and the stage gate names the policy's
won stages."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from pydantic import ValidationError

from cosell.crm.blueprint import build_blueprint
from cosell.crm.blueprint_salesforce import GATE_RULE, gate_formula
from cosell.crm.fields import ALL_FIELDS, DECLARED_FIELDS, RESULT_FIELDS
from cosell.errors import UsageError
from cosell.policy import Policy
from cosell.store.schema import PARTNER_SOURCES

sys.path.insert(0, str(Path(__file__).parent))
from hubspot_shape import BatchCreate, PropertyCreate, PropertyGroupCreate

HERE = Path(__file__).parent

NS = "{http://soap.sforce.com/2006/04/metadata}"
SCHEMA = xmlschema.XMLSchema(HERE / "salesforce-metadata-subset.xsd")
TWO_WON = Policy().with_values(stages__won=["Closed Won", 'Won "Renewal"'])


def files(crm: str, policy: Policy = TWO_WON) -> dict[str, bytes]:
    return {f.path: f.content for f in build_blueprint(crm, policy)}


def test_every_salesforce_file_validates_against_the_metadata_schema() -> None:
    xml = {p: c for p, c in files("salesforce").items() if p.endswith(".xml")}
    assert len(xml) == 12 + 1 + 2 + 1  # fields, the validation rule, permission sets, package.xml
    invalid = {path: str(e) for path, c in xml.items() for e in SCHEMA.iter_errors(c.decode("utf-8"))}
    assert invalid == {}


def test_the_schema_refuses_what_salesforce_refuses() -> None:
    good = files("salesforce")[
        "force-app/main/default/objects/Opportunity/fields/Partner_Source__c.field-meta.xml"
    ]
    text = good.decode()
    assert SCHEMA.is_valid(text)
    # Elements out of the WSDL's order, an unknown field type, a misspelt element.
    swapped = text.replace("<label>Partner Source</label>\n", "").replace(
        "<type>Picklist</type>", "<type>Picklist</type>\n    <label>Partner Source</label>"
    )
    for bad in (
        swapped,
        text.replace(">Picklist<", ">Dropdown<"),
        text.replace("inlineHelpText", "helpText"),
    ):
        assert not SCHEMA.is_valid(bad)


def test_hand_checked_files_match_byte_for_byte() -> None:
    built = files("salesforce", Policy())
    expected = HERE / "expected"
    assert built["package.xml"] == (expected / "package.xml").read_bytes()
    path = "force-app/main/default/objects/Opportunity/fields/Partner_Source__c.field-meta.xml"
    assert built[path] == (expected / "Partner_Source__c.field-meta.xml").read_bytes()


def test_package_xml_lists_exactly_the_components_written() -> None:
    built = files("salesforce")
    root = ET.fromstring(built["package.xml"])
    listed = {
        (t.findtext(f"{NS}name"), m.text)
        for t in root.findall(f"{NS}types")
        for m in t.findall(f"{NS}members")
    }
    written = set()
    for path in built:
        if m := re.fullmatch(
            r"force-app/main/default/objects/Opportunity/fields/(\w+)\.field-meta\.xml", path
        ):
            written.add(("CustomField", f"Opportunity.{m[1]}"))
        elif m := re.fullmatch(r".*/validationRules/(\w+)\.validationRule-meta\.xml", path):
            written.add(("ValidationRule", f"Opportunity.{m[1]}"))
        elif m := re.fullmatch(r".*/permissionsets/(\w+)\.permissionset-meta\.xml", path):
            written.add(("PermissionSet", m[1]))
    assert listed == written
    assert (
        root.findtext(f"{NS}version") == json.loads(built["sfdx-project.json"])["sourceApiVersion"] == "66.0"
    )


def test_the_validation_rule_guards_the_policys_won_stages() -> None:
    assert gate_formula(("Closed Won", 'Won "Renewal"')) == (
        "AND(\n"
        "    OR(ISNEW(), ISCHANGED(StageName)),\n"
        "    OR(\n"
        '        ISPICKVAL(StageName, "Closed Won"),\n'
        '        ISPICKVAL(StageName, "Won \\"Renewal\\"")\n'
        "    ),\n"
        "    ISBLANK(TEXT(Partner_Source__c))\n"
        ")"
    )
    rule = ET.fromstring(
        files("salesforce")[
            f"force-app/main/default/objects/Opportunity/validationRules/{GATE_RULE}.validationRule-meta.xml"
        ]
    )
    assert rule.findtext(f"{NS}errorConditionFormula") == gate_formula(("Closed Won", 'Won "Renewal"'))
    assert rule.findtext(f"{NS}errorDisplayField") == "Partner_Source__c"
    assert len(rule.findtext(f"{NS}errorMessage") or "") <= 255


def test_the_rules_description_fits_salesforces_255_characters_with_many_won_stages() -> None:
    stages = [
        f"Closed Won - {kind}" for kind in ("New Logo", "Expansion", "Renewal", "Partner", "Direct", "Upsell")
    ]
    many = files("salesforce", Policy().with_values(stages__won=[*stages, "Contract Signed", "Won (Verbal)"]))
    path = f"force-app/main/default/objects/Opportunity/validationRules/{GATE_RULE}.validationRule-meta.xml"
    description = ET.fromstring(many[path]).findtext(f"{NS}description") or ""
    assert len(description) <= 255 and "(8 named in the formula)" in description
    assert '(Closed Won, Won "Renewal")' in (
        ET.fromstring(files("salesforce")[path]).findtext(f"{NS}description") or ""
    )


def test_a_gate_formula_salesforce_would_not_take_is_refused_naming_stages_won() -> None:
    fits = [f"Closed Won - Region {i:03d}" for i in range(60)]
    formula = gate_formula(tuple(sorted(fits)))
    assert len(formula) <= 3_900 and files("salesforce", Policy().with_values(stages__won=fits))
    with pytest.raises(
        UsageError, match=r"stages.won: the stage gate's formula for 120 won stages is 6,696 characters"
    ):
        build_blueprint(
            "salesforce",
            Policy().with_values(stages__won=[*fits, *(f"Won {i:03d} of the year" for i in range(60))]),
        )
    assert files("hubspot", Policy().with_values(stages__won=[*fits, *(f"Won {i:03d}" for i in range(60))]))


def test_a_policy_without_won_stages_is_refused() -> None:
    # A policy file or with_values refuses it (stages.won needs at least one stage); a Policy built
    # from values directly is still refused here.
    with pytest.raises(UsageError, match="maps no stage to won"):
        build_blueprint("salesforce", Policy({**Policy().values, "stages.won": []}))


def test_salesforce_limits_hold() -> None:
    for f in ALL_FIELDS:
        name = f.salesforce.api_name
        assert name.endswith("__c") and len(name) - 3 <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
        assert "__" not in name[:-3] and len(f.label) <= 40 and len(f.help) <= 510
        if f.salesforce.type == "Text":
            assert f.salesforce.length is not None and f.salesforce.length <= 255
        if f.salesforce.relationship_name:
            assert len(f.salesforce.relationship_name) <= 40


def test_the_permission_sets_let_reps_edit_only_the_declared_fields_and_the_integration_only_cosells() -> (
    None
):
    built = files("salesforce")
    for name, editable in (("Cosell_Partner_Fields", DECLARED_FIELDS), ("Cosell_Writeback", RESULT_FIELDS)):
        root = ET.fromstring(built[f"force-app/main/default/permissionsets/{name}.permissionset-meta.xml"])
        edit = {
            p.findtext(f"{NS}field")
            for p in root.findall(f"{NS}fieldPermissions")
            if p.findtext(f"{NS}editable") == "true"
        }
        assert edit == {f"Opportunity.{f.salesforce.api_name}" for f in editable}


def test_every_hubspot_property_has_hubspots_json_shape() -> None:
    built = files("hubspot")
    batch = BatchCreate.model_validate(json.loads(built["properties.json"]))
    assert [p.name for p in batch.inputs] == [f.hubspot.name for f in ALL_FIELDS]
    PropertyGroupCreate.model_validate(json.loads(built["property-group.json"]))
    assert {p.groupName for p in batch.inputs} == {json.loads(built["property-group.json"])["name"]}


def test_the_hubspot_shape_refuses_what_hubspot_refuses() -> None:
    good = json.loads(files("hubspot")["properties.json"])["inputs"][0]
    PropertyCreate.model_validate(good)
    for change in ({"fieldType": "text"}, {"type": "dropdown"}, {"options": []}, {"name": "Partner Source"},
                   {"extra": 1}, {"hidden": "no"}):  # fmt: skip
        with pytest.raises(ValidationError):
            PropertyCreate.model_validate(good | change)


def test_the_committed_json_schema_is_the_shapes() -> None:
    committed = json.loads((HERE / "hubspot-property.schema.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in committed.items() if k != "$schema"} == PropertyCreate.model_json_schema()


def test_the_hubspot_stage_gate_requires_partner_source_on_each_won_stage() -> None:
    gate = json.loads(files("hubspot")["stage-gate.json"])
    assert gate["stages"] == [
        {"stageLabel": "Closed Won", "requiredProperties": ["partner_source"]},
        {"stageLabel": 'Won "Renewal"', "requiredProperties": ["partner_source"]},
    ]


def test_the_picklists_hold_the_specs_values() -> None:
    source = next(f for f in DECLARED_FIELDS if f.key == "partner_source")
    assert {c.value for c in source.choices} == set(PARTNER_SOURCES)
    tier = next(f for f in RESULT_FIELDS if f.key == "tier")
    assert {c.value for c in tier.choices} == {"sourced", "accelerated", "influenced", "none"}


def test_the_readmes_fit_80_columns_and_name_every_field() -> None:
    for crm in ("salesforce", "hubspot"):
        readme = files(crm)["README.md"].decode()
        assert max(len(line) for line in readme.splitlines()) <= 80
        for f in ALL_FIELDS:
            assert f"`{f.name_in(crm)}`" in readme


def test_the_blueprint_is_the_same_bytes_every_time() -> None:
    assert files("salesforce") == files("salesforce") and files("hubspot") == files("hubspot")


def test_hubspots_text_stand_ins_for_lookups_say_they_hold_record_ids() -> None:
    # The import reads Partner Name and Partner Contact as record ids (HubSpot has no lookup
    # property): the property's description and the README tell the rep so.
    inputs = {p["name"]: p for p in json.loads(files("hubspot")["properties.json"])["inputs"]}
    readme = files("hubspot")["README.md"].decode()
    for name in ("partner_name", "partner_contact"):
        assert "Record ID" in inputs[name]["description"]
    assert "company Record ID" in " ".join(readme.split())
    assert "Record ID" not in files("salesforce")["README.md"].decode()


def test_the_docs_field_table_is_fields_py() -> None:
    # docs/crm-blueprint.md's table must say what crm/fields.py (the one definition) says.
    doc = (HERE.parents[1] / "docs" / "crm-blueprint.md").read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in doc.splitlines() if line.startswith("| ") and "`" in line]
    got = [(r[0].removeprefix("| "), r[1].strip("`"), r[3].strip("`")) for r in rows]
    assert got == [(f.key, f.salesforce.api_name, f.hubspot.name) for f in ALL_FIELDS]
