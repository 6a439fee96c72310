"""Hypothesis strategies: small random canonical datasets, as text rows exactly as CSV files hold them.

``datasets()`` draws a :class:`Dataset`: accounts, partners and contacts, deals (open, won, lost; USD
or JPY; with and without stage history), touches of both sides and assorted kinds (engagement,
non-engagement, unknown; some written with a +02:00 offset), leads, registrations, declared partners
and the CRM fields, on a coarse time grid so that ties happen. Every row is valid canonical input and
references only rows that exist; ids are unique. ``Dataset.batches(n)`` splits it into imports that
each reference only rows already imported or in the same batch.

Shared by the reference property tests and the engine parity test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from cosell.policy import Policy

BASE = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = "2027-06-01T00:00:00Z"
PARTNER_IDS = ("P1", "P2", "P3")
CONTACTS = {"C1": "P1", "C2": "P2"}
KINDS = (
    "intro",
    "joint_call",
    "referral",
    "outbound_call",
    "demo_request",
    "marketing_email_sent",
    "mystery_kind",
)
AMOUNTS_USD = ("1.01", "100.00", "10000.00", "24999.99", "25000.00", "33333.33")
AMOUNTS_JPY = ("1", "1000", "2500000")
ROLES = ("sourcer", "co_seller", "influencer", "reseller", "servicer")
DEPENDENT_TABLES = ("stage_history", "opportunity_partners", "touches", "leads", "deal_registrations")

Rows = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Dataset:
    """Canonical tables as text rows, the as-of time and the policy settings to run them with."""

    tables: Rows
    as_of: str = AS_OF
    policy_values: Mapping[str, Any] = field(default_factory=dict)

    def policy(self) -> Policy:
        return Policy().with_values(**self.policy_values)

    def opportunity_ids(self) -> list[str]:
        return sorted(r["opportunity_id"] for r in self.tables["opportunities"])

    def batches(self, n: int) -> list[Rows]:
        """Split into ``n`` imports by deal: dimensions first; each deal with the rows that name it."""
        deals = self.tables["opportunities"]
        slot = {row["opportunity_id"]: i % n for i, row in enumerate(deals)}
        parts: list[Rows] = [{} for _ in range(n)]
        for name in ("accounts", "partners", "partner_contacts", "fx_rates"):
            if self.tables.get(name):
                parts[0][name] = list(self.tables[name])
        for row in deals:
            parts[slot[row["opportunity_id"]]].setdefault("opportunities", []).append(row)
        for name in DEPENDENT_TABLES:
            for i, row in enumerate(self.tables.get(name, [])):
                owner = row.get("opportunity_id") or row.get("converted_opportunity_id") or ""
                if name == "leads" and not owner:
                    owner = next(
                        (d["opportunity_id"] for d in deals if d.get("source_lead_id") == row["lead_id"]), ""
                    )
                index = slot[owner] if owner else i % n
                if name == "leads" and not owner:
                    index = 0
                parts[index].setdefault(name, []).append(row)
        return [p for p in parts if p]


def instant(day: int, half: int = 0) -> datetime:
    return BASE + timedelta(days=day, hours=12 * half)


def text(moment: datetime, offset: bool = False) -> str:
    """ISO text of an instant, optionally written in +02:00 (the same instant)."""
    if offset:
        return moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def moments(draw: st.DrawFn, low: int = -250, high: int = 250) -> datetime:
    return instant(draw(st.integers(low, high)), draw(st.integers(0, 1)))


@st.composite
def datasets(draw: st.DrawFn, max_deals: int = 6) -> Dataset:
    """A small random dataset (see the module docstring)."""
    n_accounts = draw(st.integers(1, 3))
    accounts = [
        {"account_id": f"A{i}", "name": f"Account {i}", "segment": draw(st.sampled_from(["", "SMB", "MM"]))}
        for i in range(1, n_accounts + 1)
    ]
    account_ids = [a["account_id"] for a in accounts]
    partners = [{"partner_id": p, "name": f"Partner {p}", "partner_type": "co_sell"} for p in PARTNER_IDS]
    contacts = [{"contact_id": c, "partner_id": p, "name": c} for c, p in CONTACTS.items()]

    n_leads = draw(st.integers(0, 3))
    lead_ids = [f"L{i}" for i in range(1, n_leads + 1)]
    used_source_leads: set[str] = set()

    deals: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    for i in range(1, draw(st.integers(1, max_deals)) + 1):
        oid = f"O{i}"
        created = draw(moments(-200, 200))
        status = draw(st.sampled_from(["open", "won", "won", "lost"]))
        jpy = draw(st.booleans()) and draw(st.booleans())
        middle = created + timedelta(days=draw(st.integers(0, 40)), hours=12 * draw(st.integers(0, 1)))
        closed = middle + timedelta(days=draw(st.integers(0, 90)), hours=12 * draw(st.integers(0, 1)))
        stage = {"open": draw(st.sampled_from(["Prospecting", "Proposal"])), "won": "Closed Won", "lost": "Closed Lost"}[status]  # fmt: skip
        source_lead = ""
        if lead_ids and draw(st.integers(0, 3)) == 0:
            source_lead = draw(st.sampled_from(lead_ids))
            if source_lead in used_source_leads:
                source_lead = ""
            used_source_leads.add(source_lead)
        deal = {
            "opportunity_id": oid,
            "account_id": draw(st.sampled_from(account_ids)),
            "created_at": text(created, draw(st.booleans())),
            "amount": draw(st.sampled_from(AMOUNTS_JPY if jpy else AMOUNTS_USD)),
            "currency": "JPY" if jpy else draw(st.sampled_from(["", "USD"])),
            "stage": stage,
            "close_date": text(closed) if status != "open" else "",
            "source_lead_id": source_lead,
            "partner_source": draw(st.sampled_from(["", "", "none", "sourced", "influenced", "accelerated"])),
            "partner_id": draw(st.sampled_from(["", "", *PARTNER_IDS])),
            "partner_engagement_date": text(draw(moments())) if draw(st.booleans()) else "",
            "partner_activity_log": draw(st.sampled_from(["", "", "joint call"])),
        }
        deals.append(deal)
        if draw(st.integers(0, 4)) > 0:  # most deals have a stage history
            entries = [("Prospecting", created)]
            if draw(st.booleans()):
                entries.append(("Proposal", middle))
            if status != "open":
                entries.append((stage, closed))
            elif stage == "Proposal" and len(entries) == 1:
                entries.append(("Proposal", middle))
            seen = set()
            for name, at in entries:
                if (name, at) not in seen:
                    seen.add((name, at))
                    history.append({"opportunity_id": oid, "stage": name, "entered_at": text(at)})
    deal_ids = [d["opportunity_id"] for d in deals]
    source_of = {d["source_lead_id"]: d["opportunity_id"] for d in deals if d["source_lead_id"]}

    touches = []
    for i in range(1, draw(st.integers(0, 10)) + 1):
        actor = draw(st.sampled_from(["partner", "partner", "direct"]))
        partner, contact = "", ""
        if actor == "partner":
            if draw(st.integers(0, 4)) == 0:
                contact = draw(st.sampled_from(sorted(CONTACTS)))
            else:
                partner = draw(st.sampled_from(PARTNER_IDS))
        touches.append(
            {
                "touch_id": f"T{i:02d}",
                "occurred_at": text(draw(moments(-400, 300)), draw(st.booleans())),
                "account_id": draw(st.sampled_from(account_ids)),
                "actor": actor,
                "kind": draw(st.sampled_from(KINDS)),
                "opportunity_id": draw(st.sampled_from(["", "", *deal_ids])),
                "partner_id": partner,
                "partner_contact_id": contact,
            }
        )

    leads = []
    for lead_id in lead_ids:
        partner = draw(st.sampled_from(["", *PARTNER_IDS]))
        converted = source_of.get(lead_id) or draw(st.sampled_from(["", *deal_ids]))
        if lead_id in source_of and draw(st.booleans()):
            converted = ""
        leads.append(
            {
                "lead_id": lead_id,
                "created_at": text(draw(moments(-450, 200))),
                "partner_id": partner,
                "source": "partner_referral" if partner else "inbound",
                "converted_opportunity_id": converted,
            }
        )

    registrations = []
    for i in range(1, draw(st.integers(0, 3)) + 1):
        registered = draw(moments(-300, 200))
        partner = draw(st.sampled_from(PARTNER_IDS))
        account = draw(st.sampled_from(account_ids))
        status = draw(st.sampled_from(["approved", "approved", "pending", "expired", "rejected"]))
        approved = text(registered + timedelta(days=draw(st.integers(0, 20)))) if draw(st.booleans()) else ""
        linked = draw(st.sampled_from(["", *deal_ids]))
        expires = text(registered + timedelta(days=draw(st.integers(1, 200)))) if draw(st.booleans()) else ""
        registrations.append(
            {
                "registration_id": f"R{i}",
                "partner_id": partner,
                "account_id": account,
                "registered_at": text(registered),
                "status": status,
                "approved_at": approved,
                "opportunity_id": linked,
                "expires_at": expires,
            }
        )

    declared = draw(
        st.lists(
            st.tuples(st.sampled_from(deal_ids), st.sampled_from(PARTNER_IDS), st.sampled_from(ROLES)),
            max_size=4,
            unique=True,
        )
    )
    opportunity_partners = [
        {
            "opportunity_id": o,
            "partner_id": p,
            "role": r,
            "added_at": text(draw(moments())) if draw(st.booleans()) else "",
        }
        for o, p, r in sorted(declared)
    ]
    fx = [
        {"currency": "JPY", "period": f"{year}-Q{q}", "rate": "0.0067"}
        for year in (2025, 2026, 2027)
        for q in (1, 2, 3, 4)
    ]
    tables: Rows = {
        "accounts": accounts,
        "partners": partners,
        "partner_contacts": contacts,
        "opportunities": deals,
        "stage_history": history,
        "touches": touches,
        "leads": leads,
        "deal_registrations": registrations,
        "opportunity_partners": opportunity_partners,
        "fx_rates": fx,
    }
    policy_values = {
        "acceleration__min_cohort_size": draw(st.integers(1, 3)),
        "windows__sourcing_lookback_days": draw(st.sampled_from([30, 180])),
    }
    return Dataset({k: v for k, v in tables.items() if v}, AS_OF, policy_values)
