"""Batch engine, record step: the evidence of every decision, as the rows stored with the run.

Reads intermediate tables of one run and leaves two tables for the caller to store with the
attribution (:func:`cosell.store.attribution_store.save_run`, :mod:`cosell.store.evidence_store`):
``cosell_evidence`` (one row per deal, :class:`~cosell.results.EvidenceRow`) and ``cosell_claims``
(one row per sourcing claim, :class:`~cosell.results.ClaimRow`), formatted exactly as the
reference implementation writes them (:meth:`cosell.attribution.reference.Decision.evidence_row`);
the parity test holds the two together (tests/attribution/test_evidence_parity.py).

The inputs, all already computed by the rules (nothing here decides anything):

- ``decided``: per deal, the deal columns (c_us, x_us, closed, won, segment), the sourcing winner,
  E (e_us), direct_only, computed_tier, whether acceleration was evaluated, and the acceleration
  columns (s, first_t, whole_cycle, cohort, cohort_size, m2);
- ``bands``: opp_id, band (the acceleration candidates and the direct-only won deals);
- ``claims``: opp_id, partner, rule, t, source_id, blocked, guard, d_first;
- ``partner_assoc``: the associated partner-engagement touches (opp_id, touch_id, t);
- ``blockers``: opp_id, d_touch (the earliest direct touch inside the lookback).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Runner, instant_fraction, instant_text, int_div
from cosell.attribution.engine_plan import CLAIMS_OUTPUT, EVIDENCE_OUTPUT
from cosell.results import ClaimRow, EvidenceRow


def half_micros_expr(doubled: ir.IntegerValue) -> ir.StringValue:
    """Half an integer of microseconds as exact text (:func:`cosell.results.half_micros_text`)."""
    mag = doubled.abs()
    text = (
        ibis.ifelse(doubled < 0, "-", "")
        + int_div(mag, 2).cast("string")
        + ibis.ifelse(mag % 2 == 1, ".5", "")
    )
    return ibis.ifelse(doubled.isnull(), ibis.null("string"), text)


def build_record(
    run: Runner,
    decided: ir.Table,
    bands: ir.Table,
    claims: ir.Table,
    partner_assoc: ir.Table,
    blockers: ir.Table,
) -> None:
    """Write the ``cosell_evidence`` and ``cosell_claims`` tables of the run."""
    d = decided
    at_e = partner_assoc.join(d.select("opp_id", "e_us"), "opp_id")
    at_e = at_e.filter(at_e.t == at_e.e_us)
    e_touch = at_e.group_by("opp_id").aggregate(e_touch=at_e.touch_id.min())
    f = d.left_join(e_touch, "opp_id").drop("opp_id_right")
    f = f.left_join(bands.select("opp_id", b_band="band"), "opp_id").drop("opp_id_right")
    blank = ibis.literal("")
    # The whole-cycle fallback measures from creation (docs/rules.md, Acceleration).
    f = f.mutate(entered=ibis.ifelse(ibis.coalesce(f.whole_cycle, False), f.c_us, f.first_t))
    # The instants' fractions as columns first: the texts refer to them (instant_fraction).
    f = f.mutate(
        c_frac=instant_fraction(f.c_us),
        x_frac=instant_fraction(f.x_us),
        e_frac=instant_fraction(f.e_us),
        entered_frac=instant_fraction(f.entered),
    )
    tested = ibis.coalesce(f.evaluated, False)
    entered = f.entered
    with_cohort = tested & f.cohort.notnull()
    evidence = f.select(
        opportunity_id=f.opp_id,
        status=ibis.cases((f.won, "won"), (f.closed, "lost"), else_="open"),
        created_at=instant_text(f.c_us, f.c_frac),
        closed_at=ibis.ifelse(f.closed, instant_text(f.x_us, f.x_frac), blank),
        engagement_at=ibis.coalesce(instant_text(f.e_us, f.e_frac), blank),
        engagement_touch_id=ibis.coalesce(f.e_touch, blank),
        direct_only=ibis.ifelse(f.direct_only, "true", "false"),
        sourcer=ibis.coalesce(f.winner, blank),
        computed_tier=f.computed_tier,
        segment=f.segment,
        band=ibis.coalesce(f.b_band.cast("string"), blank),
        stage=ibis.ifelse(tested, f.s, blank),
        stage_entered_at=ibis.ifelse(tested, instant_text(entered, f.entered_frac), blank),
        remaining_us=ibis.ifelse(tested, (f.x_us - entered).cast("string"), blank),
        cohort=ibis.ifelse(with_cohort, f.cohort, blank),
        cohort_size=ibis.ifelse(with_cohort, f.cohort_size.cast("string"), blank),
        baseline_us=ibis.ifelse(with_cohort, half_micros_expr(f.m2), blank),
    )
    _output(run, EVIDENCE_OUTPUT, evidence.select(*EvidenceRow.columns()))

    c = claims.left_join(blockers.select("opp_id", "d_touch"), "opp_id").drop("opp_id_right")
    source = ibis.cases(
        (c.source_id.isnull(), "opportunity_partner:" + c.partner),
        (c.source_id == "crm", ibis.literal("crm:partner_id")),
        else_=c.source_id,
    )
    c = c.mutate(t_frac=instant_fraction(c.t), d_frac=instant_fraction(c.d_first))
    rows = c.select(
        opportunity_id=c.opp_id,
        partner_id=c.partner,
        rule=c.rule,
        claimed_at=instant_text(c.t, c.t_frac),
        source=source,
        guard=ibis.coalesce(c.guard, blank),
        blocking_touch_id=ibis.ifelse(c.blocked, c.d_touch, blank),
        blocking_at=ibis.ifelse(c.blocked, instant_text(c.d_first, c.d_frac), blank),
    )
    _output(run, CLAIMS_OUTPUT, rows.select(*ClaimRow.columns()))


def _output(run: Runner, name: str, expr: ir.Table) -> None:
    """Keep ``expr`` as the temp table ``name`` for the caller (replaced by the next run)."""
    run.output(name, expr)
