"""Posting a period: price every won deal from the workspace and post what changed, in bulk.

:func:`post_period` does, in SQL over the whole workspace, what :func:`cosell.pay.ledger.post_changes`
defines for a few deals (a property test holds the two to the same entries):

1. every won deal closed before the period ends, with its current attribution version, its credits,
   the partners' type and program tier at close, the FX rate of the close period, the rep (its
   owner when its first entry is posted) and the plan version in force at close (both pinned in
   ``ledger_deal_terms`` from the deal's first entry; ``reprice`` moves a deal to the version in
   force now);
2. a digest of those inputs per deal; only deals whose digest differs from the one they were last
   priced from are priced again (pricing is pure, so an unchanged digest means unchanged earnings),
   and deals holding live earnings that no longer qualify are reversed;
3. pricing (Python, per deal: the plan's rules), then the comparison with the live earnings per line
   and the new entries, numbered, sealed and inserted in one transaction: the use case's
   (:func:`cosell.service.pay.post`), as this module opens none.

Posting reads the current state of the workspace (every import and attribution version recorded so
far); ``now`` only dates what it writes. It replaces the temp views ``v_<table>`` (current rows),
``v_attribution`` and ``v_credits`` (current versions) on the connection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

from cosell import clock
from cosell.attribution.timeline import NO_CLOSE_TIME
from cosell.engine import Engine, count_of
from cosell.entries import EARNING_KINDS
from cosell.errors import CosellError, InputError, Problem
from cosell.fx import check_rates, converted_amounts_sql
from cosell.hygiene.sql import close_time_ctes
from cosell.instants import format_instant
from cosell.money import format_money, quantum, round_money
from cosell.pay.ledger import PostingContext, check_earnings, entry_id, pay_month, period_end
from cosell.pay.model import DealToPrice, PartnerCredit
from cosell.pay.posting_record import sql_in, stage_causes, stage_posted_deals, stage_reasons
from cosell.pay.pricers import Pricer
from cosell.periods import month_label
from cosell.policy import Policy
from cosell.store.ledger import (
    ENTRY_COLUMNS,
    LEDGER_DEAL_TERMS,
    LEDGER_ENTRIES,
    LEDGER_POSTED_DEALS,
    LEDGER_POSTINGS,
    check_ledger_currency,
    closed_through,
    ensure_ledger_schema,
    last_entry_number,
    latest_posted,
    next_posting_id,
    verify_ledger,
)
from cosell.store.review import check_not_backdated
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace, as_of_views

_EARNING_SQL = ", ".join(f"'{k}'" for k in EARNING_KINDS)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PostingResult:
    """What one posting did."""

    posting_id: int | None  # None: nothing to do, nothing written
    period: str
    posted_at: datetime  # the instant its entries are dated (inside the period)
    deals_eligible: int  # won, closed before the period ends, attributed, with a plan
    deals_priced: int  # priced now (inputs changed since last priced, or never priced)
    deals_reversed: int  # holding earnings but no longer qualifying
    unattributed: int  # won and closed, but no attribution version: not priced
    no_plan: int  # won and closed, but no plan in force at close: not priced
    counts: dict[str, int]  # entries posted by kind
    amounts: dict[str, Decimal]  # their sum by kind
    unchanged_since: int | None = None  # no input changed since this posting: nothing was computed

    @property
    def entries(self) -> int:
        return sum(self.counts.values())


def post_period(
    ws: Workspace,
    policy: Policy,
    plans: Pricer,
    period: str,
    by_user: str,
    now: datetime | None = None,
    *,
    reprice: bool = False,
    recheck: bool = False,
    reason: str = "",
) -> PostingResult:
    """Post into ``period`` (a month like ``2026-10``) the entries that bring the ledger to what the
    current attribution and plans say for every won deal closed before the period ends.

    All or nothing when run in one transaction (the use case's: :func:`cosell.service.pay.post`;
    it opens none itself). Running it again with nothing changed posts nothing. ``reprice`` prices deals
    with the plan version in force at their close now, instead of the version pinned at their first
    entry. ``recheck`` prices every deal, ignoring the record of what each was last priced from.
    Refused for a period that is paid (closed) or that has not begun at ``now``.
    """
    con = ws.con
    when = clock.now(now)
    target = pay_month(period, "entries are posted into a month")
    if period > month_label(when):
        raise CosellError(f"period {period} has not begun at {format_instant(when)}: cannot post into it")
    ensure_ledger_schema(con)
    closed = closed_through(con)
    if closed is not None and period <= closed:
        raise CosellError(
            f"period {closed} is paid and closed (so is every earlier one): post into a later period"
        )
    latest = latest_posted(con)
    if latest is not None and period < latest:
        # A posting covers every deal closed before its period ends; an earlier one would take
        # back, as "closed after P", what the later one earned, and the next would post it again.
        raise CosellError(
            f"period {latest} is posted already: post {latest} or a later period (a change to an "
            "earlier month's deal is adjusted in the next posting)"
        )
    check_ledger_currency(con, policy.workspace_currency)
    verify_ledger(con)
    inputs = _inputs_fingerprint(con, policy, plans, period, reprice)
    if not recheck:
        last = _last_posting(con)
        if last is not None and last[1].get("inputs") == inputs:
            return _unchanged(last, period, min(when, period_end(period) - timedelta(microseconds=1)))
    as_of_views(con, None)
    attribution_views(con, None)
    _stage_deals(con, policy, plans, target.end, reprice)
    check_rates(con, "SELECT * FROM _pay_rates")
    _stage_scope(con, recheck)
    deals, credits = _fetch_to_price(con)
    desired = _price(plans, policy.workspace_currency, deals, credits)
    con.register("_pay_desired_arrow", desired)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pay_desired AS SELECT * REPLACE (CAST(amount AS DECIMAL(18,4)) AS amount) "
        "FROM _pay_desired_arrow"
    )
    con.unregister("_pay_desired_arrow")
    posting_id = next_posting_id(con)
    ctx = PostingContext(posting_id, when, period, policy.workspace_currency, by_user)
    _stage_changes(con, ctx, last_entry_number(con), reason, policy.won_stages)
    result = _summary(con, ctx, reprice)
    if result.posting_id is not None:
        check_not_backdated(con, when, f"posting {period}")
        _write(
            con,
            ctx,
            reprice,
            reason,
            result,
            lambda: _inputs_fingerprint(con, policy, plans, period, reprice),
        )
    return result


# What posting reads, besides the plans and the policy: a change to any of these may change a deal.
_SOURCES = ("opportunities", "stage_history", "partners", "fx_rates")


def _inputs_fingerprint(con: Engine, policy: Policy, plans: Pricer, period: str, reprice: bool) -> str:
    """A digest of everything a posting reads: when it equals the last posting's (recorded after
    that posting wrote), the same posting again would find nothing to do."""
    parts = [period, str(reprice), policy.digest, plans.fingerprint()]
    for table in _SOURCES:
        row = con.execute(
            f"SELECT count(*), max(_import_id), max(epoch_us(_valid_from)), max(epoch_us(_valid_to)) FROM {table}"
        ).fetchone()
        parts.append(repr(row))
    for sql in (
        "SELECT count(*), max(run_id) FROM attribution_runs",
        "SELECT count(*), max(entry_id) FROM ledger_entries",
        "SELECT count(*) FROM ledger_deal_terms",
    ):
        parts.append(repr(con.execute(sql).fetchone()))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _last_posting(con: Engine) -> tuple[int, dict[str, Any]] | None:
    row = con.execute(
        "SELECT posting_id, summary FROM ledger_postings WHERE action IN ('post', 'reprice') "
        "ORDER BY posting_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    newest = con.execute("SELECT max(posting_id) FROM ledger_postings").fetchone()
    if newest is None or newest[0] != row[0]:
        return None  # a payout was approved since: payments change what a reversal would be
    return int(row[0]), json.loads(row[1])


def _unchanged(last: tuple[int, dict[str, Any]], period: str, when: datetime) -> PostingResult:
    summary = last[1]
    return PostingResult(
        None, period, when, int(summary["deals_eligible"]), 0, 0, int(summary["unattributed"]),
        int(summary["no_plan"]), {}, {}, unchanged_since=last[0],
    )  # fmt: skip


def _stage_deals(con: Engine, policy: Policy, plans: Pricer, period_end: datetime, reprice: bool) -> None:
    """Temp tables ``_pay_closed`` (won deals with X), ``_pay_rates`` and ``_pay_deals`` (eligible)."""
    ws_currency = policy.workspace_currency.replace("'", "''")
    won = sql_in("o.stage", policy.won_stages)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_won AS
            SELECT o.opportunity_id, o.stage, o.close_date, coalesce(o.owner_id, '') AS owner_id,
                   o.amount, coalesce(nullif(o.currency, ''), '{ws_currency}') AS currency,
                   coalesce(o.opportunity_type, '') AS opportunity_type
            FROM v_opportunities o WHERE {won}"""
    )
    # Close time X (SPEC section 1): the won-stage entry the gate audit and reconciliation read
    # (one definition, cosell.hygiene.sql), of the won deals only.
    entry = close_time_ctes(policy.won_stages, policy.lost_stages, "closed_at")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_closed AS
            WITH o AS (SELECT * FROM _pay_won),
            sh AS (
                SELECT h.opportunity_id, h.stage, h.entered_at
                FROM v_stage_history h SEMI JOIN _pay_won w ON w.opportunity_id = h.opportunity_id),{entry}
            SELECT * FROM w"""
    )
    bad = con.execute(
        "SELECT opportunity_id FROM _pay_closed WHERE closed_at IS NULL ORDER BY 1 LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(
            Problem(
                "opportunities",
                None,
                "close_date",
                str(bad[0]),
                NO_CLOSE_TIME,
            )
        )
    spans = plans.schedule()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pay_schedule "
        "(plan_version VARCHAR, starts TIMESTAMPTZ, ends TIMESTAMPTZ)"
    )
    if spans:
        con.executemany(
            "INSERT INTO _pay_schedule VALUES (?, ?, ?)",
            [[s.plan_version, s.starts, s.ends or _FAR_FUTURE] for s in spans],
        )
    # The close time the pinned plan version was chosen for: the deal as its terms' posting
    # recorded it (none for a terms row whose posting wrote no entry of the deal).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pay_terms AS
           SELECT t.*, p.closed_at AS pinned_closed_at
           FROM (SELECT opportunity_id, arg_max(rep_id, seq) AS rep_id,
                        arg_max(plan_version, seq) AS plan_version, arg_max(posting_id, seq) AS posting_id,
                        max(seq) AS seq
                 FROM ledger_deal_terms GROUP BY 1) t
           LEFT JOIN ledger_posted_deals p ON p.posting_id = t.posting_id
                AND p.opportunity_id = t.opportunity_id"""
    )
    # A deal that closed again at another instant (reopened and won again) is priced by the version
    # in force at its new close (SPEC section 6), as its FX rate is; its rep stays pinned.
    moved = "t.pinned_closed_at IS NOT NULL AND t.pinned_closed_at <> c.closed_at"
    plan = (
        "coalesce(s.plan_version, t.plan_version)"
        if reprice
        else f"CASE WHEN {moved} THEN s.plan_version ELSE coalesce(t.plan_version, s.plan_version) END"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_candidates AS
            SELECT c.*, strftime(c.closed_at, '%Y-%m') AS close_period, a.run_id AS attribution_run_id,
                   a.tier, coalesce(t.rep_id, c.owner_id) AS rep_id, {plan} AS plan_version,
                   t.seq AS terms_seq, t.plan_version AS pinned_plan,
                   coalesce({moved}, FALSE) AS close_moved
            FROM _pay_closed c
            LEFT JOIN v_attribution a ON a.opportunity_id = c.opportunity_id
            LEFT JOIN _pay_terms t ON t.opportunity_id = c.opportunity_id
            LEFT JOIN _pay_schedule s ON c.closed_at >= s.starts AND c.closed_at < s.ends
            WHERE c.closed_at < ?""",
        [period_end],
    )
    converted = converted_amounts_sql(
        "SELECT * FROM _pay_candidates WHERE attribution_run_id IS NOT NULL AND plan_version IS NOT NULL",
        "closed_at",
        policy,
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _pay_rates AS {converted}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pay_credits AS
           SELECT c.opportunity_id, c.partner_id, c.role, c.share, c.amount,
                  coalesce(nullif(pa.partner_type, ''), pc.partner_type, '') AS partner_type,
                  coalesce(nullif(pa.program_tier, ''), pc.program_tier, '') AS program_tier
           FROM v_credits c JOIN _pay_rates d ON d.opportunity_id = c.opportunity_id
           LEFT JOIN partners pa ON pa.partner_id = c.partner_id AND pa._valid_from <= d.closed_at
                AND (pa._valid_to IS NULL OR pa._valid_to > d.closed_at)
           LEFT JOIN v_partners pc ON pc.partner_id = c.partner_id"""
    )
    _check_credits_current(con)
    # The digest covers every input of pricing that can change an amount: the same digest means the
    # same amounts. The attribution version itself is left out: a new version that decides the same
    # tier and credits (a batch re-run) changes no amount, so it posts nothing and needs no pricing.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pay_deals AS
           WITH sig AS (
               SELECT opportunity_id, string_agg(concat_ws(',', partner_id, role, share, amount, partner_type,
                      program_tier), ';' ORDER BY partner_id, role) AS credits
               FROM _pay_credits GROUP BY 1)
           SELECT d.opportunity_id, d.closed_at, d.close_period, d.opportunity_type, d.tier,
                  d.attribution_run_id, d.amount, d.currency, d.rate AS fx_rate, d.rep_id, d.plan_version,
                  d.terms_seq, d.pinned_plan, d.close_moved,
                  md5(concat_ws('|', d.opportunity_id, epoch_us(d.closed_at), d.opportunity_type, d.tier,
                      d.amount, d.currency, d.rate, d.rep_id, d.plan_version,
                      coalesce(s.credits, ''))) AS input_digest
           FROM _pay_rates d LEFT JOIN sig s ON s.opportunity_id = d.opportunity_id"""
    )


def _check_credits_current(con: Engine) -> None:
    """Refuse a deal whose attribution split another amount or currency than the deal has now (its
    amount changed in the CRM since it was attributed): its partners would be paid on the old
    credited amounts while its rep is paid on the new amount (SPEC section 6: the ledger follows a
    changed amount). Attributing again splits the current amount."""
    stale = con.execute(
        """SELECT d.opportunity_id, d.amount, d.currency, d.attribution_run_id, sum(c.amount),
                  min(c.currency)
           FROM _pay_rates d JOIN v_credits c ON c.opportunity_id = d.opportunity_id
           GROUP BY ALL HAVING sum(c.amount) <> d.amount OR bool_or(c.currency <> d.currency)
           ORDER BY 1 LIMIT 1"""
    ).fetchone()
    if stale is not None:
        opp, amount, currency, run_id, credited, credit_currency = stale
        raise InputError(
            Problem(
                "opportunities",
                None,
                "amount",
                str(opp),
                f"is won at {format_money(round_money(amount, currency), currency)} but its attribution version "
                f"{run_id} split {format_money(round_money(credited, credit_currency), credit_currency)} between its partners (the deal changed since "
                "it was attributed): run `cosell attribute` before posting; nothing was posted",
            )
        )


def _stage_scope(con: Engine, recheck: bool) -> None:
    """``_pay_live`` (live earnings), ``_pay_to_price`` and ``_pay_scope`` (every deal touched)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_live AS
            SELECT * FROM ledger_entries e
            WHERE e.kind IN ({_EARNING_SQL})
              AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses = e.entry_id)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_to_price AS
            SELECT d.*, p.last_digest FROM _pay_deals d
            LEFT JOIN (SELECT opportunity_id, arg_max(input_digest, posting_id) AS last_digest
                       FROM ledger_priced GROUP BY 1) p ON p.opportunity_id = d.opportunity_id
            WHERE {"TRUE" if recheck else "d.input_digest IS DISTINCT FROM p.last_digest"}"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pay_scope AS
           SELECT opportunity_id, TRUE AS eligible FROM _pay_to_price
           UNION ALL
           SELECT DISTINCT l.opportunity_id, FALSE AS eligible FROM _pay_live l
           ANTI JOIN _pay_deals d ON d.opportunity_id = l.opportunity_id"""
    )


_DEAL_COLUMNS = (
    "opportunity_id, epoch_us(closed_at), close_period, opportunity_type, tier, attribution_run_id, "
    "amount, currency, fx_rate, rep_id, plan_version"
)


def _fetch_to_price(con: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    deals = con.execute(f"SELECT {_DEAL_COLUMNS} FROM _pay_to_price ORDER BY opportunity_id").fetchall()
    credits = con.execute(
        """SELECT c.opportunity_id, c.partner_id, c.partner_type, c.program_tier, c.role, c.share, c.amount
           FROM _pay_credits c SEMI JOIN _pay_to_price d ON d.opportunity_id = c.opportunity_id
           ORDER BY c.opportunity_id, c.partner_id, c.role"""
    ).fetchall()
    return deals, credits


# The desired earnings' columns and their Arrow types. Arrow is imported where the table is made:
# importing it (and NumPy with it) costs half a second, which the pay commands that only read the
# ledger (payouts list and show, statements) would pay for nothing (tests/test_startup.py).
_DESIRED_COLUMNS = (
    ("opportunity_id", "string"),
    ("party_kind", "string"),
    ("party_id", "string"),
    ("kind", "string"),
    ("rule_id", "string"),
    ("plan_version", "string"),
    ("attribution_run_id", "int64"),
    ("amount", "string"),  # exact decimal text, cast to DECIMAL in SQL (faster than Decimal objects)
    ("basis", "string"),
)


def _price(
    plans: Pricer, workspace_currency: str, deals: list[tuple[Any, ...]], credits: list[tuple[Any, ...]]
) -> pa.Table:
    """Price each deal (pure, per deal) into one Arrow table of desired earnings."""
    import pyarrow as pa

    columns: list[list[Any]] = [[] for _ in _DESIRED_COLUMNS]
    quanta: dict[str, Decimal] = {}
    ci = 0
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for opp, x_us, close_period, opp_type, tier, run_id, amount, currency, rate, rep, version in deals:
        q = quanta.get(currency)
        if q is None:
            q = quanta[currency] = quantum(currency)
        deal_credits: list[PartnerCredit] = []
        while ci < len(credits) and credits[ci][0] < opp:
            ci += 1
        while ci < len(credits) and credits[ci][0] == opp:
            _, partner, ptype, ptier, role, share, camount = credits[ci]
            deal_credits.append(PartnerCredit(partner, ptype, ptier, role, share, camount.quantize(q)))
            ci += 1
        deal = DealToPrice(
            opportunity_id=opp,
            won=True,
            closed_at=epoch + timedelta(microseconds=x_us),
            close_period=close_period,
            opportunity_type=opp_type,
            tier=tier,
            attribution_run_id=int(run_id),
            amount=amount.quantize(q),
            currency=currency,
            fx_rate=rate,
            workspace_currency=workspace_currency,
            rep_id=rep,
            credits=tuple(deal_credits),
        )
        earnings = plans.price(version, deal)
        check_earnings(opp, earnings)
        for e in earnings:
            for column, value in zip(
                columns,
                (opp, e.party_kind, e.party_id, e.kind, e.rule_id, e.plan_version, e.attribution_run_id,
                 str(e.amount), e.basis),
                strict=True,
            ):  # fmt: skip
                column.append(value)
    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in _DESIRED_COLUMNS])
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )


_LINE = ("opportunity_id", "party_kind", "party_id", "rule_id", "kind")


def _on(left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in _LINE)


def _stage_changes(
    con: Engine, ctx: PostingContext, last_number: int, reason: str, won: Iterable[str]
) -> None:
    """``_pay_new``: the reversals, clawbacks and new earnings, numbered, with every column."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pay_scope_live AS
           SELECT l.* FROM _pay_live l SEMI JOIN _pay_scope s ON s.opportunity_id = l.opportunity_id"""
    )
    stage_causes(con)
    stage_reasons(con, reason, won)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_changes AS
            WITH settled AS (
                SELECT party_kind, party_id, max(period) AS through FROM ledger_entries
                WHERE kind = 'payment' GROUP BY ALL),
            reversing AS (
                SELECT l.opportunity_id, 0 AS grp, l.party_kind, l.party_id, l.rule_id, l.kind AS line_kind,
                       l.plan_version, l.attribution_run_id,
                       CASE WHEN s.through IS NOT NULL AND l.period <= s.through THEN 'clawback'
                            ELSE 'reversal' END AS kind,
                       -l.amount AS amount, 'reverses ' || l.entry_id || ': ' || l.basis AS basis,
                       l.entry_id AS reverses, l.idempotency_key AS key_base
                FROM _pay_scope_live l
                LEFT JOIN _pay_desired d ON {_on("d", "l")}
                LEFT JOIN settled s ON s.party_kind = l.party_kind AND s.party_id = l.party_id
                WHERE d.opportunity_id IS NULL OR d.amount <> l.amount),
            used AS (
                SELECT e.opportunity_id, e.party_kind, e.party_id, e.rule_id, e.kind, e.plan_version,
                       e.attribution_run_id, count(*) AS n
                FROM ledger_entries e SEMI JOIN _pay_desired d ON d.opportunity_id = e.opportunity_id
                WHERE e.kind IN ({_EARNING_SQL}) GROUP BY ALL),
            earning AS (
                SELECT d.opportunity_id, 1 AS grp, d.party_kind, d.party_id, d.rule_id, d.kind AS line_kind,
                       d.plan_version, d.attribution_run_id, d.kind, d.amount, d.basis,
                       NULL::VARCHAR AS reverses,
                       d.opportunity_id || '|' || d.party_kind || ':' || d.party_id || '|' || d.rule_id || '|'
                           || d.plan_version || '|' || d.attribution_run_id || '|' || d.kind
                           || CASE WHEN u.n IS NULL THEN '' ELSE '#' || (u.n + 1) END AS key_base
                FROM _pay_desired d
                LEFT JOIN _pay_scope_live l ON {_on("l", "d")}
                LEFT JOIN used u ON {_on("u", "d")} AND u.plan_version = d.plan_version
                    AND u.attribution_run_id = d.attribution_run_id
                WHERE d.amount <> 0 AND (l.entry_id IS NULL OR l.amount <> d.amount))
            SELECT * FROM reversing UNION ALL SELECT * FROM earning"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_new AS
            SELECT 'LE-' || lpad(CAST({last_number} + row_number() OVER (
                       ORDER BY c.opportunity_id, c.grp, c.party_kind, c.party_id, c.rule_id, c.line_kind)
                       AS VARCHAR), 8, '0') AS entry_id,
                   CASE WHEN c.grp = 0 THEN c.key_base || '|' || c.kind ELSE c.key_base END AS idempotency_key,
                   ?::TIMESTAMPTZ AS posted_at, ?::TIMESTAMPTZ AS recorded_at, ? AS period,
                   ?::BIGINT AS posting_id, c.party_kind, c.party_id,
                   c.opportunity_id, c.kind, c.rule_id, c.plan_version, c.attribution_run_id,
                   CAST(c.amount AS DECIMAL(18,4)) AS amount, ? AS currency, c.basis, c.reverses,
                   NULL::VARCHAR AS payout_run_id, ? AS by_user, r.reason
            FROM _pay_changes c JOIN _pay_reasons r ON r.opportunity_id = c.opportunity_id""",
        [ctx.posted_at, ctx.recorded_at, ctx.period, ctx.posting_id, ctx.currency, ctx.by_user],
    )
    # 'LE-' + 8 digits sorts as numbers do; more than 99,999,999 entries would need a wider id.
    assert entry_id(1) == "LE-00000001"


