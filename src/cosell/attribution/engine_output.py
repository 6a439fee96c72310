"""Batch engine, last step: the attribution and credits rows as the formatted strings of
:mod:`cosell.results` (days with six decimals, instants in ISO 8601 UTC, shares and
amounts exact), left in two temp tables for the caller to store or write.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import (
    Placeholders,
    Runner,
    days_quotient,
    days_text,
    instant_fraction,
    instant_text,
    int_div,
    lit,
    union_all,
)
from cosell.attribution.engine_plan import ATTRIBUTION_TABLE, CREDITS_TABLE
from cosell.instants import MICROS_PER_DAY
from cosell.results import AttributionRow, CreditRow


def share_millionths(num: ir.IntegerValue, den: ir.IntegerValue) -> ir.IntegerValue:
    """``num / den`` in millionths, rounded half-even (den > 0, 0 <= num <= den): the integer a
    share's text writes (:func:`cosell.attribution.engine_base.millionths_text`). The plan computes
    it as a column of its own first, so that the text refers to it instead of repeating it seven
    times (the statement's size is what the engine's binding costs, on every run)."""
    scaled = num.cast("int64") * 1_000_000
    q = int_div(scaled, den)
    r = scaled % den
    up = (r * 2 > den) | ((r * 2 == den) & (q % 2 == 1))
    return ibis.ifelse(up, q + 1, q)


def amount_text(units: ir.IntegerValue, mu: ir.IntegerValue, scale: ir.IntegerValue) -> ir.StringValue:
    """Minor units as the deal currency's amount: 123456 with 2 digits is ``1234.56``. ``mu`` is a
    minor unit's digits (0 to 4), ``scale`` its :func:`minor_scale`, computed as a column first
    (written out in the text it was the statement's largest part, six times over); the
    fraction's digits are the last ``mu`` of ``mag % scale + scale``."""
    mag = units.abs()
    whole = int_div(mag, scale).cast("string")
    frac = (mag % scale + scale).cast("string").right(mu.cast("int32"))
    # Each part written once: an ifelse around the whole text would repeat it in the statement.
    return ibis.ifelse(units < 0, "-", "") + whole + ibis.ifelse(mu == 0, "", "." + frac)


def minor_scale(mu: ir.IntegerValue) -> ir.IntegerValue:
    """``10 ** mu`` for a minor unit's digits (0 to 4)."""
    return ibis.cases(*((mu == k, 10**k) for k in range(5)), else_=1).cast("int64")


def rules_text(f: ir.Table, fallback: Any) -> ir.StringValue:
    s = {
        "S1": f.S1,
        "S2": f.S2,
        "S3": f.S3,
        "S4": f.S4,
        "ACC": f.tier_acc,
        "INF": f.tier_inf,
        "OVR": f.ov_tier.notnull(),
        "DIRECT_FIRST": f.DIRECT_FIRST,
        "TIE_TO_DIRECT": f.TIE_TO_DIRECT,
        "DOUBLE_SOURCED": ibis.coalesce(f.n_sourcers, 0) >= 2,
        "MARKETPLACE_NOT_SOURCE": f.has_reseller,
        "NO_ACTIVITY": f.no_activity,
        "NO_BASELINE": f.evaluated & f.no_baseline,
        "NOT_FASTER": f.evaluated & ~ibis.coalesce(f.no_baseline, True) & ~ibis.coalesce(f.acc, False),
        "WHOLE_CYCLE": f.evaluated & ibis.coalesce(f.whole_cycle, False),
        "TOUCH_MODEL_FALLBACK": fallback,
    }
    parts = [ibis.ifelse(ibis.coalesce(cond, False), rule, ibis.null("string")) for rule, cond in s.items()]
    return lit(" ").join(parts)


def build_output(
    run: Runner,
    p: Placeholders,
    model: str,
    decided: ir.Table,
    credits: ir.Table,
    fallback: ir.Table | None,
    evidence: Any,
    assoc: ir.Table,
    blockers: ir.Table,
) -> None:
    """Record the ``cosell_attribution`` and ``cosell_credits`` temp tables as the plan's outputs."""
    c = credits
    scaled = c.mutate(scale=minor_scale(c.mu))
    credit_rows = scaled.select(
        opportunity_id=scaled.opp_id,
        partner_id=scaled.partner,
        role=scaled.role,
        share=scaled.share,
        amount=amount_text(scaled.units, scaled.mu, scaled.scale),
        currency=scaled.currency,
    )
    run.output(CREDITS_TABLE, credit_rows.select(*CreditRow.columns()))

    pick = ibis.row_number().over(
        group_by=c.opp_id,
        order_by=[ibis.desc(c.role == "sourcer"), ibis.desc(c.units), ibis.desc(c.w), c.partner],
    )
    primary = c.mutate(pos=pick).filter(lambda x: x.pos == 0).select("opp_id", primary=lambda x: x.partner)

    f = decided.left_join(primary, "opp_id").drop("opp_id_right")
    ids = evidence_ids(run, credits, evidence, assoc, blockers)
    f = f.left_join(ids, "opp_id").drop("opp_id_right")
    if fallback is not None:
        f = f.left_join(fallback.mutate(fb=ibis.literal(True)), "opp_id").drop("opp_id_right")
        fb = ibis.coalesce(f.fb, False)
    else:
        fb = ibis.literal(False)
    f = f.mutate(tier_acc=f.computed_tier == "accelerated", tier_inf=f.computed_tier == "influenced")
    f = f.mutate(fb=fb & (f.tier != "none"))
    # The days' numerators and rounded quotients, and the instants' fractions, as columns first:
    # the texts refer to them.
    f = f.mutate(
        cycle_n=(f.x_us - f.c_us).cast("int64"),
        base_n=f.m2.cast("int64"),
        cut_n=(f.m2 - 2 * f.remaining).cast("int64"),
        rem_n=f.remaining.cast("int64"),
    )
    f = f.mutate(
        e_frac=instant_fraction(f.e_us),
        cycle_q=days_quotient(f.cycle_n, MICROS_PER_DAY),
        base_q=days_quotient(f.base_n, 2 * MICROS_PER_DAY),
        cut_q=days_quotient(f.cut_n, 2 * MICROS_PER_DAY),
        rem_q=days_quotient(f.rem_n, MICROS_PER_DAY),
    )
    has_baseline = f.evaluated & f.cohort.notnull()
    blank = ibis.literal("")
    out = f.select(
        opportunity_id=f.opp_id,
        tier=f.tier,
        primary_partner_id=ibis.ifelse(f.tier == "none", blank, ibis.coalesce(f.primary, blank)),
        engagement_at=ibis.coalesce(instant_text(f.e_us, f.e_frac), blank),
        cycle_days=days_text(f.cycle_n, f.cycle_q),
        baseline_days=ibis.ifelse(has_baseline, days_text(f.base_n, f.base_q), blank),
        cycle_reduction_days=ibis.ifelse(has_baseline, days_text(f.cut_n, f.cut_q), blank),
        rules=rules_text(f, f.fb),
        remaining_days=ibis.ifelse(has_baseline, days_text(f.rem_n, f.rem_q), blank),
        as_of=p.as_of_text,
        policy_version=p.policy_version,
        model=lit(model),
        cohort=ibis.ifelse(has_baseline, f.cohort, blank),
        cohort_size=ibis.ifelse(has_baseline, f.cohort_size.cast("string"), blank),
        evidence=ibis.coalesce(f.evidence, blank),
    )
    run.output(ATTRIBUTION_TABLE, out.select(*AttributionRow.columns()))


# The kinds of evidence tokens, in the order a deal's evidence lists them (docs/rules.md).
TOKEN_KINDS = ("partner", "lead", "registration", "touch")


def evidence_ids(run: Runner, credits: ir.Table, ev: Any, assoc: ir.Table, blockers: ir.Table) -> ir.Table:
    """Per deal, ``kind:id`` of every row the decision rests on, by kind then id (docs/rules.md):
    partners with a role, partner leads, registrations, associated partner-engagement touches (any
    time), claim touches and the earliest direct touch that blocked a claim (``blockers``:
    opp_id, d_touch)."""
    claim_ids = ev.claims.filter(ev.claims.source_id.notnull() & (ev.claims.source_id != "crm"))
    claim_ids = claim_ids.select(
        "opp_id",
        kind=claim_ids.source_id.split(":")[0],
        id=claim_ids.source_id.substr(claim_ids.source_id.find(":") + 1),
    )
    tokens = union_all(
        [
            credits.select("opp_id", kind=lit("partner"), id=credits.partner),
            ev.leads.select("opp_id", kind=lit("lead"), id=ev.leads.lead_id),
            ev.regs.select("opp_id", kind=lit("registration"), id=ev.regs.registration_id),
            assoc.select("opp_id", kind=lit("touch"), id=assoc.touch_id),
            blockers.select("opp_id", kind=lit("touch"), id=blockers.d_touch),
            claim_ids,
        ]
    )
    tokens = tokens.filter(tokens.id.notnull())  # "kind:NULL" is no token
    # The claims' sources are leads, registrations and touches: every token is of these kinds.
    rank = ibis.cases(*((tokens.kind == kind, i) for i, kind in enumerate(TOKEN_KINDS[:-1])), else_=3)
    if not run.dialect.struct_lists:
        # The same tokens, distinct, joined in the same order (rank, id, kind) by an ordered
        # string aggregate: for an engine whose lists of structs do not sort or read back alike.
        t = tokens.select("opp_id", "kind", "id", rank=rank).distinct()
        t = t.mutate(token=t.kind + ":" + t.id)
        out = t.group_by("opp_id").aggregate(
            evidence=t.token.group_concat(" ", order_by=[t.rank, t.id, t.kind])
        )
        return run.step("evidence", out)
    # Each deal's tokens are collected, then made distinct and sorted inside the list: far cheaper
    # than a DISTINCT over two million rows and an ordered string aggregate. A token is kept as its
    # kind's rank (one digit) and its id: as text these sort by (rank, id), and the kind is the
    # rank's (cheaper to collect and sort than a struct of the three).
    keyed = tokens.select("opp_id", key=rank.cast("string") + tokens.id)
    lists = keyed.group_by("opp_id").aggregate(keys=keyed.key.collect())
    ordered = lists.keys.unique().sort()

    def token(k: ir.StringValue) -> ir.StringValue:
        return ibis.cases(
            *((k.substr(0, 1) == str(i), name + ":") for i, name in enumerate(TOKEN_KINDS))
        ) + k.substr(1)

    out = lists.select("opp_id", evidence=ordered.map(token).join(" "))
    return run.step("evidence", out)
