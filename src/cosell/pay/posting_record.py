"""Why a posting posts each deal's entries, and what the deal was when they were posted.

Every deal a posting touches gets one reason, written into each of its entries (``reason``):

- ``won 2026-09-15, attribution version 1, plan partners-2026@1``: the deal's first entries;
- ``re-priced with plan partners-2026@2``: ``--reprice`` moved it to another plan version;
- ``attribution changed: version 7 (fix, finding:F-000012: direct engagement came first)``: the
  attribution version that changed what the deal earns, with its kind, the accepted fix or decided
  dispute that made it (``attribution_changes``) and its reason;
- ``deal amount, close, rate or partner changed``: anything else that changes the price;
- why a deal no longer qualifies (``the deal is no longer won (stage Closed Lost)`` ...).

**Which attribution version is the cause.** Not the deal's current version: a batch run between an
accepted fix and the posting decides the same again and would otherwise take the fix's place. The
versions of the deal from the one its earnings were last priced from (its live earnings', else its
latest entry's) up to the current one are compared by what pricing reads of them, the tier and the
credits (partner, role, share); when the current one decides otherwise than the last priced one, the
cause is the first version of the unbroken run of versions that decide as the current one does: the
version that made the attribution what it now is. (One fix then a batch run: the fix. A fix then a
dispute that decides otherwise again: the dispute.) When the tier and credits are unchanged, the
attribution is not the cause, whatever versions came in between.

Beside the entries, each posting records per deal (``ledger_posted_deals``, sealed) the account's
name, the deal's amount and currency and its close time as priced (for a deal that no longer
qualifies, the CRM's close_date), and the cause's version, kind and source: a statement prints a
line as it was posted, whatever the CRM says later.
"""

from __future__ import annotations

from collections.abc import Iterable

from cosell.engine import Engine
from cosell.store.tables import tables_present


