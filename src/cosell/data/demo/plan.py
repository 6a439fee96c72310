"""The deal plan: the designed truth of every opportunity, decided before any row is written.

For each deal the plan fixes its account, creation time C, type, amount, designed origin (direct,
partner-sourced, partner-influenced, partner-accelerated), partner, stage path, close time X and
outcome, and which data-hygiene failure (if any) is planted on it. The chunked writers then only add
detail (touches, leads, registrations, history rows) that agrees with the plan.

The design follows SPEC section 2 so that the attribution engine finds the story:
- a partner-sourced deal sits on an account with no other deal's activity in the 180 days before it,
  and no later deal's prospecting starts before it was created, so no direct engagement precedes
  the partner's evidence (the direct-first guard); its partner touches are logged on the account
  only when no later deal's lookback could see them;
- influenced and accelerated deals have direct touches before creation and partner touches on the
  deal after it; an accelerated deal runs its remaining stages after the partner engaged at about
  half the segment's usual pace;
- direct deals have no partner evidence before close.
The plan holds a few numbers per deal (about 150 bytes), so a million deals fit comfortably in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from cosell.data.demo import draws
from cosell.data.demo.clock import AS_OF, DAY, HOUR, LOOKBACK, PLAN, SPAN_END, SPAN_START, stream
from cosell.data.demo.draws import Draws
from cosell.data.demo.finance import FxTable
from cosell.data.demo.world import World

ORIGINS = ("direct", "partner_sourced", "partner_influenced", "partner_accelerated")
DIRECT, SOURCED, INFLUENCED, ACCELERATED = range(4)
OPEN, WON, LOST = range(3)
NEW_BUSINESS, EXPANSION, RENEWAL = range(3)
EVIDENCE_LEAD, EVIDENCE_REGISTRATION = 1, 2

PLANT_KINDS = (
    "untagged_partner_involvement",
    "over_credited",
    "double_sourced",
    "missing_attribution_at_close",
    "influence_without_activity",
    "acceleration_unproven",
    "wrong_account",
    "confirmed_after_close",
)
(
    UNTAGGED,
    OVER_CREDITED,
    DOUBLE_SOURCED,
    MISSING_AT_CLOSE,
    INFLUENCE_NO_ACTIVITY,
    ACCELERATION_UNPROVEN,
    WRONG_ACCOUNT,
    CONFIRMED_AFTER_CLOSE,
) = range(len(PLANT_KINDS))

# By segment (SMB, MM, ENT, empty): median created-to-close days of a won direct deal, the chance that
# an account free of recent direct activity gets its next deal from a partner, and a win-rate factor.
MEDIAN_CYCLE_DAYS = np.array([45.0, 80.0, 140.0, 70.0])
SOURCED_SHARE = np.array([0.75, 0.75, 0.75, 0.75])
EPISODE_EXTRA_DEALS = np.array([1.0, 1.0, 1.5, 1.0])  # deals in a buying episode beyond the first
WIN_FACTOR = np.array([1.1, 1.0, 0.85, 1.0])
WIN_RATE = np.array([0.20, 0.33, 0.31, 0.36])  # by origin
CYCLE_FACTOR = np.array([1.0, 0.58, 0.85, 1.0])  # by origin (accelerated: see _accelerate)
INVOLVED_SHARE = 0.26  # of the deals not sourced: partner helps after creation
ACCELERATED_SHARE = 0.40  # of those
AMOUNT_BANDS = np.array([[5e5, 2.5e6], [2.5e6, 1e7], [1e7, 1e8], [8e5, 8e6]])  # cents, by segment
STAGE_ALPHA = np.array([2.0, 2.5, 3.0, 2.5, 2.0])  # relative time spent in the five open stages
# Chance of each evidence kind for a sourced deal, by partner type (schema.PARTNER_TYPES order).
LEAD_CHANCE = np.array([0.8, 0.2, 0.15, 0.3, 0.4, 0.85, 0.3])
REGISTRATION_CHANCE = np.array([0.1, 0.75, 0.85, 0.25, 0.2, 0.05, 0.3])
_BIG = 10**10


@dataclass(frozen=True)
class Plan:
    """Per-deal arrays (deal number = position, in creation order)."""

    account: np.ndarray  # where the deal's activity happens
    recorded_account: np.ndarray  # the account on the opportunity row (differs for wrong_account)
    created: np.ndarray
    opp_type: np.ndarray
    segment: np.ndarray
    origin: np.ndarray
    partner: np.ndarray  # designed partner, -1 for direct deals
    other_partner: np.ndarray  # second registrant (double_sourced) or the unfounded one, else -1
    evidence: np.ndarray  # EVIDENCE_* bits of a sourced deal
    currency: np.ndarray
    amount: np.ndarray  # minor units of the deal's currency
    amount_usd: np.ndarray  # US cents, for the cost tables
    entries: np.ndarray  # (n, 5) planned entry times of the open stages
    stages_reached: np.ndarray  # open stages on the path (5 for a win)
    close: np.ndarray  # X: close time (closed deals) or forecast (open deals, after AS_OF)
    status: np.ndarray  # OPEN, WON, LOST
    engaged: np.ndarray  # first partner touch on the deal (influenced, accelerated), else 0
    plant: np.ndarray  # index into PLANT_KINDS, -1 for none
    account_level_ok: np.ndarray  # a sourced deal's early touches may be logged on the account only
    next_created: np.ndarray  # creation of the next deal on the same account (or far future)
    prev_created: np.ndarray  # creation of the previous deal on the same account (or far past)
    prev_end: np.ndarray  # end of activity of the earlier deals on the account (or far past)

    def __len__(self) -> int:
        return len(self.created)

    def part(self, lo: int, hi: int) -> Plan:
        """The deals ``lo`` to ``hi - 1`` (views, not copies)."""
        return Plan(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


def _deals_on_accounts(rng: Draws, world: World, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Account and creation instant of each deal, in creation order.

    Accounts buy in episodes: one to a few deals created within about six weeks, then a quiet spell
    that is usually longer than the sourcing lookback plus a sales cycle. That is what leaves room for
    a partner to bring the next deal before the direct team is back on the account. Pipeline grows
    about 80% over the span; deals are created on weekdays, in US office hours.
    """
    segment = world.account_segment
    m, k = world.accounts, 10
    quiet = (1.1 * MEDIAN_CYCLE_DAYS[segment] + 181) * DAY * 0.8
    gaps = quiet[:, None] * (0.55 + rng.exponential(0.6, (m, k)))
    first = SPAN_START - (rng.random(m) * quiet).astype(np.int64)
    starts = first[:, None] + np.concatenate([np.zeros((m, 1)), np.cumsum(gaps, axis=1)[:, :-1]], axis=1)
    per_episode = 1 + rng.poisson(EPISODE_EXTRA_DEALS[segment][:, None], (m, k))
    valid = starts < SPAN_END
    count = per_episode[valid]
    account = np.repeat(np.repeat(np.arange(m), k)[valid.ravel()], count)
    created = np.repeat(starts[valid].astype(np.int64), count)
    opener = np.zeros(len(created), dtype=bool)
    opener[np.cumsum(count) - count] = True
    created = created + np.where(opener, 0, rng.uniform(1, 45, len(created)) * DAY).astype(np.int64)
    keep = (created >= SPAN_START) & (created < SPAN_END)
    account, created = account[keep], created[keep]
    while len(created) < n:  # a small dataset can draw too few: add deals to existing episodes
        extra = rng.integers(0, len(created), n - len(created) + n // 10 + 1)
        later = created[extra] + (rng.uniform(1, 30, len(extra)) * DAY).astype(np.int64)
        ok = later < SPAN_END
        account, created = np.concatenate([account, account[extra][ok]]), np.concatenate([created, later[ok]])
    position = (created - SPAN_START) / (SPAN_END - SPAN_START)
    race = -draws.log(1.0 - rng.random(len(created))) / (1.0 + 0.8 * position)
    chosen = draws.smallest(race, n) if n < len(created) else np.arange(n)
    account, created = account[chosen], created[chosen]
    span_days = (SPAN_END - SPAN_START) // DAY
    day = (created - SPAN_START) // DAY
    weekday = (SPAN_START // DAY + day + 3) % 7  # 0 = Monday
    day = np.clip(day - (weekday == 5) + (weekday == 6), 0, span_days - 1)
    created = SPAN_START + day * DAY + rng.integers(13 * 60, 23 * 60, n) * 60
    order = np.lexsort((account, created))
    return account[order], created[order]


def _stage_path(plan_cycle: np.ndarray, created: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    entries = created[:, None] + (fractions * plan_cycle[:, None]).astype(np.int64)
    entries[:, 0] = created
    for j in range(1, 5):
        entries[:, j] = np.maximum(entries[:, j], entries[:, j - 1] + HOUR)
    snapped: np.ndarray = entries - entries % 60
    return snapped


def build_plan(world: World, fx: FxTable, size: int, seed: int) -> Plan:
    """Decide every deal's designed truth (see the module docstring)."""
    rng = stream(seed, PLAN)
    n = size
    account, created = _deals_on_accounts(rng, world, n)
    segment = world.account_segment[account]
    opp_type = rng.choice(3, size=n, p=[0.55, 0.30, 0.15])
    median = MEDIAN_CYCLE_DAYS[segment] * DAY
    direct_cycle = np.maximum(median * draws.exp(rng.normal(0.0, 0.45, n)), 12 * DAY)
    shares = rng.dirichlet(STAGE_ALPHA, n)
    fractions = np.concatenate([np.zeros((n, 1)), np.cumsum(shares, axis=1)[:, :4]], axis=1)
    win_draw = rng.random(n)
    lost_fraction = rng.uniform(0.35, 1.1, n)
    lost_stages = rng.choice(np.arange(1, 6), size=n, p=[0.25, 0.30, 0.25, 0.12, 0.08])

    # Neighbours on the same account: the end of the earlier deals' activity, the next deal's start.
    order = np.lexsort((created, account))
    acc_g, created_g = account[order], created[order]
    end_g = np.minimum(created_g + (1.1 * direct_cycle[order]).astype(np.int64), AS_OF)
    running = np.maximum.accumulate(end_g + acc_g * _BIG) - acc_g * _BIG
    same = acc_g[1:] == acc_g[:-1]
    prev_end_g = np.full(n, -_BIG, dtype=np.int64)
    prev_end_g[1:] = np.where(same, running[:-1], -_BIG)
    next_g = np.full(n, _BIG, dtype=np.int64)
    next_g[:-1] = np.where(same, created_g[1:], _BIG)
    prev_g = np.full(n, -_BIG, dtype=np.int64)
    prev_g[1:] = np.where(same, created_g[:-1], -_BIG)
    prev_end = np.empty(n, dtype=np.int64)
    next_created = np.empty(n, dtype=np.int64)
    prev_created = np.empty(n, dtype=np.int64)
    prev_end[order], next_created[order], prev_created[order] = prev_end_g, next_g, prev_g

    # Designed origin.
    free = prev_end < created - LOOKBACK - DAY
    sourced = free & (opp_type != RENEWAL) & (rng.random(n) < SOURCED_SHARE[segment])
    involved = ~sourced & (rng.random(n) < INVOLVED_SHARE)
    accelerated = involved & (rng.random(n) < ACCELERATED_SHARE)
    origin = np.where(
        sourced, SOURCED, np.where(accelerated, ACCELERATED, np.where(involved, INFLUENCED, DIRECT))
    )
    partner = np.where(origin == DIRECT, -1, world.account_home_partner[account])
    ptype = world.partner_type[np.maximum(partner, 0)]
    evidence = np.where(sourced & (rng.random(n) < LEAD_CHANCE[ptype]), EVIDENCE_LEAD, 0)
    evidence |= np.where(sourced & (rng.random(n) < REGISTRATION_CHANCE[ptype]), EVIDENCE_REGISTRATION, 0)

    # Amounts: log-scale within the segment's band, a bit larger when a partner brought the deal.
    band = AMOUNT_BANDS[segment]
    log_amount = draws.log(band[:, 0]) + rng.beta(2.2, 3.2, n) * draws.log(band[:, 1] / band[:, 0])
    usd = draws.exp(log_amount) * np.where(sourced, 1.15, 1.0) * np.array([1.0, 0.6, 0.9])[opp_type]
    currency = world.account_currency[account]
    local = usd * 1e6 / fx.rate(currency, created)
    rounding = rng.random(n)
    unit = np.where(rounding < 0.6, 10_000, np.where(rounding < 0.85, 100, 1))
    amount = np.maximum(np.rint(local / unit).astype(np.int64) * unit, 10_000)
    amount_usd = np.rint(usd).astype(np.int64)

    # Stage path, close time and outcome.
    win_path = win_draw < WIN_RATE[origin] * WIN_FACTOR[segment]
    cycle = direct_cycle * CYCLE_FACTOR[origin] * np.where(win_path, 1.0, lost_fraction)
    stages_reached = np.where(win_path, 5, lost_stages)
    entries = _stage_path(cycle, created, fractions)
    last_entry = entries[np.arange(n), stages_reached - 1]
    close = np.maximum(created + cycle.astype(np.int64), last_entry + HOUR)
    close = close - close % 60
    engaged = np.zeros(n, dtype=np.int64)
    _accelerate(rng, accelerated, entries, close, stages_reached, median, engaged)
    infl = origin == INFLUENCED
    engaged[infl] = created[infl] + (
        rng.uniform(0.05, 0.7, int(infl.sum())) * (close - created)[infl]
    ).astype(np.int64)
    engaged = engaged - engaged % 60
    not_yet = (origin >= INFLUENCED) & (engaged >= AS_OF - DAY)
    origin[not_yet], partner[not_yet], engaged[not_yet] = DIRECT, -1, 0
    status = np.where(close >= AS_OF, OPEN, np.where(win_path, WON, LOST))

    plan = Plan(
        account=account,
        recorded_account=account.copy(),
        created=created,
        opp_type=opp_type,
        segment=segment,
        origin=origin,
        partner=partner,
        other_partner=np.full(n, -1, dtype=np.int64),
        evidence=evidence,
        currency=currency,
        amount=amount,
        amount_usd=amount_usd,
        entries=entries,
        stages_reached=stages_reached,
        close=close,
        status=status,
        engaged=engaged,
        plant=np.full(n, -1, dtype=np.int64),
        account_level_ok=sourced & (next_created - LOOKBACK > created + HOUR),
        next_created=next_created,
        prev_created=prev_created,
        prev_end=prev_end,
    )
    _plant(rng, world, plan, direct_cycle, median)
    return plan


def _accelerate(
    rng: Draws,
    mask: np.ndarray,
    entries: np.ndarray,
    close: np.ndarray,
    stages_reached: np.ndarray,
    median: np.ndarray,
    engaged: np.ndarray,
) -> None:
    """The partner engages in Discovery or Proposal; the rest of the path runs at about half the pace."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return
    stage = np.minimum(rng.choice([2, 3], size=len(rows)), stages_reached[rows] - 1)
    start = entries[rows, stage]
    expected_left = 1.0 - np.concatenate([[0.0], np.cumsum(STAGE_ALPHA)[:4]])[stage] / STAGE_ALPHA.sum()
    actual_left = np.maximum(close[rows] - start, HOUR)
    factor = np.clip(np.minimum(0.45, 0.55 * median[rows] * expected_left / actual_left), 0.2, 0.45)
    for j in range(5):
        later = j > stage
        moved = start + ((entries[rows, j] - start) * factor).astype(np.int64)
        entries[rows, j] = np.where(later, moved - moved % 60, entries[rows, j])
    new_close = start + ((close[rows] - start) * factor).astype(np.int64)
    close[rows] = new_close - new_close % 60
    nxt = np.where(stage + 1 < stages_reached[rows], entries[rows, np.minimum(stage + 1, 4)], close[rows])
    delta = np.where(rng.random(len(rows)) < 0.3, 0.0, rng.uniform(0.0, 0.3, len(rows)))
    engaged[rows] = start + (delta * (nxt - start)).astype(np.int64)


def _plant(rng: Draws, world: World, plan: Plan, direct_cycle: np.ndarray, median: np.ndarray) -> None:
    """Choose the deals that carry each data-hygiene failure (disjoint sets, mostly closed-won)."""
    n = len(plan)
    each = max(2, round(n * 0.006))
    taken = np.zeros(n, dtype=bool)
    won = plan.status == WON
    origin = plan.origin

    def choose(mask: np.ndarray, count: int, kind: int) -> np.ndarray:
        candidates = np.flatnonzero(mask & ~taken)
        chosen = np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
        taken[chosen] = True
        plan.plant[chosen] = kind
        return chosen

    ds = choose(won & (origin == SOURCED), each, DOUBLE_SOURCED)
    plan.evidence[ds] |= EVIDENCE_REGISTRATION
    registrars = np.flatnonzero(np.isin(world.partner_type, [1, 2]))  # co_sell and reseller partners
    pick = rng.integers(0, len(registrars), len(ds))
    same = registrars[pick] == plan.partner[ds]
    plan.other_partner[ds] = registrars[(pick + same) % len(registrars)]
    wa = choose((plan.status != OPEN) & (origin == SOURCED), max(2, round(n * 0.002)), WRONG_ACCOUNT)
    plan.evidence[wa] |= EVIDENCE_REGISTRATION
    shift = rng.integers(1, world.accounts, len(wa))
    plan.recorded_account[wa] = (plan.account[wa] + shift) % world.accounts
    choose(won & ((origin == SOURCED) | (origin == INFLUENCED)), each, UNTAGGED)
    choose(won & (origin == INFLUENCED), each, OVER_CREDITED)
    choose(won & (origin == INFLUENCED) & (direct_cycle >= 1.1 * median), each, ACCELERATION_UNPROVEN)
    iwa = choose(won & (origin == DIRECT), each, INFLUENCE_NO_ACTIVITY)
    home = world.account_home_partner[plan.account[iwa]]
    plan.other_partner[iwa] = (home + rng.integers(1, world.partners, len(iwa))) % world.partners
    no_lead = (plan.evidence & EVIDENCE_LEAD) == 0
    choose(won & no_lead & ((origin == DIRECT) | (origin == INFLUENCED)), each, MISSING_AT_CLOSE)
    late = won & ~taken & (plan.close + 25 * DAY < AS_OF) & (rng.random(n) < 0.10)
    plan.plant[late] = CONFIRMED_AFTER_CLOSE
