"""The blueprint: everything an admin installs so a CRM holds the five declared fields, cosell's
result fields and the stage gate (``cosell blueprint salesforce|hubspot``).

A blueprint is a list of :class:`~cosell.crm.blueprint_file.BlueprintFile` (a relative path and its bytes), built from
:mod:`cosell.crm.fields` and the policy's won stages: pure, no I/O, the same bytes on every machine.
:func:`build_blueprint` picks the CRM; the service writes the files into a folder.
"""

from __future__ import annotations

from cosell.crm.blueprint_file import BlueprintFile
from cosell.crm.blueprint_hubspot import hubspot_blueprint
from cosell.crm.blueprint_salesforce import salesforce_blueprint
from cosell.crm.fields import check_crm
from cosell.errors import UsageError
from cosell.policy import Policy

__all__ = ["BlueprintFile", "build_blueprint", "won_stages"]


def won_stages(policy: Policy) -> tuple[str, ...]:
    """The policy's won stage names, sorted: the stages the gate guards. None at all is a usage error
    (a gate that guards nothing would install a rule that never fires)."""
    stages = tuple(sorted(policy.won_stages))
    if not stages:
        raise UsageError("the policy maps no stage to won: set stages.won before making a blueprint")
    return stages


def build_blueprint(crm: str, policy: Policy) -> list[BlueprintFile]:
    """The blueprint for ``crm`` (salesforce or hubspot), its files sorted by path.

    >>> from cosell.policy import Policy
    >>> [f.path for f in build_blueprint("hubspot", Policy())]
    ['README.md', 'properties.json', 'property-group.json', 'stage-gate.json']
    """
    if check_crm(crm) == "salesforce":
        files = salesforce_blueprint(won_stages(policy))
    else:
        files = hubspot_blueprint(won_stages(policy))
    return sorted(files, key=lambda f: f.path)