def _summary(con: Engine, ctx: PostingContext, reprice: bool) -> PostingResult:
    rows = con.execute("SELECT kind, count(*), sum(amount) FROM _pay_new GROUP BY 1 ORDER BY 1").fetchall()
    counts = {str(k): int(n) for k, n, _ in rows}
    amounts = {str(k): Decimal(s) for k, _, s in rows}
    stats = con.execute(
        """SELECT (SELECT count(*) FROM _pay_deals), (SELECT count(*) FROM _pay_to_price),
                  (SELECT count(*) FROM _pay_scope WHERE NOT eligible),
                  (SELECT count(*) FROM _pay_candidates WHERE attribution_run_id IS NULL),
                  (SELECT count(*) FROM _pay_candidates WHERE attribution_run_id IS NOT NULL
                       AND plan_version IS NULL)"""
    ).fetchone()
    assert stats is not None
    eligible, priced, reversed_deals, unattributed, no_plan = (int(v) for v in stats)
    terms = _new_terms_count(con, reprice)
    cached = count_of(con, f"SELECT count(*) FROM ({_CACHE_SQL})")
    anything = bool(counts) or terms > 0 or cached > 0
    return PostingResult(
        ctx.posting_id if anything else None,
        ctx.period,
        ctx.posted_at,
        eligible,
        priced,
        reversed_deals,
        unattributed,
        no_plan,
        counts,
        amounts,
    )


