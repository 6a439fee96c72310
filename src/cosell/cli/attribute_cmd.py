"""``cosell attribute`` (on the workspace, or ``--data DIR --out DIR``) and ``cosell explain``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cosell.cli.common import (
    AsOfOption,
    DealReaderOption,
    Format,
    KnownAtOption,
    NowOption,
    PolicyOption,
    RunByOption,
    ShowFormat,
    ShowFormatOption,
    WorkspaceOption,
    console,
    emit_rows,
    err_console,
    in_workspace,
    login_name,
    opportunity_argument,
    output_option,
    parse_as_of,
    print_json,
    progress,
    reading,
    reason_option,
)
from cosell.errors import UsageError
from cosell.instants import format_instant
from cosell.policy import load_policy


class OutFormat(StrEnum):
    """File formats of ``attribute --out``."""

    csv = "csv"
    parquet = "parquet"
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
    by_user: RunByOption = None,
    reason: Annotated[str, reason_option("Why (recorded with the run).")] = "",
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
        output_option("--out", help_text="Folder for attribution.<ext> and credits.<ext> (with --data)."),
    ] = None,
    fmt: Annotated[
        OutFormat | None,
        typer.Option("--format", "-f", help="File format with --out (default csv).", show_default=False),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Decide again only what changed since the newest full run (same as-of instant, policy "
            "and model); the stored run is the one a full run would store. Else a full run, saying why.",
        ),
    ] = False,
) -> None:
    """Decide every opportunity's tier with evidence, and split credit between partners.

    Every deal that existed at the as-of instant is evaluated as of it, from the data known at the
    --known-at instant (docs/as-of.md). On the workspace, each run is stored as a new version of the
    attribution history (earlier runs are kept) with both instants; a run that would hold no deal
    is refused (exit 1). With ``--data DIR --out DIR`` the dataset is imported into a temporary
    workspace (removed afterwards), attributed, and the attribution and credits tables are written
    to DIR in SPEC section 8's column order.
    """
    from cosell.service.attribution import attribute_and_store, attribute_files, choose_model
    from cosell.service.users import runner

    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    if fmt is not None and out is None:
        raise UsageError(
            "--format is the file format of --out: cosell attribute --data DIR --out DIR --format FMT"
        )
    policy = load_policy(policy_path)
    chosen = choose_model(policy, model)
    if data is not None or out is not None:
        if data is None or out is None:
            raise UsageError("--data and --out go together: cosell attribute --data DIR --out DIR")
        if known_at is not None:
            raise UsageError("--known-at reads a workspace's history; --data DIR is read as it is now")
        if incremental:
            raise UsageError("--incremental re-runs a workspace's attribution; --data DIR has none")
        files = attribute_files(
            data, out, policy, chosen, parse_as_of(as_of), (fmt or OutFormat.csv).value, progress
        )
        _print_counts(files.counts)
        console.message(files.at.line(), highlight=False)
        for path in files.paths:
            console.message(f"wrote {path}", highlight=False)
        _print_notes(files.notes)
        return

    at = reading(as_of, known_at)
    stored = in_workspace(
        workspace_path,
        lambda ws: attribute_and_store(
            ws,
            policy,
            at,
            chosen,
            by_user=runner(ws, by_user, login_name()),
            reason=reason,
            progress=progress,
            incremental=incremental,
        ),
    )
    record = stored.record
    _print_counts(stored.counts)
    console.message(at.line(), highlight=False)
    console.message(
        f"run {record.run_id} stored (as of {format_instant(record.as_of)}, model {record.model}, "
        f"policy {record.policy_version})",
        highlight=False,
    )
    if stored.incremental:
        console.message(
            f"incremental: {stored.recomputed:,} deal{'' if stored.recomputed == 1 else 's'} "
            "recomputed (their inputs changed), "
            f"{stored.retested:,} re-tested against a moved cohort baseline, the other "
            f"{sum(stored.counts.values()) - stored.recomputed - stored.retested:,} unchanged, "
            f"as run {stored.base_run} holds them",
            highlight=False,
        )
    elif incremental:
        console.message(f"full run: {stored.full_because}", highlight=False)
    if stored.knew_more is not None:
        top = stored.knew_more
        console.message(
            f"run {record.run_id} knew less than run {top.run_id} (data known at "
            f"{format_instant(top.known_at)}): readers of the newest version keep reading run "
            f"{top.run_id} and the changes recorded since (docs/as-of.md)",
            highlight=False,
        )
    _print_notes(stored.notes)


def _print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:  # on stderr, as the import's warnings are
        err_console.message(f"warning: {note}", highlight=False)


def _print_counts(counts: dict[str, int]) -> None:
    total = sum(counts.values())
    rows = [{"tier": tier, "deals": n} for tier, n in counts.items()]
    rows.append({"tier": "total", "deals": total})
    emit_rows(rows, ("tier", "deals"), Format.table, title="Attribution by tier")


def explain_command(
    opportunity_id: Annotated[str, opportunity_argument("The opportunity to explain.")],
    workspace_path: WorkspaceOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    model: ModelOption = None,
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    by: DealReaderOption = None,
) -> None:
    """Explain one opportunity's attribution as sentences a CFO can read (or JSON): which partner,
    what evidence with dates, which guard blocked which claim, the cohort and its median. The deal
    is decided as of the --as-of instant from the data known at the --known-at instant."""
    from cosell.service.attribution import choose_model, explain_deal

    policy = load_policy(policy_path)
    chosen = choose_model(policy, model)
    at = reading(as_of, known_at)
    report = in_workspace(
        workspace_path,
        lambda ws: explain_deal(ws, opportunity_id, policy, at, chosen, viewer=by),
        read_only=True,
    )
    if fmt is ShowFormat.json:
        print_json(report.to_json())
    else:
        # Sentences, wrapped between words on a terminal (its edge would cut an amount or an id in
        # two), whole on one line in a pipe or a file, for whoever searches them there.
        for line in report.text().split("\n"):  # not splitlines: a carriage return is data here
            console.message(line, highlight=False)
