"""The Salesforce blueprint: Metadata API source format, deployable as is with the ``sf`` CLI.

Why source format (``force-app/main/default/objects/Opportunity/fields/X.field-meta.xml``) and not
the older metadata format (one ``objects/Opportunity.object`` holding every field): each field, the
validation rule and each permission set is its own small file, so an admin can leave one out (delete
the file and its ``package.xml`` line) or review a change in a diff; it is what ``sf project
retrieve`` writes; and ``sf project deploy start --manifest package.xml`` deploys it as it is
(``sf project convert source`` turns it into the metadata format for Workbench or a zip deploy).

Elements are written in the order of the Metadata API's WSDL (fullName first, then alphabetical),
the order Salesforce itself writes; ``tests/crm/salesforce-metadata-subset.xsd`` checks it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from cosell.crm.blueprint_file import BlueprintFile
from cosell.crm.blueprint_readme import salesforce_readme
from cosell.crm.fields import (
    ALL_FIELDS,
    DECLARED_FIELDS,
    RESULT_FIELDS,
    SALESFORCE_API_VERSION,
    SALESFORCE_OBJECT,
    CrmField,
)
from cosell.errors import UsageError

NAMESPACE = "http://soap.sforce.com/2006/04/metadata"
SOURCE_ROOT = "force-app/main/default"
GATE_RULE = "Cosell_Partner_Source_Before_Won"
FORMULA_MAX = 3_900  # characters, Salesforce's limit on a formula (spaces and line breaks count)
VALIDATION_DESCRIPTION_MAX = 255  # characters, Salesforce's limit on a validation rule's description
# Who may do what with the fields: reps edit the declared ones and read cosell's; the integration
# user that runs the write-back edits cosell's and reads the declared ones. New fields deployed by the
# Metadata API are visible to nobody until a profile or a permission set grants them.
PERMISSION_SETS = {
    "Cosell_Partner_Fields": (
        "cosell partner fields (reps)",
        "Edit the five declared partner fields; read cosell's attribution fields.",
        True,
    ),
    "Cosell_Writeback": (
        "cosell write-back (integration user)",
        "Edit cosell's attribution fields (the write-back); read the five declared partner fields.",
        False,
    ),
}


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _root(tag: str) -> ET.Element:
    return ET.Element(tag, {"xmlns": NAMESPACE})


def custom_field(field: CrmField) -> bytes:
    """The ``CustomField`` metadata of one field (source format: fullName is the field's API name)."""
    sf = field.salesforce
    root = _root("CustomField")
    _sub(root, "fullName", sf.api_name)
    if sf.type == "Lookup":
        _sub(root, "deleteConstraint", "SetNull")
    _sub(root, "description", field.help)
    _sub(root, "externalId", "false")
    _sub(root, "inlineHelpText", field.help)
    _sub(root, "label", field.label)
    if sf.length is not None:
        _sub(root, "length", str(sf.length))
    if sf.partner_accounts_only:
        lookup = _sub(root, "lookupFilter")
        _sub(lookup, "active", "true")
        _sub(lookup, "errorMessage", "Choose a partner account (an account marked as a partner).")
        item = _sub(lookup, "filterItems")
        _sub(item, "field", "Account.IsPartner")
        _sub(item, "operation", "equals")
        _sub(item, "value", "True")
        _sub(lookup, "isOptional", "false")
    if sf.reference_to is not None:
        _sub(root, "referenceTo", sf.reference_to)
        _sub(root, "relationshipLabel", sf.relationship_label)
        _sub(root, "relationshipName", sf.relationship_name)
    _sub(root, "required", "false")
    _sub(root, "trackFeedHistory", "false")
    _sub(root, "trackHistory", "true" if sf.track_history else "false")
    _sub(root, "type", sf.type)
    if field.choices:
        value_set = _sub(root, "valueSet")
        _sub(value_set, "restricted", "true")
        definition = _sub(value_set, "valueSetDefinition")
        _sub(definition, "sorted", "false")
        for choice in field.choices:
            value = _sub(definition, "value")
            _sub(value, "fullName", choice.value)
            _sub(value, "default", "false")
            _sub(value, "label", choice.label)
    if sf.visible_lines is not None:
        _sub(root, "visibleLines", str(sf.visible_lines))
    return _document(root)


def formula_text(text: str) -> str:
    """``text`` as a Salesforce formula string literal (backslash and double quote escaped).

    >>> formula_text('Won "big"')
    '"Won \\\\"big\\\\""'
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gate_formula(stages: tuple[str, ...]) -> str:
    """The stage gate as an error-condition formula: true (the save is refused) when the deal enters
    a won stage, on creation or on a stage change, while Partner Source is empty. Only the entry is
    refused, so a won deal that is edited later (the write-back included) is never blocked."""
    source = next(f for f in DECLARED_FIELDS if f.key == "partner_source").salesforce.api_name
    won = ",\n".join(f"        ISPICKVAL(StageName, {formula_text(s)})" for s in stages)
    return (
        "AND(\n    OR(ISNEW(), ISCHANGED(StageName)),\n    OR(\n"
        f"{won}\n    ),\n    ISBLANK(TEXT({source}))\n)"
    )


def gate_description(stages: tuple[str, ...]) -> str:
    """The rule's description, naming the won stages when they fit: Salesforce refuses a validation
    rule whose description is over 255 characters (the formula names every stage anyway).

    >>> gate_description(("Closed Won",))
    "cosell's stage gate: a deal may not enter a won stage (Closed Won) until Partner Source is set. None is a valid answer."
    """
    tail = " until Partner Source is set. None is a valid answer."
    text = "cosell's stage gate: a deal may not enter a won stage (" + ", ".join(stages) + ")" + tail
    if len(text) <= VALIDATION_DESCRIPTION_MAX:
        return text
    return (
        f"cosell's stage gate: a deal may not enter a won stage ({len(stages)} named in the formula)" + tail
    )


def validation_rule(stages: tuple[str, ...]) -> bytes:
    """The ``ValidationRule`` of the stage gate (SPEC section 4) for the policy's won ``stages``."""
    source = next(f for f in DECLARED_FIELDS if f.key == "partner_source").salesforce.api_name
    root = _root("ValidationRule")
    _sub(root, "fullName", GATE_RULE)
    _sub(root, "active", "true")
    _sub(root, "description", gate_description(stages))
    _sub(root, "errorConditionFormula", gate_formula(stages))
    _sub(root, "errorDisplayField", source)
    _sub(
        root,
        "errorMessage",
        "Set Partner Source (Sourced, Influenced, Accelerated or None) before moving this deal to a "
        "won stage. None is a valid answer.",
    )
    return _document(root)


def permission_set(name: str) -> bytes:
    """A ``PermissionSet`` granting field access (see :data:`PERMISSION_SETS`)."""
    label, description, reps = PERMISSION_SETS[name]
    root = _root("PermissionSet")
    _sub(root, "description", description)
    for field in sorted(ALL_FIELDS, key=lambda f: f.salesforce.api_name):
        access = _sub(root, "fieldPermissions")
        editable = field.declared == reps
        _sub(access, "editable", "true" if editable else "false")
        _sub(access, "field", f"{SALESFORCE_OBJECT}.{field.salesforce.api_name}")
        _sub(access, "readable", "true")
    _sub(root, "hasActivationRequired", "false")
    _sub(root, "label", label)
    return _document(root)


def package_xml() -> bytes:
    """The manifest: every component of the blueprint, by type, with the API version."""
    members = {
        "CustomField": sorted(f"{SALESFORCE_OBJECT}.{f.salesforce.api_name}" for f in ALL_FIELDS),
        "PermissionSet": sorted(PERMISSION_SETS),
        "ValidationRule": [f"{SALESFORCE_OBJECT}.{GATE_RULE}"],
    }
    root = _root("Package")
    for type_name in sorted(members):
        types = _sub(root, "types")
        for member in members[type_name]:
            _sub(types, "members", member)
        _sub(types, "name", type_name)
    _sub(root, "version", SALESFORCE_API_VERSION)
    return _document(root)


def sfdx_project() -> bytes:
    """``sfdx-project.json``: makes the folder a project the ``sf`` CLI deploys from."""
    project = {
        "name": "cosell-blueprint",
        "namespace": "",
        "packageDirectories": [{"default": True, "path": "force-app"}],
        "sourceApiVersion": SALESFORCE_API_VERSION,
    }
    return (json.dumps(project, indent=2) + "\n").encode("utf-8")


def salesforce_blueprint(stages: tuple[str, ...]) -> list[BlueprintFile]:
    """Every file of the Salesforce blueprint, for the won ``stages``. A gate formula longer than
    Salesforce takes is a usage error: the rule would not deploy."""
    formula = gate_formula(stages)
    if len(formula) > FORMULA_MAX:
        raise UsageError(
            f"stages.won: the stage gate's formula for {len(stages):,} won stages is {len(formula):,} "
            f"characters, and Salesforce takes {FORMULA_MAX:,} at most: map fewer stages to won"
        )
    objects = f"{SOURCE_ROOT}/objects/{SALESFORCE_OBJECT}"
    files = [
        BlueprintFile("package.xml", package_xml()),
        BlueprintFile("sfdx-project.json", sfdx_project()),
        BlueprintFile("README.md", salesforce_readme(stages, GATE_RULE, gate_formula(stages))),
        BlueprintFile(
            f"{objects}/validationRules/{GATE_RULE}.validationRule-meta.xml", validation_rule(stages)
        ),
    ]
    for field in DECLARED_FIELDS + RESULT_FIELDS:
        path = f"{objects}/fields/{field.salesforce.api_name}.field-meta.xml"
        files.append(BlueprintFile(path, custom_field(field)))
    for name in PERMISSION_SETS:
        path = f"{SOURCE_ROOT}/permissionsets/{name}.permissionset-meta.xml"
        files.append(BlueprintFile(path, permission_set(name)))
    return files
