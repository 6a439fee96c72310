"""One row per attributed deal, as every metric reads it: built once per report, in the database.

:func:`build_deal_facts` joins each deal's attribution version known at the knowledge instant K
(``v_attribution``) to its opportunity row known then (``v_opportunities``), evaluated as of the
as-of instant T (:mod:`cosell.asof`), and materialises a temp table :data:`DEALS_TABLE` with, per
deal:

- ``tier``, ``partner_attributed`` (sourced, accelerated or influenced) and ``direct_only``;
- ``created_at``, ``closed_at`` (the close time X of a won or lost deal, NULL while open, and while
  X is after T: the deal was still open at T), ``won``,
  ``lost`` and ``cycle_us`` (X - C in exact microseconds);
- ``created_mi`` and ``closed_mi``: the UTC month of C and of X as one integer (``year * 12 +
  month - 1``), so that every period, a month or a fiscal quarter, is a set of months joined as
  integers (:func:`periods_sql`);
- ``pipeline_ws``: the amount converted at the rate of the creation month (the month's rate, else
  its fiscal quarter's), and ``revenue_ws`` (won deals only): at the rate of the close month; each
  rounded once, half away from zero, to the workspace currency's minor unit
  (:func:`cosell.fx.monthly_rates_sql` and :func:`~cosell.fx.convert_sql`, the same
  lookup and rounding as :func:`~cosell.fx.converted_amounts_sql`); NULL when the rate is
  missing, which :func:`check_rates` turns into an input error for the periods a report uses.

Close time X, won or lost, and direct-only are not derived again here: they are the rules' own,
read from the evidence stored with each attribution version (``v_evidence``,
:mod:`cosell.store.evidence_store`): the outcome the version decided, X counted while it is at or
before T, the cycle X - C in exact microseconds, and direct-only when the version's tier is none
(an accepted override to a partner tier takes a deal out of the direct baseline). A deal closed
after its version was decided counts as closed once a run or a partial version says so
(docs/evidence.md).

Versions stored before cosell kept evidence (workspace schema 9 and earlier) are read as they were:
X from the data by the definition of SPEC section 1 in two aggregates (:func:`close_times_sql`,
held equal to the engine's by tests/metrics/test_deal_facts.py), and direct-only read back from the
stored rules (a deal whose rules hold none of S1-S4, ACC and INF had no partner touch, lead or
registration) with no opportunity_partners row other than a reseller and no partner in its CRM
fields. See docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell.asof import evaluation, knowledge
from cosell.attribution.timeline import NO_CLOSE_TIME
from cosell.engine import Engine
from cosell.engine.sql import in_list, lit
from cosell.engine.sql import ts as lit_instant
from cosell.errors import InputError, Problem
from cosell.fx import convert_sql, month_index_sql, monthly_rates_sql
from cosell.hygiene.sql import close_time_ctes
from cosell.money import minor_unit
from cosell.periods import Period, parse_period
from cosell.policy import Policy
from cosell.report_model import counted
from cosell.store.versions import open_attribution_views

DEALS_TABLE = "_cosell_metrics_deals"
RATES_TABLE = "_cosell_metrics_rates"
_BASE = "_cosell_metrics_base"
PARTNER_TIERS = ("sourced", "accelerated", "influenced")
# Rule ids that only a partner-attributed computed tier writes (docs/rules.md).
_PARTNER_RULES = r"(^| )(S1|S2|S3|S4|ACC|INF)( |$)"


def _in_list(values: frozenset[str]) -> str:
    return ", ".join(lit(v) for v in sorted(values)) or "NULL"


def stage_class_sql(column: str, policy: Policy) -> str:
    """``won``, ``lost`` or ``open`` of a stage column by the policy's stage mapping."""
    return (
        f"CASE WHEN {column} IN ({_in_list(policy.won_stages)}) THEN 'won' "
        f"WHEN {column} IN ({_in_list(policy.lost_stages)}) THEN 'lost' ELSE 'open' END"
    )


def close_times_sql(policy: Policy) -> str:
    """SELECT opportunity_id, closed_at: X of every won or lost deal in ``v_opportunities``
    (NULL when it has neither a stage_history entry into its stage nor a close_date), by the one
    relational definition the gate audit, reconciliation and pay read
    (:func:`cosell.hygiene.sql.close_time_ctes`)."""
    closed = in_list(policy.won_stages | policy.lost_stages)
    ctes = close_time_ctes(policy.won_stages, policy.lost_stages, "closed_at")
    return f"""
        WITH o AS (
            SELECT opportunity_id, stage, close_date FROM v_opportunities WHERE stage IN {closed}),
        sh AS (
            SELECT h.opportunity_id, h.stage, h.entered_at FROM v_stage_history h
            WHERE h.opportunity_id IN (SELECT opportunity_id FROM o)),{ctes}
        SELECT opportunity_id, closed_at FROM w
    """


