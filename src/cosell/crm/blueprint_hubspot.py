"""The HubSpot blueprint: the property group and the deal properties as the CRM properties API takes
them, and the stage gate as the won stages' required property.

- ``property-group.json``: the body of ``POST /crm/v3/properties/deals/groups``.
- ``properties.json``: the body of ``POST /crm/v3/properties/deals/batch/create``; each of its
  ``inputs`` is exactly the body of ``POST /crm/v3/properties/deals`` for one property.
- ``stage-gate.json``: which property each won stage requires. HubSpot's public API has no call for
  a stage's required properties (it is a pipeline setting in Settings > Objects > Deals >
  Pipelines), so this file is cosell's own statement of the setting, and the README says where to
  click; ``cosell gate audit`` still finds every deal won without it.
"""

from __future__ import annotations

import json
from typing import Any

from cosell.crm.blueprint_file import BlueprintFile
from cosell.crm.blueprint_readme import hubspot_readme
from cosell.crm.fields import (
    ALL_FIELDS,
    DECLARED_FIELDS,
    HUBSPOT_GROUP_LABEL,
    HUBSPOT_GROUP_NAME,
    HUBSPOT_OBJECT,
    CrmField,
)


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def property_group() -> dict[str, Any]:
    """The property group every cosell property belongs to."""
    return {"name": HUBSPOT_GROUP_NAME, "label": HUBSPOT_GROUP_LABEL, "displayOrder": -1}


def property_definition(field: CrmField, order: int) -> dict[str, Any]:
    """One property as ``POST /crm/v3/properties/deals`` takes it."""
    hs = field.hubspot
    body: dict[str, Any] = {
        "name": hs.name,
        "label": field.label,
        "description": field.help_in("hubspot"),
        "groupName": HUBSPOT_GROUP_NAME,
        "type": hs.type,
        "fieldType": hs.field_type,
        "displayOrder": order,
        "hasUniqueValue": False,
        "hidden": False,
        "formField": False,
    }
    if field.choices:
        body["options"] = [
            {"label": c.label, "value": c.value, "displayOrder": i, "hidden": False}
            for i, c in enumerate(field.choices)
        ]
    return body


def properties() -> dict[str, Any]:
    """Every property (the five declared fields first, then cosell's), as a batch-create body."""
    return {"inputs": [property_definition(f, i) for i, f in enumerate(ALL_FIELDS)]}


def stage_gate(stages: tuple[str, ...]) -> dict[str, Any]:
    """The stage gate as a setting: each won stage requires Partner Source."""
    source = next(f for f in DECLARED_FIELDS if f.key == "partner_source").hubspot.name
    return {
        "objectType": HUBSPOT_OBJECT,
        "rule": "a deal may not enter a won stage until Partner Source is set; none is a valid answer",
        "stages": [{"stageLabel": s, "requiredProperties": [source]} for s in stages],
    }


def hubspot_blueprint(stages: tuple[str, ...]) -> list[BlueprintFile]:
    """Every file of the HubSpot blueprint, for the won ``stages``."""
    return [
        BlueprintFile("property-group.json", _json(property_group())),
        BlueprintFile("properties.json", _json(properties())),
        BlueprintFile("stage-gate.json", _json(stage_gate(stages))),
        BlueprintFile("README.md", hubspot_readme(stages)),
    ]
