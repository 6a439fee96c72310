"""Disputes: a rep or a partner contests a deal's attribution; a reviewer accepts or rejects it.

::

    d = open_dispute(ws, "006A000042", by_user="u-partner", reason="we introduced them", claim="sourced/P7")
    decide_dispute(ws, policy, d.dispute_id, accept=True, by_user="u-ops", reason="intro email on file")

Anyone in the users directory may open a dispute; a partner user (role ``partner``) only on a deal
where its partner appears (credited, declared in the CRM or opportunity_partners, registered, a
lead, or a touch logged on the deal), and a claim it makes names its own partner. Only partner_ops,
partner_manager and admin users decide. An accepted dispute is an override like an accepted fix:
rule OVR (source ``dispute:<id>``), a new attribution version of kind ``dispute``, and a pay-change
marker. Either way the earlier versions stay in the history. Opening and deciding open no
transaction: the use case runs each in one (:mod:`cosell.service.disputes`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cosell import clock
from cosell.engine import Engine
from cosell.errors import NotAllowed, NotFound, UsageError, did_you_mean
from cosell.hygiene.decisions import (
    AlreadyDecided,
    OverrideRequest,
    apply_overrides,
    check_decider,
    check_override,
    check_reason,
)
from cosell.hygiene.sql import equal_filters
from cosell.instants import format_instant, format_optional
from cosell.policy import Policy
from cosell.store.known import require_opportunity
from cosell.store.review import check_not_backdated, ensure_review_schema
from cosell.store.users import find_user, partner_scope_of
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace

STATUSES = ("open", "accepted", "rejected")


@dataclass(frozen=True)
class Dispute:
    """A dispute with its decision (if any). ``tier``/``partner_id``: the attribution disputed."""

    dispute_id: str
    opportunity_id: str
    opened_by: str
    opened_at: datetime
    reason: str
    claim_tier: str
    claim_partner_id: str
    run_id: int | None
    tier: str
    partner_id: str
    status: str = "open"
    decided_by: str = ""
    decided_at: datetime | None = None
    decision_reason: str = ""
    override_id: str = ""
    new_run_id: int | None = None

    @property
    def claim(self) -> str:
        return f"{self.claim_tier}/{self.claim_partner_id}" if self.claim_partner_id else self.claim_tier

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values with stable keys (instants ISO 8601 UTC, empty text for none)."""
        return {
            "dispute_id": self.dispute_id,
            "opportunity_id": self.opportunity_id,
            "opened_by": self.opened_by,
            "opened_at": format_instant(self.opened_at),
            "reason": self.reason,
            "claim_tier": self.claim_tier,
            "claim_partner_id": self.claim_partner_id,
            "disputed_run_id": self.run_id,
            "disputed_tier": self.tier,
            "disputed_partner_id": self.partner_id,
            "status": self.status,
            "decided_by": self.decided_by,
            "decided_at": format_optional(self.decided_at),
            "decision_reason": self.decision_reason,
            "override_id": self.override_id,
            "new_run_id": self.new_run_id,
        }


def parse_claim(text: str | None) -> tuple[str, str | None]:
    """``sourced/P7``, ``influenced/P2``, ``influenced`` or ``none`` to (tier, partner or None)."""
    if text is None or not text.strip():
        return "", None
    tier, _, partner = text.strip().partition("/")
    if not tier.strip():
        # "/P7" used to open a dispute that claims a partner with no tier, which no decision applies;
        # "/" opened one that claims nothing, as if --claim had not been given.
        raise UsageError(
            f"--claim {text.strip()!r} names no tier: give TIER/PARTNER (sourced/P7, influenced/P2)"
        )
    return tier.strip().lower(), partner.strip() or None


