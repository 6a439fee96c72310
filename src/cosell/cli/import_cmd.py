"""``cosell import canonical DIR``: load a folder of canonical CSV / Parquet files into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cosell.cli import crm_cmd
from cosell.cli.common import (
    Format,
    FormatOption,
    NowOption,
    PolicyOption,
    WorkspaceOption,
    console,
    err_console,
    output_option,
    progress,
)
from cosell.cli.import_common import ImportReasonOption, print_intake, render_report
from cosell.policy import load_policy

import_app = typer.Typer(help="Import data into the workspace.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``cosell import`` and its subcommands, the CRM exports' (``salesforce``, ``hubspot``) too."""
    app.add_typer(import_app, name="import")


@import_app.command("canonical")
def canonical(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder of <table>.csv, <table>.csv.gz or <table>.parquet files.",
            exists=True,
            file_okay=False,
            dir_okay=True,
            show_default=False,
        ),
    ],
    rejects: Annotated[
        Path | None,
        output_option(
            "--rejects",
            help_text="Import the good rows and write each bad row, with its reasons, to this CSV file.",
            file=True,
        ),
    ] = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
    reason: ImportReasonOption = "",
) -> None:
    """Validate a folder of canonical tables and apply it in one transaction (all or nothing),
    with the auto-tags and influence prompts it calls for.

    Re-importing the same data changes nothing; a changed row becomes a new version and the old one
    is kept. Every row is dated by the import: it is known from the import's instant on (--now,
    $COSELL_NOW or the clock; never before the last import), whatever its own dates say. The import
    is recorded with who ran it ($COSELL_USER, else the login name) and why (--reason, else the
    command). Exit code 1 when the data has problems (listed on stderr; nothing is applied).
    """
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.cli.common import workspace
    from cosell.service.imports import check_rejects_file, import_folder, table_count

    policy = load_policy(policy_path)
    if rejects is not None:
        check_rejects_file(rejects, directory, policy_path)  # said before the import's work, not after it
    files = table_count(directory)
    ws = workspace(workspace_path)
    try:
        with progress("importing", total=max(files, 1)) as advance:
            report, intake = import_folder(
                ws, directory, policy, rejects=rejects, reason=reason, on_file=lambda _name: advance(1)
            )
    finally:
        ws.close()
    render_report(report, fmt)
    if fmt is not Format.json:
        print_intake(report, intake, console if fmt is Format.table else err_console)


# The CRM exports' imports are crm_cmd's commands, listed after ``canonical`` on this group: the
# group has them whenever it is loaded, and crm_cmd needs nothing of this module.
import_app.command("salesforce")(crm_cmd.salesforce)
import_app.command("hubspot")(crm_cmd.hubspot)
