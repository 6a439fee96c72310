"""Re-decide some deals for a partial version (an accepted fix, a decided dispute, an auto-tag,
an answered prompt).

:func:`redecide` reads only the deals' own rows and their cohorts' baselines as the newest full
run stored them (:mod:`cosell.attribution.per_deal`), so re-deciding a hundred deals costs the same
in a workspace of a thousand deals or of a million. When a stored baseline does not apply (no full
run under this policy, data imported since, a deal tested with another key), it falls back to one
of two whole-workspace implementations that are proven to agree row for row
(tests/attribution/test_engine_parity.py): in a small workspace the per-deal reference
(:func:`reattribute`), which reads every deal's facts into Python because cohort baselines need
every direct-only won deal; above :data:`REFERENCE_MAX_WORKSPACE` deals one batch engine run.
Either way the rows are exactly what a full run gives (tests/attribution/test_per_deal.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cosell.attribution.facts_read import load_facts
from cosell.attribution.per_deal import BaselineMoved, decide_deals
from cosell.attribution.reference import Decision, build_baselines, decide
from cosell.engine import Engine
from cosell.errors import NotFound
from cosell.instants import epoch_micros
from cosell.policy import Policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.store.attribution_store import RunRecord

# Workspaces up to this many opportunities fall back to the reference implementation.
REFERENCE_MAX_WORKSPACE = 20_000


@dataclass(frozen=True)
class Redecision:
    """New versions of some deals: their rows, credits, and the evidence each rests on."""

    rows: list[AttributionRow]
    credits: list[CreditRow]
    evidence: list[EvidenceRow]
    claims: list[ClaimRow]

    @classmethod
    def of(cls, decisions: Iterable[Decision]) -> Redecision:
        out = cls([], [], [], [])
        for d in decisions:
            out.rows.append(d.row())
            out.credits.extend(d.credit_rows())
            out.evidence.append(d.evidence_row())
            out.claims.extend(d.claim_rows())
        return out


def reattribute(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """Attribution and credit rows of ``opportunity_ids`` as of ``as_of``, on the rows known then.

    Reads the whole workspace (cohort baselines need every direct-only won deal) and decides only
    the deals asked for, with the overrides recorded up to ``as_of``. Rebuilds the ``v_<table>`` views.
    """
    found = _reference_all(con, policy, sorted(set(opportunity_ids)), as_of, model)
    return found.rows, found.credits


def _reference_all(
    con: Engine, policy: Policy, wanted: list[str], as_of: datetime, model: str | None
) -> Redecision:
    facts = load_facts(con, policy, as_of, existing_at=as_of)
    missing = [o for o in wanted if o not in facts.opportunities]
    if missing:
        raise NotFound(f"no opportunity {', '.join(missing)}")
    baselines = build_baselines(facts, policy, epoch_micros(as_of))
    chosen = model or policy.credit_model
    return Redecision.of(
        decide(o, facts, policy, as_of, chosen, baselines=baselines, known_at=as_of) for o in wanted
    )


def redecide_with_evidence(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> Redecision:
    """The deals' new versions as of ``as_of`` (with the overrides recorded so far), with their
    evidence: from their own rows and stored baselines when those apply, else by the reference
    implementation or the batch engine, whichever is cheaper for the workspace's size (see the
    module docstring). Rows sorted by deal, credits by partner."""
    wanted = sorted(set(opportunity_ids))
    chosen = model or policy.credit_model
    try:
        _, decisions = decide_deals(con, policy, wanted, as_of, chosen, known_at=as_of)
    except BaselineMoved:
        pass
    else:
        missing = sorted(set(wanted) - {d.opportunity_id for d in decisions})
        if missing:
            raise NotFound(f"no opportunity {', '.join(missing)}")
        return Redecision.of(decisions)
    row = con.execute("SELECT count(*) FROM cur_opportunities").fetchone()
    if row is None or int(row[0]) <= REFERENCE_MAX_WORKSPACE:
        return _reference_all(con, policy, wanted, as_of, chosen)
    return _engine_all(con, policy, wanted, as_of, chosen)


def _engine_all(con: Engine, policy: Policy, wanted: list[str], as_of: datetime, model: str) -> Redecision:
    from cosell.attribution.engine import attribute

    run = attribute(con, policy, as_of, model, known_at=as_of)
    where = "WHERE list_contains(?, opportunity_id) ORDER BY opportunity_id"
    rows = con.execute(f"{run.attribution_sql} {where}", [wanted]).fetchall()
    credits = con.execute(f"{run.credits_sql} {where}, partner_id", [wanted]).fetchall()
    evidence = con.execute(f"{run.evidence_sql} {where}", [wanted]).fetchall()
    claims = con.execute(f"{run.claims_sql} {where}, rule, partner_id, source", [wanted]).fetchall()
    return Redecision(
        [AttributionRow(*r) for r in rows],
        [CreditRow(*c) for c in credits],
        [EvidenceRow(*e) for e in evidence],
        [ClaimRow(*c) for c in claims],
    )


def redecide(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """The rows and credits of :func:`redecide_with_evidence`."""
    found = redecide_with_evidence(con, policy, opportunity_ids, as_of, model)
    return found.rows, found.credits


def current_versions(
    con: Engine, policy: Policy, opportunity_ids: Iterable[str]
) -> dict[str, tuple[int, str]]:
    """Each deal's newest stored version, known now: the run that made it and its credit model (a
    run stored without one: the policy's). A deal never attributed is left out. Rebuilds the
    ``v_attribution`` views."""
    from cosell.store.versions import attribution_views

    attribution_views(con)
    rows = con.execute(
        "SELECT opportunity_id, run_id, model FROM v_attribution WHERE list_contains(?, opportunity_id)",
        [sorted(set(opportunity_ids))],
    ).fetchall()
    return {str(r[0]): (int(r[1]), str(r[2] or policy.credit_model)) for r in rows}


def store_new_versions(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    at: datetime,
    *,
    kind: str,
    by_user: str,
    reason: str,
    current: Mapping[str, tuple[int, str]] | None = None,
) -> list[tuple[RunRecord, tuple[str, ...]]]:
    """:func:`store_new_version` keeping each deal's credit model: the model of its newest version
    (:func:`current_versions`; a deal never attributed: the policy's), so that a fix, a dispute,
    an auto-tag or an answer changes what it is about, never how the deal's credit is split, and
    the version is the one the next run with that model stores. One partial run per model in use
    (usually one), in model order, each with its deals. ``current`` is what
    :func:`current_versions` says of the deals, when the caller has read it already."""
    wanted = sorted(set(opportunity_ids))
    models = current_versions(con, policy, wanted) if current is None else current
    by_model: dict[str, list[str]] = {}
    for opportunity_id in wanted:
        model = models[opportunity_id][1] if opportunity_id in models else policy.credit_model
        by_model.setdefault(model, []).append(opportunity_id)
    return [
        (
            store_new_version(con, policy, deals, at, kind=kind, by_user=by_user, reason=reason, model=model),
            tuple(deals),
        )
        for model, deals in sorted(by_model.items())
    ]


def store_new_version(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    at: datetime,
    *,
    kind: str,
    by_user: str,
    reason: str,
    model: str | None = None,
) -> RunRecord:
    """Re-decide the deals as of ``at`` (:func:`redecide`) and store them as one partial run of
    ``kind`` recorded at ``at`` (an accepted fix, a decided dispute, an auto-tag, an answered
    prompt). Opens no transaction: the caller makes it all or nothing with its own writes."""
    from cosell.store.versions import save_partial_run

    chosen = model or policy.credit_model
    found = redecide_with_evidence(con, policy, opportunity_ids, at, chosen)
    return save_partial_run(
        con, found.rows, found.credits, kind=kind, by_user=by_user, reason=reason,
        policy_version=policy.version, model=chosen, as_of=at, run_at=at,
        evidence=found.evidence, claims=found.claims,
    )  # fmt: skip