def partner_appears(con: Engine, opportunity_id: str, partner_id: str) -> bool:
    """Whether the partner is on the deal: credited in its current version, its CRM partner, in
    opportunity_partners, a registration or a touch linked to the deal, or a lead of it."""
    attribution_views(con)
    row = con.execute(
        """SELECT count(*) FROM (
            SELECT partner_id FROM v_credits WHERE opportunity_id = $o
            UNION ALL SELECT partner_id FROM cur_opportunities WHERE opportunity_id = $o
            UNION ALL SELECT partner_id FROM cur_opportunity_partners WHERE opportunity_id = $o
            UNION ALL SELECT partner_id FROM cur_deal_registrations WHERE opportunity_id = $o
            UNION ALL SELECT partner_id FROM cur_touches WHERE opportunity_id = $o
            UNION ALL SELECT partner_id FROM cur_leads WHERE converted_opportunity_id = $o
                OR lead_id = (SELECT source_lead_id FROM cur_opportunities WHERE opportunity_id = $o))
        WHERE partner_id = $p""",
        {"o": opportunity_id, "p": partner_id},
    ).fetchone()
    return bool(row and row[0])


def open_dispute(
    ws: Workspace,
    opportunity_id: str,
    by_user: str,
    reason: str,
    claim: str | None = None,
    *,
    at: datetime | None = None,
) -> Dispute:
    """Open a dispute on a deal's current attribution (see the module docstring for who may). The
    dispute returned to a partner user names no other partner (its ``partner_id`` is empty then)."""
    con = ws.con
    ensure_review_schema(con)
    why = check_reason(reason, "a dispute")
    user = find_user(con, by_user)
    tier, partner = parse_claim(claim)
    if user is not None and partner_scope_of(user) is not None:
        # To a partner user, a deal its partner is not on is one that does not exist, and no
        # other deal or partner id is suggested (SPEC section 9: existence must not leak).
        if not user.partner_id or not partner_appears(con, opportunity_id, user.partner_id):
            raise NotFound(
                f"no opportunity {opportunity_id} that {user.partner_id or 'its partner'} is on: "
                f"{by_user} is a partner user, and a partner may dispute only deals its partner is on"
            )
        if partner and partner != user.partner_id:
            raise NotAllowed(f"{by_user} may claim only for its own partner {user.partner_id}")
    require_opportunity(con, opportunity_id)
    if tier:
        check_override(con, tier, partner, claim=True)
    attribution_views(con)
    current = con.execute(
        "SELECT run_id, tier, primary_partner_id FROM v_attribution WHERE opportunity_id = ?",
        [opportunity_id],
    ).fetchone()
    when = clock.now(at)
    check_not_backdated(con, when, "the dispute")
    row = con.execute("SELECT count(*) + 1 FROM disputes").fetchone()
    assert row is not None
    dispute = Dispute(
        dispute_id=f"D-{int(row[0]):06d}",
        opportunity_id=opportunity_id,
        opened_by=by_user,
        opened_at=when,
        reason=why,
        claim_tier=tier,
        claim_partner_id=partner or "",
        run_id=None if current is None else int(current[0]),
        tier="" if current is None else str(current[1]),
        partner_id="" if current is None or current[2] is None else str(current[2]),
    )
    con.execute(
        "INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dispute.dispute_id, opportunity_id, by_user, when, why, tier or None, partner,
            dispute.run_id, dispute.tier or None, dispute.partner_id or None,
        ],
    )  # fmt: skip
    scope = partner_scope_of(user)
    if scope is not None and dispute.partner_id not in ("", scope):
        # Stored whole for the reviewer; a partner user is told the tier disputed, never another
        # partner's id (SPEC section 9).
        return replace(dispute, partner_id="")
    return dispute


_SELECT = """
    SELECT d.dispute_id, d.opportunity_id, d.opened_by, d.opened_at, d.reason, d.claim_tier,
        d.claim_partner_id, d.run_id, d.tier, d.partner_id, x.decision, x.by_user, x.decided_at,
        x.reason, x.override_id, x.run_id
    FROM disputes d LEFT JOIN ({decided}) x ON x.dispute_id = d.dispute_id"""


