"""Batch engine, step 4: each partner's role on a deal, overrides, and role-weighted or even credit.

Credit is exact integer arithmetic in the currency's minor unit: every part is floored, and the
units left over go one each to the largest remainders (ties: larger role weight, then smaller
partner_id), so the parts add up to the deal amount to the cent. Touch-based models are computed
by :mod:`cosell.attribution.engine` from the reference's pure credit functions.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Runner, int_div, millionths_text, union_all, wide
from cosell.attribution.engine_evidence import Evidence
from cosell.attribution.engine_output import minor_scale, share_millionths
from cosell.money import MINOR_UNITS
from cosell.policy import ROLES

ROLE_ORDER = {role: i for i, role in enumerate(ROLES)}


def weight_of(role: ir.StringValue, weights: dict[str, ir.IntegerValue]) -> ir.IntegerValue:
    """The role's weight (placeholders written in when the plan runs); 0 for a role not weighted."""
    return ibis.cases(*((role == r, w) for r, w in weights.items()), else_=0).cast("int64")


def minor_unit_of(currency: ir.StringValue) -> ir.IntegerValue:
    non_two = {c: d for c, d in MINOR_UNITS.items() if d != 2}
    return ibis.cases(*((currency == c, d) for c, d in sorted(non_two.items())), else_=2).cast("int64")


def build_roles(run: Runner, ev: Evidence, deals: ir.Table, weights: dict[str, ir.IntegerValue]) -> ir.Table:
    """Every partner with evidence on a deal and the role SPEC section 3 gives it (all deals)."""
    op = run.table("_cosell_eng_op")
    s = ev.sourcing
    winner = s.filter(s.winner.notnull()).select("opp_id", partner=s.winner, prio=ibis.literal(0))
    declared = op.filter(op.role.isin(["co_seller", "reseller", "influencer", "servicer"]))
    declared = declared.select("opp_id", "partner", "role", prio=ibis.literal(1))
    crm = deals.filter(deals.crm_partner.notnull()).select("opp_id", partner=deals.crm_partner)
    pt = ev.partner_touch
    influencer = union_all(
        [
            op.filter(op.role == "sourcer").select("opp_id", "partner"),
            crm,
            ev.leads.select("opp_id", "partner"),
            ev.regs.select("opp_id", "partner"),
            pt.filter(pt.n_before > 0).select("opp_id", "partner"),
            ev.claims.select("opp_id", "partner"),
        ]
    ).select("opp_id", "partner", prio=ibis.literal(2))
    servicer = pt.filter(pt.n_after > 0).select("opp_id", "partner", prio=ibis.literal(3))
    rows = union_all(
        [
            winner.mutate(role=ibis.literal("sourcer")).select("opp_id", "partner", "role", "prio"),
            declared,
            influencer.mutate(role=ibis.literal("influencer")).select("opp_id", "partner", "role", "prio"),
            servicer.mutate(role=ibis.literal("servicer")).select("opp_id", "partner", "role", "prio"),
        ]
    )
    rows = rows.filter(rows.partner.notnull())
    rows = rows.mutate(
        w=weight_of(rows.role, weights),
        order=ibis.cases(*((rows.role == r, i) for r, i in ROLE_ORDER.items()), else_=9),
    )
    pick = ibis.row_number().over(
        group_by=[rows.opp_id, rows.partner], order_by=[rows.prio, ibis.desc(rows.w), rows.order]
    )
    roles = rows.mutate(pos=pick).filter(lambda x: x.pos == 0).select("opp_id", "partner", "role")
    return run.step("roles", roles)


def apply_overrides(
    run: Runner, roles: ir.Table, overrides: ir.Table, weights: dict[str, ir.IntegerValue]
) -> ir.Table:
    """Roles after the overrides (``overrides``: opp_id, ov_tier, ov_partner; one row per deal)."""
    r = roles.left_join(overrides, "opp_id").drop("opp_id_right")
    named = r.ov_partner.notnull() & (r.partner == r.ov_partner)
    sourced_ov = r.ov_tier == "sourced"
    role = ibis.cases(
        (sourced_ov & named, "sourcer"),
        (r.ov_tier.notnull() & (r.role == "sourcer"), "influencer"),
        else_=r.role,
    )
    kept = r.select("opp_id", "partner", role=role)
    ov = overrides.filter(overrides.ov_partner.notnull() & (overrides.ov_tier != "none"))
    added = ov.anti_join(roles, (ov.opp_id == roles.opp_id) & (ov.ov_partner == roles.partner)).select(
        "opp_id",
        partner=ov.ov_partner,
        role=ibis.ifelse(ov.ov_tier == "sourced", "sourcer", "influencer"),
    )
    out = union_all([kept, added])
    return run.step("roles_final", out.mutate(w=weight_of(out.role, weights)))


def build_credits(run: Runner, roles: ir.Table, deals: ir.Table, model: str) -> ir.Table:
    """role_weighted or even credit for every role row of ``roles`` (deals in a partner tier).

    role_weighted with every weight of a deal's roles at 0 splits evenly, as the reference does.
    Returns opp_id, partner, role, w, units, mu, currency, share (text).
    """
    d = deals.select("opp_id", "amount", "currency")
    r = roles.join(d, "opp_id")
    total_w = r.w.sum().over(ibis.window(group_by=r.opp_id))
    even = ibis.literal(1, "int64")
    num = ibis.ifelse(total_w == 0, 1, r.w) if model == "role_weighted" else even
    r = r.mutate(share_num=num.cast("int64"), mu=minor_unit_of(r.currency))
    return split(run, r)


def split(run: Runner, r: ir.Table) -> ir.Table:
    """Largest-remainder split of each deal's amount by ``share_num`` (integers per partner).

    An amount in minor units fits 64 bits (DECIMAL(18,4): below 10**18), but times a share
    numerator (a role weight, up to 1,000,000) it need not: the product, its quotient and its
    remainder are 128-bit integers (:func:`wide`), and each part is cast back to 64 bits.
    """
    by_deal = ibis.window(group_by=r.opp_id)
    r = r.mutate(share_den=r.share_num.sum().over(by_deal))
    scale = minor_scale(r.mu)
    # The amount is rounded once to the minor unit (half away from zero), then split in units.
    rounded = ibis.cases(*((r.mu == k, r.amount.round(k)) for k in range(5)), else_=r.amount.round(0))
    r = r.mutate(total=(rounded.cast("decimal(38,4)") * scale).cast("int64"))
    mag = r.total.abs()
    exact = wide(mag) * r.share_num
    den = ibis.ifelse(r.share_den == 0, 1, r.share_den)
    r = r.mutate(floor=int_div(exact, den), rem=exact % den, den=den)
    r = r.mutate(left=mag - r.floor.sum().over(ibis.window(group_by=r.opp_id)))
    pos = ibis.row_number().over(group_by=r.opp_id, order_by=[ibis.desc(r.rem), ibis.desc(r.w), r.partner])
    r = r.mutate(pos=pos)
    units = r.floor + ibis.ifelse(r.pos < r.left, 1, 0)
    r = r.mutate(units=ibis.ifelse(r.total < 0, -units, units).cast("int64"))
    r = r.mutate(share_q=share_millionths(r.share_num, r.den))
    return run.step(
        "credits",
        r.select(
            "opp_id", "partner", "role", "w", "units", "mu", "currency", share=millionths_text(r.share_q)
        ),
    )
