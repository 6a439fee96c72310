"""Commands of the demo capability (registered by cli/app.py).

``cosell demo --out DIR`` only writes the demo dataset in the canonical format and prints what it
holds. Without ``--out`` it builds the whole sample company under ``./cosell-demo`` (``--dir``):
the dataset in ``data/``, a fresh workspace ``cosell.duckdb`` imported as of the dataset's as-of
instant (with the import's auto-tags and influence prompts), an attribution run stored in it, the
attribution and credits tables in ``reports/``; it prints the pipeline by tier and one explained
deal of each tier, reconciles every closed-won deal (findings by kind, money at stake), pays a
period, accepts the suggested fixes and a dispute, posts the next period's adjustments and prints a
partner statement, and writes the CFO dashboard and the latest QBR (html, pdf, json).

Every step is a use case (:mod:`cosell.service.demo`, :mod:`cosell.service.attribution`); this
module only sequences them and prints what they return. Each step is recorded at a fixed instant
after the dataset's as-of instant (:data:`cosell.service.demo.STEP_OFFSETS`, and the pay step's own
instants in :mod:`cosell.pay.demo`), so the demo prints and writes the same bytes on every run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cosell.asof import AsOf
from cosell.cli.common import (
    TextConsole,
    console,
    err_console,
    given_on_command_line,
    output_option,
    progress,
)
from cosell.instants import format_instant
from cosell.report_model import counted
from cosell.service.demo import NAMED_USERS
from cosell.terminal import print_table

if TYPE_CHECKING:
    from cosell.data.demo import DemoManifest
    from cosell.hygiene.intake import Intake
    from cosell.policy import Policy
    from cosell.service.workspace import Workspace

__all__ = [
    "DEFAULT_DEMO_BASE",
    "DEFAULT_DEMO_DIR",
    "NAMED_USERS",
    "print_demo_summary",
    "register",
    "run_demo",
]

DEFAULT_DEMO_BASE = Path("cosell-demo")
# The referral list of the demo's intake step: the columns that fit 80 columns as a table.
DEMO_REFERRAL_COLUMNS = ("referral_id", "status", "partner_id", "company", "conflicts")
DEFAULT_DEMO_DIR = DEFAULT_DEMO_BASE / "data"


def write_demo_dataset(out_dir: Path, size: int = 3000, seed: int = 7) -> DemoManifest:
    """Generate the demo dataset into ``out_dir`` with a progress bar on stderr."""
    from cosell.service.demo import generate

    with progress(f"Writing {size:,} demo opportunities", total=size) as advance:
        return generate(out_dir, size, seed, advance)


def print_demo_summary(manifest: DemoManifest) -> None:
    """Rows per table, planted data-hygiene failures by kind, the time span and where the files are."""
    print_table(
        console,
        ("table", "rows"),
        [{"table": table, "rows": f"{rows:,}"} for table, rows in manifest.counts.items()],
        title="Demo dataset",
    )
    print_table(
        console,
        ("kind", "deals", "for_example"),
        [
            {
                "kind": kind,
                "deals": f"{len(ids):,}",
                "for_example": ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else ""),
            }
            for kind, ids in manifest.planted.items()
        ],
        title="Planted data-hygiene failures",
    )
    console.print(
        f"Deals created {format_instant(manifest.span_start)[:10]} to {format_instant(manifest.span_end)[:10]}"
        f" (exclusive); run reports as of [bold]{format_instant(manifest.as_of)}[/].",
        markup=True,
    )
    console.message(
        f"Files in [bold]{escape(str(manifest.out_dir))}[/] (size {manifest.size:,}, seed {manifest.seed});"
        " demo_truth.csv holds each deal's designed origin, demo_manifest.json this summary.",
        markup=True,
    )


# What ``run_demo(base, ...)`` makes in ``base``: the dataset, the workspace (with its write-ahead
# log) and the reports.
DEMO_FOLDERS = ("data", "reports")
DEMO_PARTS = (*DEMO_FOLDERS, "cosell.duckdb", "cosell.duckdb.wal")


def run_demo(base: Path, size: int, seed: int) -> None:
    """Generate, import, attribute and report the sample company under ``base``."""
    from cosell.policy import Policy
    from cosell.service import demo
    from cosell.service.attribution import attribute_and_store, explain_deal

    manifest = write_demo_dataset(base / "data", size, seed)
    print_demo_summary(manifest)
    policy = Policy()
    workspace_file = base / "cosell.duckdb"
    ws = demo.fresh_workspace(workspace_file)
    at = AsOf(manifest.as_of, manifest.as_of)
    reports = base / "reports"
    try:
        # The sample's rows are imported as known at its as-of instant, so every run is reproducible.
        with progress("importing", total=len(manifest.counts)) as advance:
            report, intake = demo.import_sample(ws, manifest, policy, on_file=lambda _f: advance(1))
        console.message(
            f"imported {report.accepted:,} rows into [bold]{escape(str(workspace_file))}[/]", markup=True
        )
        _print_intake(intake)
        partner = demo.add_named_users(ws, manifest)
        if partner is not None:
            console.print(
                f"added users {', '.join(u for u, _, _ in NAMED_USERS)} (u-partner works for partner {partner}) "
                "to try the README's commands with: cosell users",
                highlight=False,
            )
        stored = attribute_and_store(
            ws, policy, at, policy.credit_model, by_user="demo", reason="cosell demo", run_at=manifest.as_of,
            results_to=reports, progress=progress,
        )  # fmt: skip
        record = stored.record
        console.print(at.line(), highlight=False)
        paths = list(stored.paths)
        _print_pipeline(demo.pipeline(ws, record.run_id, policy, manifest), policy.workspace_currency)
        for tier in ("sourced", "accelerated", "influenced", "none"):
            example = demo.example_deal(ws, record.run_id, tier, policy)
            if example is None:
                continue
            explanation = explain_deal(ws, example, policy, at, record.model)
            article = "An" if tier[0] in "aeiou" else "A"
            console.rule(f"{article} {tier} deal: cosell explain {example}")
            console.print(explanation.text(), highlight=False)
        paths += _review_pay_and_report(ws, policy, manifest, reports)
        _intake_tour(ws, policy, manifest)
    finally:
        ws.close()
    console.rule("Where everything is")
    console.message(f"dataset:    {manifest.out_dir}", highlight=False)
    console.message(f"workspace:  {workspace_file} (batch attribution run {record.run_id})", highlight=False)
    for path in paths:
        console.message(f"report:     {path}", highlight=False)
    console.message(
        f"try:        cosell explain OPPORTUNITY_ID --workspace {workspace_file} --known-at "
        f"{format_instant(manifest.as_of)}",
        highlight=False,
    )


def _say_what_was_left(removed: list[Path], kept: list[Path]) -> None:
    """A failed demo says what it removed of what it had made, and what it left that was there before."""
    if removed:
        err_console.message(
            f"the demo stopped: removed what it had made ({', '.join(map(str, removed))})", highlight=False
        )
    if kept:
        names = ", ".join(map(str, kept))
        err_console.message(
            f"the demo stopped: left {names} (there before it started, possibly part-rewritten): "
            "run cosell demo again, or remove them",
            highlight=False,
        )


def _print_intake(intake: Intake) -> None:
    """What the import's hygiene intake did (it ran in the import's transaction, dated like it)."""
    console.print(
        f"auto-tagged {counted(intake.tagged, 'deal')} created from a partner lead "
        "(who = system, why = the lead id); "
        f"issued {counted(intake.prompted, 'influence prompt')} to the owning reps (cosell prompts)",
        highlight=False,
    )


def _review_pay_and_report(
    ws: Workspace, policy: Policy, manifest: DemoManifest, reports: Path
) -> list[Path]:
    """Reconcile, pay with the fixes and a dispute in between, then write the CFO and QBR files."""
    from cosell.service import demo

    with _step("reconciling every closed-won deal") as out:
        out.rule("Reconciliation: cosell reconcile --period all")
        found = demo.review(ws, policy, manifest, out)
    with _step("paying: post a period, pay it, accept the fixes and a dispute, post the next") as out:
        demo.pay(ws, policy, manifest, found, out)
    with _step("writing the CFO dashboard and the QBR (html, pdf, json)") as out:
        return demo.write_reports(ws, policy, manifest, reports, out)


def _intake_tour(ws: Workspace, policy: Policy, manifest: DemoManifest) -> None:
    """Referrals from the demo's inbox, the one accepted, a conflict, a follow-up and a registration
    that collides with another partner's (:mod:`cosell.service.demo_intake`)."""
    from cosell.cli.common import Format, emit_rows
    from cosell.cli.referral_common import conflict_lines, list_row
    from cosell.service.demo_intake import intake

    with _step("reading the partner inbox: emails and a Slack export"):
        done = intake(ws, policy, manifest)
    inbox = manifest.out_dir / "inbox"
    console.rule(f"Referrals: cosell referrals email|slack {inbox}/...")
    print_table(console, ("file", "what it shows"), [{"file": f, "what it shows": s} for f, s in done.files])
    emit_rows([list_row(r) for r in done.referrals], DEMO_REFERRAL_COLUMNS, Format.table, title="Referrals")
    if done.accepted is not None:
        v = done.accepted.current
        console.print(
            f"{v.referral_id} accepted: partner lead {v.lead_id} of {v.partner_id}", highlight=False
        )
    for r in done.referrals:
        v = r.current
        if v.status == "conflict":
            console.print(f"{v.referral_id} is a channel conflict ({v.prospect_company}):", highlight=False)
            console.print("\n".join(conflict_lines(r.conflicts, shown=1)), highlight=False)
    asking = next((r for r in done.referrals if r.current.status == "needs_info"), None)
    if asking is not None:
        console.print(f"{asking.current.referral_id} needs information; its follow-up:", highlight=False)
        console.print(
            "\n".join(f"  {line}" if line else "" for line in asking.current.follow_up.splitlines()),
            highlight=False,
        )
    if done.registration is not None:
        row = done.registration.row
        console.print(
            f"{row.registration_id} ({row.status}): {row.partner_id} registers {row.account_id}; "
            f"{counted(len(done.registration.conflicts), 'conflict')}:",
            highlight=False,
        )
        console.print("\n".join(conflict_lines(done.registration.conflicts, shown=1)), highlight=False)
    _overlap_tour(ws, policy, manifest)


