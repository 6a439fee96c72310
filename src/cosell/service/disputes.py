"""Use cases of disputes (SPEC section 6): open one on a deal's attribution, decide it, list them
(``cosell dispute open|decide|list``). Opening and deciding are each one transaction, owned here:
an accepted dispute's override, the deal's new attribution version, the pay-change marker and the
decision are stored together or not at all."""

from __future__ import annotations

from cosell.hygiene.disputes import Dispute, decide_dispute, list_disputes, open_dispute
from cosell.policy import Policy
from cosell.service.reconcile import require_user
from cosell.store.known import require_opportunity
from cosell.store.workspace import Workspace

__all__ = ["Dispute", "decide", "disputes", "open_on"]


def open_on(
    ws: Workspace, opportunity_id: str, *, by_user: str | None, reason: str, claim: str | None = None
) -> Dispute:
    """Open a dispute of ``opportunity_id``'s current attribution as ``by_user`` (anyone in the
    users directory; a partner user only on a deal its partner appears on), claiming ``claim``
    (``TIER/PARTNER``, or none)."""
    who = require_user(by_user)
    with ws.transaction():
        return open_dispute(ws, opportunity_id, who, reason, claim)


def decide(
    ws: Workspace,
    policy: Policy,
    dispute_id: str,
    *,
    accept: bool,
    by_user: str | None,
    reason: str,
    tier: str | None = None,
    partner_id: str | None = None,
) -> Dispute:
    """Accept (an override: the claim, or ``tier``/``partner_id``, and a new attribution version)
    or reject an open dispute, once, as a partner_ops or partner_manager user."""
    who = require_user(by_user)
    with ws.transaction():
        return decide_dispute(
            ws,
            policy,
            dispute_id,
            accept=accept,
            by_user=who,
            reason=reason,
            tier=tier,
            partner_id=partner_id,
        )


def disputes(
    ws: Workspace, *, status: str | None = None, opportunity_id: str | None = None, viewer: str | None = None
) -> list[Dispute]:
    """The disputes (of one status, of one deal) with their decision, by id. A deal with no dispute
    at all that the workspace does not hold is refused ("no opportunity X (did you mean ...?)"),
    not listed as having none. ``viewer`` is who reads (:func:`cosell.service.readers.seen_rows`):
    a rep the disputes of its own deals, a partner user those of its partner's deals, every other
    partner's name and id hidden."""
    from cosell.service.readers import reader, require_seen, seen_rows

    who = reader(ws.con, viewer)
    require_seen(ws.con, who, opportunity_id)
    found = list_disputes(ws.con, status=status, opportunity_id=opportunity_id)
    if not who.reads_all:
        texts = ("reason", "claim_partner_id", "partner_id", "decision_reason")
        return seen_rows(ws.con, who, found, lambda d: d.opportunity_id, texts)
    if opportunity_id is not None and not found and not list_disputes(ws.con, opportunity_id=opportunity_id):
        require_opportunity(ws.con, opportunity_id)
    return found
