"""Use case: the demo company as a CRM export (``cosell demo --out DIR --crm salesforce``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from cosell.crm import demo_export, demo_export_hubspot
from cosell.errors import UsageError

__all__ = ["write_crm_export"]


def write_crm_export(out: Path, crm: str, write_dataset: Callable[[Path], object]) -> Path:
    """Write the demo dataset (``write_dataset(folder)`` writes it as canonical CSV) to ``out`` as
    ``crm``'s export; returns the mapping file written beside it."""
    writers = {"salesforce": demo_export.write_salesforce, "hubspot": demo_export_hubspot.write_hubspot}
    if crm not in writers:
        raise UsageError(f"--crm {crm!r}: one of {', '.join(writers)}")
    with tempfile.TemporaryDirectory(prefix="cosell-demo-") as folder:
        write_dataset(Path(folder))
        return writers[crm](Path(folder), out)
