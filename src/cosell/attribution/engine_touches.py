"""Batch engine, step 1: deals, stage timelines, close times, engagement touches and associations.

Every instant becomes exact integer epoch microseconds here; later steps compare integers only.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Placeholders, Runner, nz, union_all, us
from cosell.attribution.timeline import NO_CLOSE_TIME


def stage_class(stage: ir.StringValue, p: Placeholders) -> ir.StringValue:
    """``won``, ``lost`` or ``open`` by the policy's stage mapping."""
    return ibis.cases(
        (stage.isin(p.won_stages), "won"),
        (stage.isin(p.lost_stages), "lost"),
        else_="open",
    )


def build_deals(run: Runner, p: Placeholders) -> ir.Table:
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
        currency=ibis.coalesce(nz(o.currency), p.workspace_currency),
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
    # A deal without entries has no stage_history row: its ids are all the anti-join needs (a
    # projection of its own, so that the engine does not keep the entries as a shared subquery).
    recorded = sh.select(opp_id=nz(sh.opportunity_id))
    # No DISTINCT: (opportunity_id, stage, entered_at) is stage_history's key, and the rows known at
    # any instant hold a key once (every import refuses a duplicate key; a changed row's versions
    # never overlap), so each entry is there once already (grouping 4M entries cost a fifth of
    # this step at 1M deals).
    entries = entries.join(base.select("opp_id", "c_us"), "opp_id")
    missing = base.anti_join(recorded, "opp_id").select(
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
    as_of = p.as_of_us
    x_known = ibis.coalesce(d.x_entry, d.close_date_us)
    # A deal that closed after the as-of instant was still open then (docs/rules.md, Times); a closed
    # deal without any close time stays closed, for the input error below.
    closed = (d.cur_class != "open") & (x_known.isnull() | (x_known <= as_of))
    d = d.mutate(
        closed=closed,
        won=(d.cur_class == "won") & closed,
        x_us=ibis.ifelse(closed, x_known, as_of),
    ).drop("x_entry", "close_date_us", "cur_class", "stage")
    deals = run.step("deals", d)

    bad = deals.filter(deals.closed & deals.x_us.isnull()).select("opp_id").order_by("opp_id")
    run.check(
        bad,
        (
            "opportunities",
            "close_date",
            "{opp_id}",
            NO_CLOSE_TIME,
        ),
    )
    return deals


def engagement_touches(run: Runner, p: Placeholders, side: str, *, logged: bool = False) -> ir.Table:
    """The engagement touches (a partner or direct kind) of one side, by the actor column; with
    ``logged``, only those logged on a deal.

    Columns: touch_id, t, account_id, touch_opp, and for the partner side ``partner`` (the
    touch's partner_id, else its partner contact's partner). A partner touch whose partner cannot
    be resolved is ignored by every rule, so it is left out here.

    The ``logged`` filter is applied to the stored rows, not to the result: two steps reading the
    same expression would share it, and DuckDB materialises a shared subquery (millions of rows).
    """
    t = run.table("v_touches")
    keep = t.kind.isin(p.engagement_kinds) & (t.actor == side)
    t = t.filter(keep & nz(t.opportunity_id).notnull() if logged else keep)
    tt = t.select(
        touch_id=nz(t.touch_id),
        t=us(t.occurred_at),
        account_id=nz(t.account_id),
        touch_opp=nz(t.opportunity_id),
        partner_id=nz(t.partner_id),
        contact_id=nz(t.partner_contact_id),
    )
    if side != "partner":
        return tt.select("touch_id", "t", "account_id", "touch_opp")
    pc = run.table("v_partner_contacts")
    contacts = pc.select(c_id=nz(pc.contact_id), contact_partner=nz(pc.partner_id))
    tt = tt.left_join(contacts, tt.contact_id == contacts.c_id)
    tt = tt.select(
        "touch_id", "t", "account_id", "touch_opp", partner=ibis.coalesce(tt.partner_id, tt.contact_partner)
    )
    return tt.filter(tt.partner.notnull())


def build_touches(run: Runner, p: Placeholders, deals: ir.Table) -> tuple[ir.Table, ir.Table]:
    """The partner-engagement touches associated with each deal, and its earliest direct ones.

    Returns ``assoc`` (opp_id, touch_id, t, partner): partner touches logged on O (any time) and
    partner touches on A logged on no deal inside O's window [C-L, X]; and ``direct_first``
    (opp_id, d_first, s3_direct): the earliest direct engagement touch on A (logged on any deal)
    or logged on O inside the lookback [C-L, C], which guards the sourcing claims; and the earliest
    direct touch associated with O inside the lookback (logged on O, or on A and no deal and at
    or before X), which S3 compares the partner touches with.

    Only these two per-deal instants are read from the direct touches, so the twenty million
    touches are never materialised as rows per deal: one range join on the account over the
    lookback, aggregated per deal (the touch that blocked a claim is looked up later, for the
    few deals that have one: :func:`blocking_touches`).
    """
    d = deals.select("opp_id", "account_id", "c_us", "x_us")
    lo = d.c_us - p.lookback_us

    logged = engagement_touches(run, p, "partner", logged=True)
    logged = logged.join(d, logged.touch_opp == d.opp_id)
    partner = engagement_touches(run, p, "partner")
    on_account = partner.filter(partner.touch_opp.isnull())
    on_account = on_account.join(
        d, (on_account.account_id == d.account_id) & (on_account.t >= lo) & (on_account.t <= d.x_us)
    )
    columns = ("opp_id", "touch_id", "t", "partner")
    assoc = run.step("assoc", union_all([logged.select(*columns), on_account.select(*columns)]))

    direct = engagement_touches(run, p, "direct")
    by_acc = direct.join(d, (direct.account_id == d.account_id) & (direct.t >= lo) & (direct.t <= d.c_us))
    by_acc = by_acc.select("opp_id", "t", s3=by_acc.touch_opp.isnull() & (by_acc.t <= by_acc.x_us))
    by_opp = engagement_touches(run, p, "direct", logged=True)
    by_opp = by_opp.join(d, (by_opp.touch_opp == d.opp_id) & (by_opp.t >= lo) & (by_opp.t <= d.c_us))
    by_opp = by_opp.select("opp_id", "t", s3=ibis.literal(True))
    both = union_all([by_acc, by_opp])
    first = both.group_by("opp_id").aggregate(d_first=both.t.min(), s3_direct=both.t.min(where=both.s3))
    return assoc, run.step("direct_first", first)


def blocking_touches(
    run: Runner, p: Placeholders, deals: ir.Table, direct_first: ir.Table, which: ir.Table
) -> ir.Table:
    """For the deals in ``which`` (opp_id): ``d_touch``, the earliest direct touch of
    ``direct_first`` (the smallest touch_id among those at d_first, on A or logged on O)."""
    b = direct_first.join(which, "opp_id").join(deals.select("opp_id", "account_id"), "opp_id")
    b = b.select("opp_id", "account_id", "d_first")
    direct = engagement_touches(run, p, "direct")
    on_acc = direct.join(b, (direct.account_id == b.account_id) & (direct.t == b.d_first))
    logged = engagement_touches(run, p, "direct", logged=True)
    on_opp = logged.join(b, (logged.touch_opp == b.opp_id) & (logged.t == b.d_first))
    both = union_all([on_acc.select("opp_id", "touch_id"), on_opp.select("opp_id", "touch_id")])
    return both.group_by("opp_id").aggregate(d_touch=both.touch_id.min())
