"""Commands of the demo capability (registered by cli/app.py).

``cosell demo --out DIR`` only writes the demo dataset in the canonical format and prints what it
holds. Without ``--out`` it builds the whole sample company under ``./cosell-demo`` (``--dir``):
the dataset in ``data/``, a fresh workspace ``cosell.duckdb`` imported as of the dataset's as-of
instant (with the import's auto-tags and influence prompts), an attribution run stored in it, the
attribution and credits tables in ``reports/``; it prints the pipeline by tier and one explained
deal of each tier, reconciles every closed-won deal (findings by kind, money at stake), pays a
period, accepts the suggested fixes and a dispute, posts the next period's adjustments and prints a
partner statement, and writes the CFO dashboard and the latest QBR (html, pdf, json).

Every step is a capability's own public function; this module only sequences and prints them.
Each step is recorded at a fixed instant after the dataset's as-of instant (:data:`STEP_OFFSETS`,
and the pay step's own instants in :mod:`cosell.pay.demo`), so the demo prints and writes the same
bytes on every run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cosell import clock
from cosell.asof import AsOf
from cosell.cli.common import console, progress
from cosell.instants import format_instant
from cosell.terminal import print_table

if TYPE_CHECKING:
    from cosell.data.demo import DemoManifest
    from cosell.hygiene.intake import Intake
    from cosell.policy import Policy
    from cosell.store.workspace import Workspace

DEFAULT_DEMO_BASE = Path("cosell-demo")
DEFAULT_DEMO_DIR = DEFAULT_DEMO_BASE / "data"
# When each later step is recorded, after the dataset's as-of instant (the import and the batch
# attribution run are recorded at as-of itself; the dispute at +2 h and +3 h, see cosell.pay.demo).
STEP_OFFSETS = {"reconcile": timedelta(minutes=30), "fixes": timedelta(hours=1)}
# Users with names a person types, added beside the sample's CRM users (005Dm...), so the README's
# examples (`--by u-ops`, `--by u-finance` ...) work on the demo workspace. The demo itself acts as
# the CRM users (cosell.store.users.first_user picks the smallest id of a role: 005Dm... < u-...).
NAMED_USERS = (
    ("u-admin", "Ada Admin", "admin"),
    ("u-ops", "Olu Ops", "partner_ops"),
    ("u-manager", "Mia Manager", "partner_manager"),
    ("u-finance", "Fay Finance", "finance"),
    ("u-partner", "Pat Partner", "partner"),
)
DEMO_REVIEWER_ROLE = "partner_ops"


def write_demo_dataset(out_dir: Path, size: int = 3000, seed: int = 7) -> DemoManifest:
    """Generate the demo dataset into ``out_dir`` with a progress bar on stderr."""
    from cosell.data.demo import generate_dataset  # numpy and Arrow: loaded by the demo only

    with progress(f"Writing {size:,} demo opportunities", total=size) as advance:
        return generate_dataset(out_dir, size=size, seed=seed, progress=advance)


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
        f" (exclusive); run reports as of [bold]{format_instant(manifest.as_of)}[/]."
    )
    console.print(
        f"Files in [bold]{manifest.out_dir}[/] (size {manifest.size:,}, seed {manifest.seed});"
        " demo_truth.csv holds each deal's designed origin, demo_manifest.json this summary.",
    )


def run_demo(base: Path, size: int, seed: int) -> None:
    """Generate, import, attribute and report the sample company under ``base``."""
    from cosell.attribution.engine import attribute
    from cosell.attribution.engine_export import write_results
    from cosell.attribution.explain import explain_opportunity
    from cosell.hygiene.intake import import_with_intake
    from cosell.metrics.pipeline import pipeline_by_tier
    from cosell.policy import Policy
    from cosell.store.attribution_store import save_run
    from cosell.store.workspace import as_of_views, open_workspace

    manifest = write_demo_dataset(base / "data", size, seed)
    print_demo_summary(manifest)
    policy = Policy()
    workspace_file = base / "cosell.duckdb"
    for stale in (workspace_file, workspace_file.with_name(workspace_file.name + ".wal")):
        stale.unlink(missing_ok=True)  # a fresh workspace, so the demo is the same every time
    ws = open_workspace(workspace_file)
    try:
        # The sample's rows are imported as known at its as-of instant, so every run is reproducible.
        with progress("importing", total=len(manifest.counts)) as advance:
            report, intake = import_with_intake(
                ws,
                manifest.out_dir,
                policy,
                now=manifest.as_of,
                on_file=lambda _f: advance(1),
                by_user="demo",
            )
        console.print(f"imported {report.accepted:,} rows into [bold]{workspace_file}[/]")
        _print_intake(intake)
        _add_named_users(ws, manifest)
        with progress("attributing", total=7) as advance:
            run = attribute(
                ws.con, policy, manifest.as_of, policy.credit_model, known_at=manifest.as_of, progress=advance
            )
        record = save_run(ws.con, run, "demo", "cosell demo", run_at=manifest.as_of)
        console.print(AsOf(manifest.as_of, manifest.as_of).line(), highlight=False)
        reports = base / "reports"
        paths = write_results(ws.con, run, reports, "csv")
        as_of_views(ws.con, manifest.as_of)
        _print_pipeline(pipeline_by_tier(ws.con, record.run_id, policy), policy.workspace_currency)
        for tier in ("sourced", "accelerated", "influenced", "none"):
            # Prefer a won deal: that is where the tier matters to finance.
            found = ws.con.execute(
                "SELECT a.opportunity_id FROM attribution_history a JOIN v_opportunities o USING (opportunity_id) "
                "WHERE a.run_id = ? AND a.tier = ? ORDER BY list_contains(?, o.stage) DESC, a.opportunity_id LIMIT 1",
                [record.run_id, tier, sorted(policy.won_stages)],
            ).fetchall()
            example = found[0][0] if found else None
            if example is None:
                continue
            explanation = explain_opportunity(
                ws.con, example, policy, manifest.as_of, run.model, known_at=manifest.as_of
            )
            article = "An" if tier[0] in "aeiou" else "A"
            console.rule(f"{article} {tier} deal: cosell explain {example}")
            console.print(explanation.text(), highlight=False)
        paths += _review_pay_and_report(ws, policy, manifest, reports)
    finally:
        ws.close()
    console.rule("Where everything is")
    console.print(f"dataset:    {manifest.out_dir}", highlight=False, soft_wrap=True)
    console.print(
        f"workspace:  {workspace_file} (batch attribution run {record.run_id})",
        highlight=False,
        soft_wrap=True,
    )
    for path in paths:
        console.print(f"report:     {path}", highlight=False, soft_wrap=True)
    console.print(
        f"try:        cosell explain OPPORTUNITY_ID --workspace {workspace_file} --known-at "
        f"{format_instant(manifest.as_of)}",
        highlight=False,
        soft_wrap=True,
    )


def _add_named_users(ws: Workspace, manifest: DemoManifest) -> None:
    """Add :data:`NAMED_USERS` (the README's ``--by u-ops`` ...) as the sample's first admin would."""
    from cosell.service.users import set_user
    from cosell.store.users import first_user

    admin = first_user(ws.con, "admin")
    row = ws.con.execute("SELECT min(partner_id) FROM cur_partners").fetchone()
    partner = None if row is None else row[0]
    if admin is None or partner is None:
        return
    for user_id, name, role in NAMED_USERS:
        set_user(
            ws, user_id, by_user=admin, reason="a named user for trying the README's commands", name=name,
            email=f"{user_id}@example.com", role=role, partner_id=partner if role == "partner" else "",
            now=manifest.as_of,
        )  # fmt: skip
    console.print(
        f"added users {', '.join(u for u, _, _ in NAMED_USERS)} (u-partner works for partner {partner}) "
        "to try the README's commands with: cosell users",
        highlight=False,
    )


def _print_intake(intake: Intake) -> None:
    """What the import's hygiene intake did (it ran in the import's transaction, dated like it)."""
    console.print(
        f"auto-tagged {intake.tagged:,} deal(s) created from a partner lead (who = system, why = the lead id); "
        f"issued {intake.prompted:,} influence prompt(s) to the owning reps (cosell prompts)",
        highlight=False,
    )


def _review_pay_and_report(
    ws: Workspace, policy: Policy, manifest: DemoManifest, reports: Path
) -> list[Path]:
    """Reconcile, pay with the fixes and a dispute in between, then write the CFO and QBR files."""
    from cosell.hygiene.decisions import accept_findings
    from cosell.hygiene.reconcile import demo_reconcile
    from cosell.pay.demo import demo_dispute, demo_pay
    from cosell.reports.demo import demo_reports
    from cosell.store.users import first_user

    with _step("reconciling every closed-won deal") as out:
        out.rule("Reconciliation: cosell reconcile --period all")
        with clock.pinned(manifest.as_of + STEP_OFFSETS["reconcile"]):
            found = demo_reconcile(ws, policy, manifest, out)
    # The fixes that are overrides (the computed, evidence-backed attribution pinned by a reviewer);
    # a correction to make in the CRM (an account to check, partner_source=none to confirm) stays open.
    fixable = [f.finding_id for f in found.findings if f.suggested_tier and f.status == "open"]
    reviewer = first_user(ws.con, DEMO_REVIEWER_ROLE)

    def accept_fixes() -> int:
        if not fixable or reviewer is None:
            return 0
        accepted = accept_findings(
            ws,
            policy,
            fixable,
            reviewer,
            "demo: month-end review accepts the suggested fixes",
            at=manifest.as_of + STEP_OFFSETS["fixes"],
        )
        return len(accepted.decisions)

    with _step("paying: post a period, pay it, accept the fixes and a dispute, post the next") as out:
        demo_pay(ws, policy, manifest, out, accept_fixes, decide_disputes=demo_dispute(ws, policy, manifest))
    with _step("writing the CFO dashboard and the QBR (html, pdf, json)") as out:
        return demo_reports(ws, policy, manifest, reports, out)


@contextmanager
def _step(description: str) -> Iterator[Console]:
    """A long step of the demo under a spinner on stderr (quiet when stderr is not a terminal).

    What the step prints is held back and printed when it ends, exactly as it would have been:
    printing under a live spinner would garble the terminal, or, with the spinner's redirection,
    send stdout's text to stderr.
    """
    held = Console(
        file=io.StringIO(),
        width=console.width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # type: ignore[arg-type]
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
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Only write the dataset (canonical CSV) to this folder, for --data DIR and benchmarks.",
                show_default=False,
            ),
        ] = None,
        base: Annotated[
            Path, typer.Option("--dir", help="Folder for the whole sample company (without --out).")
        ] = DEFAULT_DEMO_BASE,
        size: Annotated[int, typer.Option("--size", min=1, help="Number of opportunities.")] = 3000,
        seed: Annotated[
            int,
            typer.Option("--seed", min=0, help="Random seed; the same size and seed give identical files."),
        ] = 7,
    ) -> None:
        """Build a realistic sample company: dataset, workspace, attribution, explanations, reconciliation,
        pay and the CFO and QBR reports."""
        from cosell.outfiles import output_folder

        if out is not None:
            print_demo_summary(write_demo_dataset(output_folder(out, "--out"), size, seed))
        else:
            run_demo(output_folder(base, "--dir"), size, seed)