def _overlap_tour(ws: Workspace, policy: Policy, manifest: DemoManifest) -> None:
    """The partners' account lists matched to ours: the overlap matrix and the two lists' sizes."""
    from cosell.cli.accounts_cmd import print_summary
    from cosell.service.accounts import match_accounts_of

    report = match_accounts_of(ws, policy, known_at=manifest.as_of)
    console.rule("Account overlap: cosell accounts match")
    print_summary(report)
    console.print(
        f"{len(report.open_at_customers):,} of our open deals are at a partner's customer, and "
        f"{len(report.unattributed_wins):,} won deals at overlap accounts show partner touches but no "
        "partner attribution: cosell accounts match lists them, cosell accounts recommend OPP ranks "
        "the partners to bring into an open deal.",
        highlight=False,
    )


@contextmanager
def _step(description: str) -> Iterator[TextConsole]:
    """A long step of the demo under a spinner on stderr (quiet when stderr is not a terminal).

    What the step prints is held back and printed when it ends, exactly as it would have been:
    printing under a live spinner would garble the terminal, or, with the spinner's redirection,
    send stdout's text to stderr.
    """
    held = TextConsole(
        file=io.StringIO(),
        width=console.width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,
        no_color=console.no_color,
    )
    try:
        with progress(description):
            yield held
    finally:  # what it printed before failing helps to see why
        console.file.write(held.file.getvalue())  # type: ignore[attr-defined]
        console.file.flush()


