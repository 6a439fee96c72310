"""Build the batch engine's plan: SPEC sections 2 and 3 as Ibis expressions, compiled to SQL steps.

The rules are relational steps (``engine_touches``, ``engine_evidence``, ``engine_cohort``,
``engine_credit``, ``engine_output``) over the ``v_<table>`` views; :func:`build_plan` records
them, in order, as a :class:`~cosell.attribution.engine_plan.Plan` that
:func:`cosell.attribution.engine.attribute` caches and runs. Nothing here touches data.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.types as ir

from cosell.attribution import credit
from cosell.attribution.engine_base import Placeholders, Runner, nz, union_all, us
from cosell.attribution.engine_cohort import build_acceleration, check_rates, with_band
from cosell.attribution.engine_credit import apply_overrides, build_credits, build_roles
from cosell.attribution.engine_evidence import build_evidence
from cosell.attribution.engine_output import build_output
from cosell.attribution.engine_params import Shape, check_placeholders
from cosell.attribution.engine_plan import Plan
from cosell.attribution.engine_record import build_record
from cosell.attribution.engine_touches import blocking_touches, build_deals, build_touches
from cosell.engine import DUCKDB, Dialect


def build_plan(
    inputs: Iterable[tuple[str, str, str]], shape: Shape, model: str, dialect: Dialect = DUCKDB
) -> Plan:
    """The plan of one model over relations with these columns (``inputs``), for every policy of
    ``shape`` and every as-of instant: their values are placeholders written in when it runs
    (:mod:`cosell.attribution.engine_params`)."""
    with collector_paused():
        return _build(inputs, shape, model, dialect)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a plan is built. Ibis makes hundreds of
    thousands of small objects, and the collections they set off walk every object of the
    process (the modules of Ibis and sqlglot among them): about a tenth of a build's CPU. What
    the build drops in reference cycles meanwhile (a few MB) is collected after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _build(inputs: Iterable[tuple[str, str, str]], shape: Shape, model: str, dialect: Dialect) -> Plan:
    p = Placeholders(shape)
    run = Runner(inputs, dialect)
    deals = build_deals(run, p)
    run.tick()
    assoc, direct_first = build_touches(run, p, deals)
    run.tick()
    ev = build_evidence(run, p, deals, assoc, direct_first)
    run.tick()
    facts = _facts(run, p, deals, ev)
    run.tick()
    cand = facts.filter(facts.won & facts.winner.isnull() & facts.e_us.notnull())
    base = facts.filter(facts.won & facts.direct_only)
    both = union_all([cand.select(*deals.columns), base.select(*deals.columns)]).distinct()
    banded = run.step("banded", with_band(run, p, both))
    bands = banded.select("opp_id", "band", "month_label", "quarter_label")
    cand_b = cand.select("opp_id", "c_us", "x_us", "e_us", "first_stage", "segment", "currency").join(
        bands, "opp_id"
    )
    base_b = base.select("opp_id", "c_us", "x_us", "segment", "currency").join(bands, "opp_id")
    check_rates(run, p, cand_b, base_b)
    acc = build_acceleration(run, p, deals, cand_b, base_b)
    run.tick()
    overrides = _overrides(run, p)
    decided = _tiers(run, p, facts, acc, overrides)
    weights = p.weights()
    roles = build_roles(run, ev, deals, weights)
    roles = apply_overrides(run, roles, overrides, weights)
    paid = decided.filter(decided.tier != "none").select("opp_id")
    roles = run.step("roles_paid", roles.semi_join(paid, "opp_id"))
    fallback: ir.Table | None
    if model in credit.TOUCH_MODELS:
        from cosell.attribution.engine_touch_models import touch_credits

        credits, fallback = touch_credits(run, roles, deals)
    else:
        credits = build_credits(run, roles, deals, model)
        fallback = None
    run.tick()
    # The earliest direct touch of each deal with a blocked claim, read by the evidence ids and by
    # the stored claims: one step, as it reads the touches again.
    blocked = ev.claims.filter(ev.claims.blocked).select("opp_id").distinct()
    blockers = run.step("blockers", blocking_touches(run, p, deals, direct_first, blocked))
    build_output(run, p, model, decided, credits, fallback, ev, assoc, blockers)
    # Evidence stored with the run (docs/evidence.md): what each decision rests on.
    build_record(run, decided, bands, ev.claims, assoc, blockers)
    run.tick()
    plan = run.plan()
    check_placeholders((op.sql for op in plan.ops), shape, p.used)
    return plan


def _overrides(run: Runner, p: Placeholders) -> ir.Table:
    """The newest override per deal recorded and not withdrawn at ``known_us`` (the knowledge
    instant, else the as-of instant: written in when the plan runs)."""
    if not run.has_input("attribution_overrides"):
        o = run.table("v_opportunities")
        none = o.filter(ibis.literal(False)).select(
            opp_id=o.opportunity_id, ov_tier=ibis.null("string"), ov_partner=ibis.null("string")
        )
        return run.step("overrides", none)
    o = run.table("attribution_overrides")
    known_us = p.known_us
    known = (us(o.recorded_at) <= known_us) & (o.withdrawn_at.isnull() | (us(o.withdrawn_at) > known_us))
    o = o.filter(known)
    newest = ibis.row_number().over(
        group_by=o.opportunity_id, order_by=[ibis.desc(o.recorded_at), ibis.desc(o.override_id)]
    )
    o = o.mutate(pos=newest).filter(lambda x: x.pos == 0)
    return run.step(
        "overrides", o.select(opp_id=o.opportunity_id, ov_tier=o.tier, ov_partner=nz(o.partner_id))
    )


def _facts(run: Runner, p: Placeholders, deals: ir.Table, ev: Any) -> ir.Table:
    """Per deal: everything the tier decision reads (flags from every evidence table)."""
    op = run.table("_cosell_eng_op")
    op_flags = op.group_by("opp_id").aggregate(
        has_op=(op.role != "reseller").any(), has_reseller=(op.role == "reseller").any()
    )
    lead_flags = ev.leads.group_by("opp_id").aggregate(has_lead=ev.leads.partner.count() > 0)
    reg_flags = ev.regs.group_by("opp_id").aggregate(has_reg=ev.regs.partner.count() > 0)

    # Declared roles that need logged activity: influencer / co_seller rows, the CRM partner
    # declared influenced or accelerated, and blocked S4 declarations.
    crm = deals.filter(deals.partner_source.isin(["influenced", "accelerated"]) & deals.crm_partner.notnull())
    blocked_s4 = ev.claims.filter((ev.claims.rule == "S4") & ev.claims.blocked)
    declared = union_all(
        [
            op.filter(op.role.isin(["influencer", "co_seller"])).select(
                "opp_id", "partner", is_crm=ibis.literal(False)
            ),
            crm.select("opp_id", partner=crm.crm_partner, is_crm=ibis.literal(True)),
            blocked_s4.select(
                "opp_id", "partner", is_crm=ibis.coalesce(blocked_s4.source_id == "crm", False)
            ),
        ]
    )
    # The tier-1 winner's own declarations are moot: it is the sourcer.
    winners = ev.sourcing.select(w_opp="opp_id", w_partner="winner")
    declared = declared.left_join(winners, declared.opp_id == winners.w_opp)
    declared = declared.filter(declared.w_partner.isnull() | (declared.partner != declared.w_partner))
    declared = declared.select("opp_id", "partner", "is_crm")
    pt = ev.partner_touch
    declared = declared.left_join(pt, ["opp_id", "partner"]).drop("opp_id_right", "partner_right")
    logs = deals.select(log_opp="opp_id", has_log="has_log")
    declared = declared.left_join(logs, declared.opp_id == logs.log_opp)
    active = (ibis.coalesce(declared.n_before, 0) > 0) | (
        declared.is_crm & ibis.coalesce(declared.has_log, False)
    )
    declared = declared.mutate(active=active)
    decl_flags = declared.group_by("opp_id").aggregate(
        declared_ok=(declared.active | ~p.requires_activity).any(),
        no_activity=(~declared.active).any() & p.requires_activity,
    )

    f = deals
    for t in (ev.sourcing, ev.deal_touch, op_flags, lead_flags, reg_flags, decl_flags):
        f = f.left_join(t, "opp_id").drop("opp_id_right")
    partner_before = ibis.coalesce(f.n_before, 0) > 0
    has_op = ibis.coalesce(f.has_op, False)
    has_lead = ibis.coalesce(f.has_lead, False)
    has_reg = ibis.coalesce(f.has_reg, False)
    declares = f.crm_partner.notnull() | (ibis.coalesce(f.partner_source, "none") != "none")
    f = f.mutate(
        partner_before=partner_before,
        has_lead=has_lead,
        has_reg=has_reg,
        has_reseller=ibis.coalesce(f.has_reseller, False),
        declared_ok=ibis.coalesce(f.declared_ok, False),
        no_activity=ibis.coalesce(f.no_activity, False),
        direct_only=~(partner_before | has_op | has_lead | has_reg | declares),
    )
    return run.step("facts", f)


def _tiers(run: Runner, p: Placeholders, facts: ir.Table, acc: ir.Table, overrides: ir.Table) -> ir.Table:
    f = facts.left_join(acc, "opp_id").drop("opp_id_right")
    f = f.left_join(overrides, "opp_id").drop("opp_id_right")
    evaluated = f.won & f.winner.isnull() & f.e_us.notnull()
    accelerated = evaluated & ibis.coalesce(f.acc, False)
    influenced = f.partner_before | f.has_lead | f.has_reg | f.declared_ok
    computed = ibis.cases(
        (f.winner.notnull(), "sourced"),
        (accelerated, "accelerated"),
        (influenced, "influenced"),
        else_="none",
    )
    f = f.mutate(computed_tier=computed, evaluated=evaluated)
    f = f.mutate(tier=ibis.coalesce(f.ov_tier, f.computed_tier))
    return run.step("decided", f)
