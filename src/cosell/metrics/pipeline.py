"""Pipeline and revenue by attribution tier, in the workspace currency (SPEC section 5).

Computed in the database over a stored attribution run and the opportunities known at its as-of
instant: each deal's amount is converted at its creation-period rate and rounded once, so the tiers
add up to the total to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cosell.engine import Engine
from cosell.fx import check_rates, converted_amounts_sql
from cosell.policy import Policy
from cosell.results import TIERS
from cosell.store.chain import chain_of


@dataclass(frozen=True)
class TierPipeline:
    """Deals created and their pipeline amount in one tier."""

    tier: str
    deals: int
    pipeline: Decimal
    share: Decimal | None  # of all pipeline; None when there is no pipeline at all


def pipeline_by_tier(con: Engine, run_id: int, policy: Policy) -> list[TierPipeline]:
    """Pipeline created by tier for a stored run (``v_opportunities`` must be the run's as-of views)."""
    source = (
        "SELECT o.opportunity_id, o.amount, coalesce(o.currency, '"
        + policy.workspace_currency
        + "') AS currency, o.created_at, a.tier FROM v_opportunities o "
        f"JOIN ({chain_of(con, run_id).rows('attribution_history')}) a ON a.opportunity_id = o.opportunity_id"
    )
    converted = converted_amounts_sql(source, "created_at", policy)
    check_rates(con, converted)
    rows = con.execute(f"SELECT tier, count(*), sum(amount_ws) FROM ({converted}) GROUP BY tier").fetchall()
    by_tier = {tier: (int(n), Decimal(total)) for tier, n, total in rows}
    grand = sum((total for _, total in by_tier.values()), Decimal(0))
    out = []
    for tier in TIERS:
        deals, amount = by_tier.get(tier, (0, Decimal(0)))
        out.append(TierPipeline(tier, deals, amount, amount / grand if grand else None))
    return out
