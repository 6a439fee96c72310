"""The batch attribution engine: SPEC sections 2 and 3 for every deal at once, as Ibis expressions.

The rules are relational steps (``engine_touches``, ``engine_evidence``, ``engine_cohort``,
``engine_credit``) compiled by Ibis and executed where the workspace lives (DuckDB by default), over
the ``v_<table>`` views of what was known at the knowledge instant, evaluated at the as-of instant
(:mod:`cosell.asof`). The result is two tables of
formatted strings, the same rows :mod:`cosell.attribution.reference` produces one deal at a time:

>>> from cosell.store.workspace import open_workspace
>>> ws = open_workspace(":memory:")
>>> run = attribute(ws.con, as_of=parse_instant("2026-06-30"))
>>> run.counts
{'sourced': 0, 'accelerated': 0, 'influenced': 0, 'none': 0}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from cosell import clock
from cosell.asof import knowledge
from cosell.attribution import credit
from cosell.attribution.engine_base import (
    Params,
    Runner,
    nz,
    union_all,
    us,
)
from cosell.attribution.engine_cohort import build_acceleration, check_rates, with_band
from cosell.attribution.engine_credit import (
    apply_overrides,
    build_credits,
    build_roles,
    integer_weights,
)
from cosell.attribution.engine_evidence import build_evidence
from cosell.attribution.engine_output import ATTRIBUTION_TABLE, CREDITS_TABLE, build_output
from cosell.attribution.engine_record import CLAIMS_OUTPUT, EVIDENCE_OUTPUT, build_record
from cosell.attribution.engine_touches import build_deals, build_touches
from cosell.engine import Engine
from cosell.instants import epoch_micros, parse_instant
from cosell.policy import Policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.store.workspace import as_of_views

# The credit models are registered once, in credit.py; the engine computes the same ones.
MODELS = tuple(credit.MODELS)
TOUCH_MODELS = credit.TOUCH_MODELS
MEMORY_ENV = "COSELL_ENGINE_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"

__all__ = ["MODELS", "EngineRun", "attribute", "check_model", "parse_instant"]


def check_model(name: str) -> str:
    """The model name if it is known; else the registry's UsageError suggesting the closest one."""
    credit.get_model(name)
    return name


@dataclass
class EngineRun:
    """One run's results, held as tables on the connection until the next run replaces them."""

    con: Engine
    as_of: datetime
    model: str
    policy_version: str
    counts: dict[str, int] = field(default_factory=dict)
    known_at: datetime | None = None  # the knowledge instant read; None: everything recorded
    attribution_table: str = ATTRIBUTION_TABLE
    credits_table: str = CREDITS_TABLE

    @property
    def attribution_sql(self) -> str:
        """The attribution rows as a relation (for :func:`cosell.store.attribution_store.save_run`)."""
        return f"SELECT {', '.join(AttributionRow.columns())} FROM {self.attribution_table}"

    @property
    def credits_sql(self) -> str:
        """The credit rows as a relation."""
        return f"SELECT {', '.join(CreditRow.columns())} FROM {self.credits_table}"

    @property
    def evidence_sql(self) -> str:
        """What each decision rests on, one row per deal (:class:`~cosell.results.EvidenceRow`)."""
        return f"SELECT {', '.join(EvidenceRow.columns())} FROM {EVIDENCE_OUTPUT}"

    @property
    def claims_sql(self) -> str:
        """Every sourcing claim with its guard (:class:`~cosell.results.ClaimRow`)."""
        return f"SELECT {', '.join(ClaimRow.columns())} FROM {CLAIMS_OUTPUT}"

    def evidence_rows(self) -> tuple[list[EvidenceRow], list[ClaimRow]]:
        """The evidence rows by deal, and the claims by deal, rule, partner and source."""
        e = self.con.execute(f"{self.evidence_sql} ORDER BY opportunity_id").fetchall()
        c = self.con.execute(
            f"{self.claims_sql} ORDER BY opportunity_id, rule, partner_id, source"
        ).fetchall()
        return [EvidenceRow(*r) for r in e], [ClaimRow(*r) for r in c]

    def rows(self) -> list[AttributionRow]:
        cols = ", ".join(AttributionRow.columns())
        data = self.con.execute(
            f"SELECT {cols} FROM {self.attribution_table} ORDER BY opportunity_id"
        ).fetchall()
        return [AttributionRow(*r) for r in data]

    def credit_rows(self) -> list[CreditRow]:
        cols = ", ".join(CreditRow.columns())
        data = self.con.execute(
            f"SELECT {cols} FROM {self.credits_table} ORDER BY opportunity_id, partner_id"
        ).fetchall()
        return [CreditRow(*r) for r in data]


