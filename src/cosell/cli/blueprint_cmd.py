"""``cosell blueprint salesforce|hubspot --out DIR``: the files an admin installs so the CRM holds the
five declared fields, cosell's result fields and the stage gate (docs/crm-blueprint.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cosell.cli.common import PolicyOption, console, output_option
from cosell.policy import load_policy
from cosell.report_model import counted


class Crm(StrEnum):
    """The CRMs cosell writes a blueprint and a write-back for."""

    salesforce = "salesforce"
    hubspot = "hubspot"


CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
NEXT_STEP = {
    "salesforce": "then, in that folder (--dry-run first validates without deploying):\n"
    "  sf project deploy start --manifest package.xml --target-org ORG",
    "hubspot": "then POST property-group.json and properties.json (the README\nhas the calls) "
    "and make Partner Source required on the won stages.",
}


def register(app: typer.Typer) -> None:
    """Add ``cosell blueprint``."""
    app.command("blueprint")(blueprint)


def blueprint(
    crm: Annotated[Crm, typer.Argument(help="The CRM: salesforce or hubspot.", show_default=False)],
    out: Annotated[Path, output_option("--out", "-o", help_text="Folder to write the blueprint into.")],
    policy_path: PolicyOption = None,
) -> None:
    """Write what installs the five partner fields, cosell's fields and the stage gate in a CRM.

    Salesforce: Metadata API source (custom fields, the validation rule that keeps a deal out of a
    won stage until Partner Source is set, two permission sets, package.xml). HubSpot: the property
    group and property definitions as the properties API takes them, and the won stages' required
    property. The won stages are the policy's (stages.won). A README.md for the admin says how to
    install it and what each field is.
    """
    from cosell.service.crm_blueprint import write_blueprint

    done = write_blueprint(crm.value, load_policy(policy_path), out)
    name = CRM_NAMES[done.crm]
    console.message(
        f"Wrote the {name} blueprint ({counted(len(done.files), 'file')}) to {done.folder}", highlight=False
    )
    stages = ", ".join(f'"{s}"' for s in done.won_stages)
    console.message(
        f"Stage gate: a deal enters {stages} only with Partner Source set\n(the policy's stages.won)",
        highlight=False,
    )
    console.message(f"Next: read {done.folder / 'README.md'},", highlight=False)
    console.message(NEXT_STEP[done.crm], highlight=False)