def _print_pipeline(rows: list[Any], currency: str) -> None:
    print_table(
        console,
        ("tier", "deals", "pipeline", "share"),
        [
            {
                "tier": row.tier,
                "deals": f"{row.deals:,}",
                "pipeline": f"{row.pipeline:,.2f}",
                "share": "no pipeline" if row.share is None else f"{row.share * 100:.1f}%",
            }
            for row in rows
        ],
        title=f"Pipeline created by tier ({currency}, at each deal's creation-month rate)",
    )
    sourced = next(r for r in rows if r.tier == "sourced")
    if sourced.share is not None:
        console.print(
            f"Partner-sourced pipeline: {sourced.pipeline:,.2f} {currency}, {sourced.share * 100:.1f}% of all "
            "pipeline (published benchmark 15-25%)."
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("demo")
    def demo(
        ctx: typer.Context,
        out: Annotated[
            Path | None,
            output_option(
                "--out",
                help_text="Only write the dataset (canonical CSV) to this folder, for --data DIR and benchmarks.",
            ),
        ] = None,
        base: Annotated[
            Path,
            output_option(
                "--dir", help_text="Folder for the whole sample company (without --out).", show_default=True
            ),
        ] = DEFAULT_DEMO_BASE,
        size: Annotated[int, typer.Option("--size", min=1, help="Number of opportunities.")] = 3000,
        seed: Annotated[
            int,
            typer.Option("--seed", min=0, help="Random seed; the same size and seed give identical files."),
        ] = 7,
        crm: Annotated[
            str | None,
            typer.Option(
                "--crm",
                help="With --out: write the dataset as this CRM's export (salesforce or hubspot) with the "
                "mapping that reads it, for cosell import salesforce|hubspot.",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Build a realistic sample company: dataset, workspace, attribution, explanations, reconciliation,
        pay and the CFO and QBR reports."""
        from cosell.errors import UsageError
        from cosell.outfiles import not_a_file, output_folder, removed_on_failure

        if out is not None and given_on_command_line(ctx, "base"):
            # --out writes the dataset alone and would leave the --dir asked for unmade, unsaid.
            raise UsageError(
                "--dir and --out: give one (--out writes only the dataset, --dir the whole company)"
            )
        if crm is not None:
            from cosell.service.crm_demo import write_crm_export

            if out is None:
                raise UsageError("--crm needs --out DIR (the folder to write the export to)")
            folder = output_folder(out, "--out")
            mapping = write_crm_export(folder, crm, lambda d: write_demo_dataset(d, size, seed))
            name = {"salesforce": "Salesforce", "hubspot": "HubSpot"}[crm]
            console.message(
                f"Wrote the sample company as a {name} export in {folder}\n"
                "(its five partner fields under the names `cosell blueprint` installs).\n"
                "Import it, attribute it, write the results back for the CRM's importer:",
                highlight=False,
            )
            console.message(
                f"  cosell import {crm} {folder} --mapping {mapping}\n"
                "  cosell attribute\n"
                f"  cosell writeback {crm} --out DIR",
                highlight=False,
            )
        elif out is not None:
            from cosell.service.demo import not_a_demo_dataset

            if not_a_demo_dataset(out):
                raise UsageError(
                    f"--out {out} holds files but no demo_manifest.json: a dataset cosell demo did not "
                    "make, whose files it would replace; give another folder"
                )
            print_demo_summary(write_demo_dataset(output_folder(out, "--out"), size, seed))
        else:
            # A file where the dataset or the reports go would stop the demo after its longest
            # steps, naming an option the user never gave: refused first, as part of --dir.
            for part in DEMO_FOLDERS:
                not_a_file(base / part, "--dir")
            from cosell.service.demo import not_the_demos

            # A real workspace (or dataset) in the folder would be replaced, its history lost.
            foreign = not_the_demos(base)
            if foreign:
                raise UsageError(
                    f"--dir {base} holds {' and '.join(map(str, foreign))}, which cosell demo did not "
                    "make and would replace: give another folder"
                )
            with removed_on_failure(base, DEMO_PARTS, _say_what_was_left):
                run_demo(output_folder(base, "--dir"), size, seed)
