"""Use case: build the sample company of ``cosell demo``, step by step.

Each function is one step of the demo on its own workspace: generate the dataset, open a fresh
workspace, import the sample with its intake, add the README's named users, find an example deal
of a tier, reconcile, pay (with the fixes and a dispute in between), write the CFO dashboard and
the QBR. The command line sequences them and prints what each returns; attributing and explaining
are the ordinary use cases (:mod:`cosell.service.attribution`).

Each step is recorded at a fixed instant after the dataset's as-of instant (:data:`STEP_OFFSETS`,
and the pay step's own instants in :mod:`cosell.pay.demo`), so the demo gives the same bytes on
every run. The review, pay and report steps tell their tour as they go: they print to the output
they are given (``out``, a rich console), as their capability's demo step does; each write step
is one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosell import clock

if TYPE_CHECKING:  # the steps import their capabilities when run: `cosell --help` stays quick
    from cosell.data.demo import DemoManifest
    from cosell.data.import_report import ImportReport
    from cosell.hygiene.intake import Intake
    from cosell.hygiene.reconcile import ReconcileResult
    from cosell.metrics.pipeline import TierPipeline
    from cosell.pay.demo import DemoPay
    from cosell.policy import Policy
    from cosell.store.workspace import Workspace

__all__ = [
    "DEMO_REVIEWER_ROLE",
    "NAMED_USERS",
    "STEP_OFFSETS",
    "add_named_users",
    "example_deal",
    "fresh_workspace",
    "generate",
    "import_sample",
    "not_a_demo_dataset",
    "not_the_demos",
    "pay",
    "pipeline",
    "review",
    "write_reports",
]

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


def generate(
    out_dir: Path, size: int, seed: int, progress: Callable[[int], None] | None = None
) -> DemoManifest:
    """Write the demo dataset (canonical CSV) into ``out_dir``; ``progress(n)`` counts the deals.

    A size beyond what the ids can number is bad usage, and one that does not fit in memory a
    refusal, each naming ``--size``: the user chose it, it is no bug in cosell."""
    from cosell.data.demo.generate import MAX_SIZE, generate_dataset
    from cosell.errors import CosellError, UsageError

    if size > MAX_SIZE:
        raise UsageError(f"--size {size:,}: at most {MAX_SIZE:,} opportunities (their ids have ten digits)")
    try:
        return generate_dataset(out_dir, size=size, seed=seed, progress=progress)
    except MemoryError:
        raise CosellError(
            f"--size {size:,}: not enough memory to generate that many opportunities; give a smaller size"
        ) from None


def not_the_demos(base: Path) -> list[Path]:
    """What in ``base`` an earlier demo did not make, and the demo would replace: a
    ``cosell.duckdb`` that is not a workspace whose first import was the demo's (a real one, with
    its imports, runs and ledger, or any other file), a ``data`` folder without the demo's manifest
    (a real dataset). A demo run again over its own folder replaces its own files, as before."""
    found = []
    workspace = base / "cosell.duckdb"
    if os.path.lexists(workspace) and not _made_by_demo(workspace):
        found.append(workspace)
    if not_a_demo_dataset(base / "data"):
        found.append(base / "data")
    return found


def not_a_demo_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds files but not the demo's manifest: a real dataset the demo's
    files (``opportunities.csv`` ...) would replace."""
    return folder.is_dir() and any(folder.iterdir()) and not (folder / "demo_manifest.json").is_file()


def _made_by_demo(path: Path) -> bool:
    from cosell.data.demo import DEMO_USER
    from cosell.errors import CosellError
    from cosell.outfiles import is_database
    from cosell.store.workspace import open_workspace

    if path.is_symlink() or not is_database(path):
        return False
    try:
        ws = open_workspace(path, read_only=True, create=False)
    except CosellError:
        return False
    try:
        row = ws.con.execute("SELECT by_user FROM imports ORDER BY import_id LIMIT 1").fetchone()
    finally:
        ws.close()
    return row is not None and row[0] == DEMO_USER


def fresh_workspace(path: Path) -> Workspace:
    """A new workspace at ``path``, replacing any earlier one, so the demo is the same every time."""
    from cosell.store.workspace import open_workspace

    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    return open_workspace(path)


