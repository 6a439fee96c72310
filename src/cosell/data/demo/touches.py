"""Touches of one chunk: every partner and direct engagement kind, marketing and notes, unknown kinds.

Per deal, in the order the plan allows (see plan.py):
- direct prospecting before creation, logged on the account (deals not sourced by a partner);
- a sourced deal's partner touches before creation (referral, intro, ...), on the deal or, when no
  neighbouring deal could see them, on the account only; some name only the partner contact;
- work on the deal after creation: the rep's calls and emails, the partner's joint calls from the
  engagement time E, internal notes (one explains a deal moved to another account);
- partner implementation after a win; marketing emails and unknown kinds (webinar_view, ...) that
  the rules ignore.
About 20 touches per deal; nothing on or after the as-of instant.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cosell.data.demo import csvout
from cosell.data.demo.chunk import Chunk, Counters, contact_ids, partner_ids, uniform_between, user_ids
from cosell.data.demo.clock import AS_OF, DAY, HOUR
from cosell.data.demo.plan import ACCELERATED, DIRECT, INFLUENCED, OVER_CREDITED, SOURCED, WRONG_ACCOUNT
from cosell.data.demo.world import ACCOUNT_PREFIX
from cosell.policy import DIRECT_ENGAGEMENT_KINDS, NOT_ENGAGEMENT_KINDS, PARTNER_ENGAGEMENT_KINDS

TOUCH_PREFIX = "00TDm"
UNKNOWN_KINDS = ("webinar_view", "linkedin_message", "partner_portal_login")
KINDS = PARTNER_ENGAGEMENT_KINDS + DIRECT_ENGAGEMENT_KINDS + NOT_ENGAGEMENT_KINDS + UNKNOWN_KINDS
K = {kind: code for code, kind in enumerate(KINDS)}
PARTNER_ACTOR, DIRECT_ACTOR = 0, 1

NOTES: dict[str, tuple[str, ...]] = {
    "referral": ("Referred the account to us", "Warm referral from the partner's practice lead"),
    "intro": ("Intro email to the buyer", "Introduced us to the VP Operations"),
    "joint_call": ("Joint discovery call", "Joint call with the CFO"),
    "joint_presentation": ("Joint presentation to the buying committee",),
    "reference": ("Partner arranged a customer reference call",),
    "procurement_assist": ("Helped with procurement, security review and vendor onboarding",),
    "exec_sponsor": ("Partner exec sponsor call with the CIO",),
    "event_invite": ("Invited the buyer to the partner's roundtable",),
    "event_speaking": ("Co-presented at the partner's customer event",),
    "mention": ("Partner recommended us in their QBR with the customer",),
    "implementation": ("Implementation kickoff", "Go-live support", "Admin training session"),
    "outbound_sequence": ("Sequence step 1", "Sequence step 3"),
    "outbound_call": ("Cold call, left voicemail", "Call with the champion"),
    "outbound_email_reply": ('Replied: "interested, send pricing"', "Replied to follow-up"),
    "inbound_form": ("Contact-us form",),
    "inbound_call": ("Inbound call from the ops lead",),
    "demo_request": ("Demo requested via website",),
    "event_attendance": ("Visited our booth at the summit",),
    "marketing_email_sent": ("Monthly newsletter", "Product launch announcement", "Webinar invitation"),
    "internal_note": ("Forecast review: commit", "Pricing approved by deal desk", "Legal redlines received"),
    "webinar_view": ("Watched the product webinar",),
    "linkedin_message": ("InMail to the economic buyer",),
    "partner_portal_login": ("Partner viewed the deal in the portal",),
}
NOTE_TEXT = tuple(csvout.csv_text(text) for kind in KINDS for text in NOTES[kind])  # ready for the file
NOTE_START = np.cumsum([0] + [len(NOTES[k]) for k in KINDS])[:-1]
NOTE_COUNT = np.array([len(NOTES[k]) for k in KINDS])
MOVED_NOTE = -2

PRE_DIRECT = (["outbound_sequence", "outbound_call", "outbound_email_reply", "inbound_form", "inbound_call",
               "demo_request", "event_attendance"], [0.25, 0.15, 0.15, 0.15, 0.05, 0.15, 0.10])  # fmt: skip
IN_DEAL_DIRECT = (["outbound_call", "outbound_email_reply", "inbound_call", "demo_request", "event_attendance",
                   "joint_call"], [0.36, 0.36, 0.1, 0.09, 0.088, 0.002])  # fmt: skip
PRE_PARTNER = (["referral", "intro", "event_invite", "mention", "joint_call"], [0.4, 0.3, 0.1, 0.1, 0.1])
IN_DEAL_PARTNER = (["joint_call", "joint_presentation", "reference", "procurement_assist", "exec_sponsor",
                    "event_speaking", "mention", "intro", "event_invite"],
                   [0.3, 0.15, 0.1, 0.1, 0.08, 0.05, 0.1, 0.07, 0.05])  # fmt: skip
DIRECT_RATE_PER_WEEK = np.array([1.8, 1.45, 1.2, 1.45])  # by segment


class _Rows:
    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.parts: list[tuple[np.ndarray, ...]] = []

    def kinds(self, menu: tuple[list[str], list[float]], size: int) -> np.ndarray:
        return self.chunk.rng.choice([K[k] for k in menu[0]], size=size, p=menu[1])

    def add(
        self,
        deal: np.ndarray,
        at: np.ndarray,
        actor: int,
        kind: np.ndarray,
        linked: np.ndarray | bool,
        partner: np.ndarray | None = None,
        contact: np.ndarray | None = None,
        user: np.ndarray | None = None,
    ) -> None:
        rng, m = self.chunk.rng, len(deal)
        none = np.full(m, -1, dtype=np.int64)
        note = np.where(
            rng.random(m) < 0.5, NOTE_START[kind] + (rng.random(m) * NOTE_COUNT[kind]).astype(np.int64), -1
        )
        self.parts.append(
            (deal, at, np.full(m, actor), kind, np.broadcast_to(linked, (m,)).copy(),
             none if partner is None else partner, none if contact is None else contact,
             none if user is None else user, note)
        )  # fmt: skip


def _repeat(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def write_touches(chunk: Chunk, writer: csvout.TableWriter, counters: Counters) -> None:
    """Generate and write the chunk's touches, ordered by deal and time."""
    rng, plan, world = chunk.rng, chunk.plan, chunk.world
    n = chunk.size
    rows = _Rows(chunk)
    created, end, origin = plan.created, chunk.active_end, plan.origin
    weeks = (end - created) / (7 * DAY)
    sdr = world.sdr[rng.integers(0, len(world.sdr), n)]

    # Direct prospecting before creation (account only).
    d = _repeat(np.where(origin != SOURCED, 1 + np.minimum(rng.poisson(1.0, n), 4), 0))
    at = created[d] - (rng.uniform(HOUR, 60 * DAY, len(d))).astype(np.int64)
    at = np.maximum(at, plan.prev_created[d] + HOUR)  # never before the account's previous deal
    user = np.where(rng.random(len(d)) < 0.6, sdr[d], chunk.owner[d])
    rows.add(d, at - at % 60, DIRECT_ACTOR, rows.kinds(PRE_DIRECT, len(d)), False, user=user)
    over = np.flatnonzero(plan.plant == OVER_CREDITED)
    rows.add(over, chunk.direct_first_at[over], DIRECT_ACTOR, rows.kinds(PRE_DIRECT, len(over)), False,
             user=sdr[over])  # fmt: skip

    # The rep's work on the deal.
    d = _repeat(rng.poisson(DIRECT_RATE_PER_WEEK[plan.segment] * weeks))
    at = uniform_between(rng, created[d] + HOUR, end[d] - 60)
    user = np.where(rng.random(len(d)) < 0.85, chunk.owner[d], sdr[d])
    rows.add(d, at, DIRECT_ACTOR, rows.kinds(IN_DEAL_DIRECT, len(d)), rng.random(len(d)) < 0.9, user=user)

    # The partner: before creation for sourced and over-credited deals, then on the deal from E.
    partner_user = world.partner_managers[rng.integers(0, len(world.partner_managers), n)]

    def partner_rows(d: np.ndarray, at: np.ndarray, kind: np.ndarray, linked: np.ndarray | bool) -> None:
        contact = np.where(rng.random(len(d)) < 0.75, chunk.contact[d], -1)
        contact_only = (contact >= 0) & (rng.random(len(d)) < 0.2)
        partner = np.where(contact_only, -1, plan.partner[d])
        user = np.where(rng.random(len(d)) < 0.3, partner_user[d], -1)
        rows.add(d, at, PARTNER_ACTOR, kind, linked, partner=partner, contact=contact, user=user)

    early = (origin == SOURCED) | (plan.plant == OVER_CREDITED)
    first = np.flatnonzero(early)
    linked = (plan.plant[first] == OVER_CREDITED) | ~(
        plan.account_level_ok[first] & (rng.random(len(first)) < 0.6)
    )
    partner_rows(first, chunk.partner_first_at[first], rows.kinds(PRE_PARTNER, len(first)), linked)
    d = _repeat(np.where(origin == SOURCED, np.minimum(rng.poisson(0.8, n), 3), 0))
    at = uniform_between(rng, chunk.partner_first_at[d] + 60, created[d] - 60)
    linked = ~(plan.account_level_ok[d] & (rng.random(len(d)) < 0.6))
    partner_rows(d, at, rows.kinds(PRE_PARTNER, len(d)), linked)
    involved = (origin == INFLUENCED) | (origin == ACCELERATED)
    start = np.where(involved, chunk.partner_first_at, created + HOUR)
    partner_weeks = (end - start) / (7 * DAY)
    first = np.flatnonzero(involved & (plan.plant != OVER_CREDITED))
    partner_rows(first, chunk.partner_first_at[first], rows.kinds(IN_DEAL_PARTNER, len(first)), True)
    count = np.where(origin != DIRECT, rng.poisson(np.maximum(partner_weeks, 0) * 0.5), 0)
    d = _repeat(count)
    partner_rows(
        d, uniform_between(rng, start[d] + 60, end[d] - 60), rows.kinds(IN_DEAL_PARTNER, len(d)), True
    )
    d = _repeat(np.where(origin != DIRECT, rng.poisson(0.3, n), 0))
    partner_rows(
        d, uniform_between(rng, start[d] + 60, end[d] - 60), np.full(len(d), K["partner_portal_login"]), True
    )

    # Implementation after a win.
    d = _repeat(np.where(chunk.servicer >= 0, 1 + rng.poisson(1.5, n), 0))
    at = plan.close[d] + (rng.uniform(3, 120, len(d)) * DAY).astype(np.int64)
    rows.add(d, at - at % 60, PARTNER_ACTOR, np.full(len(d), K["implementation"]), True,
             partner=chunk.servicer[d], user=partner_user[d])  # fmt: skip

    # Marketing, notes and kinds the rules ignore.
    d = _repeat(rng.poisson(4.5, n))
    rows.add(d, uniform_between(rng, created[d] - 120 * DAY, end[d]), DIRECT_ACTOR,
             np.full(len(d), K["marketing_email_sent"]), False)  # fmt: skip
    d = _repeat(rng.poisson(1.2, n))
    rows.add(d, uniform_between(rng, created[d] + HOUR, end[d]), DIRECT_ACTOR, np.full(len(d), K["internal_note"]),
             True, user=chunk.owner[d])  # fmt: skip
    d = _repeat(rng.poisson(0.4, n))
    rows.add(d, uniform_between(rng, created[d] - 90 * DAY, end[d]), DIRECT_ACTOR,
             np.full(len(d), K["webinar_view"]), False)  # fmt: skip
    d = _repeat(rng.poisson(0.25, n))
    rows.add(d, uniform_between(rng, created[d] + HOUR, end[d]), DIRECT_ACTOR,
             np.full(len(d), K["linkedin_message"]), True, user=chunk.owner[d])  # fmt: skip
    moved = np.flatnonzero(plan.plant == WRONG_ACCOUNT)
    rows.add(moved, uniform_between(rng, created[moved] + DAY, end[moved]), DIRECT_ACTOR,
             np.full(len(moved), K["internal_note"]), True, user=chunk.owner[moved])  # fmt: skip
    rows.parts[-1][8][:] = MOVED_NOTE

    deal, at, actor, kind, linked, partner, contact, user, note = (
        np.concatenate(column) for column in zip(*rows.parts, strict=True)
    )
    keep = at < AS_OF
    order = np.flatnonzero(keep)[np.lexsort((at[keep], deal[keep]))]
    deal, at, actor, kind, linked, partner, contact, user, note = (
        a[order] for a in (deal, at, actor, kind, linked, partner, contact, user, note)
    )
    numbers = counters.touches + 1 + np.arange(len(deal))
    counters.touches += len(deal)
    notes = csvout.pick(NOTE_TEXT, np.where(note >= 0, note, -1))
    special = note == MOVED_NOTE
    if special.any():
        names, ids = world.account_name_array(), csvout.ids(ACCOUNT_PREFIX, np.arange(1, world.accounts + 1))
        a, b = pa.array(plan.account[deal[special]]), pa.array(plan.recorded_account[deal[special]])
        text = pc.binary_join_element_wise(
            "Opportunity moved from ", pc.take(names, a), " (", pc.take(ids, a), ") to ", pc.take(names, b),
            " (", pc.take(ids, b), ") in the duplicate-account cleanup; activity stays on the old account", "",
        )  # fmt: skip
        notes = pc.replace_with_mask(notes, pa.array(special), text)
    writer.write(
        {
            "touch_id": csvout.ids(TOUCH_PREFIX, numbers),
            "occurred_at": csvout.instants(at),
            "account_id": csvout.ids(ACCOUNT_PREFIX, plan.account[deal] + 1),
            "actor": csvout.pick(("partner", "direct"), actor),
            "kind": csvout.pick(KINDS, kind),
            "opportunity_id": csvout.where(linked, chunk.opportunity_ids(deal)),
            "partner_id": partner_ids(partner),
            "partner_contact_id": contact_ids(contact),
            "user_id": user_ids(user),
            "notes": notes,
        },
        safe=("kind", "notes"),  # fixed words, pre-quoted notes; the moved-deal note has no comma or quote
    )
