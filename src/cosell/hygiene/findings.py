"""Reconciliation findings, detected in the database over the ``v_`` views (SPEC section 4).

:func:`detect` reads the closed-won deals whose close time X falls in a window, and cross-checks
each one's declared attribution (the CRM fields overlaid by cosell's declarations) against its
attribution version (``v_attribution``), partner activity (``v_touches``), registrations, leads,
declared partners and account overlap (the partners' lists as the caller matched them to our
accounts with :func:`cosell.accounts.overlap.overlap_pairs`). Every check is one SQL statement over
all deals at once, so a month of a million-deal workspace takes seconds.

The checks themselves are in :mod:`cosell.hygiene.finding_checks`; this module runs them and
writes each finding's evidence, money at stake and suggested fix. The result is the temp table
``_rec_findings`` (columns :data:`FINDING_COLUMNS`), one row per
(kind, deal), plus ``_rec_deals`` (the deals checked). The exact reading of every kind is in
docs/hygiene-review.md; in short:

- ``untagged_partner_involvement``: declared ``none``, computed a partner tier;
- ``missing_attribution_at_close``: partner_source not confirmed at X (field_history, else the CRM
  value), and no auto-tag or answered prompt recorded by X;
- ``over_credited``: declared sourced, not computed sourced by the declared partner, and a
  DIRECT_FIRST / TIE_TO_DIRECT guard blocked a sourcing claim;
- ``double_sourced``: the DOUBLE_SOURCED guard, or two partners claiming the source (the CRM,
  opportunity_partners sourcer rows, approved registrations, partner leads);
- ``influence_without_activity``: declared influenced or accelerated, an empty activity log and no
  partner-engagement touch of the declared partner (any partner when none is named) by X;
- ``acceleration_unproven``: declared accelerated, computed not accelerated because the test ran
  and failed (NOT_FASTER) or had no baseline (NO_BASELINE);
- ``account_mismatch``: registrations, leads or touches linked to the deal sit on another account;
- ``declared_mismatch``: any other difference in tier or partner, when none of the kinds above that
  read the declared value already explains the deal;
- ``overlap_unattributed``: computed tier none, on an account a partner lists, with that partner's
  or another partner's engagement touches on the account or the deal by X
  (:mod:`cosell.hygiene.overlap_wins`, the rule ``cosell accounts match`` lists too).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from cosell.engine import Engine, settings
from cosell.fx import check_rates, converted_amounts_sql
from cosell.hygiene import finding_checks as checks
from cosell.hygiene.declared import declared_views
from cosell.hygiene.finding_checks import PARTNER_TIERS, Window, has_rule
from cosell.hygiene.prompts import expired_prompts
from cosell.hygiene.sql import evidence_item as _item
from cosell.hygiene.sql import in_list as _in
from cosell.hygiene.sql import instant_text
from cosell.hygiene.sql import lit as _lit
from cosell.money import minor_unit
from cosell.policy import Policy
from cosell.store.review import KINDS as KINDS
from cosell.store.staging import staged_rows

KIND_CODES = {
    "untagged_partner_involvement": "UPI",
    "overlap_unattributed": "OVU",
    "missing_attribution_at_close": "MAC",
    "over_credited": "OVC",
    "double_sourced": "DBS",
    "influence_without_activity": "IWA",
    "acceleration_unproven": "ACU",
    "account_mismatch": "ACM",
    "declared_mismatch": "DMM",
    "prompt_expired": "PEX",
}
CONFIRM_NONE = "confirm partner_source=none in the CRM"
# The rules associated no partner evidence with the deal, so there is no tier to suggest: a person
# reads the touches and decides (an override with --tier/--partner, or a rejection).
REVIEW_OVERLAP = (
    "review the partner touches: accept with --tier/--partner if a partner helped win it, else reject"
)
MEMORY_ENV = "COSELL_RECONCILE_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"

FINDING_COLUMNS = (
    "finding_id",
    "kind",
    "opportunity_id",
    "closed_at",
    "declared_source",
    "declared_partner_id",
    "computed_tier",
    "computed_partner_id",
    "run_id",
    "amount",
    "currency",
    "at_stake",
    "suggested_tier",
    "suggested_partner_id",
    "suggested_fix",
    "evidence",
    "overridden",
)


def finding_id(kind: str, opportunity_id: str) -> str:
    """The stable id of a finding: its kind's code and the deal (``OVC-006A000042``)."""
    return f"{KIND_CODES[kind]}-{opportunity_id}"


