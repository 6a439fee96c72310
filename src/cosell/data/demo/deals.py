"""Opportunities of one chunk, with their stage history, CRM field history and declared partners.

The five CRM attribution fields are what a rep would have typed: the designed origin on most deals,
confirmed before close (by the owner, partner ops, or the integration user when a partner lead was
converted), some confirmed only after close, some open or lost deals never; the planted failures
override them (see plan.py). ``demo_truth.csv`` records each deal's designed origin, partner and
planted failure; it is not a canonical table, so importers ignore it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cosell.data.demo import csvout
from cosell.data.demo.chunk import Chunk, contact_ids, partner_ids, uniform_between, user_ids
from cosell.data.demo.clock import AS_OF, DAY, HOUR, snap
from cosell.data.demo.names import CURRENCIES, PARTNERS, STAGES
from cosell.data.demo.plan import (
    ACCELERATION_UNPROVEN,
    CONFIRMED_AFTER_CLOSE,
    DIRECT,
    INFLUENCE_NO_ACTIVITY,
    INFLUENCED,
    LOST,
    MISSING_AT_CLOSE,
    OPEN,
    ORIGINS,
    OVER_CREDITED,
    PLANT_KINDS,
    SOURCED,
    UNTAGGED,
    WON,
    WRONG_ACCOUNT,
)
from cosell.data.demo.world import ACCOUNT_PREFIX
from cosell.store.schema import CRM_FIELDS, OPPORTUNITY_TYPES, PARTNER_SOURCES, PARTNER_TYPES

TRUTH_COLUMNS = ("opportunity_id", "designed_origin", "designed_partner_id", "planted_failure")
NONE_, SOURCED_, INFLUENCED_, ACCELERATED_ = range(4)  # PARTNER_SOURCES codes; -1 = empty
ACTIVITY = (
    "Joint discovery call",
    "Intro to the economic buyer",
    "Exec sponsor call",
    "Reference call arranged",
)
CO_SELL = PARTNER_TYPES.index("co_sell")
RESELLER = PARTNER_TYPES.index("reseller")


def _declared(chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """partner_source code (-1 empty) and declared partner (-1 none) of each deal."""
    rng, plan = chunk.rng, chunk.plan
    n = chunk.size
    source = plan.origin.copy()  # origins and PARTNER_SOURCES share their order
    unconfirmed = ((plan.status == OPEN) & (rng.random(n) < 0.4)) | (
        (plan.status == LOST) & (rng.random(n) < 0.15)
    )
    source = np.where(unconfirmed, -1, source)
    plant = plan.plant
    source = np.where(plant == UNTAGGED, NONE_, source)
    source = np.where((plant == OVER_CREDITED) | (plant == WRONG_ACCOUNT), SOURCED_, source)
    source = np.where(plant == MISSING_AT_CLOSE, -1, source)
    source = np.where(plant == INFLUENCE_NO_ACTIVITY, INFLUENCED_, source)
    source = np.where(plant == ACCELERATION_UNPROVEN, ACCELERATED_, source)
    partner = np.where(source >= SOURCED_, plan.partner, -1)
    half = rng.random(n) < 0.5
    partner = np.where(
        (plant == MISSING_AT_CLOSE) & (plan.origin == INFLUENCED) & half, plan.partner, partner
    )
    partner = np.where(plant == INFLUENCE_NO_ACTIVITY, plan.other_partner, partner)
    return source, partner


def write_deals(chunk: Chunk, writers: dict[str, csvout.TableWriter], source_lead: np.ndarray) -> None:
    rng, plan, world = chunk.rng, chunk.plan, chunk.world
    n = chunk.size
    ids = chunk.opportunity_ids()
    created, close, status = plan.created, plan.close, plan.status

    # Stage history: the open stages reached by the as-of instant, then the close.
    times = np.concatenate([plan.entries, close[:, None]], axis=1)
    stage = np.tile(np.arange(6), (n, 1))
    stage[:, 5] = np.where(status == LOST, 6, 5)
    reached = (np.arange(5)[None, :] < plan.stages_reached[:, None]) & (plan.entries < AS_OF)
    mask = np.concatenate([reached, (status != OPEN)[:, None]], axis=1)
    current = np.where(status == OPEN, reached.sum(axis=1) - 1, stage[:, 5])
    deal_rows = np.repeat(np.arange(n), mask.sum(axis=1))
    writers["stage_history"].write(
        {
            "opportunity_id": pc.take(ids, pa.array(deal_rows)),
            "stage": csvout.pick(STAGES, stage[mask]),
            "entered_at": csvout.instants(times[mask]),
        }
    )

    # The five CRM fields as declared, and their change history.
    source, partner = _declared(chunk)
    own = (partner >= 0) & (partner == plan.partner)
    contact = np.where(own, chunk.contact, -1)
    engaged = np.where(own & (chunk.evidence_at > 0) & (rng.random(n) < 0.85), chunk.evidence_at, 0)
    logged = own & (chunk.evidence_at > 0)
    logged &= ((source >= INFLUENCED_) & (rng.random(n) < 0.75)) | (
        (source == SOURCED_) & (rng.random(n) < 0.5)
    )
    logged |= (plan.plant == ACCELERATION_UNPROVEN) & (chunk.evidence_at > 0)
    partner_names = pa.array([p[0] for p in PARTNERS], pa.string())
    log_text = pc.binary_join_element_wise(
        csvout.day_text(np.maximum(chunk.evidence_at, 0)),
        ": ",
        csvout.pick(ACTIVITY, rng.integers(0, len(ACTIVITY), n)),
        " with ",
        pc.take(partner_names, pa.array(np.maximum(partner, 0))),
        "",
    )
    end = chunk.active_end
    confirmed = uniform_between(rng, created + ((end - created) * 0.1).astype(np.int64),
                                created + ((end - created) * 0.9).astype(np.int64))  # fmt: skip
    late = plan.plant == CONFIRMED_AFTER_CLOSE
    confirmed = np.where(late, snap(close + rng.uniform(1, 20, n) * DAY), confirmed)
    system = (chunk.lead_at > 0) & (rng.random(n) < 0.5) & ~late
    confirmed = np.where(system, created + 300, confirmed)
    ops = world.partner_ops[rng.integers(0, len(world.partner_ops), n)]
    by = np.where(system, world.integration_user, np.where(rng.random(n) < 0.88, chunk.owner, ops))
    prior = np.where(plan.plant == OVER_CREDITED, INFLUENCED_, -1)
    prior = np.where((source == INFLUENCED_) & (plan.plant < 0) & (rng.random(n) < 0.08), NONE_, prior)
    prior_at = snap(created + (confirmed - created) // 10)
    prior = np.where(prior_at < confirmed - 60, prior, -1)

    f_deal, f_field, f_old, f_new, f_at = [], [], [], [], []

    def change(rows: np.ndarray, field: str, old: pa.Array, new: pa.Array, at: np.ndarray) -> None:
        f_deal.append(rows)
        f_field.append(np.full(len(rows), CRM_FIELDS.index(field)))
        f_old.append(old)
        f_new.append(new)
        f_at.append(at)

    sources = pa.array(PARTNER_SOURCES, pa.string())
    r = np.flatnonzero(prior >= 0)
    change(
        r,
        "partner_source",
        csvout.constant(None, len(r)),
        csvout.pick(PARTNER_SOURCES, prior[r]),
        prior_at[r],
    )
    r = np.flatnonzero(source >= 0)
    old = csvout.where(prior[r] >= 0, pc.take(sources, pa.array(np.maximum(prior[r], 0))))
    change(r, "partner_source", old, csvout.pick(PARTNER_SOURCES, source[r]), confirmed[r])
    for field, present, values in (
        ("partner_id", partner >= 0, partner_ids(partner)),
        ("partner_contact_id", contact >= 0, contact_ids(contact)),
        ("partner_engagement_date", engaged > 0, csvout.dates(engaged)),
        ("partner_activity_log", logged, log_text),
    ):
        r = np.flatnonzero(present)
        change(r, field, csvout.constant(None, len(r)), pc.take(values, pa.array(r)), confirmed[r])
    deal = np.concatenate(f_deal)
    field_code = np.concatenate(f_field)
    at = np.concatenate(f_at)
    order = pa.array(np.lexsort((field_code, at, deal)))
    writers["field_history"].write(
        {
            "opportunity_id": pc.take(pc.take(ids, pa.array(deal)), order),
            "field": pc.take(csvout.pick(CRM_FIELDS, field_code), order),
            "old_value": pc.take(pa.concat_arrays(f_old), order),
            "new_value": pc.take(pa.concat_arrays(f_new), order),
            "changed_at": pc.take(csvout.instants(at), order),
            "changed_by": pc.take(user_ids(by[deal]), order),
        }
    )

    writers["opportunities"].write(
        {
            "opportunity_id": ids,
            "account_id": csvout.ids(ACCOUNT_PREFIX, plan.recorded_account + 1),
            "created_at": csvout.instants(created),
            "amount": csvout.money(plan.amount),
            "currency": csvout.where(
                (plan.currency > 0) | (rng.random(n) < 0.95), csvout.pick(CURRENCIES, plan.currency)
            ),
            "stage": csvout.pick(STAGES, current),
            "owner_id": user_ids(chunk.owner),
            "close_date": csvout.dates(close),
            "is_closed": csvout.bools(status != OPEN),
            "is_won": csvout.bools(status == WON),
            "opportunity_type": csvout.pick(OPPORTUNITY_TYPES, plan.opp_type),
            "source_lead_id": csvout.where(source_lead >= 0, csvout.ids("00QDm", np.maximum(source_lead, 0))),
            "partner_source": csvout.pick(PARTNER_SOURCES, source),
            "partner_id": partner_ids(partner),
            "partner_contact_id": contact_ids(contact),
            "partner_engagement_date": csvout.where(engaged > 0, csvout.dates(engaged)),
            "partner_activity_log": csvout.where(logged, log_text),
        }
    )
    _write_partners(chunk, writers["opportunity_partners"], ids)
    writers["demo_truth"].write(
        {
            "opportunity_id": ids,
            "designed_origin": csvout.pick(ORIGINS, plan.origin),
            "designed_partner_id": partner_ids(plan.partner),
            "planted_failure": csvout.pick(PLANT_KINDS, plan.plant),
        }
    )


def _write_partners(chunk: Chunk, writer: csvout.TableWriter, ids: pa.Array) -> None:
    """Declared partners: sourcer, co-seller or influencer, marketplace reseller, servicer."""
    rng, plan, world = chunk.rng, chunk.plan, chunk.world
    n = chunk.size
    ptype = world.partner_type[np.maximum(plan.partner, 0)]
    parts: list[tuple[np.ndarray, ...]] = []  # deal, partner, role, added, primary
    sourcer = np.flatnonzero(
        ((plan.origin == SOURCED) & (plan.plant != WRONG_ACCOUNT) & (rng.random(n) < 0.8))
        | (plan.plant == OVER_CREDITED)
    )
    added = snap(plan.created + rng.uniform(0, 2, n) * DAY)
    parts.append(
        (
            sourcer,
            plan.partner[sourcer],
            np.zeros(len(sourcer), int),
            added[sourcer],
            np.ones(len(sourcer), bool),
        )
    )
    helper = np.flatnonzero(
        (plan.origin >= INFLUENCED) & (plan.plant != OVER_CREDITED) & (rng.random(n) < 0.6)
    )
    role = np.where(ptype[helper] == CO_SELL, 1, 2)  # co_seller, influencer
    at = np.minimum(chunk.partner_first_at[helper] + (rng.uniform(0, 2, len(helper)) * DAY).astype(np.int64),
                    chunk.active_end[helper])  # fmt: skip
    parts.append((helper, plan.partner[helper], role, snap(at), np.ones(len(helper), bool)))
    resellers = np.flatnonzero(world.partner_type == RESELLER)
    routed = np.flatnonzero((plan.status == WON) & (rng.random(n) < 0.07))
    via = resellers[rng.integers(0, len(resellers), len(routed))]
    at = snap(plan.close[routed] - rng.uniform(1, 10, len(routed)) * DAY)
    alone = ~np.isin(routed, np.concatenate([sourcer, helper]))
    parts.append((routed, via, np.full(len(routed), 3), np.maximum(at, plan.created[routed] + HOUR), alone))
    serviced = np.flatnonzero(
        (chunk.servicer >= 0) & (plan.origin != DIRECT)
    )  # keeps direct deals direct-only
    at = plan.close[serviced] + 2 * DAY
    parts.append(
        (serviced, chunk.servicer[serviced], np.full(len(serviced), 4), at, np.zeros(len(serviced), bool))
    )
    deal, partner, role, at, primary = (np.concatenate(c) for c in zip(*parts, strict=True))
    order = np.lexsort((role, at, deal))
    deal, partner, role, at, primary = (a[order] for a in (deal, partner, role, at, primary))
    writer.write(
        {
            "opportunity_id": pc.take(ids, pa.array(deal)),
            "partner_id": partner_ids(partner),
            "role": csvout.pick(("sourcer", "co_seller", "influencer", "reseller", "servicer"), role),
            "added_at": csvout.instants(at),
            "is_primary": csvout.bools(primary),
        }
    )