def _dispute(r: tuple[Any, ...]) -> Dispute:
    def s(v: Any) -> str:
        return "" if v is None else str(v)

    return Dispute(
        dispute_id=r[0],
        opportunity_id=r[1],
        opened_by=r[2],
        opened_at=r[3].astimezone(UTC),
        reason=r[4],
        claim_tier=s(r[5]),
        claim_partner_id=s(r[6]),
        run_id=None if r[7] is None else int(r[7]),
        tier=s(r[8]),
        partner_id=s(r[9]),
        status=s(r[10]) or "open",
        decided_by=s(r[11]),
        decided_at=None if r[12] is None else r[12].astimezone(UTC),
        decision_reason=s(r[13]),
        override_id=s(r[14]),
        new_run_id=None if r[15] is None else int(r[15]),
    )


def list_disputes(
    con: Engine,
    *,
    status: str | None = None,
    opportunity_id: str | None = None,
    as_of: datetime | None = None,
) -> list[Dispute]:
    """Disputes opened by ``as_of`` (None: all) with their decision then, by id."""
    ensure_review_schema(con)
    if status is not None and status not in STATUSES:
        raise UsageError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    known = "TRUE" if as_of is None else f"decided_at <= TIMESTAMPTZ '{format_instant(as_of)}'"
    where, params = equal_filters(
        ("d.opportunity_id", opportunity_id), ("coalesce(x.decision, 'open')", status)
    )
    if as_of is not None:
        where += f" AND d.opened_at <= TIMESTAMPTZ '{format_instant(as_of)}'"
    rows = con.execute(
        _SELECT.format(decided=f"SELECT * FROM dispute_decisions WHERE {known}")
        + f" WHERE {where} ORDER BY d.dispute_id",
        params,
    ).fetchall()
    return [_dispute(r) for r in rows]


def get_dispute(con: Engine, dispute_id: str) -> Dispute:
    """One dispute (raises :class:`NotFound`, suggesting a close id)."""
    ensure_review_schema(con)
    rows = con.execute(
        _SELECT.format(decided="SELECT * FROM dispute_decisions") + " WHERE d.dispute_id = ?", [dispute_id]
    ).fetchall()
    if not rows:
        every = [r[0] for r in con.execute("SELECT dispute_id FROM disputes").fetchall()]
        raise NotFound(f"no dispute {dispute_id}" + did_you_mean(dispute_id, every))
    return _dispute(rows[0])


def decide_dispute(
    ws: Workspace,
    policy: Policy,
    dispute_id: str,
    *,
    accept: bool,
    by_user: str,
    reason: str,
    tier: str | None = None,
    partner_id: str | None = None,
    at: datetime | None = None,
) -> Dispute:
    """Accept (an override: the claim, or ``tier``/``partner_id``) or reject a dispute, once."""
    con = ws.con
    ensure_review_schema(con)
    why = check_reason(reason)
    check_decider(con, by_user, "disputes")
    dispute = get_dispute(con, dispute_id)
    if dispute.status != "open":
        assert dispute.decided_at is not None
        raise AlreadyDecided(
            f"dispute {dispute_id} was already {dispute.status} by {dispute.decided_by} at "
            f"{format_instant(dispute.decided_at)}"
        )
    when = clock.now(at)
    check_not_backdated(con, when, "the decision")
    chosen_tier, chosen_partner = "", None
    if accept:
        chosen_tier = tier or dispute.claim_tier
        chosen_partner = partner_id if tier else (partner_id or dispute.claim_partner_id or None)
        if not chosen_tier:
            raise UsageError(
                f"dispute {dispute_id} claims no attribution: give --tier (and --partner) to accept it"
            )
        check_override(con, chosen_tier, chosen_partner)
    override_id, run_id = None, None
    if accept:
        request = OverrideRequest(
            dispute.opportunity_id, chosen_tier, chosen_partner, f"dispute:{dispute_id}"
        )
        overrides, run_of, _ = apply_overrides(
            con, policy, [request], kind="dispute", by_user=by_user, reason=why, at=when
        )
        override_id, run_id = overrides[request.source], run_of[dispute.opportunity_id]
    con.execute(
        "INSERT INTO dispute_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dispute_id, "accepted" if accept else "rejected", by_user, why, when,
            chosen_tier or None, chosen_partner, override_id, run_id,
        ],
    )  # fmt: skip
    return get_dispute(con, dispute_id)