def import_sample(
    ws: Workspace, manifest: DemoManifest, policy: Policy, on_file: Callable[[str], None] | None = None
) -> tuple[ImportReport, Intake]:
    """Import the sample with its intake, as known at its as-of instant (so every run is
    reproducible), in the import's one transaction."""
    from cosell.data.demo import DEMO_USER
    from cosell.hygiene.intake import import_with_intake

    return import_with_intake(
        ws,
        manifest.out_dir,
        policy,
        now=manifest.as_of,
        on_file=on_file,
        by_user=DEMO_USER,
        reason="cosell demo",
    )


def add_named_users(ws: Workspace, manifest: DemoManifest) -> str | None:
    """Add :data:`NAMED_USERS` as the sample's first admin would; return the partner ``u-partner``
    works for (None: the sample has no admin or no partner, and nobody was added)."""
    from cosell.service.users import set_user
    from cosell.store.users import first_user

    admin = first_user(ws.con, "admin")
    row = ws.con.execute("SELECT min(partner_id) FROM cur_partners").fetchone()
    partner = None if row is None else row[0]
    if admin is None or partner is None:
        return None
    for user_id, name, role in NAMED_USERS:
        set_user(
            ws, user_id, by_user=admin, reason="a named user for trying the README's commands", name=name,
            email=f"{user_id}@example.com", role=role, partner_id=partner if role == "partner" else "",
            now=manifest.as_of,
        )  # fmt: skip
    return str(partner)


def pipeline(ws: Workspace, run_id: int, policy: Policy, manifest: DemoManifest) -> list[TierPipeline]:
    """The pipeline created by tier in the demo's attribution run (the rows known at as-of)."""
    from cosell.metrics.pipeline import pipeline_by_tier
    from cosell.store.workspace import as_of_views

    as_of_views(ws.con, manifest.as_of)
    return pipeline_by_tier(ws.con, run_id, policy)


def example_deal(ws: Workspace, run_id: int, tier: str, policy: Policy) -> str | None:
    """A deal of ``tier`` in the run to explain, a won one when there is one (that is where the tier
    matters to finance), then the smallest id; None when the run has no deal of the tier."""
    found = ws.con.execute(
        "SELECT a.opportunity_id FROM attribution_history a JOIN v_opportunities o USING (opportunity_id) "
        "WHERE a.run_id = ? AND a.tier = ? ORDER BY list_contains(?, o.stage) DESC, a.opportunity_id LIMIT 1",
        [run_id, tier, sorted(policy.won_stages)],
    ).fetchall()
    return str(found[0][0]) if found else None


def review(ws: Workspace, policy: Policy, manifest: DemoManifest, out: Any) -> ReconcileResult:
    """Reconcile every closed-won deal of the sample, recorded at as-of plus 30 minutes, in one
    transaction; tells the findings by kind and the money at stake on ``out``."""
    from cosell.hygiene.reconcile import demo_known_at, demo_reconcile
    from cosell.service.accounts import overlap_known_at

    with clock.pinned(manifest.as_of + STEP_OFFSETS["reconcile"]), ws.transaction():
        overlap = overlap_known_at(ws, demo_known_at(ws, manifest))
        return demo_reconcile(ws, policy, manifest, out, overlap=overlap)


def pay(ws: Workspace, policy: Policy, manifest: DemoManifest, found: ReconcileResult, out: Any) -> DemoPay:
    """Post and pay a period, accept the review's suggested fixes and a dispute, post the next
    period and tell a partner statement on ``out`` (:func:`cosell.pay.demo.demo_pay`), in one
    transaction.

    The fixes accepted are the overrides (the computed, evidence-backed attribution pinned by a
    reviewer); a correction to make in the CRM (an account to check, partner_source=none to
    confirm) stays open.
    """
    from cosell.hygiene.decisions import accept_findings
    from cosell.pay.demo import demo_dispute, demo_pay
    from cosell.store.users import first_user

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

    with ws.transaction():
        return demo_pay(
            ws, policy, manifest, out, accept_fixes, decide_disputes=demo_dispute(ws, policy, manifest)
        )


def write_reports(
    ws: Workspace, policy: Policy, manifest: DemoManifest, folder: Path, out: Any
) -> list[Path]:
    """Write the CFO dashboard and the latest complete QBR (html, pdf, json) into ``folder``, as
    they stood at the newest instant the demo recorded; tells the CFO's four numbers on ``out``."""
    from cosell.reports.demo import demo_reports

    return demo_reports(ws, policy, manifest, folder, out)
