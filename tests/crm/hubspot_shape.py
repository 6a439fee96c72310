"""HubSpot's property JSON shape, for validating the blueprint: the bodies of
``POST /crm/v3/properties/{objectType}`` (a property), ``.../batch/create`` (``{"inputs": [...]}``)
and ``.../groups`` (a property group), written for cosell's tests from HubSpot's CRM properties API
reference. Strict: an unknown key, a wrong type, a type/fieldType pair HubSpot refuses, an
enumeration without options or with a repeated value all fail.

The same shape as JSON Schema is ``hubspot-property.schema.json`` beside this file (generated from
these models; a test keeps the two equal).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PropertyType = Literal[
    "bool", "enumeration", "date", "datetime", "string", "number", "object_coordinates", "json"
]
FieldType = Literal[
    "booleancheckbox", "checkbox", "radio", "select", "date", "text", "textarea", "file", "number",
    "calculation_equation", "html", "phonenumber",
]  # fmt: skip
# Which fieldType goes with which type (HubSpot's "Property type and fieldType values").
FIELD_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset({"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"file", "text", "textarea", "calculation_equation", "html", "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
    "object_coordinates": frozenset({"text"}),
    "json": frozenset({"text"}),
}
INTERNAL_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PropertyOption(_Strict):
    label: str = Field(min_length=1)
    value: str = Field(min_length=1)
    description: str | None = None
    displayOrder: int | None = None
    hidden: bool


class PropertyCreate(_Strict):
    name: str = Field(pattern=INTERNAL_NAME, max_length=100)
    label: str = Field(min_length=1)
    type: PropertyType
    fieldType: FieldType
    groupName: str = Field(min_length=1)
    description: str | None = None
    options: list[PropertyOption] | None = None
    displayOrder: int | None = None
    hasUniqueValue: bool | None = None
    hidden: bool | None = None
    formField: bool | None = None
    calculationFormula: str | None = None
    externalOptions: bool | None = None
    referencedObjectType: str | None = None
    dataSensitivity: Literal["non_sensitive", "sensitive", "highly_sensitive"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PropertyCreate:
        if self.fieldType not in FIELD_TYPES[self.type]:
            raise ValueError(f"fieldType {self.fieldType!r} does not go with type {self.type!r}")
        if self.type == "enumeration":
            values = [o.value for o in self.options or []]
            if not values:
                raise ValueError("an enumeration needs options")
            if len(set(values)) != len(values):
                raise ValueError("option values must be unique")
        elif self.options:
            raise ValueError(f"a {self.type} property takes no options")
        return self


class BatchCreate(_Strict):
    inputs: list[PropertyCreate] = Field(min_length=1)


class PropertyGroupCreate(_Strict):
    name: str = Field(pattern=INTERNAL_NAME)
    label: str = Field(min_length=1)
    displayOrder: int | None = None
