"""Use cases: attribute and store a run, attribute a dataset folder into files, explain one deal,
a deal's attribution history.

``cosell attribute`` (on the workspace), ``cosell attribute --data DIR --out DIR``, ``cosell
explain`` and ``cosell history``. Every deal that existed at the as-of instant T is evaluated as of it, from the data known
at the knowledge instant K (docs/as-of.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cosell import clock
from cosell.asof import AsOf
from cosell.attribution.credit import check_model  # not the engine's: explain never loads Ibis
from cosell.errors import UsageError
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.reasons import given_or_ran
from cosell.report_model import counted
from cosell.service.progress import Progress, quiet
from cosell.store.workspace import Workspace

if TYPE_CHECKING:  # explain, history and the stored runs load more: only what needs them loads them
    from cosell.attribution.explain import ExplainReport
    from cosell.engine import Engine
    from cosell.hygiene.history import HistoryEntry
    from cosell.store.attribution_store import RunRecord

__all__ = [
    "ENGINE_STEPS",
    "AttributedFiles",
    "StoredRun",
    "attribute_and_store",
    "attribute_files",
    "choose_model",
    "deal_history",
    "explain_deal",
    "stage_notes",
]

ENGINE_STEPS = 7  # the steps of cosell.attribution.engine.attribute, for a progress bar


def choose_model(policy: Policy, model: str | None) -> str:
    """The credit model asked for, else the policy's; an unknown name suggests the closest one."""
    return check_model(model or policy.credit_model)


@dataclass(frozen=True)
class StoredRun:
    """A run stored as a new version of the attribution history, and its deals by tier."""

    record: RunRecord
    counts: dict[str, int]
    paths: list[Path] = field(default_factory=list)  # the result files written (``results_to``)
    incremental: bool = False  # decided only what changed since the base run
    recomputed: int = 0  # incremental: deals whose inputs changed (with their accounts' deals)
    retested: int = 0  # incremental: unchanged candidates re-tested against a moved cohort
    full_because: str = ""  # incremental asked, but a full run was needed: why
    base_run: int = 0  # incremental: the run that holds every deal not decided again
    # A full run that knew less than a complete run stored before it (``--known-at`` in the past):
    # that run, which readers of the newest version keep reading (docs/as-of.md).
    knew_more: RunRecord | None = None
    notes: tuple[str, ...] = ()  # what the command should say about the data (:func:`stage_notes`)


def run_reason(reason: str, at: AsOf, model: str, *, incremental: bool = False) -> str:
    """Why a run is stored: the reason given, else what was run (``cosell attribute --as-of T
    --known-at K --model M``), never an empty why (:func:`cosell.reasons.given_or_ran`).

    >>> from cosell.instants import parse_instant
    >>> t = parse_instant("2026-09-30")
    >>> run_reason("", AsOf(t, t), "even")
    'cosell attribute --as-of 2026-09-30T00:00:00Z --known-at 2026-09-30T00:00:00Z --model even'
    >>> run_reason("  Q3 close ", AsOf(t, t), "even")
    'Q3 close'
    """
    ran = f"cosell attribute --as-of {format_instant(at.as_of)} --known-at {format_instant(at.known_at)}"
    return given_or_ran(reason, ran + f" --model {model}" + (" --incremental" if incremental else ""))


def stage_notes(con: Engine, policy: Policy) -> tuple[str, ...]:
    """The policy's won and lost stages that the workspace writes only in another case or with
    other surrounding spaces (:func:`cosell.hygiene.gate.stage_case_notes`): its deals there count
    as open, as stages are compared exactly, and a run would not say why."""
    from cosell.hygiene.gate import stage_case_notes, workspace_stages

    return stage_case_notes(policy, workspace_stages(con))


def kind_notes(con: Engine, policy: Policy) -> tuple[str, ...]:
    """The touch kinds of the workspace the policy does not name, each with its rows, as the
    import's warnings say them (:data:`cosell.data.import_warnings.UNKNOWN_KIND`): ``attribute --data``
    imports without collecting warnings, and the rules ignore those touches."""
    from cosell.data.import_warnings import UNKNOWN_KIND
    from cosell.engine.sql import in_list

    rows = con.execute(
        f"SELECT kind, count(*) FROM touches WHERE kind NOT IN {in_list(sorted(policy.known_kinds))} "
        "GROUP BY kind ORDER BY kind"
    ).fetchall()
    return tuple(f'touches.csv {counted(int(n), "row")}, kind: "{kind}" {UNKNOWN_KIND}' for kind, n in rows)


