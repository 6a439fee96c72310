"""Decide a few deals from their own rows and their cohorts' stored baselines (SPEC section 2).

Explaining one deal, or re-deciding a few after an accepted fix, a decided dispute, an auto-tag or
an answered prompt, needs the deal's own rows (:func:`cosell.attribution.facts_read.load_deal_facts`)
and, only when the deal is tested for acceleration, the baseline of its cohort: the median of
every comparable direct-only deal. That baseline is not recomputed from the workspace: it is read
from the evidence the newest complete run (a full run, or an incremental run on top of one)
stored with each deal (:mod:`cosell.store.evidence_store`).

The stored baseline is used only when it is the one a full run would compute now
(docs/evidence.md, "Per-deal work"):

- the newest complete run known at K was made under the same policy version and stored its
  evidence;
- nothing the rules read changed between what that run knew and K: no import, no answered prompt
  on another deal (a deal's own prompt moves its own tier, never its own cohort: a deal tested for
  acceleration is never one of its own baseline deals);
- the run tested the deal with the same key: close time X, segment, amount band and stage s.

Otherwise :class:`BaselineMoved` is raised and the caller decides the deals the slow, whole-workspace
way. The result is then exactly what a full run gives (tests/attribution/test_per_deal.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cosell.attribution.cohort import Baseline
from cosell.attribution.facts import Facts, Opportunity
from cosell.attribution.facts_read import load_deal_facts
from cosell.attribution.reference import Decision, decide
from cosell.attribution.timeline import amount_band
from cosell.engine import Engine
from cosell.instants import epoch_micros
from cosell.policy import Policy
from cosell.store.attribution_store import RunRecord, unread_imports_at
from cosell.store.evidence_store import StoredBaseline, has_evidence, stored_baselines
from cosell.store.known import changed_between
from cosell.store.versions import complete_run


class BaselineMoved(Exception):
    """A deal's cohort baseline cannot be read from a stored run: decide it from the workspace."""


class StoredBaselines:
    """The cohort baselines of the deals being decided, as the newest complete run stored them.

    Looked up lazily (:meth:`for_deal` is only called for a deal tested for acceleration), so a
    deal that is not tested needs no stored run at all. ``with_members`` also reads the ids of the
    cohort's deals (explain lists them); a re-decision does not need them.
    """

    def __init__(
        self,
        con: Engine,
        facts: Facts,
        policy: Policy,
        known_at: datetime | None,
        deals: Sequence[str],
        *,
        with_members: bool = False,
    ) -> None:
        self.con = con
        self.facts = facts
        self.policy = policy
        self.known_at = known_at
        self.deals = tuple(deals)
        self.with_members = with_members
        self._stored: dict[str, StoredBaseline] | None = None
        self.run: RunRecord | None = None

    def _load(self) -> dict[str, StoredBaseline]:
        if self._stored is None:
            found = complete_run(self.con, self.known_at)
            if found is None or found[0].policy_version != self.policy.version:
                raise BaselineMoved("no full run under this policy")
            run, chain = found
            if not has_evidence(self.con, chain.full):
                raise BaselineMoved(f"run {chain.full} stored no evidence")
            # A deal's own answered prompt moves its tier, not its cohort; with several deals, one
            # deal's prompt could move another's cohort.
            mine = self.deals if len(self.deals) == 1 else ()
            if changed_between(self.con, run.known_at, self.known_at, except_deals=mine):
                raise BaselineMoved(f"the data changed since run {run.run_id}")
            if unread_imports_at(self.con, run.run_id, run.known_at):
                # Dated at or before what the run knew (a pinned clock), recorded after it: the
                # data changed, though no import is dated after the run's knowledge instant.
                raise BaselineMoved(f"an import run {run.run_id} did not read is dated before it")
            self.run = run
            self._stored = stored_baselines(self.con, chain, self.deals)
        return self._stored

    def for_deal(self, opp: Opportunity, closed_at: int, stage: str) -> Baseline | None:
        """The stored cohort of ``opp`` tested at ``closed_at`` in ``stage`` (None: no baseline);
        :class:`BaselineMoved` when the stored test does not have this key."""
        # The candidate's own band first: a missing rate is the same input error as in a full run.
        band = amount_band(self.facts, self.policy, opp, closed_at)
        stored = self._load().get(opp.opportunity_id)
        if stored is None:
            raise BaselineMoved(f"{opp.opportunity_id} was not tested for acceleration in the stored run")
        segment = self.facts.segments.get(opp.account_id, "")
        key = (epoch_micros(stored.closed_at), stored.segment, stored.band, stored.stage)
        if key != (closed_at, segment, band, stage):
            raise BaselineMoved(
                f"{opp.opportunity_id} was tested with another close time, segment, band or stage"
            )
        if stored.cohort is None:
            return None
        assert stored.cohort_size is not None and stored.median2 is not None
        members: tuple[str, ...] = ()
        if self.with_members:
            members = tuple(stored.member_ids(self.con, self.policy.baseline_window_days, opp.opportunity_id))
            if len(members) != stored.cohort_size:  # the stored rows disagree: trust neither
                raise BaselineMoved(
                    f"the cohort of {opp.opportunity_id} no longer has {stored.cohort_size} deals"
                )
        return Baseline(stored.cohort, stored.cohort_size, stored.median2, members)


def decide_deals(
    con: Engine,
    policy: Policy,
    opportunity_ids: Sequence[str],
    as_of: datetime,
    model: str,
    *,
    known_at: datetime | None,
    with_members: bool = False,
) -> tuple[Facts, list[Decision]]:
    """Decide the deals (those known; the others are left out) as of ``as_of`` on the rows known at
    ``known_at``, from their own rows and their cohorts' stored baselines. Raises
    :class:`BaselineMoved` when a stored baseline does not apply."""
    wanted = sorted(set(opportunity_ids))
    facts = load_deal_facts(con, policy, wanted, known_at, existing_at=as_of)
    baselines = StoredBaselines(con, facts, policy, known_at, wanted, with_members=with_members)
    decisions = [
        decide(o, facts, policy, as_of, model, baselines=baselines, known_at=known_at)
        for o in wanted
        if o in facts.opportunities
    ]
    return facts, decisions


__all__ = ["BaselineMoved", "StoredBaselines", "decide_deals"]
