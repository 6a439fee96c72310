"""``cosell writeback salesforce|hubspot``: cosell's newest attribution into the CRM's cosell fields,
never the five declared fields, as the importer's file (``--out DIR``) or through the REST API
(``--api``, with credentials in the environment: docs/writeback.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cosell.cli.blueprint_cmd import CRM_NAMES, Crm
from cosell.cli.common import (
    Format,
    WorkspaceOption,
    console,
    emit_rows,
    output_option,
    workspace,
)
from cosell.errors import UsageError
from cosell.report_model import counted

# What to do with the file, and what must exist first: the fields it fills are the blueprint's.
LOAD_HINT = {
    "salesforce": "Load it with Data Loader: Update (or Upsert on Id) of Opportunity.\n"
    "It fills the Cosell_ fields that `cosell blueprint salesforce` installs.",
    "hubspot": "Import it into Deals: update existing records matched on Record ID.\n"
    "It fills the cosell_ properties that `cosell blueprint hubspot` installs.",
}


def register(app: typer.Typer) -> None:
    """Add ``cosell writeback``."""
    app.command("writeback")(writeback)


def _source_line(source: Any) -> str:
    return f"each deal's newest attribution version, up to run {source.run_id}"


def writeback(
    crm: Annotated[Crm, typer.Argument(help="The CRM: salesforce or hubspot.", show_default=False)],
    out: Annotated[
        Path | None, output_option("--out", "-o", help_text="Folder to write the importer's CSV into.")
    ] = None,
    api: Annotated[
        bool,
        typer.Option("--api", help="Send it through the CRM's REST API (credentials in the environment)."),
    ] = False,
    workspace_path: WorkspaceOption = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="Format of the list of deals the CRM refused (with --api); --out always writes the importer's CSV.",
        ),
    ] = Format.table,
) -> None:
    """Write the newest attribution back into cosell's own CRM fields (tier, primary partner, rules,
    evidence, explanation, as-of, policy version); never into the five declared fields.

    --out DIR writes the file the CRM's importer takes (Salesforce: a Data Loader CSV keyed by Id;
    HubSpot: an import CSV keyed by hs_object_id). --api sends only the deals whose values differ,
    in batches, retrying rate limits, and lists every deal the CRM refused (exit 1 if any).
    """
    from cosell.service.crm_writeback import credentials_from, writeback_through_api, writeback_to_file

    if out is None and not api:
        raise UsageError("give --out DIR (the importer's file), --api (the REST API), or both")
    if fmt is not Format.table and not api:
        # Without --api there is no list to format: "-f json" used to print the same lines as
        # without it, and a script waiting for json read text.
        raise UsageError(
            f"--format {fmt.value} formats the list of deals the CRM refused, which only --api makes; "
            "--out always writes the importer's CSV"
        )
    if api:
        # Refuse missing credentials before anything is written: with --out too, the file used to be
        # written silently and the command then failed (exit 2) without saying so.
        credentials_from(crm.value)
    name = CRM_NAMES[crm.value]
    ws = workspace(workspace_path, create=False, read_only=True)
    try:
        if out is not None:
            written = writeback_to_file(ws, crm.value, out)
            # Said before the API call, which may fail: the file is there either way.
            console.message(
                f"Wrote {counted(written.source.deals, 'deal')} to {written.path}\n({_source_line(written.source)})",
                highlight=False,
            )
            console.message(LOAD_HINT[crm.value], highlight=False)
        sent = writeback_through_api(ws, crm.value) if api else None
    finally:
        ws.close()
    if sent is None:
        return
    source, result = sent
    console.message(
        f"{name}: {result.count('updated'):,} updated, {result.count('unchanged'):,} unchanged, "
        f"{result.count('failed'):,} failed\n({result.calls:,} calls, {result.retries:,} rate-limit "
        f"retries; {_source_line(source)})",
        highlight=False,
    )
    failed = [{"record_id": o.record_id, "reason": o.reason} for o in result.outcomes if o.status == "failed"]
    if failed:
        emit_rows(failed, ("record_id", "reason"), fmt, title=f"Deals {name} did not update")
        raise typer.Exit(1)