def declared_relation(con: Engine, as_of: datetime | None) -> str:
    """``v_declared`` as known at ``as_of``: each deal's declared attribution (the CRM fields
    overlaid by answered prompts, or an auto-tag where the CRM partner_source is empty)."""
    declared_views(con, as_of)
    return "v_declared"


def _evidence(con: Engine) -> None:
    """``_rec_evidence``: each finding's evidence, ``kind:id[/partner][@instant]`` items."""
    guards = " UNION ALL ".join(
        f"SELECT h.kind, h.opportunity_id, 2, 'guard:{g}' FROM _rec_hits h JOIN _rec_deals d "
        f"USING (opportunity_id) WHERE h.kind = '{k}' AND {has_rule(g)}"
        for k, g in (
            ("over_credited", "DIRECT_FIRST"),
            ("over_credited", "TIE_TO_DIRECT"),
            ("double_sourced", "DOUBLE_SOURCED"),
            ("influence_without_activity", "NO_ACTIVITY"),
            ("acceleration_unproven", "NOT_FASTER"),
            ("acceleration_unproven", "NO_BASELINE"),
        )
    )
    with_attribution = _in(
        (
            "untagged_partner_involvement",
            "missing_attribution_at_close",
            "over_credited",
            "double_sourced",
            "acceleration_unproven",
            "declared_mismatch",
        )
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_evidence AS
        WITH e AS (
            SELECT h.kind, h.opportunity_id, unnest(string_split(d.attribution_evidence, ' ')) AS item
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind IN {with_attribution} AND d.attribution_evidence <> ''),
        e2 AS (
            SELECT kind, opportunity_id, item, split_part(item, ':', 1) AS type,
                substr(item, strpos(item, ':') + 1) AS id FROM e),
        dated AS (
            SELECT e2.kind, e2.opportunity_id, 5 AS ord,
                e2.item || coalesce('@' || {instant_text("coalesce(t.occurred_at, l.created_at, r.registered_at)")}, '')
                    AS item
            FROM e2
            LEFT JOIN _rec_touches t ON t.touch_id = CASE WHEN e2.type = 'touch' THEN e2.id END
            LEFT JOIN v_leads l ON l.lead_id = CASE WHEN e2.type = 'lead' THEN e2.id END
            LEFT JOIN v_deal_registrations r ON r.registration_id = CASE WHEN e2.type = 'registration'
                THEN e2.id END),
        items AS (
            SELECT * FROM dated
            UNION ALL {guards}
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                'partner_source_at_close:' || coalesce(d.source_at_close, 'empty')
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'missing_attribution_at_close'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("confirmed_after_close", "d.later_value", "d.later_by", "d.later_at")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'missing_attribution_at_close' AND d.later_value IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("declared", "d.declared_source", "d.declared_partner_id")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind IN ('over_credited', 'influence_without_activity', 'acceleration_unproven')
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, {_item("direct_touch", "x.touch_id", None, "x.occurred_at")}
            FROM _rec_hits h JOIN _rec_direct x USING (opportunity_id) WHERE h.kind = 'over_credited'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("claim", "c.source || coalesce(':' || c.ref, '')", "c.partner_id", "c.at")}
            FROM _rec_hits h JOIN _rec_claims c USING (opportunity_id) WHERE h.kind = 'double_sourced'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'activity_log:empty'
            FROM _rec_hits h WHERE h.kind = 'influence_without_activity'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'partner_touches_by_close:0'
            FROM _rec_hits h WHERE h.kind = 'influence_without_activity'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'engaged_at:' || {instant_text("d.engagement_at")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.engagement_at IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'remaining_days:' || CAST(d.remaining_days AS VARCHAR)
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.remaining_days IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'baseline_days:' || CAST(d.baseline_days AS VARCHAR)
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.baseline_days IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                'cohort:' || d.cohort || coalesce('/' || CAST(d.cohort_size AS VARCHAR), '')
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND nullif(d.cohort, '') IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'deal_account:' || d.account_id
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id) WHERE h.kind = 'account_mismatch'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 3,
                x.type || ':' || x.id || '/' || x.account_id || coalesce('@' || {instant_text("x.at")}, '')
            FROM _rec_hits h JOIN _rec_elsewhere x USING (opportunity_id) WHERE h.kind = 'account_mismatch'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 4, u.items
            FROM _rec_hits h JOIN (
                -- In time order, as cosell accounts match lists them: one item of several words,
                -- so the order of the items below (by ord, then text) cannot reorder them.
                SELECT opportunity_id, string_agg(
                    {_item("touch", "touch_id", "partner_id", "occurred_at")}, ' '
                    ORDER BY occurred_at, touch_id) AS items
                FROM _rec_unattributed GROUP BY opportunity_id) u USING (opportunity_id)
            WHERE h.kind = 'overlap_unattributed'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 6, 'overlap:' || o.partner_id || '/' || o.status
            FROM _rec_hits h JOIN _rec_overlap o USING (opportunity_id))
        SELECT kind, opportunity_id, string_agg(item, ' ' ORDER BY ord, item) AS evidence
        FROM (SELECT DISTINCT kind, opportunity_id, ord, item FROM items)
        GROUP BY kind, opportunity_id"""
    )


def _expired_prompts(
    con: Engine, policy: Policy, window: Window, as_of: datetime | None, declared: str
) -> str:
    """``_rec_prompts``: influence prompts that expired unanswered inside the window; returns the
    SELECT of their ``prompt_expired`` findings (one per deal). The deal is open pipeline, so its
    money is converted like pipeline (SPEC section 5): at the rate of the period it was created in,
    which the data always has, unlike the expiry period (it may lie after the last rate)."""
    rows = [
        (
            p.prompt_id,
            p.opportunity_id,
            p.partner_id,
            p.rep_id or None,
            p.trigger_ref,
            p.expires_at.isoformat(),
        )
        # Prompts are events: one expired unanswered at T, among those recorded by K (as_of here).
        for p in expired_prompts(
            con, policy, window.evaluated_at if as_of is None else min(window.evaluated_at, as_of)
        )
        if (window.start is None or p.expires_at >= window.start)
        and (window.end is None or p.expires_at < window.end)
        and p.expires_at <= window.evaluated_at
    ]
    # Handed over as Arrow data, not an insert per prompt (about 0.3 ms each). An ISO instant
    # with its offset converts exactly.
    columns = ("prompt_id", "opportunity_id", "partner_id", "rep_id", "trigger_ref", "expires_at")
    with staged_rows(con, "_rec_prompts_in", columns, rows) as staged:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rec_prompts AS SELECT prompt_id, opportunity_id, partner_id, "
            f"rep_id, trigger_ref, CAST(expires_at AS TIMESTAMPTZ) AS expires_at FROM {staged}"
        )
    source = f"""
        SELECT p.opportunity_id, o.amount, o.created_at,
            coalesce(nullif(trim(o.currency), ''), {_lit(policy.workspace_currency)}) AS currency
        FROM _rec_prompts p JOIN v_opportunities o ON o.opportunity_id = p.opportunity_id
        GROUP BY p.opportunity_id, o.amount, o.currency, o.created_at"""
    converted = converted_amounts_sql(source, "created_at", policy)
    check_rates(con, converted)
    return f"""
        WITH money AS ({converted}),
        ev AS (
            SELECT opportunity_id, string_agg(item, ' ' ORDER BY item) AS evidence FROM (
                SELECT opportunity_id, {_item("prompt", "prompt_id", "partner_id", "expires_at")} AS item
                FROM _rec_prompts
                UNION ALL SELECT opportunity_id, 'rep:' || rep_id FROM _rec_prompts WHERE rep_id IS NOT NULL
                UNION ALL SELECT opportunity_id, 'trigger:' || trigger_ref FROM _rec_prompts)
            GROUP BY opportunity_id)
        SELECT 'PEX-' || m.opportunity_id, 'prompt_expired', m.opportunity_id, w.closed_at,
            nullif(lower(trim(d.partner_source)), ''), nullif(trim(d.partner_id), ''),
            a.tier, nullif(a.primary_partner_id, ''), a.run_id, m.amount, m.currency, m.amount_ws,
            NULL, NULL,
            'the owning rep declares partner_source (influenced or accelerated) and logs the activity',
            ev.evidence, coalesce(a.rules LIKE '%OVR%', FALSE)
        FROM money m JOIN ev ON ev.opportunity_id = m.opportunity_id
        LEFT JOIN _rec_won w ON w.opportunity_id = m.opportunity_id
        LEFT JOIN {declared} d ON d.opportunity_id = m.opportunity_id
        LEFT JOIN v_attribution a ON a.opportunity_id = m.opportunity_id"""


def _findings_table(con: Engine, prompt_findings: str, currency: str) -> None:
    """``_rec_findings``: one row per finding with :data:`FINDING_COLUMNS`.

    Money at stake is what the finding's fix would move: the deal's amount, except for an
    ``account_mismatch`` on a deal that neither the CRM nor cosell credits to any partner (declared
    none or empty, computed none): no partner holds credit on it either way, so 0."""
    digits = minor_unit(currency)
    codes = " ".join(f"WHEN {_lit(k)} THEN {_lit(c)}" for k, c in KIND_CODES.items())
    partner_tiers = _in(PARTNER_TIERS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_findings AS
        WITH accounts AS (
            SELECT opportunity_id, string_agg(DISTINCT account_id, ', ' ORDER BY account_id) AS others
            FROM _rec_elsewhere GROUP BY opportunity_id)
        SELECT (CASE h.kind {codes} END) || '-' || h.opportunity_id AS finding_id,
            h.kind, h.opportunity_id, d.closed_at, d.declared_source, d.declared_partner_id,
            d.tier AS computed_tier, d.computed_partner_id, d.run_id, d.amount, d.currency,
            CASE WHEN h.kind = 'account_mismatch' AND coalesce(d.declared_source, 'none') = 'none'
                    AND d.tier = 'none' THEN CAST(0 AS DECIMAL(38,{digits}))
                ELSE d.amount_ws END AS at_stake,
            CASE WHEN h.kind <> 'account_mismatch' AND d.tier IN {partner_tiers} THEN d.tier END
                AS suggested_tier,
            CASE WHEN h.kind <> 'account_mismatch' AND d.tier IN {partner_tiers}
                THEN d.computed_partner_id END AS suggested_partner_id,
            CASE WHEN h.kind = 'account_mismatch'
                    THEN 'check the opportunity''s account in the CRM: its evidence is on ' || a.others
                WHEN h.kind = 'overlap_unattributed' THEN {_lit(REVIEW_OVERLAP)}
                WHEN d.tier IS NULL THEN 'attribute the deal first (cosell attribute), then reconcile'
                WHEN d.tier = 'none' THEN {_lit(CONFIRM_NONE)}
                ELSE 'override to ' || d.tier || coalesce(' with partner ' || d.computed_partner_id, '')
            END AS suggested_fix,
            coalesce(e.evidence, '') AS evidence,
            d.rules LIKE '% OVR %' AS overridden
        FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
        LEFT JOIN _rec_evidence e ON e.kind = h.kind AND e.opportunity_id = h.opportunity_id
        LEFT JOIN accounts a ON a.opportunity_id = h.opportunity_id
        UNION ALL ({prompt_findings})"""
    )