def _new_terms_sql(reprice: bool) -> str:
    """Deals getting a (new) terms row: a first entry, a re-price onto another plan version, or a
    deal that closed again at another instant (its pinned close time moves with it)."""
    moved = "OR (d.terms_seq IS NOT NULL AND d.pinned_plan <> d.plan_version)" if reprice else ""
    return f"""SELECT d.opportunity_id, coalesce(d.terms_seq, 0) + 1 AS seq, d.rep_id, d.plan_version,
                      CASE WHEN d.terms_seq IS NULL THEN 'first entry'
                           WHEN d.close_moved THEN 'closed again' ELSE 'reprice' END AS reason
               FROM _pay_to_price d
               WHERE (d.terms_seq IS NULL AND d.opportunity_id IN (SELECT opportunity_id FROM _pay_new))
                  OR (d.close_moved AND d.plan_version IS NOT NULL)
                  {moved}"""


def _new_terms_count(con: Engine, reprice: bool) -> int:
    return count_of(con, f"SELECT count(*) FROM ({_new_terms_sql(reprice)})")


# What each deal was priced from, recorded only when it differs from the last record.
_NOT_ELIGIBLE = "not eligible"
_CACHE_SQL = f"""
    SELECT opportunity_id, input_digest FROM _pay_to_price WHERE input_digest IS DISTINCT FROM last_digest
    UNION ALL
    SELECT opportunity_id, '{_NOT_ELIGIBLE}' FROM _pay_scope WHERE NOT eligible"""