@dataclass(frozen=True)
class DealFacts:
    """The materialised deal table of one report and what it was built from."""

    con: Engine
    policy: Policy
    as_of: datetime  # T, the evaluation instant (given, else K, else now)
    as_of_given: bool  # T or K was given (not now)
    run_id: int  # newest attribution run read
    run_at: datetime
    attribution_policies: tuple[str, ...]  # policy versions of the versions read
    deals: int  # attributed deals in the table
    unattributed: int  # deals known and existing at T without any attribution version yet
    data_until: datetime | None = None  # the newest created_at or close time X of the deals
    table: str = DEALS_TABLE
    known_at: datetime | None = None  # K, the knowledge instant; None: everything recorded
    evaluated: bool = False  # the attribution read is the run evaluated as of T (both instants given)

    def period(self, label: str) -> Period:
        return parse_period(label, self.policy.fiscal_year_start_month)


def build_deal_facts(
    con: Engine,
    policy: Policy,
    as_of: datetime,
    *,
    as_of_given: bool = True,
    known_at: datetime | None = None,
) -> DealFacts:
    """Create the ``v_*`` views of the data known at ``known_at`` and materialise
    :data:`DEALS_TABLE`, evaluated as of ``as_of`` (:mod:`cosell.asof`): deals created after it
    left out, a deal that closed after it still open.

    ``known_at`` defaults to ``as_of`` when ``as_of_given`` (the numbers as they stood then), else
    to every current row. Given both, the attribution read is the run evaluated as of ``as_of``
    (and the partial runs after it), else each deal's newest version known. Raises NotFound when
    nothing was imported by ``known_at`` or no such attribution is known."""
    given = as_of if as_of_given else None
    evaluated = evaluation(given, known_at)
    known_at = knowledge(given, known_at)
    run_id = open_attribution_views(con, known_at, evaluated, existing_at=as_of)
    run_row = con.execute("SELECT run_at FROM attribution_runs WHERE run_id = ?", [run_id]).fetchone()
    assert run_row is not None
    ws = policy.workspace_currency
    t = lit_instant(as_of)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_BASE} AS
        WITH o AS (
            SELECT opportunity_id, created_at, amount,
                coalesce(nullif(currency, ''), {lit(ws)}) AS currency,
                {stage_class_sql("stage", policy)} AS cls,
                partner_id IS NOT NULL AND partner_id <> '' AS crm_partner,
                coalesce(nullif(partner_source, ''), 'none') <> 'none' AS crm_source
            FROM v_opportunities),
        -- X and direct-only as the rules decided them, stored with each version (docs/evidence.md).
        e AS (SELECT opportunity_id, status, created_at, closed_at, direct_only FROM v_evidence),
        -- Versions stored before evidence was kept: X from the data, direct-only from the rules.
        legacy AS (
            SELECT a.opportunity_id FROM v_attribution a
            WHERE a.opportunity_id NOT IN (SELECT opportunity_id FROM e)),
        op AS (
            SELECT DISTINCT opportunity_id FROM v_opportunity_partners
            WHERE role <> 'reseller' AND opportunity_id IN (SELECT opportunity_id FROM legacy)),
        x0 AS (
            SELECT * FROM ({close_times_sql(policy)})
            WHERE opportunity_id IN (SELECT opportunity_id FROM legacy)),
        -- A deal that closed after T was still open at T (docs/rules.md, Times).
        x AS (
            SELECT opportunity_id, closed_at IS NULL AS no_time,
                CASE WHEN closed_at <= {t} THEN closed_at END AS closed_at
            FROM x0),
        d AS (
            SELECT a.opportunity_id, a.run_id, a.tier, o.currency, o.amount, o.created_at,
                CASE WHEN e.opportunity_id IS NULL THEN x.closed_at
                    WHEN e.closed_at <= {t} THEN e.closed_at END AS closed_at,
                CASE WHEN e.opportunity_id IS NULL THEN o.cls ELSE e.status END AS cls,
                coalesce(e.created_at, o.created_at) AS c_at,
                CASE WHEN e.opportunity_id IS NULL
                    THEN NOT regexp_matches(coalesce(a.rules, ''), '{_PARTNER_RULES}')
                        AND op.opportunity_id IS NULL AND NOT o.crm_partner AND NOT o.crm_source
                    ELSE e.direct_only END AS direct_evidence,
                e.opportunity_id IS NULL AND o.cls <> 'open' AND coalesce(x.no_time, FALSE) AS no_close_time
            FROM v_attribution a
            JOIN o ON o.opportunity_id = a.opportunity_id
            LEFT JOIN e ON e.opportunity_id = a.opportunity_id
            LEFT JOIN x ON x.opportunity_id = a.opportunity_id
            LEFT JOIN op ON op.opportunity_id = a.opportunity_id)
        SELECT opportunity_id, run_id, tier, currency, amount, created_at, closed_at,
            cls = 'won' AND closed_at IS NOT NULL AS won, cls = 'lost' AND closed_at IS NOT NULL AS lost,
            tier IN ('sourced', 'accelerated', 'influenced') AS partner_attributed,
            -- An accepted override to a partner tier takes a deal out of the direct baseline.
            tier = 'none' AND direct_evidence AS direct_only,
            {month_index_sql("created_at")} AS created_mi,
            {month_index_sql("closed_at")} AS closed_mi,
            epoch_us(closed_at) - epoch_us(c_at) AS cycle_us,
            no_close_time
        FROM d"""
    )
    try:
        bad = con.execute(
            f"SELECT opportunity_id FROM {_BASE} WHERE no_close_time ORDER BY opportunity_id LIMIT 1"
        ).fetchall()
        if bad:
            raise InputError(
                Problem(
                    "opportunities",
                    None,
                    "close_date",
                    str(bad[0][0]),
                    NO_CLOSE_TIME,
                )
            )
        pairs = (
            f"SELECT currency, created_mi AS month_index FROM {_BASE} "
            f"UNION SELECT currency, closed_mi FROM {_BASE} WHERE won"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RATES_TABLE} AS {monthly_rates_sql(pairs, policy)}")
        # The workspace currency's rate is 1: its amounts are only rounded (most deals, no product).
        digits = minor_unit(ws)
        own = f"CAST(round(b.amount, {digits}) AS DECIMAL(38,{digits}))"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {DEALS_TABLE} AS
            SELECT b.* EXCLUDE (no_close_time),
                CASE WHEN b.currency = {lit(ws)} THEN {own} ELSE {convert_sql("b.amount", "rc.rate", policy)}
                    END AS pipeline_ws,
                CASE WHEN NOT b.won THEN NULL WHEN b.currency = {lit(ws)} THEN {own}
                    ELSE {convert_sql("b.amount", "rw.rate", policy)} END AS revenue_ws
            FROM {_BASE} b
            LEFT JOIN {RATES_TABLE} rc ON rc.currency = b.currency AND rc.month_index = b.created_mi
            LEFT JOIN {RATES_TABLE} rw ON rw.currency = b.currency AND rw.month_index = b.closed_mi"""
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_BASE}")
    counts = con.execute(
        f"SELECT (SELECT count(*) FROM {DEALS_TABLE}), (SELECT count(*) FROM v_opportunities), "
        f"(SELECT max(greatest(created_at, coalesce(closed_at, created_at))) FROM {DEALS_TABLE})"
    ).fetchone()
    assert counts is not None
    policies = con.execute(
        "SELECT DISTINCT policy_version FROM attribution_runs "
        f"WHERE run_id IN (SELECT DISTINCT run_id FROM {DEALS_TABLE}) ORDER BY 1"
    ).fetchall()
    return DealFacts(
        con=con,
        policy=policy,
        as_of=as_of,
        as_of_given=as_of_given,
        run_id=run_id,
        run_at=run_row[0],
        attribution_policies=tuple(str(p[0]) for p in policies),
        deals=int(counts[0]),
        unattributed=int(counts[1]) - int(counts[0]),
        data_until=counts[2],
        known_at=known_at,
        evaluated=evaluated is not None,
    )


