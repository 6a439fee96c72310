"""Leads and deal registrations of one chunk.

Converted leads: a partner referral for every partner-sourced deal planned with a lead, an inbound,
outbound or event lead for some other new-business deals. Unconverted leads of every source (partner
referrals included, some without a matched account) fill the funnel. Registrations: approved ones
for deals planned with a registration (two partners' for double_sourced), rejected ones after the
direct team was already working a deal, pending ones on recent deals, and expired ones that lapsed
before the account's next deal (so they protect nothing).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cosell.data.demo import csvout
from cosell.data.demo.chunk import Chunk, Counters, contact_ids, contact_of, partner_ids, uniform_between
from cosell.data.demo.clock import AS_OF, DAY, HOUR, PROTECTION, snap
from cosell.data.demo.draws import Draws
from cosell.data.demo.names import FIRST_NAMES, LAST_NAMES
from cosell.data.demo.plan import DOUBLE_SOURCED, NEW_BUSINESS, OPEN, SOURCED, WON, WRONG_ACCOUNT
from cosell.data.demo.world import ACCOUNT_PREFIX
from cosell.store.schema import LEAD_SOURCES

LEAD_PREFIX, REGISTRATION_PREFIX = "00QDm", "a0RDm"
PARTNER_REFERRAL, INBOUND, OUTBOUND, EVENT, OTHER = (LEAD_SOURCES.index(s) for s in LEAD_SOURCES)


def _emails(rng: Draws, domains: pa.Array) -> pa.Array:
    n = len(domains)
    first = pc.utf8_lower(csvout.pick(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n)))
    last = pc.utf8_lower(csvout.pick(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n)))
    return pc.binary_join_element_wise(first, ".", last, "@", domains, "")


def write_leads(chunk: Chunk, writer: csvout.TableWriter, counters: Counters) -> np.ndarray:
    """Write the chunk's leads; return each deal's source lead number (-1 for none)."""
    rng, plan, world = chunk.rng, chunk.plan, chunk.world
    n = chunk.size
    partner_lead = chunk.lead_at > 0
    direct_lead = (plan.origin != SOURCED) & (plan.opp_type == NEW_BUSINESS) & (rng.random(n) < 0.45)
    converted = np.flatnonzero(partner_lead | direct_lead)
    direct_source = rng.choice([INBOUND, OUTBOUND, EVENT], size=n, p=[0.5, 0.3, 0.2])
    source = np.where(partner_lead, PARTNER_REFERRAL, direct_source)[converted]
    created = np.where(partner_lead, chunk.lead_at, snap(plan.created - rng.uniform(1, 30, n) * DAY))[
        converted
    ]
    partner = np.where(partner_lead, plan.partner, -1)[converted]
    contact = np.where(partner_lead & (rng.random(n) < 0.8), contact_of(world, plan.partner, rng), -1)[
        converted
    ]

    # Unconverted leads around the chunk's weeks; some match no account.
    m = round(n * 1.1)
    lo, hi = int(plan.created.min()) - 30 * DAY, int(plan.created.max())
    u_created = snap(rng.integers(lo, hi + 1, m))
    u_source = rng.choice(
        [INBOUND, OUTBOUND, EVENT, PARTNER_REFERRAL, OTHER], size=m, p=[0.4, 0.25, 0.2, 0.1, 0.05]
    )
    u_account = rng.integers(0, world.accounts, m)
    matched = rng.random(m) < 0.7
    weights = world.partner_weight / world.partner_weight.sum()
    u_partner = np.where(u_source == PARTNER_REFERRAL, rng.choice(world.partners, size=m, p=weights), -1)
    u_contact = np.where(rng.random(m) < 0.7, contact_of(world, u_partner, rng), -1)

    account = np.concatenate([plan.account[converted], u_account])
    created_all = np.concatenate([created, u_created])
    order = np.lexsort((np.arange(len(created_all)), created_all))
    numbers = np.empty(len(order), dtype=np.int64)
    numbers[order] = counters.leads + 1 + np.arange(len(order))
    counters.leads += len(order)
    is_converted = np.arange(len(order)) < len(converted)
    deal = np.concatenate([converted, np.full(m, -1)])
    names = world.account_name_array()
    domains = world.account_domain_array()
    columns = {
        "lead_id": csvout.ids(LEAD_PREFIX, numbers),
        "created_at": csvout.instants(created_all),
        "company": pc.take(names, pa.array(account)),
        "email": _emails(rng, pc.take(domains, pa.array(account))),
        "account_id": csvout.where(
            np.concatenate([np.ones(len(converted), dtype=bool), matched]),
            csvout.ids(ACCOUNT_PREFIX, account + 1),
        ),
        "source": csvout.pick(LEAD_SOURCES, np.concatenate([source, u_source])),
        "partner_id": partner_ids(np.concatenate([partner, u_partner])),
        "partner_contact_id": contact_ids(np.concatenate([contact, u_contact])),
        "converted_opportunity_id": csvout.where(is_converted, chunk.opportunity_ids(np.maximum(deal, 0))),
        "converted_at": csvout.where(
            is_converted, csvout.instants(np.concatenate([plan.created[converted], u_created]))
        ),
    }
    writer.write({k: pc.take(v, pa.array(order)) for k, v in columns.items()})
    source_lead = np.full(n, -1, dtype=np.int64)
    source_lead[converted] = numbers[: len(converted)]
    return source_lead


def write_registrations(chunk: Chunk, writer: csvout.TableWriter, counters: Counters) -> None:
    """Write the chunk's deal registrations in order of registration."""
    rng, plan, world = chunk.rng, chunk.plan, chunk.world
    n = chunk.size
    created = plan.created
    rows: list[tuple[np.ndarray, ...]] = []  # deal, partner, registered, status, approved, linked, expires

    def add(deal: np.ndarray, partner: np.ndarray, at: np.ndarray, status: str, approved: np.ndarray,
            linked: np.ndarray, expires: np.ndarray) -> None:  # fmt: skip
        code = np.full(len(deal), ("pending", "approved", "rejected", "expired").index(status))
        rows.append((deal, partner, at, code, approved, linked, expires))

    # Approved (or since expired) registrations that source a deal.
    deal = np.flatnonzero(chunk.registered_at > 0)
    at = chunk.registered_at[deal]
    approved = np.minimum(at + (rng.uniform(2, 120, len(deal)) * HOUR).astype(np.int64), created[deal] - HOUR)
    explicit = rng.random(len(deal)) < 0.5
    expires = np.where(explicit, at + PROTECTION, 0)
    lapsed = (plan.status[deal] != WON) & (at + PROTECTION < AS_OF) & (rng.random(len(deal)) < 0.6)
    must_link = np.isin(plan.plant[deal], [DOUBLE_SOURCED, WRONG_ACCOUNT])
    linked = must_link | (rng.random(len(deal)) < 0.85)
    for status, mask in (("approved", ~lapsed), ("expired", lapsed)):
        add(
            deal[mask],
            plan.partner[deal][mask],
            at[mask],
            status,
            snap(approved[mask]),
            linked[mask],
            expires[mask],
        )

    # A second partner's approved registration on the double-sourced deals.
    ds = np.flatnonzero(plan.plant == DOUBLE_SOURCED)
    second = uniform_between(rng, chunk.registered_at[ds] + HOUR, created[ds] - 2 * DAY)
    add(ds, plan.other_partner[ds], second, "approved", snap(np.minimum(second + 3 * HOUR, created[ds] - HOUR)),
        np.ones(len(ds), dtype=bool), np.zeros(len(ds), dtype=np.int64))  # fmt: skip

    # Rejected: the partner registered a deal the direct team already had.
    home = world.account_home_partner[plan.account]
    late = (plan.origin != SOURCED) & (rng.random(n) < 0.04)
    reg_late = snap(created + rng.uniform(1, 20, n) * DAY)
    r = np.flatnonzero(late & (reg_late < AS_OF))
    add(r, home[r], reg_late[r], "rejected", np.zeros(len(r), dtype=np.int64), rng.random(len(r)) < 0.5,
        np.zeros(len(r), dtype=np.int64))  # fmt: skip

    # Pending: submitted on recent deals, not yet reviewed.
    pend_at = snap(created + rng.uniform(1, 10, n) * DAY)
    p = np.flatnonzero(
        (plan.status == OPEN) & (created > AS_OF - 60 * DAY) & (pend_at < AS_OF) & (rng.random(n) < 0.08)
    )
    add(p, home[p], pend_at[p], "pending", np.zeros(len(p), dtype=np.int64), np.zeros(len(p), dtype=bool),
        np.zeros(len(p), dtype=np.int64))  # fmt: skip

    # Expired: registered after a deal closed, lapsed before the account's next deal.
    exp_at = snap(chunk.active_end + rng.uniform(10, 40, n) * DAY)
    e = np.flatnonzero((plan.status != OPEN) & (exp_at + PROTECTION + DAY < np.minimum(plan.next_created, AS_OF))
                       & (rng.random(n) < 0.04))  # fmt: skip
    weights = world.partner_weight / world.partner_weight.sum()
    add(e, rng.choice(world.partners, size=len(e), p=weights), exp_at[e], "expired", exp_at[e] + 2 * DAY,
        np.zeros(len(e), dtype=bool), exp_at[e] + PROTECTION)  # fmt: skip

    columns = [np.concatenate(c) for c in zip(*rows, strict=True)]
    order = np.lexsort((columns[1], columns[0], columns[2]))
    deal, partner, at, code, approved, linked, expires = (c[order] for c in columns)
    numbers = counters.registrations + 1 + np.arange(len(deal))
    counters.registrations += len(deal)
    writer.write(
        {
            "registration_id": csvout.ids(REGISTRATION_PREFIX, numbers),
            "partner_id": partner_ids(partner),
            "account_id": csvout.ids(ACCOUNT_PREFIX, plan.account[deal] + 1),
            "registered_at": csvout.instants(at),
            "status": csvout.pick(("pending", "approved", "rejected", "expired"), code),
            "approved_at": csvout.where(approved > 0, csvout.instants(approved)),
            "opportunity_id": csvout.where(linked, chunk.opportunity_ids(deal)),
            "expires_at": csvout.where(expires > 0, csvout.instants(expires)),
        }
    )