def detect(
    con: Engine,
    policy: Policy,
    window: Window,
    as_of: datetime | None,
    overlap: Sequence[tuple[str, str, str]],
) -> int:
    """Detect the findings of the window's closed-won deals; return how many deals were checked.

    ``as_of`` is the knowledge instant K (None: everything recorded); the window carries the
    evaluation instant T (:mod:`cosell.asof`). ``overlap`` is every ``(partner_id, account_id,
    status)`` where a partner's list holds one of our accounts as known at K, matched by the caller
    (:func:`cosell.accounts.overlap.overlap_pairs`; hygiene matches no names itself). Reads the ``v_<table>`` views, ``v_attribution``
    (each deal's version known at K: build them first with
    :func:`cosell.store.workspace.as_of_views` and :func:`cosell.store.versions.attribution_views`)
    and the declared values known at K.
    Leaves the findings in the temp table ``_rec_findings`` (:data:`FINDING_COLUMNS`) and the deals
    in ``_rec_deals``. Raises :class:`cosell.fx.MissingRate` when a deal's close-period rate
    is missing (money at stake cannot be stated).
    """
    declared = declared_relation(con, as_of)
    # Like the engine and the import, work under a memory limit and let DuckDB spill beyond it, so
    # reconciling every closed-won deal of a million-deal workspace stays under 4 GiB.
    with settings(con, {"memory_limit": os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}):
        _detect(con, policy, window, as_of, declared, overlap)
    row = con.execute("SELECT count(*) FROM _rec_deals").fetchone()
    return int(row[0]) if row else 0


def _detect(
    con: Engine,
    policy: Policy,
    window: Window,
    as_of: datetime | None,
    declared: str,
    overlap: Sequence[tuple[str, str, str]],
) -> None:
    checks.won_deals(con, policy, window)
    checks.deals(con, policy, as_of, declared)
    checks.touches(con)
    checks.activity(con, policy)
    checks.claims_and_accounts(con)
    checks.overlap(con, policy, overlap)
    checks.hits(con)
    _evidence(con)
    _findings_table(con, _expired_prompts(con, policy, window, as_of, declared), policy.workspace_currency)


def drop_work_tables(con: Engine) -> None:
    """Drop the temp tables :func:`detect` made (the findings are read by then)."""
    names = (
        "won",
        "deals",
        "ptouch",
        "direct",
        "claims",
        "elsewhere",
        "pairs",
        "overlap",
        "unattributed",
        "hits",
        "evidence",
        "prompts",
    )
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS _rec_{name}")