def sql_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` quoted for SQL, sorted; empty text for no values."""
    items = sorted(values)
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in items) + ")" if items else ""


def sql_in(column: str, values: Iterable[str]) -> str:
    """``column IN (...)``; ``FALSE`` for no values."""
    items = sql_list(values)
    return f"{column} IN {items}" if items else "FALSE"


def stage_causes(con: Engine) -> None:
    """``_pay_causes``: per deal to price whose attribution changed what it earns, the version that
    changed it (``cause_run_id``), its kind and the fix or dispute that made it (``source``)."""
    changes = ""
    source = "''"
    if tables_present(con, ("attribution_changes",)):  # a workspace where nothing was ever decided has none
        source = "coalesce(ac.source, '')"
        changes = """
            LEFT JOIN (SELECT opportunity_id, run_id, string_agg(DISTINCT source, ', ' ORDER BY source) AS source
                       FROM attribution_changes GROUP BY ALL) ac
                ON ac.opportunity_id = c.opportunity_id AND ac.run_id = c.cause_run_id"""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_causes AS
            WITH last_priced AS (
                SELECT d.opportunity_id, d.attribution_run_id AS cur_run, coalesce(l.run_id, e.run_id) AS prev_run
                FROM _pay_to_price d
                LEFT JOIN (SELECT opportunity_id, max(attribution_run_id) AS run_id
                           FROM _pay_scope_live GROUP BY 1) l ON l.opportunity_id = d.opportunity_id
                LEFT JOIN (SELECT e.opportunity_id, max(e.attribution_run_id) AS run_id FROM ledger_entries e
                           SEMI JOIN _pay_to_price p ON p.opportunity_id = e.opportunity_id GROUP BY 1) e
                    ON e.opportunity_id = d.opportunity_id
                WHERE coalesce(l.run_id, e.run_id) < d.attribution_run_id),
            credits AS (
                SELECT c.opportunity_id, c.run_id,
                       string_agg(concat_ws(',', c.partner_id, c.role, c.share), ';' ORDER BY c.partner_id, c.role)
                           AS credits
                FROM credit_history c JOIN last_priced p ON p.opportunity_id = c.opportunity_id
                    AND c.run_id BETWEEN p.prev_run AND p.cur_run
                GROUP BY 1, 2),
            versions AS (
                SELECT h.opportunity_id, h.run_id, p.prev_run, p.cur_run,
                       concat_ws('|', h.tier, coalesce(c.credits, '')) AS decided
                FROM attribution_history h JOIN last_priced p ON p.opportunity_id = h.opportunity_id
                    AND h.run_id BETWEEN p.prev_run AND p.cur_run
                LEFT JOIN credits c ON c.opportunity_id = h.opportunity_id AND c.run_id = h.run_id),
            ends AS (
                SELECT opportunity_id, max(decided) FILTER (WHERE run_id = prev_run) AS before,
                       max(decided) FILTER (WHERE run_id = cur_run) AS now
                FROM versions GROUP BY 1),
            other AS (  -- the newest version that decided otherwise than the current one
                SELECT v.opportunity_id, max(v.run_id) AS run_id
                FROM versions v JOIN ends n ON n.opportunity_id = v.opportunity_id
                WHERE n.before IS DISTINCT FROM n.now AND v.decided IS DISTINCT FROM n.now
                GROUP BY 1),
            cause AS (
                SELECT v.opportunity_id, min(v.run_id) AS cause_run_id
                FROM versions v JOIN other o ON o.opportunity_id = v.opportunity_id AND v.run_id > o.run_id
                GROUP BY 1)
            SELECT c.opportunity_id, c.cause_run_id, coalesce(ar.kind, 'batch') AS cause_kind,
                   {source} AS source, coalesce(ar.reason, '') AS cause_reason
            FROM cause c LEFT JOIN attribution_runs ar ON ar.run_id = c.cause_run_id{changes}"""
    )


def stage_reasons(con: Engine, reason: str, won: Iterable[str]) -> None:
    """``_pay_reasons``: one sentence per deal in scope saying why its entries are posted (after
    :func:`stage_causes`). ``reason`` (the posting's ``--reason``) is added in brackets."""
    given = reason.replace("'", "''")
    suffix = f" ({given})" if given else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_reasons AS
            WITH before AS (
                SELECT opportunity_id, max(plan_version) AS plan_version FROM _pay_scope_live GROUP BY 1),
            any_entry AS (SELECT DISTINCT opportunity_id FROM ledger_entries e
                          SEMI JOIN _pay_scope s ON s.opportunity_id = e.opportunity_id)
            SELECT s.opportunity_id,
                CASE
                WHEN NOT s.eligible THEN CASE
                    WHEN o.opportunity_id IS NULL THEN 'the deal is no longer in the CRM data'
                    WHEN NOT ({sql_in("o.stage", won)}) THEN 'the deal is no longer won (stage '
                        || o.stage || ')'
                    WHEN c.opportunity_id IS NULL THEN 'the deal now closes after the period'
                    WHEN c.attribution_run_id IS NULL THEN 'the deal has no attribution version'
                    ELSE 'no plan is in force at the deal''s close' END
                WHEN a.opportunity_id IS NULL THEN 'won ' || strftime(d.closed_at, '%Y-%m-%d')
                    || ', attribution version ' || d.attribution_run_id || ', plan ' || d.plan_version
                WHEN b.opportunity_id IS NOT NULL AND b.plan_version <> d.plan_version
                    AND d.pinned_plan IS DISTINCT FROM d.plan_version THEN 're-priced with plan ' || d.plan_version
                WHEN z.opportunity_id IS NOT NULL THEN
                    'attribution changed: version ' || z.cause_run_id || ' (' || z.cause_kind
                    || coalesce(', ' || nullif(z.source, ''), '') || coalesce(': ' || nullif(z.cause_reason, ''), '')
                    || ')'
                ELSE 'deal amount, close, rate or partner changed' END || '{suffix}' AS reason
            FROM _pay_scope s
            LEFT JOIN _pay_to_price d ON d.opportunity_id = s.opportunity_id
            LEFT JOIN before b ON b.opportunity_id = s.opportunity_id
            LEFT JOIN any_entry a ON a.opportunity_id = s.opportunity_id
            LEFT JOIN _pay_causes z ON z.opportunity_id = s.opportunity_id
            LEFT JOIN v_opportunities o ON o.opportunity_id = s.opportunity_id
            LEFT JOIN _pay_candidates c ON c.opportunity_id = s.opportunity_id"""
    )


def stage_posted_deals(con: Engine, posting_id: int, workspace_currency: str) -> str:
    """``_pay_posted_deals``: one row of ``ledger_posted_deals`` per deal with entries in
    ``_pay_new`` (after :func:`stage_causes`): the deal as posted and the cause. Returns its name."""
    currency = workspace_currency.replace("'", "''")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pay_posted_deals AS
            SELECT {int(posting_id)}::BIGINT AS posting_id, n.opportunity_id, o.account_id,
                   a.name AS account_name, o.amount, coalesce(nullif(o.currency, ''), '{currency}') AS currency,
                   coalesce(c.closed_at, o.close_date) AS closed_at, z.cause_run_id, z.cause_kind,
                   z.source AS cause_source
            FROM (SELECT DISTINCT opportunity_id FROM _pay_new) n
            LEFT JOIN v_opportunities o ON o.opportunity_id = n.opportunity_id
            LEFT JOIN v_accounts a ON a.account_id = o.account_id
            LEFT JOIN _pay_closed c ON c.opportunity_id = n.opportunity_id
            LEFT JOIN _pay_causes z ON z.opportunity_id = n.opportunity_id"""
    )
    return "_pay_posted_deals"
