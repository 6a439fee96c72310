"""Batch engine, step 1: deals, stage timelines, close times, engagement touches and associations.

Every instant becomes exact integer epoch microseconds here; later steps compare integers only.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Params, Runner, lit, nz, union_all, us


def stage_class(stage: ir.StringValue, p: Params) -> ir.StringValue:
    """``won``, ``lost`` or ``open`` by the policy's stage mapping."""
    return ibis.cases(
        (stage.isin(list(p.won_stages) or [""]), "won"),
        (stage.isin(list(p.lost_stages) or [""]), "lost"),
        else_="open",
    )


def build_deals(run: Runner, p: Params) -> ir.Table:
    """One row per opportunity with everything the rules read from it (``deals``).

    Columns: opp_id, account_id, c_us, x_us, closed, won, amount, currency, segment, first_stage,
    source_lead_id, partner_source, crm_partner, ped_us, has_log.
    """
    o = run.table("v_opportunities")
    a = run.table("v_accounts")
    sh = run.table("v_stage_history")

    base = o.select(
        opp_id=nz(o.opportunity_id),
        account_id=nz(o.account_id),
        c_us=us(o.created_at),
        amount=o.amount,
        currency=ibis.coalesce(nz(o.currency), lit(p.workspace_currency)),
        stage=o.stage,
        close_date_us=us(o.close_date),
        source_lead_id=nz(o.source_lead_id),
        partner_source=nz(o.partner_source),
        crm_partner=nz(o.partner_id),
        ped_us=us(o.partner_engagement_date),
        has_log=ibis.coalesce(o.partner_activity_log.strip().length() > 0, False),
    )
    accounts = a.select(acc_id=nz(a.account_id), segment=ibis.coalesce(a.segment.strip(), ""))
    base = base.left_join(accounts, base.account_id == accounts.acc_id).drop("acc_id")
    base = base.mutate(segment=ibis.coalesce(base.segment, ""), cur_class=stage_class(base.stage, p))
    base = run.step("base", base)

    # Stage timeline: recorded entries, or the current stage at creation when there are none.
    entries = sh.select(opp_id=nz(sh.opportunity_id), stage=sh.stage, t=us(sh.entered_at))
    entries = entries.distinct()
    entries = entries.join(base.select("opp_id", "c_us"), "opp_id")
    missing = base.anti_join(entries, "opp_id").select(
        "opp_id", "stage", t=base.c_us, c_us=base.c_us, recorded=ibis.literal(False)
    )
    tl = union_all([entries.select("opp_id", "stage", "t", "c_us", recorded=ibis.literal(True)), missing])
    w = ibis.window(group_by=tl.opp_id, order_by=[tl.t, tl.stage])
    tl = tl.mutate(seq=ibis.row_number().over(w))
    # A deal is in its first stage from the moment it exists.
    tl = tl.mutate(t_raw=tl.t, t=ibis.ifelse(tl.seq == 0, ibis.least(tl.t, tl.c_us), tl.t))
    tl = tl.mutate(cls=stage_class(tl.stage, p)).drop("c_us")
    timeline = run.step("timeline", tl)

    # Close time X: the first recorded entry into the current stage at or after the last
    # open-stage entry (SPEC: "in stage_history"), at the time it was recorded; else close_date.
    cur = base.select("opp_id", cur_stage=base.stage)
    tlc = timeline.join(cur, "opp_id")
    last_open = tlc.t_raw.max(where=(tlc.cls == "open") & tlc.recorded).over(group_by=tlc.opp_id)
    tlc = tlc.mutate(last_open=last_open)
    into_current = (tlc.stage == tlc.cur_stage) & tlc.recorded
    per_deal = tlc.group_by("opp_id").aggregate(
        first_stage=tlc.stage.arbitrary(where=tlc.seq == 0),
        x_entry=tlc.t_raw.min(where=into_current & (tlc.last_open.isnull() | (tlc.t_raw >= tlc.last_open))),
    )
    d = base.join(per_deal, "opp_id")
    closed = d.cur_class != "open"
    d = d.mutate(
        closed=closed,
        won=d.cur_class == "won",
        x_us=ibis.ifelse(closed, ibis.coalesce(d.x_entry, d.close_date_us), lit(p.as_of_us, "int64")),
    ).drop("x_entry", "close_date_us", "cur_class", "stage")
    deals = run.step("deals", d)

    bad = deals.filter(deals.closed & deals.x_us.isnull()).select("opp_id").order_by("opp_id")
    run.check(
        bad,
        (
            "opportunities",
            "close_date",
            "{opp_id}",
            "is closed but has no close time (no stage_history entry into its stage, no close_date)",
        ),
    )
    return deals


