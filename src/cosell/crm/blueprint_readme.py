"""The admin's README of each blueprint: how to install it and what each field is, generated from
:mod:`cosell.crm.fields` so it names exactly the fields the blueprint holds. Lines fit 80 columns."""

from __future__ import annotations

import textwrap

from cosell.crm.fields import (
    DECLARED_FIELDS,
    HUBSPOT_GROUP_LABEL,
    RESULT_FIELDS,
    SALESFORCE_API_VERSION,
    CrmField,
)

WIDTH = 78


def _para(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, break_on_hyphens=False, break_long_words=False)


def _item(head: str, text: str) -> str:
    return textwrap.fill(
        f"- {head}: {text}", WIDTH, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False
    )


def _sf_type(field: CrmField) -> str:
    sf = field.salesforce
    if sf.type == "Lookup":
        only = ", partner accounts only" if sf.partner_accounts_only else ""
        return f"Lookup({sf.reference_to}{only})"
    if sf.type == "Picklist":
        return "Picklist (" + ", ".join(c.value for c in field.choices) + ")"
    return f"{sf.type}({sf.length})" if sf.length else sf.type


def _hs_type(field: CrmField) -> str:
    hs = field.hubspot
    values = " (" + ", ".join(c.value for c in field.choices) + ")" if field.choices else ""
    return f"{hs.type}/{hs.field_type}{values}"


def _fields(crm: str) -> str:
    out = []
    for title, group in (("The five declared fields (reps fill them in; cosell only reads them)",
                          DECLARED_FIELDS),
                         ("cosell's fields (the write-back fills them; reps only read them)",
                          RESULT_FIELDS)):  # fmt: skip
        out.append(f"### {title}\n")
        for f in group:
            name, kind = (
                (f.salesforce.api_name, _sf_type(f)) if crm == "salesforce" else (f.hubspot.name, _hs_type(f))
            )
            out.append(_item(f"`{name}` ({f.label}, {kind})", f.help_in(crm)))
        out.append("")
    return "\n".join(out)


def salesforce_readme(stages: tuple[str, ...], rule: str, formula: str) -> bytes:
    """The README of the Salesforce blueprint."""
    won = ", ".join(f'"{s}"' for s in stages)
    text = f"""# cosell blueprint for Salesforce

{
        _para(
            f"Metadata API source format, API version {SALESFORCE_API_VERSION}: twelve custom fields on "
            "Opportunity (the five declared partner fields and cosell's seven result fields), the stage-gate "
            "validation rule and two permission sets. Nothing here changes a record."
        )
    }

## Deploy

With the Salesforce CLI, from this folder:

    sf project deploy start --manifest package.xml --target-org ORG --dry-run
    sf project deploy start --manifest package.xml --target-org ORG

{
        _para(
            "The first command validates without saving anything. Then assign the permission sets: "
            "Cosell_Partner_Fields to the reps (edit the declared fields, read cosell's) and Cosell_Writeback "
            "to the integration user that runs `cosell writeback salesforce --api` (edit cosell's fields; "
            "that user also needs Edit on Opportunity). A field deployed by the Metadata API is visible to "
            "nobody until a permission set or a profile grants it."
        )
    }

{
        _para(
            "Without the CLI: `sf project convert source --manifest package.xml --output-dir mdapi` "
            "writes the metadata format, which Workbench deploys as a zip. A change set cannot be built from "
            "files; create the fields by hand as listed below and add them to a change set from a sandbox."
        )
    }

{
        _para(
            "Partner Name looks up partner accounts only (a lookup filter on Account.IsPartner). An org "
            "without partner accounts (no PRM or partner portal) has no IsPartner field: delete the "
            "lookupFilter element from Partner_Name__c.field-meta.xml before deploying. Field history "
            "tracking is switched on for the four short declared fields (cosell's gate audit reads "
            "OpportunityFieldHistory); Opportunity tracks at most 20 fields."
        )
    }

## The stage gate

{
        _para(
            f"Validation rule {rule}: a deal may not enter a won stage ({won}) while Partner Source is "
            "empty; None is a valid answer. Only the entry is refused (on creation or a stage change), so "
            "editing a won deal later, the write-back included, is never blocked. The won stages come from "
            "cosell's policy (stages.won): regenerate the blueprint when they change. The formula:"
        )
    }

{textwrap.indent(formula, "    ")}

## The fields

{_fields("salesforce")}"""
    return text.encode("utf-8")


def hubspot_readme(stages: tuple[str, ...]) -> bytes:
    """The README of the HubSpot blueprint."""
    won = ", ".join(f'"{s}"' for s in stages)
    text = f"""# cosell blueprint for HubSpot

{
        _para(
            f'Twelve deal properties in the group "{HUBSPOT_GROUP_LABEL}": the five declared partner '
            "fields and cosell's seven result fields, and the stage gate. Nothing here changes a record."
        )
    }

## Install

With a private app token that has the crm.schemas.deals.write scope:

    curl -X POST https://api.hubapi.com/crm/v3/properties/deals/groups \\
      -H "Authorization: Bearer $HUBSPOT_TOKEN" \\
      -H "Content-Type: application/json" --data @property-group.json
    curl -X POST https://api.hubapi.com/crm/v3/properties/deals/batch/create \\
      -H "Authorization: Bearer $HUBSPOT_TOKEN" \\
      -H "Content-Type: application/json" --data @properties.json

{
        _para(
            "Each entry of properties.json is also the body of POST /crm/v3/properties/deals for one "
            "property, if you would rather create them one at a time, or by hand in Settings > Properties."
        )
    }

## The stage gate

{
        _para(
            f"In Settings > Objects > Deals > Pipelines, for each pipeline, edit the stage properties "
            f"of every won stage ({won}) and make Partner Source (partner_source) required, as "
            "stage-gate.json states. HubSpot's API has no call for this setting. A required stage property "
            "is asked for when a user moves a deal in HubSpot; imports, workflows and API calls are not "
            "stopped by it, so run `cosell gate audit` to list every deal won without it."
        )
    }

## The fields

{_para("cosell_attribution_as_of is a datetime: the write-back sends it as Unix milliseconds (UTC).")}

{_fields("hubspot")}"""
    return text.encode("utf-8")