def _write(
    con: Engine,
    ctx: PostingContext,
    reprice: bool,
    reason: str,
    result: PostingResult,
    inputs: Callable[[], str],
) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _pay_new_entries AS SELECT {', '.join(ENTRY_COLUMNS)} FROM _pay_new"
    )
    LEDGER_ENTRIES.insert(con, "_pay_new_entries")
    LEDGER_POSTED_DEALS.insert(con, stage_posted_deals(con, ctx.posting_id, ctx.currency))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _pay_new_terms AS SELECT opportunity_id, seq, rep_id, plan_version, "
        f"{ctx.posting_id}::BIGINT AS posting_id, reason FROM ({_new_terms_sql(reprice)})"
    )
    LEDGER_DEAL_TERMS.insert(con, "_pay_new_terms")
    con.execute(
        f"INSERT INTO ledger_priced SELECT opportunity_id, input_digest, {ctx.posting_id} FROM ({_CACHE_SQL})"
    )
    summary = {
        "deals_eligible": result.deals_eligible,
        "deals_priced": result.deals_priced,
        "deals_reversed": result.deals_reversed,
        "entries": result.counts,
        "unattributed": result.unattributed,
        "no_plan": result.no_plan,
        # What the workspace looked like once this posting was written (see _inputs_fingerprint).
        "inputs": inputs(),
    }
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pay_posting AS SELECT ?::BIGINT AS posting_id, "
        "?::TIMESTAMPTZ AS posted_at, ? AS period, ? AS action, ? AS by_user, ? AS reason, ? AS summary",
        [
            ctx.posting_id,
            ctx.recorded_at,
            ctx.period,
            "reprice" if reprice else "post",
            ctx.by_user,
            reason,
            json.dumps(summary, sort_keys=True),
        ],
    )
    LEDGER_POSTINGS.insert(con, "_pay_posting")
