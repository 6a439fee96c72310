"""The draft mapping of a HubSpot export (see :mod:`cosell.crm.mapping_init`)."""

from __future__ import annotations

from cosell.crm.mapping_init import Draft, export_encoding, header, load_objects
from cosell.crm.sources import Export
from cosell.policy import Policy


def draft(export: Export, policy: Policy) -> Draft:
    """A commented mapping for the HubSpot export, with its CHECK notes."""
    out = Draft()
    items = load_objects(export, "hubspot")
    out.add(*header(policy, "hubspot", export_encoding(out, items)))
    return out
