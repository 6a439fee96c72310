"""Use case: draft a mapping file from a CRM export (``cosell crm map init salesforce|hubspot``)."""

from __future__ import annotations

from pathlib import Path

from cosell.crm import hubspot_mapping, salesforce_mapping
from cosell.crm.mapping import CRMS, parse_mapping
from cosell.crm.sources import Export
from cosell.errors import UsageError
from cosell.outfiles import writable_file, write_file
from cosell.policy import Policy

__all__ = ["draft_mapping"]


def draft_mapping(
    crm: str, export: Path, policy: Policy, target: Path, *, force: bool = False
) -> tuple[str, list[str]]:
    """Write the draft mapping of ``export`` to ``target``; returns its text and its CHECK notes.

    An existing ``target`` is kept unless ``force`` (a mapping is a person's work). The draft is
    validated like any mapping before it is written.
    """
    if crm not in CRMS:
        raise UsageError(f"unknown CRM {crm!r} (one of {', '.join(CRMS)})")
    if target.exists() and not force:
        raise UsageError(f"{target} exists: give another --out, or --force to replace it")
    module = salesforce_mapping if crm == "salesforce" else hubspot_mapping
    draft = module.draft(Export(export), policy)
    text = draft.text()
    parse_mapping(text, crm, str(target))
    writable_file(target, "--out")
    write_file(target, text.encode("utf-8"))
    return text, draft.notes
