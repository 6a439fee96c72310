"""The QBR's leading indicators (SPEC section 5), computed in the database.

- **New partner-sourced leads**: leads created in the period with a partner_id (a partner lead,
  SPEC section 2).
- As every figure, both counts stand at the as-of instant T: a lead created or a touch made after
  T is not counted yet, as a deal created after it is left out.
- **AE adoption rate**: among deals closed (won or lost) in the period, the share whose
  partner_source in force at close was confirmed by a person before close: the deal's latest
  field_history change of partner_source at or before X has a value and was made by a user whose
  role works deals (ae, sdr, partner_manager, partner_ops). A change by the system, by an integration
  or admin account, or by nobody is not a rep's confirmation; cosell's own auto-tags are stored as
  declarations, not in field_history, so they never count. Without any field_history row the rate
  is "not measurable".
- **Partner engagement frequency**: partner-engagement touches (the policy's partner kinds, with a
  resolvable partner) in the period, per partner active in it (one touch or more), per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cosell.engine.sql import lit
from cosell.metrics.deals import DealFacts, month_indexes
from cosell.periods import Period

# Roles of people who work deals: their confirmation is adoption; admin (integration accounts),
# finance and partner users are not.
CONFIRMING_ROLES = ("ae", "sdr", "partner_manager", "partner_ops")


@dataclass(frozen=True)
class Adoption:
    closed: int  # deals closed in the period
    confirmed: int  # of which partner_source was confirmed by a person before close
    measurable: bool  # False when the workspace has no field_history at all


@dataclass(frozen=True)
class Engagement:
    touches: int
    partners: int  # active partners: at least one partner-engagement touch in the period
    months: int

    @property
    def per_partner_per_month(self) -> Decimal | None:
        if not self.partners:
            return None
        return Decimal(self.touches) / Decimal(self.partners) / Decimal(self.months)


def new_partner_leads(facts: DealFacts, period: Period) -> int:
    """Leads created in the period, by the as-of instant, that name a partner."""
    row = facts.con.execute(
        "SELECT count(*) FROM v_leads WHERE partner_id IS NOT NULL AND partner_id <> '' "
        "AND created_at >= ? AND created_at < ? AND created_at <= ?",
        [period.start, period.end, facts.as_of],
    ).fetchone()
    return int(row[0]) if row else 0


def ae_adoption(facts: DealFacts, period: Period) -> Adoption:
    """How many deals closed in the period had partner_source confirmed by a person before close."""
    con = facts.con
    measurable = con.execute("SELECT count(*) > 0 FROM v_field_history").fetchone()
    months = ", ".join(str(m) for m in month_indexes(period))
    roles = ", ".join(lit(r) for r in CONFIRMING_ROLES)
    row = con.execute(
        f"""
        WITH closed AS (
            SELECT opportunity_id, closed_at FROM {facts.table}
            WHERE (won OR lost) AND closed_mi IN ({months})),
        changes AS (
            SELECT f.opportunity_id, f.new_value, f.changed_by,
                row_number() OVER (PARTITION BY f.opportunity_id ORDER BY f.changed_at DESC) AS newest
            FROM v_field_history f JOIN closed c ON c.opportunity_id = f.opportunity_id
            WHERE f.field = 'partner_source' AND f.changed_at <= c.closed_at)
        SELECT (SELECT count(*) FROM closed),
            count(*) FILTER (WHERE newest = 1 AND coalesce(new_value, '') <> ''
                AND changed_by IN (SELECT user_id FROM v_users WHERE role IN ({roles})))
        FROM changes
        """
    ).fetchone()
    assert row is not None and measurable is not None
    return Adoption(closed=int(row[0]), confirmed=int(row[1]), measurable=bool(measurable[0]))


def partner_engagement(facts: DealFacts, period: Period) -> Engagement:
    """Partner-engagement touches in the period, by the as-of instant, and the partners that made them."""
    kinds = ", ".join(lit(k) for k in sorted(facts.policy.partner_kinds)) or "NULL"
    row = facts.con.execute(
        f"""
        SELECT count(*), count(DISTINCT coalesce(nullif(t.partner_id, ''), pc.partner_id))
        FROM v_touches t LEFT JOIN v_partner_contacts pc ON pc.contact_id = t.partner_contact_id
        WHERE t.actor = 'partner' AND t.kind IN ({kinds})
            AND t.occurred_at >= ? AND t.occurred_at < ? AND t.occurred_at <= ?
            AND coalesce(nullif(t.partner_id, ''), pc.partner_id) IS NOT NULL
        """,
        [period.start, period.end, facts.as_of],
    ).fetchone()
    assert row is not None
    return Engagement(touches=int(row[0]), partners=int(row[1]), months=len(month_indexes(period)))