def attribute_and_store(
    ws: Workspace,
    policy: Policy,
    at: AsOf,
    model: str,
    *,
    by_user: str,
    reason: str,
    run_at: datetime | None = None,
    results_to: Path | None = None,
    progress: Progress = quiet,
    incremental: bool = False,
) -> StoredRun:
    """Attribute every deal as of ``at`` and store the run as a new version of every deal.

    With ``incremental`` only what changed since the newest full run is decided again (the deals
    whose inputs changed and the candidates whose cohort baseline moved; docs/incremental.md):
    the stored run is the one a full run would store. When that cannot be done (another as-of
    instant, policy or model, a change it cannot follow), it is a full run and says why. Its
    ``notes`` are :func:`stage_notes`.

    Refused (nothing stored) when nothing was imported by K, when the run would hold no deal
    (saying why), or when ``run_at`` is before a change already recorded
    (:func:`cosell.store.review.check_not_backdated`). The run is computed first, on temp tables
    only; storing it is the transaction (the run, every deal's version and credits, all or
    nothing). The workspace is held for writing all along, so nothing changes between the two.
    ``run_at`` (default now) is when the versions become known; ``results_to`` is a folder to write
    the run's attribution and credits to (CSV).
    """
    from cosell.attribution.engine import attribute
    from cosell.profiling import timed
    from cosell.store.attribution_store import save_run
    from cosell.store.known import require_deals, require_import
    from cosell.store.review import check_not_backdated
    from cosell.store.versions import complete_run

    require_import(ws.con, at.known_at)
    reason = run_reason(reason, at, model, incremental=incremental)
    # A run dated before a change already recorded would change what a reading at an earlier
    # --known-at printed, as a decision dated back would (docs/as-of.md).
    check_not_backdated(ws.con, clock.now(run_at), "the attribution run")
    notes = stage_notes(ws.con, policy)
    full_because = ""
    if incremental:
        if results_to is not None:
            raise UsageError("an incremental run writes no result files: leave out results_to")
        done = _attribute_incremental(ws, policy, at, model, by_user=by_user, reason=reason, run_at=run_at)
        if not isinstance(done, str):
            return replace(done, notes=notes)
        full_because = done
    with progress("attributing", total=ENGINE_STEPS) as advance:
        run = attribute(ws.con, policy, at.as_of, model, known_at=at.known_at, progress=advance)
    if not sum(run.counts.values()):
        require_deals(ws.con, at.as_of, at.known_at)  # says why there is nothing to store
    with timed("attribution store"), ws.transaction():
        record = save_run(ws.con, run, by_user, reason, run_at=run_at)
    paths: list[Path] = []
    if results_to is not None:
        from cosell.attribution.engine_export import write_results

        paths = write_results(ws.con, run, results_to, "csv")
    top = complete_run(ws.con)
    knew_more = top[0] if top is not None and top[0].run_id != record.run_id else None
    return StoredRun(record, run.counts, paths, full_because=full_because, knew_more=knew_more, notes=notes)


def _attribute_incremental(
    ws: Workspace, policy: Policy, at: AsOf, model: str, *, by_user: str, reason: str, run_at: datetime | None
) -> StoredRun | str:
    """The incremental run stored, or why a full run is needed."""
    from cosell.attribution.incremental import attribute_incremental, drop_results
    from cosell.profiling import timed
    from cosell.store.attribution_store import save_run
    from cosell.store.chain import INCREMENTAL

    with timed("incremental total"):
        result = attribute_incremental(ws.con, policy, at.as_of, model, known_at=at.known_at)
    if result.full_because or result.base is None:
        return result.full_because
    try:
        if not result.deals:
            from cosell.store.known import require_deals

            require_deals(ws.con, at.as_of, at.known_at)  # says why there is nothing to store
        with timed("incremental store"), ws.transaction():
            record = save_run(
                ws.con, result, by_user, reason, run_at=run_at, scope=INCREMENTAL, extends=result.base.run_id
            )
    finally:
        drop_results(ws.con)
    return StoredRun(
        record,
        result.counts,
        incremental=True,
        recomputed=result.recomputed,
        retested=result.retested,
        base_run=result.base.run_id,
    )


@dataclass(frozen=True)
class AttributedFiles:
    """A dataset folder attributed into files: the deals by tier, the instants, the files written."""

    counts: dict[str, int]
    at: AsOf
    paths: list[Path]
    notes: tuple[str, ...] = ()  # :func:`stage_notes`


def attribute_files(
    data: Path,
    out: Path,
    policy: Policy,
    model: str,
    when: datetime | None,
    fmt: str,
    progress: Progress = quiet,
) -> AttributedFiles:
    """Import the dataset folder ``data`` into a temporary workspace (removed afterwards), attribute
    it as of ``when`` (default: the import's instant) and write ``attribution.<fmt>`` and
    ``credits.<fmt>`` (SPEC section 8's column order) into ``out``, with :func:`stage_notes`.
    Nothing is stored."""
    from cosell.attribution.engine import attribute
    from cosell.attribution.engine_export import write_results
    from cosell.data.load import import_time, load_dataset
    from cosell.data.read import find_table_files
    from cosell.outfiles import output_folder
    from cosell.profiling import timed
    from cosell.store.workspace import as_of_views

    output_folder(out)  # before the work: a file in the way or no permission is said at once
    files, _ = find_table_files(data)
    imported_at = import_time()
    with progress("importing", total=max(len(files), 1)) as advance, timed("data import"):
        ws = load_dataset(
            data, policy, on_file=lambda _name: advance(1), now=imported_at, attribution_only=True
        )
    try:
        notes = stage_notes(ws.con, policy) + kind_notes(ws.con, policy)
        # A fresh import is dated now: evaluate its current rows at the as-of instant. Only the
        # import wrote to the workspace: it holds no answered prompt to overlay.
        at = AsOf.resolve(when, imported_at)
        as_of_views(ws.con, None, existing_at=at.as_of, prompts=False)
        with progress("attributing", total=ENGINE_STEPS) as advance, timed("data engine"):
            # Only the attribution and credits are written: the evidence tables are not made.
            run = attribute(
                ws.con, policy, at.as_of, model, progress=advance, make_views=False, evidence=False
            )
        with timed("data write"):
            paths = write_results(ws.con, run, out, fmt)
    finally:
        ws.close()
    return AttributedFiles(run.counts, at, paths, notes)


