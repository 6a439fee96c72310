"""Batch engine: touch-based credit models (first_touch, last_touch, position_based, time_decay).

The relational steps pick the partner deals, their roles and their associated partner-engagement
touches at or before close; the shares and the largest-remainder split come from the reference's
pure functions in :mod:`cosell.attribution.credit`, so both implementations share one definition
of each model. Only partner-attributed deals reach this step, a small part of the data.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from cosell.attribution.credit import (
    CreditTouch,
    ModelSettings,
    PartnerRole,
    compute_shares,
    format_share,
    split_amount,
)
from cosell.attribution.engine_base import Params, Runner
from cosell.money import minor_unit, to_minor
from cosell.policy import Policy


def touch_credits(
    run: Runner, p: Params, policy: Policy, model: str, roles: ir.Table, deals: ir.Table, ev: Any
) -> tuple[ir.Table, ir.Table]:
    """Credits under a touch model, and the deals that fell back to role_weighted."""
    weights = policy.role_weights
    d = deals.select("opp_id", "amount", "currency", "x_us")
    role_rows = roles.join(d, "opp_id").order_by(["opp_id", "partner"]).to_pyarrow().to_pylist()
    assoc = run.table("_cosell_eng_assoc")
    touches = assoc.filter(assoc.side == "partner").join(d.select("opp_id", "x_us"), "opp_id")
    touches = touches.filter(touches.t <= touches.x_us).semi_join(roles.select("opp_id"), "opp_id")
    touch_rows = touches.select("opp_id", "touch_id", "t", "partner").to_pyarrow().to_pylist()

    by_deal_touches: dict[str, list[CreditTouch]] = defaultdict(list)
    for t in touch_rows:
        by_deal_touches[t["opp_id"]].append(CreditTouch(t["touch_id"], int(t["t"]), t["partner"]))
    by_deal_roles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in role_rows:
        by_deal_roles[r["opp_id"]].append(r)

    settings = ModelSettings(policy.position_based_weights, policy.time_decay_half_life_days)
    out: dict[str, list[Any]] = {
        k: [] for k in ("opp_id", "partner", "role", "w", "units", "mu", "currency", "share")
    }
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
    schema = pa.schema(
        [
            ("opp_id", pa.string()),
            ("partner", pa.string()),
            ("role", pa.string()),
            ("w", pa.int64()),
            ("units", pa.int64()),
            ("mu", pa.int64()),
            ("currency", pa.string()),
            ("share", pa.string()),
        ]
    )
    credits = _register(run, "credits", pa.table(out, schema=schema))
    fallback = _register(
        run, "fallback", pa.table({"opp_id": fell_back}, schema=pa.schema([("opp_id", pa.string())]))
    )
    return credits, fallback


def _register(run: Runner, name: str, data: pa.Table) -> ir.Table:
    full = "_cosell_eng_" + name
    con = run.backend.con
    con.register("_cosell_arrow_in", data)
    try:
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{full}" AS SELECT * FROM _cosell_arrow_in')
    finally:
        con.unregister("_cosell_arrow_in")
    run.names.append(full)
    return run.table(full)