def _overrides(run: Runner, con: Engine, as_of_us: int) -> ir.Table:
    """The newest override per deal recorded and not withdrawn at ``as_of_us`` (the knowledge
    instant, else the as-of instant)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'attribution_overrides'"
    ).fetchall()
    if not exists[0][0]:
        run.backend.con.execute(
            'CREATE OR REPLACE TEMP TABLE "_cosell_eng_overrides" '
            "(opp_id VARCHAR, ov_tier VARCHAR, ov_partner VARCHAR)"
        )
        run.names.append("_cosell_eng_overrides")
        return run.table("_cosell_eng_overrides")
    o = run.table("attribution_overrides")
    known = (us(o.recorded_at) <= as_of_us) & (o.withdrawn_at.isnull() | (us(o.withdrawn_at) > as_of_us))
    o = o.filter(known)
    newest = ibis.row_number().over(
        group_by=o.opportunity_id, order_by=[ibis.desc(o.recorded_at), ibis.desc(o.override_id)]
    )
    o = o.mutate(pos=newest).filter(lambda x: x.pos == 0)
    return run.step(
        "overrides", o.select(opp_id=o.opportunity_id, ov_tier=o.tier, ov_partner=nz(o.partner_id))
    )


def attribute(
    con: Engine,
    policy: Policy | None = None,
    as_of: datetime | None = None,
    model: str | None = None,
    *,
    known_at: datetime | None = None,
    progress: Any = None,
    make_views: bool = True,
) -> EngineRun:
    """Attribute every opportunity on the workspace connection, evaluated as of ``as_of`` (T,
    default :func:`cosell.clock.now`) with the data known at ``known_at`` (K; default ``as_of``
    when given, else everything recorded: :func:`cosell.asof.knowledge`).

    Builds the ``v_<table>`` views (the rows known at K, the deals created at or before T), runs
    the rules and leaves the formatted results in the temp tables ``cosell_attribution`` and
    ``cosell_credits`` (replaced by the next run). Overrides count as recorded and not withdrawn
    at K (else at T). ``progress(n)`` is called after each of the engine's steps when given. With
    ``make_views=False`` the caller's ``v_<table>`` views are read as they are (for instance the
    current rows evaluated at a past as-of time).
    """
    policy = policy or Policy()
    model = check_model(model or policy.credit_model)
    when = clock.now(as_of)
    known_at = knowledge(as_of, known_at)
    if make_views:
        as_of_views(con, known_at, existing_at=when)
    p = Params.from_policy(policy, epoch_micros(when))
    backend = con.ibis()
    run = Runner(backend)
    # Like the import, the engine works under a memory limit and lets DuckDB spill beyond it, so a
    # 1M-deal run stays under 4 GiB (SPEC section 10).
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}'")
    tick = progress or (lambda n=1: None)
    try:
        deals = build_deals(run, p)
        tick()
        assoc, direct_first = build_touches(run, p, deals)
        tick()
        ev = build_evidence(run, p, deals, assoc, direct_first)
        tick()
        facts = _facts(run, p, deals, ev)
        tick()
        cand = facts.filter(facts.won & facts.winner.isnull() & facts.e_us.notnull())
        base = facts.filter(facts.won & facts.direct_only)
        both = union_all([cand.select(*deals.columns), base.select(*deals.columns)]).distinct()
        banded = run.step("banded", with_band(run, p, both))
        bands = banded.select("opp_id", "band", "month_label", "quarter_label")
        cand_b = cand.select("opp_id", "c_us", "x_us", "e_us", "first_stage", "segment", "currency").join(
            bands, "opp_id"
        )
        base_b = base.select("opp_id", "c_us", "x_us", "segment", "currency").join(bands, "opp_id")
        check_rates(p, cand_b, base_b)
        acc = build_acceleration(run, p, deals, cand_b, base_b)
        tick()
        overrides = _overrides(run, con, p.as_of_us if known_at is None else epoch_micros(known_at))
        weights = integer_weights(policy.role_weights)
        decided = _tiers(run, p, facts, acc, overrides)
        roles = build_roles(run, ev, deals, weights)
        roles = apply_overrides(run, roles, overrides, weights)
        paid = decided.filter(decided.tier != "none").select("opp_id")
        roles = run.step("roles_paid", roles.semi_join(paid, "opp_id"))
        if model in TOUCH_MODELS:
            from cosell.attribution.engine_touch_models import touch_credits

            credits, fallback = touch_credits(run, p, policy, model, roles, deals, ev)
        else:
            credits = build_credits(run, roles, deals, model)
            fallback = None
        tick()
        counts = build_output(run, p, model, decided, credits, fallback, ev, assoc, direct_first)
        # Evidence stored with the run (issue 13, item 4): what each decision rests on.
        build_record(run, decided, bands, ev.claims, assoc.filter(assoc.side == "partner"), direct_first)
        tick()
    finally:
        run.drop_all()
        con.execute(f"SET memory_limit = '{previous}'")
    return EngineRun(con, when, model, policy.version, counts, known_at)


def _facts(run: Runner, p: Params, deals: ir.Table, ev: Any) -> ir.Table:
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
        declared_ok=(declared.active | (not p.requires_activity)).any(),
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


def _tiers(run: Runner, p: Params, facts: ir.Table, acc: ir.Table, overrides: ir.Table) -> ir.Table:
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
