"""Batch engine: touch-based credit models (first_touch, last_touch, position_based, time_decay).

The relational steps pick the partner deals, their roles and their associated partner-engagement
touches at or before close; the shares and the largest-remainder split come from the reference's
pure functions in :mod:`cosell.attribution.credit`, so both implementations share one definition
of each model. Only partner-attributed deals reach this step, a small part of the data. The plan
fetches the rows and runs :func:`compute_touch_credits` on them; that part does not import Ibis.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cosell.attribution.credit import (
    CreditTouch,
    ModelSettings,
    PartnerRole,
    compute_shares,
    format_share,
    split_amount,
)
from cosell.attribution.engine_plan import STEP_PREFIX, RunContext
from cosell.money import minor_unit, to_minor

if TYPE_CHECKING:  # pragma: no cover - the plan's builder imports Ibis, a cached run does not
    import ibis.expr.types as ir

    from cosell.attribution.engine_base import Runner


CREDIT_COLUMNS = (
    ("opp_id", "string"),
    ("partner", "string"),
    ("role", "string"),
    ("w", "int64"),
    ("units", "int64"),
    ("mu", "int64"),
    ("currency", "string"),
    ("share", "string"),
)
CREDITS = STEP_PREFIX + "credits"
FALLBACK = STEP_PREFIX + "fallback"


def touch_credits(run: Runner, roles: ir.Table, deals: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Credits under a touch model, and the deals that fell back to role_weighted.

    Records the two fetches and the Python step (:func:`compute_touch_credits`) in the plan.
    """
    import ibis

    d = deals.select("opp_id", "amount", "currency", "x_us")
    run.fetch("touch_roles", roles.join(d, "opp_id").order_by(["opp_id", "partner"]))
    assoc = run.table("_cosell_eng_assoc")
    touches = assoc.join(d.select("opp_id", "x_us"), "opp_id")
    touches = touches.filter(touches.t <= touches.x_us).semi_join(roles.select("opp_id"), "opp_id")
    run.fetch("touch_touches", touches.select("opp_id", "touch_id", "t", "partner"))
    made = run.python(
        "touch_credits",
        {"credits": ibis.schema(dict(CREDIT_COLUMNS)), "fallback": ibis.schema({"opp_id": "string"})},
    )
    return made["credits"], made["fallback"]


def compute_touch_credits(context: RunContext) -> dict[str, pa.Table]:
    """The plan's ``touch_credits`` step: shares and amounts from the reference's pure functions."""
    policy, model = context.policy, context.model
    weights = policy.role_weights
    role_rows = context.fetched["touch_roles"].to_pylist()
    touch_rows = context.fetched["touch_touches"].to_pylist()

    by_deal_touches: dict[str, list[CreditTouch]] = defaultdict(list)
    for t in touch_rows:
        by_deal_touches[t["opp_id"]].append(CreditTouch(t["touch_id"], int(t["t"]), t["partner"]))
    by_deal_roles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in role_rows:
        by_deal_roles[r["opp_id"]].append(r)

    settings = ModelSettings(policy.position_based_weights, policy.time_decay_half_life_days)
    out: dict[str, list[Any]] = {name: [] for name, _ in CREDIT_COLUMNS}
    fell_back: list[str] = []
    for opp_id in sorted(by_deal_roles):
        rows = by_deal_roles[opp_id]
        first = rows[0]
        currency = str(first["currency"])
        partner_roles = [PartnerRole(r["partner"], r["role"], weights[r["role"]]) for r in rows]
        split = compute_shares(
            model, partner_roles, by_deal_touches.get(opp_id, []), int(first["x_us"]), settings
        )
        if split.fell_back:
            fell_back.append(opp_id)
        amounts = split_amount(Decimal(first["amount"]), currency, partner_roles, split.shares)
        for role in partner_roles:
            out["opp_id"].append(opp_id)
            out["partner"].append(role.partner_id)
            out["role"].append(role.role)
            out["w"].append(int(role.weight * 10**6))
            out["units"].append(to_minor(amounts[role.partner_id], currency))
            out["mu"].append(minor_unit(currency))
            out["currency"].append(currency)
            out["share"].append(format_share(split.shares[role.partner_id]))
    types = {"string": pa.string(), "int64": pa.int64()}
    schema = pa.schema([(name, types[kind]) for name, kind in CREDIT_COLUMNS])
    return {
        CREDITS: pa.table(out, schema=schema),
        FALLBACK: pa.table({"opp_id": fell_back}, schema=pa.schema([("opp_id", pa.string())])),
    }