def month_index(year: int, month: int) -> int:
    """The integer of a month (as :func:`cosell.fx.month_index_sql`)."""
    return year * 12 + month - 1


def month_indexes(period: Period) -> tuple[int, ...]:
    """The months a period covers (one for a month, three for a quarter), as integers."""
    first = month_index(period.start.year, period.start.month)
    end = month_index(period.end.year, period.end.month)
    return tuple(range(first, end))


def month_labels(period: Period) -> tuple[str, ...]:
    """The month labels a period covers (one for a month, three for a quarter)."""
    return tuple(f"{mi // 12:04d}-{mi % 12 + 1:02d}" for mi in month_indexes(period))


def periods_sql(periods: list[Period]) -> str:
    """A relation ``(month_index, label)``: each month of each period (a month may belong to a
    quarter and to itself), to join deals on their creation or close month and group by period."""
    rows = [f"({mi}, {lit(p.label)})" for p in periods for mi in month_indexes(p)]
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) AS t(month_index, label))"


def check_rates(facts: DealFacts, periods: list[Period]) -> None:
    """An input error naming currency and period when a deal created (pipeline) or won (revenue)
    in one of ``periods`` has no FX rate: never a silent 1.0, never a silently dropped deal."""
    if not periods:
        return
    months = ", ".join(str(mi) for mi in sorted({mi for p in periods for mi in month_indexes(p)}))
    rows = facts.con.execute(
        f"""
        WITH used AS (
            SELECT currency, created_mi AS month_index, 'created' AS kind FROM {facts.table}
            WHERE pipeline_ws IS NULL AND created_mi IN ({months})
            UNION ALL
            SELECT currency, closed_mi, 'won' FROM {facts.table}
            WHERE won AND revenue_ws IS NULL AND closed_mi IN ({months}))
        SELECT u.currency, r.month, r.quarter, u.kind, count(*) FROM used u
        JOIN {RATES_TABLE} r ON r.currency = u.currency AND r.month_index = u.month_index
        GROUP BY ALL ORDER BY r.month, u.currency, u.kind LIMIT 1
        """
    ).fetchall()
    if rows:
        currency, month, quarter, kind, n = rows[0]
        raise InputError(
            Problem(
                "fx_rates",
                None,
                "rate",
                None,
                f"no rate for {currency} in {month} or {quarter}: needed by {counted(n, 'deal')} {kind} then",
            )
        )
