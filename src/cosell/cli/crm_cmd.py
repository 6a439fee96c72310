"""``cosell import salesforce|hubspot PATH`` (attached to ``cosell import`` by import_cmd) and ``cosell
crm map init``: CRM exports in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cosell.cli.common import (
    Format,
    FormatOption,
    NowOption,
    PolicyOption,
    WorkspaceOption,
    console,
    err_console,
    output_option,
    print_json,
    progress,
)
from cosell.cli.import_common import ImportReasonOption, print_intake, render_report, report_json
from cosell.policy import load_policy

if TYPE_CHECKING:
    from cosell.service.crm_import import CrmImport

crm_app = typer.Typer(help="Salesforce and HubSpot: the mapping of an export.", no_args_is_help=True)
map_app = typer.Typer(help="The mapping file that reads a CRM export.", no_args_is_help=True)
crm_app.add_typer(map_app, name="map")

ExportArgument = Annotated[
    Path,
    typer.Argument(
        help="The export: a folder of CSV files or a zip of them.", exists=True, show_default=False
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="The mapping file (cosell crm map init drafts one). Without it: the CRM's own API names, "
        "ISO dates, UTF-8.",
        exists=True,
        dir_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``cosell crm`` (the ``import`` subcommands hang on ``cosell import``)."""
    app.add_typer(crm_app, name="crm")


def _import(
    crm: str,
    path: Path,
    mapping: Path | None,
    workspace_path: str | None,
    policy_path: Path | None,
    fmt: Format,
    reason: str,
) -> None:
    from cosell.cli.common import workspace
    from cosell.service.crm_import import import_crm, mapping_for

    policy = load_policy(policy_path)
    # The mapping is read before the workspace is opened: a refused mapping makes no workspace file.
    read = mapping_for(crm, mapping)
    ws = workspace(workspace_path)
    try:
        with progress(f"importing {crm}") as advance:
            result = import_crm(
                ws, crm, path, policy, mapping=read, on_file=lambda _n: advance(1), reason=reason
            )
    finally:
        ws.close()
    _render(result, fmt)


def _render(result: CrmImport, fmt: Format) -> None:
    if fmt is Format.json:
        data = report_json(result.report)
        data["skipped"] = [
            {"file": s.file, "count": s.count, "first_row": s.first_row, "reason": s.reason}
            for s in result.skipped
        ]
        data["auto_tagged"], data["prompted"] = result.intake.tagged, result.intake.prompted
        print_json(data)
        return
    render_report(result.report, fmt)
    out = console if fmt is Format.table else err_console
    for s in result.skipped:
        out.message(f"left out: {s}", markup=False, highlight=False)
    print_intake(result.report, result.intake, out)


def salesforce(
    path: ExportArgument,
    mapping: MappingOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
    reason: ImportReasonOption = "",
) -> None:
    """Import a Salesforce export (weekly Data Export zip, Data Loader or report CSVs) through a
    mapping file, all or nothing, like ``import canonical``. Problems name the export's own file,
    row and column (exit 1; nothing is applied). See docs/crm-import.md.
    """
    del now
    _import("salesforce", path, mapping, workspace_path, policy_path, fmt, reason)


def hubspot(
    path: ExportArgument,
    mapping: MappingOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
    reason: ImportReasonOption = "",
) -> None:
    """Import a HubSpot export (deals, companies, activities, associations, owners, pipelines)
    through a mapping file, all or nothing. See docs/crm-import.md.
    """
    del now
    _import("hubspot", path, mapping, workspace_path, policy_path, fmt, reason)


@map_app.command("init")
def map_init(
    crm: Annotated[str, typer.Argument(help="salesforce or hubspot.", show_default=False)],
    path: ExportArgument,
    out: Annotated[
        Path | None,
        output_option(
            "--out", help_text="Where to write the mapping (default ./<crm>-mapping.toml).", file=True
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    policy_path: PolicyOption = None,
) -> None:
    """Draft a mapping file from the export's own headers and values, every line explained.

    Read it, fix what it marks CHECK, then import with --mapping. Nothing is guessed silently: a
    date format or a picklist meaning it cannot know is written as a CHECK comment.
    """
    from cosell.service.crm_mapping import draft_mapping

    target = out or Path(f"{crm}-mapping.toml")
    text, notes = draft_mapping(crm, path, load_policy(policy_path), target, force=force)
    console.message(f"wrote {target} ({len(text.splitlines())} lines)", highlight=False)
    for note in notes:
        console.message(f"CHECK {note}", markup=False, highlight=False)