def explain_deal(
    ws: Workspace, opportunity_id: str, policy: Policy, at: AsOf, model: str, *, viewer: str | None = None
) -> ExplainReport:
    """Decide and explain one deal as of T from the data known at K: which partner, what evidence
    with dates, which guard blocked which claim, the cohort and its median. A deal not known at K,
    or created after T, is a :class:`~cosell.errors.NotFound` that says which.

    ``viewer`` is who reads (SPEC section 9, :mod:`cosell.service.readers`): a rep reads the deals
    it owns, a partner user the deals its partner is on, with its own credit only and every other
    partner's name and id hidden (as "another partner"), and no cohort deal ids; a deal they may
    not read is "no opportunity X", exactly as one that does not exist."""
    from cosell.attribution.explain import explain_opportunity
    from cosell.errors import CosellError
    from cosell.service.readers import no_opportunity, reader, sees_deal

    who = reader(ws.con, viewer)
    try:
        report = explain_opportunity(
            ws.con, opportunity_id, policy, at.as_of, model, known_at=at.known_at, credited_to=who.partner_id
        )
    except CosellError:
        # Why the deal cannot be explained (created after T, not known at K) is for a reader who
        # may read it (every deal, for a reader who reads all); to another, it does not exist.
        if not sees_deal(ws.con, who, opportunity_id):
            raise no_opportunity(opportunity_id) from None
        raise
    if who.reads_all:
        return report
    credited = frozenset(str(c["partner_id"]) for c in report.data["credits"])
    if not sees_deal(ws.con, who, opportunity_id, credited):
        raise no_opportunity(opportunity_id)
    if who.partner_id is None:
        return report
    return _seen_by_partner(ws, report, who.partner_id)


def _seen_by_partner(ws: Workspace, report: ExplainReport, partner_id: str) -> ExplainReport:
    """``report`` as ``partner_id``'s user reads it: every other partner's name and id hidden in
    its sentences and data (:func:`cosell.service.channel.other_partners`), the cohort's deal ids
    left out (other deals, not the reader's)."""
    from cosell.attribution.explain import ExplainReport
    from cosell.service.channel import other_partners

    others = other_partners(ws.con, partner_id)
    assert others is not None

    def hidden(value: object) -> object:
        if isinstance(value, str):
            return others.hide(value)
        if isinstance(value, list):
            return [hidden(v) for v in value]
        if isinstance(value, dict):
            return {k: hidden(v) for k, v in value.items()}
        return value

    data = dict(report.data)
    if data.get("acceleration"):
        data["acceleration"] = {**data["acceleration"], "cohort_deal_ids": []}
    data = {k: hidden(v) for k, v in data.items()}
    return ExplainReport(report.opportunity_id, tuple(others.hide(s) for s in report.sentences), data)


def deal_history(ws: Workspace, opportunity_id: str, *, viewer: str | None = None) -> list[HistoryEntry]:
    """Every version of a deal's attribution, oldest first: run, kind, who, when, why, policy, tier,
    partner, rules and credits (empty before the first run).

    ``viewer`` is who reads (SPEC section 9, :mod:`cosell.service.readers`), as for
    :func:`explain_deal`: a rep reads the deals it owns; a partner user the deals its partner is on
    (or was credited on in any version), each version with its own credit only and every other
    partner's name and id hidden (as "another partner") in the primary partner, the why and the
    source; a deal they may not read is "no opportunity X", exactly as one that does not exist."""
    from dataclasses import replace

    from cosell.hygiene.history import deal_versions
    from cosell.service.readers import hidden_from, no_opportunity, reader, sees_deal

    who = reader(ws.con, viewer)
    entries = deal_versions(ws.con, opportunity_id)
    if who.reads_all:
        return entries
    credited = frozenset(c.partner_id for e in entries for c in e.credits)
    if not sees_deal(ws.con, who, opportunity_id, credited):
        raise no_opportunity(opportunity_id)
    if who.partner_id is None:  # a rep: its own deal, whole
        return entries
    own = [replace(e, credits=tuple(c for c in e.credits if c.partner_id == who.partner_id)) for e in entries]
    return hidden_from(ws.con, who, own, ("primary_partner_id", "reason", "source"))
