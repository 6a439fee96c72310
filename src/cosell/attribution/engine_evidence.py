"""Batch engine, step 2: partner leads, registrations, sourcing claims, the direct-first guard and
the per-partner evidence every later step reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Placeholders, Runner, lit, nz, union_all, us

# Rule rank among tied evidence times: S2, then S1, S3, S4.
RANK = {"S2": 0, "S1": 1, "S3": 2, "S4": 3}


@dataclass(frozen=True)
class Evidence:
    """The evidence tables of one run."""

    leads: ir.Table  # opp_id, lead_id, partner, created_us
    regs: ir.Table  # opp_id, registration_id, partner, registered_us
    claims: ir.Table  # opp_id, partner, rule, t, rank, blocked, guard, source_id
    sourcing: ir.Table  # opp_id, winner, winner_rule, n_sourcers, S1..S4, DIRECT_FIRST, TIE_TO_DIRECT
    partner_touch: ir.Table  # opp_id, partner, n_before, first_before, n_after
    deal_touch: ir.Table  # opp_id, e_us, has_partner_before


def build_leads(run: Runner, deals: ir.Table) -> ir.Table:
    le = run.table("v_leads")
    leads = le.select(
        lead_id=nz(le.lead_id),
        partner=nz(le.partner_id),
        created_us=us(le.created_at),
        conv_opp=nz(le.converted_opportunity_id),
    ).filter(lambda x: x.partner.notnull())
    d = deals.select("opp_id", "source_lead_id")
    by_source = leads.join(d, leads.lead_id == d.source_lead_id).select(
        "opp_id", "lead_id", "partner", "created_us"
    )
    by_conv = leads.join(d, leads.conv_opp == d.opp_id).select("opp_id", "lead_id", "partner", "created_us")
    return run.step("leads", union_all([by_source, by_conv]).distinct())


def build_registrations(run: Runner, p: Placeholders, deals: ir.Table) -> ir.Table:
    r = run.table("v_deal_registrations")
    regs = r.select(
        registration_id=nz(r.registration_id),
        partner=nz(r.partner_id),
        reg_account=nz(r.account_id),
        registered_us=us(r.registered_at),
        status=nz(r.status),
        approved_us=us(r.approved_at),
        reg_opp=nz(r.opportunity_id),
        expires_us=us(r.expires_at),
    )
    d = deals.select("opp_id", "account_id", "c_us")
    linked = regs.join(d, regs.reg_opp == d.opp_id)
    unlinked = regs.filter(regs.reg_opp.isnull())
    unlinked = unlinked.join(d, (unlinked.reg_account == d.account_id) & (d.c_us >= unlinked.registered_us))
    first = ibis.row_number().over(
        group_by=unlinked.registration_id, order_by=[unlinked.c_us, unlinked.opp_id]
    )
    unlinked = unlinked.mutate(pick=first).filter(lambda x: x.pick == 0).drop("pick")
    cols = ["opp_id", "c_us", "registration_id", "partner", "registered_us", "status"]
    cols += ["approved_us", "expires_us"]
    both = union_all([linked.select(*cols), unlinked.select(*cols)])
    expiry = ibis.coalesce(both.expires_us, both.registered_us + p.protection_us)
    valid = (
        (
            (both.status == "approved")
            | ((both.status == "expired") & both.expires_us.notnull() & (both.expires_us > both.c_us))
        )
        & (both.approved_us.isnull() | (both.approved_us <= both.c_us))
        & (both.registered_us <= both.c_us)
        & (expiry > both.c_us)
        & both.partner.notnull()
    )
    out = both.filter(valid).select("opp_id", "registration_id", "partner", "registered_us")
    return run.step("regs", out)


def build_evidence(
    run: Runner, p: Placeholders, deals: ir.Table, assoc: ir.Table, direct_first: ir.Table
) -> Evidence:
    leads = build_leads(run, deals)
    regs = build_registrations(run, p, deals)
    d = deals.select("opp_id", "c_us", "x_us", "crm_partner", "partner_source", "ped_us")

    # Partner engagement per (deal, partner) and per deal.
    pa = assoc.join(d.select("opp_id", "x_us"), "opp_id")
    before = pa.t <= pa.x_us
    deal_touch = pa.group_by("opp_id").aggregate(e_us=pa.t.min(where=before), n_before=before.sum())
    deal_touch = run.step("deal_touch", deal_touch)
    pa_p = pa.filter(pa.partner.notnull())
    before_p = pa_p.t <= pa_p.x_us
    partner_touch = pa_p.group_by(["opp_id", "partner"]).aggregate(
        n_before=before_p.sum(),
        first_before=pa_p.t.min(where=before_p),
        n_after=(~before_p).sum(),
    )
    partner_touch = run.step("partner_touch", partner_touch)

    # S3: the earliest engagement touch (either side) associated with O inside the lookback: the
    # partner touches at the earliest partner instant, unless a direct touch came before.
    al = assoc.join(d.select("opp_id", "c_us"), "opp_id")
    al = al.filter((al.t >= al.c_us - p.lookback_us) & (al.t <= al.c_us))
    al = al.left_join(direct_first.select("opp_id", "s3_direct"), "opp_id").drop("opp_id_right")
    al = al.mutate(t0=al.t.min().over(group_by=al.opp_id))
    s3 = al.filter((al.t == al.t0) & (al.s3_direct.isnull() | (al.t <= al.s3_direct)))
    s3 = s3.group_by(["opp_id", "partner"]).aggregate(t=s3.t.min(), source_id="touch:" + s3.touch_id.min())

    lc = leads.join(d.select("opp_id", "c_us"), "opp_id")
    s1 = lc.filter((lc.created_us >= lc.c_us - p.lookback_us) & (lc.created_us <= lc.c_us))
    op = run.table("v_opportunity_partners")
    opr = op.select(
        opp_id=nz(op.opportunity_id),
        partner=nz(op.partner_id),
        role=op.role,
        added_us=us(op.added_at),
    ).distinct()
    opr = run.step("op", opr)
    s4_op = opr.filter(opr.role == "sourcer").join(d.select("opp_id", "c_us"), "opp_id")
    s4_crm = d.filter((d.partner_source == "sourced") & d.crm_partner.notnull())
    claims = union_all(
        [
            s1.select("opp_id", "partner", rule=lit("S1"), t=s1.created_us, source_id="lead:" + s1.lead_id),
            regs.select(
                "opp_id",
                "partner",
                rule=lit("S2"),
                t=regs.registered_us,
                source_id="registration:" + regs.registration_id,
            ),
            s3.select("opp_id", "partner", rule=lit("S3"), t=s3.t, source_id=s3.source_id),
            s4_op.select(
                "opp_id",
                "partner",
                rule=lit("S4"),
                t=ibis.coalesce(s4_op.added_us, s4_op.c_us),
                source_id=ibis.null("string"),
            ),
            s4_crm.select(
                "opp_id",
                partner=s4_crm.crm_partner,
                rule=lit("S4"),
                t=ibis.coalesce(s4_crm.ped_us, s4_crm.c_us),
                source_id=lit("crm"),
            ),
        ]
    )
    claims = claims.left_join(direct_first.select("opp_id", "d_first"), "opp_id").drop("opp_id_right")
    blocked = claims.d_first.notnull() & (claims.d_first <= claims.t)
    claims = claims.mutate(
        rank=ibis.cases(*((claims.rule == k, v) for k, v in RANK.items()), else_=9),
        blocked=blocked,
        guard=ibis.ifelse(
            blocked,
            ibis.ifelse(claims.d_first < claims.t, "DIRECT_FIRST", "TIE_TO_DIRECT"),
            ibis.null("string"),
        ),
    )
    claims = run.step("claims", claims)

    ok = claims.filter(~claims.blocked)
    order = ibis.row_number().over(group_by=ok.opp_id, order_by=[ok.t, ok.rank, ok.partner])
    best = ok.mutate(pos=order).filter(lambda x: x.pos == 0)
    flags = claims.group_by("opp_id").aggregate(
        S1=((claims.rule == "S1") & ~claims.blocked).any(),
        S2=((claims.rule == "S2") & ~claims.blocked).any(),
        S3=((claims.rule == "S3") & ~claims.blocked).any(),
        S4=((claims.rule == "S4") & ~claims.blocked).any(),
        DIRECT_FIRST=(claims.guard == "DIRECT_FIRST").any(),
        TIE_TO_DIRECT=(claims.guard == "TIE_TO_DIRECT").any(),
        n_sourcers=claims.partner.nunique(where=~claims.blocked),
    )
    sourcing = flags.left_join(
        best.select("opp_id", winner=best.partner, winner_rule=best.rule, winner_t=best.t), "opp_id"
    ).drop("opp_id_right")
    sourcing = run.step("sourcing", sourcing)
    return Evidence(leads, regs, claims, sourcing, partner_touch, deal_touch)
