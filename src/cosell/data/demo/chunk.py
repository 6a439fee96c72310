"""One chunk of deals and the moments its writers share.

A chunk is a fixed range of deal numbers with its own random stream. Before any row is written, the
chunk draws the instants that several tables must agree on: when a partner's lead, registration and
first touch happened (the partner engagement time the rep declares), when a servicer took over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cosell.data.demo import csvout
from cosell.data.demo.clock import AS_OF, DAY, HOUR, snap
from cosell.data.demo.draws import Draws
from cosell.data.demo.plan import (
    ACCELERATED,
    DIRECT,
    EVIDENCE_LEAD,
    EVIDENCE_REGISTRATION,
    INFLUENCED,
    OVER_CREDITED,
    SOURCED,
    WON,
    Plan,
)
from cosell.data.demo.world import CONTACT_PREFIX, PARTNER_PREFIX, USER_PREFIX, World

OPPORTUNITY_PREFIX = "006Dm"
SERVICE_TYPES = (3, 6)  # integration and services partners implement


@dataclass
class Counters:
    """Running numbers of rows whose ids continue from chunk to chunk."""

    leads: int = 0
    touches: int = 0
    registrations: int = 0


@dataclass(frozen=True)
class Chunk:
    """Deals ``first`` to ``first + len(plan) - 1`` and their shared moments (0 = none)."""

    number: int
    first: int
    plan: Plan
    world: World
    rng: Draws
    lead_at: np.ndarray
    registered_at: np.ndarray
    partner_first_at: np.ndarray  # first partner-engagement touch
    direct_first_at: np.ndarray  # over_credited: the direct touch that came first
    evidence_at: np.ndarray  # earliest partner evidence (the declared engagement date)
    active_end: np.ndarray  # min(close, as-of): end of activity on the deal
    owner: np.ndarray  # user number of the deal's owner
    contact: np.ndarray  # contact number of the designed partner's contact, -1 none
    servicer: np.ndarray  # partner number implementing after a win, -1 none

    @property
    def size(self) -> int:
        return len(self.plan)

    def opportunity_ids(self, rows: np.ndarray | None = None) -> pa.Array:
        numbers = np.arange(self.first + 1, self.first + self.size + 1)
        return csvout.ids(OPPORTUNITY_PREFIX, numbers if rows is None else numbers[rows])


def contact_of(world: World, partner: np.ndarray, rng: Draws) -> np.ndarray:
    """A random contact number of each partner (-1 where partner is -1)."""
    p = np.maximum(partner, 0)
    contact = world.contact_start[p] + (rng.random(len(p)) * world.contact_count[p]).astype(np.int64)
    return np.where(partner >= 0, contact, -1)


def partner_ids(partner: np.ndarray) -> pa.Array:
    return csvout.where(partner >= 0, csvout.ids(PARTNER_PREFIX, partner + 1))


def contact_ids(contact: np.ndarray) -> pa.Array:
    return csvout.where(contact >= 0, csvout.ids(CONTACT_PREFIX, contact + 1))


def user_ids(user: np.ndarray) -> pa.Array:
    return csvout.where(user >= 0, csvout.ids(USER_PREFIX, user))


def uniform_between(rng: Draws, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A whole-minute instant in [lo, hi] for each row (lo where hi <= lo)."""
    span = np.maximum(hi - lo, 0)
    return snap(lo + (rng.random(len(lo)) * span).astype(np.int64))


def open_chunk(number: int, first: int, plan: Plan, world: World, rng: Draws) -> Chunk:
    n = len(plan)
    created, origin = plan.created, plan.origin
    sourced = origin == SOURCED
    zero = np.zeros(n, dtype=np.int64)
    lead_at = np.where(
        sourced & ((plan.evidence & EVIDENCE_LEAD) > 0), snap(created - rng.uniform(1, 40, n) * DAY), 0
    )
    registered = sourced & ((plan.evidence & EVIDENCE_REGISTRATION) > 0)
    registered_at = np.where(registered, snap(created - rng.uniform(6, 60, n) * DAY), 0)
    partner_first = np.where(sourced, snap(created - rng.uniform(0.1, 90, n) * DAY), zero)
    involved = (origin == INFLUENCED) | (origin == ACCELERATED)
    partner_first = np.where(involved, plan.engaged, partner_first)
    over = plan.plant == OVER_CREDITED
    partner_first = np.where(over, snap(created - rng.uniform(5, 30, n) * DAY), partner_first)
    direct_first = np.maximum(snap(created - rng.uniform(40, 55, n) * DAY), plan.prev_created + HOUR)
    direct_first = np.where(over, direct_first, 0)
    # The rep declares the engagement as a date (midnight UTC), and a declaration counts from that
    # instant (S4): the partner must come in on a later day than the direct touch, or the direct
    # team was not first and the deal is rightly sourced.
    next_day = direct_first - direct_first % DAY + DAY
    partner_first = np.where(over, np.maximum(partner_first, next_day + HOUR), partner_first)
    big = np.iinfo(np.int64).max
    candidates = np.stack([np.where(t > 0, t, big) for t in (lead_at, registered_at, partner_first)])
    evidence_at = candidates.min(axis=0)
    evidence_at = np.where(evidence_at == big, 0, evidence_at)
    active_end = np.minimum(plan.close, AS_OF)
    account_owner = world.account_owner[plan.account]
    owner = np.where(rng.random(n) < 0.85, account_owner, world.ae[rng.integers(0, len(world.ae), n)])
    contact = np.where(rng.random(n) < 0.7, contact_of(world, plan.partner, rng), -1)
    implementers = np.flatnonzero(np.isin(world.partner_type, SERVICE_TYPES))
    fallback = implementers[rng.integers(0, len(implementers), n)]
    own_is_implementer = np.isin(world.partner_type[np.maximum(plan.partner, 0)], SERVICE_TYPES)
    chosen = np.where((origin != DIRECT) & own_is_implementer, plan.partner, fallback)
    serviced = (plan.status == WON) & (plan.close + 5 * DAY < AS_OF) & (rng.random(n) < 0.18)
    return Chunk(
        number=number,
        first=first,
        plan=plan,
        world=world,
        rng=rng,
        lead_at=lead_at,
        registered_at=registered_at,
        partner_first_at=partner_first,
        direct_first_at=direct_first,
        evidence_at=evidence_at,
        active_end=np.maximum(active_end, created + HOUR),
        owner=owner,
        contact=contact,
        servicer=np.where(serviced, chosen, -1),
    )
