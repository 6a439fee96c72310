"""Use cases of the stage gate (SPEC section 4): may a deal move to a stage, and the audit of the
won deals that passed it unconfirmed (``cosell gate check`` and ``cosell gate audit``). Both read."""

from __future__ import annotations

from dataclasses import dataclass

from cosell.asof import AsOf
from cosell.hygiene.declared import declared_of
from cosell.hygiene.gate import DealState, GateViolation, check_move, gate_audit, known_stages
from cosell.policy import Policy
from cosell.store.workspace import Workspace

__all__ = ["GateCheck", "GateViolation", "audit_gate", "check_gate"]


@dataclass(frozen=True)
class GateCheck:
    """The gate's answer to a proposed move, with the deal's state it was judged on."""

    opportunity_id: str
    stage: str  # the deal's stage now
    to_stage: str
    to_stage_class: str  # won, lost or open, by the policy's stage mapping
    partner_source: str  # "" when not declared
    declared_by: str
    allowed: bool
    reason: str  # a sentence saying why


def check_gate(ws: Workspace, opportunity_id: str, to_stage: str, policy: Policy) -> GateCheck:
    """May ``opportunity_id`` move to ``to_stage``? A won stage needs a confirmed partner_source; a
    stage the workspace does not know is refused with the closest name. An unknown deal is a
    :class:`~cosell.errors.NotFound`."""
    declared = declared_of(ws.con, opportunity_id)
    stages = known_stages(ws.con, policy)
    state = DealState(opportunity_id, declared.stage, declared.partner_source, declared.declared_by)
    decision = check_move(state, to_stage, policy, stages)
    stage = to_stage.strip()
    return GateCheck(
        opportunity_id=opportunity_id,
        stage=declared.stage,
        to_stage=stage,
        to_stage_class=policy.stage_class(stage),
        partner_source=declared.partner_source,
        declared_by=declared.declared_by,
        allowed=decision.allowed,
        reason=decision.reason,
    )


def audit_gate(ws: Workspace, policy: Policy, at: AsOf, *, viewer: str | None = None) -> list[GateViolation]:
    """Every won deal that entered its won stage while partner_source was not confirmed, oldest entry
    first: read from the data known at K, leaving out the deals that entered their won stage after T.
    Every rep's deals and amounts: refused to a partner user and a rep (``viewer``, SPEC section 9)."""
    from cosell.service.readers import reader, refuse_limited

    refuse_limited(reader(ws.con, viewer), "the gate audit")
    return gate_audit(ws.con, policy, at.known_at, evaluated_at=at.as_of)
