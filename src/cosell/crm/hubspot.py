"""HubSpot exports as cosell's canonical tables (not built yet)."""

from __future__ import annotations

from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.sources import Export, warehouse_tables
from cosell.policy import Policy


def translate(export: Export, mapping: CrmMapping, policy: Policy) -> Translation:
    """Translate a HubSpot export into canonical rows."""
    out = Translation()
    warehouse = warehouse_tables(export)
    if warehouse:
        out.problems.extend(warehouse)
        return out
    out.problem(str(export.path), None, None, None, "HubSpot import is not available yet")
    return out
