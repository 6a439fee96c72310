"""``cosell attribute`` (on the workspace, or ``--data DIR --out DIR``) and ``cosell explain``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cosell.asof import AsOf
from cosell.cli.common import (
    AsOfOption,
    Format,
    KnownAtOption,
    NowOption,
    PolicyOption,
    WorkspaceOption,
    console,
    emit_rows,
    login_name,
    parse_as_of,
    progress,
    reading,
)
from cosell.errors import UsageError
from cosell.instants import format_instant
from cosell.policy import load_policy

ENGINE_STEPS = 7


class OutFormat(StrEnum):
    """File formats of ``attribute --out``."""

    csv = "csv"
    parquet = "parquet"
    json = "json"


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Credit model: role_weighted, even, first_touch, last_touch, position_based, time_decay "
        "(default: the policy's credit.model).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``cosell attribute`` and ``cosell explain``."""
    app.command("attribute")(attribute_command)
    app.command("explain")(explain_command)


def attribute_command(
    workspace_path: WorkspaceOption = None,
    model: ModelOption = None,
    policy_path: PolicyOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    now: NowOption = None,
    by_user: Annotated[
        str | None,
        typer.Option("--by", envvar="COSELL_USER", help="Who runs it (recorded).", show_default=False),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the run).")] = "",
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A dataset folder to attribute without a saved workspace (needs --out).",
            exists=True,
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for attribution.<ext> and credits.<ext> (with --data).", show_default=False
        ),
    ] = None,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f", help="File format with --out.")] = OutFormat.csv,
) -> None:
    """Decide every opportunity's tier with evidence, and split credit between partners.

    Every deal that existed at the as-of instant is evaluated as of it, from the data known at the
    --known-at instant (docs/as-of.md). On the workspace, each run is stored as a new version of the
    attribution history (earlier runs are kept) with both instants; a run that would hold no deal
    is refused (exit 1). With ``--data DIR --out DIR`` the dataset is imported into memory,
    attributed, and the attribution and credits tables are written to DIR in SPEC section 8's
    column order.
    """
    from cosell.attribution.engine import attribute, check_model

    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    policy = load_policy(policy_path)
    chosen = check_model(model or policy.credit_model)
    if data is not None or out is not None:
        if data is None or out is None:
            raise UsageError("--data and --out go together: cosell attribute --data DIR --out DIR")
        if known_at is not None:
            raise UsageError("--known-at reads a workspace's history; --data DIR is read as it is now")
        _attribute_files(data, out, policy, chosen, parse_as_of(as_of), fmt)
        return

    from cosell.cli.common import workspace
    from cosell.store.attribution_store import save_run
    from cosell.store.known import require_deals, require_import

    at = reading(as_of, known_at)
    ws = workspace(workspace_path, create=False)
    try:
        require_import(ws.con, at.known_at)
        with progress("attributing", total=ENGINE_STEPS) as advance:
            run = attribute(ws.con, policy, at.as_of, chosen, known_at=at.known_at, progress=advance)
        if not sum(run.counts.values()):
            require_deals(ws.con, at.as_of, at.known_at)  # says why there is nothing to store
        record = save_run(ws.con, run, by_user or login_name(), reason)
    finally:
        ws.close()
    _print_counts(run.counts)
    console.print(at.line(), highlight=False)
    console.print(
        f"run {record.run_id} stored (as of {format_instant(record.as_of)}, model {record.model}, "
        f"policy {record.policy_version})",
        highlight=False,
    )


def _attribute_files(data: Path, out: Path, policy: Any, model: str, when: Any, fmt: OutFormat) -> None:
    from cosell.attribution.engine import attribute
    from cosell.attribution.engine_export import write_results
    from cosell.data.load import import_canonical
    from cosell.data.read import find_table_files
    from cosell.outfiles import output_folder
    from cosell.store.workspace import as_of_views, open_workspace

    output_folder(out)  # before the work: a file in the way or no permission is said at once
    files, _ = find_table_files(data)
    ws = open_workspace(":memory:")
    try:
        with progress("importing", total=max(len(files), 1)) as advance:
            report = import_canonical(
                ws, data, policy=policy, on_file=lambda _name: advance(1), versioned=False
            )
        # A fresh import is dated now: evaluate its current rows at the as-of instant.
        at = AsOf.resolve(when, report.imported_at)
        as_of_views(ws.con, None, existing_at=at.as_of)
        with progress("attributing", total=ENGINE_STEPS) as advance:
            run = attribute(ws.con, policy, at.as_of, model, progress=advance, make_views=False)
        paths = write_results(ws.con, run, out, fmt.value)
    finally:
        ws.close()
    _print_counts(run.counts)
    console.print(at.line(), highlight=False)
    for path in paths:
        console.print(f"wrote {path}", highlight=False)


def _print_counts(counts: dict[str, int]) -> None:
    total = sum(counts.values())
    rows = [{"tier": tier, "deals": n} for tier, n in counts.items()]
    rows.append({"tier": "total", "deals": total})
    emit_rows(rows, ("tier", "deals"), Format.table, title="Attribution by tier")


def explain_command(
    opportunity_id: Annotated[str, typer.Argument(help="The opportunity to explain.", show_default=False)],
    workspace_path: WorkspaceOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    model: ModelOption = None,
    policy_path: PolicyOption = None,
    fmt: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.table,
) -> None:
    """Explain one opportunity's attribution as sentences a CFO can read (or JSON): which partner,
    what evidence with dates, which guard blocked which claim, the cohort and its median. The deal
    is decided as of the --as-of instant from the data known at the --known-at instant."""
    from cosell.attribution.credit import check_model  # not the engine's: explain never loads Ibis
    from cosell.attribution.explain import explain_opportunity
    from cosell.cli.common import workspace

    policy = load_policy(policy_path)
    chosen = check_model(model or policy.credit_model)
    at = reading(as_of, known_at)
    ws = workspace(workspace_path, create=False, read_only=True)
    try:
        report = explain_opportunity(ws.con, opportunity_id, policy, at.as_of, chosen, known_at=at.known_at)
    finally:
        ws.close()
    if fmt is ExplainFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        typer.echo(report.text())