def build_touches(run: Runner, p: Params, deals: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Engagement touches associated with each deal, and the earliest direct touch on its account.

    Returns ``assoc`` (opp_id, touch_id, t, side, partner) and ``direct_first`` (opp_id, d_first:
    the earliest direct engagement touch on A, or logged on O, inside the lookback).
    """
    t = run.table("v_touches")
    pc = run.table("v_partner_contacts")
    engagement = list(p.partner_kinds) + list(p.direct_kinds)
    contacts = pc.select(contact_id=nz(pc.contact_id), contact_partner=nz(pc.partner_id))
    tt = t.filter(t.kind.isin(engagement or [""]) & t.actor.isin(["partner", "direct"]))
    tt = tt.select(
        touch_id=nz(tt.touch_id),
        t=us(tt.occurred_at),
        account_id=nz(tt.account_id),
        side=tt.actor,
        touch_opp=nz(tt.opportunity_id),
        partner_id=nz(tt.partner_id),
        contact_id=nz(tt.partner_contact_id),
    )
    tt = tt.left_join(contacts, tt.contact_id == contacts.contact_id)
    tt = tt.select(
        "touch_id",
        "t",
        "account_id",
        "side",
        "touch_opp",
        partner=ibis.ifelse(
            tt.side == "partner", ibis.coalesce(tt.partner_id, tt.contact_partner), ibis.null("string")
        ),
    )
    # A partner touch whose partner cannot be resolved is ignored by every rule.
    tt = tt.filter((tt.side == "direct") | tt.partner.notnull())
    touches = run.step("touches", tt)

    d = deals.select("opp_id", "account_id", "c_us", "x_us")
    lo = d.c_us - p.lookback_us
    # One range join on the account covers both the window [C-L, X] and the lookback [C-L, C].
    # Touches logged on a deal reach the account join only to find direct touches on A.
    on_account = touches.filter(touches.touch_opp.isnull() | (touches.side == "direct"))
    by_acc = on_account.join(
        d,
        (on_account.account_id == d.account_id)
        & (on_account.t >= lo)
        & (on_account.t <= ibis.greatest(d.x_us, d.c_us)),
    )
    acc_rows = by_acc.select(
        "opp_id",
        "touch_id",
        "t",
        "side",
        "partner",
        "touch_opp",
        in_window=by_acc.t <= by_acc.x_us,
        in_lookback=by_acc.t <= by_acc.c_us,
    )
    acc_rows = run.step("acc_rows", acc_rows)
    by_opp = touches.filter(touches.touch_opp.notnull())
    by_opp = by_opp.join(d, by_opp.touch_opp == d.opp_id)
    opp_rows = by_opp.select(
        "opp_id",
        "touch_id",
        "t",
        "side",
        "partner",
        in_lookback=(by_opp.t >= by_opp.c_us - p.lookback_us) & (by_opp.t <= by_opp.c_us),
    )
    opp_rows = run.step("opp_rows", opp_rows)

    assoc = union_all(
        [
            opp_rows.select("opp_id", "touch_id", "t", "side", "partner"),
            acc_rows.filter(acc_rows.touch_opp.isnull() & acc_rows.in_window).select(
                "opp_id", "touch_id", "t", "side", "partner"
            ),
        ]
    )
    assoc = run.step("assoc", assoc)

    direct = union_all(
        [
            acc_rows.filter((acc_rows.side == "direct") & acc_rows.in_lookback).select(
                "opp_id", "t", "touch_id"
            ),
            opp_rows.filter((opp_rows.side == "direct") & opp_rows.in_lookback).select(
                "opp_id", "t", "touch_id"
            ),
        ]
    )
    earliest = ibis.row_number().over(group_by=direct.opp_id, order_by=[direct.t, direct.touch_id])
    direct = direct.mutate(pos=earliest).filter(lambda x: x.pos == 0)
    direct_first = run.step(
        "direct_first", direct.select("opp_id", d_first=direct.t, d_touch=direct.touch_id)
    )
    return assoc, direct_first
