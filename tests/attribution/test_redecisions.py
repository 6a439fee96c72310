"""Random sequences of re-decisions and runs over small generated worlds: every stored version
reads as a full run over the same data and overrides.

A hypothesis state machine starts from a generated world (imported, auto-tagged, prompted, and
attributed once as of AS_OF) and then, one step an hour later than the last, imports changes
(some dated back to the last import, as a pinned clock may), accepts fixes (some at the very
instant of the step before, a run's, as a pinned clock records them), opens and decides
disputes, answers influence prompts, withdraws overrides, and runs the attribution in full or
incrementally, as of AS_OF or of the knowledge instant, known now or a little earlier, and store
full runs as the numbers stood at an instant the newest run knew more than. After each:

- a partial version (a fix, a dispute, an answer, the auto-tags of an import) holds, for its
  deals, the rows, credits, evidence and claims of a full engine run as of the decision, with
  the credit model of that version, and ``explain`` says the same tier and partner; every reader
  of the newest version reads it (an import dated back to before a run's knowledge instant
  included), unless a partial run that knew more holds the deal;
- an incremental run stores what a full run then stores, and every reader of the newest version
  (as of T, and overall) reads the same after either;
- every deal of a stored run is explained (as of T, known at K) with its stored tier, partner,
  rules and credits;
- a full run that knew less than the newest complete run changes no reading of the newest version;
- a deal's newest version never comes from an earlier run than it did before.

tests/attribution/test_incremental.py holds the incremental run to the full one on single
changes, and test_per_deal.py each deal alone; this test adds the decisions in between.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cosell.asof import AsOf
from cosell.attribution.engine import MODELS, attribute
from cosell.attribution.explain import explain_opportunity
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.decisions import OverrideRequest, apply_overrides
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.hygiene.prompts import answer_prompt, list_prompts, refresh_prompts
from cosell.policy import Policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.service.attribution import attribute_and_store
from cosell.store.attribution_store import run_rows, save_run, withdraw_override
from cosell.store.evidence_store import evidence_rows
from cosell.store.versions import attribution_views, complete_run
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from test_engine_parity import AS_OF, PARTNERS, datasets, policies
from test_incremental import _imported, change, changes
from test_per_deal import _priced

import golden

HOUR = timedelta(hours=1)
TIERS = ("sourced", "influenced", "accelerated", "none")
Rows = tuple[list[AttributionRow], list[CreditRow], list[EvidenceRow], list[ClaimRow]]


def _of(rows: Rows, deals: list[str]) -> Rows:
    """``rows`` of ``deals`` only, each table in one order."""
    attribution, credits, evidence, claims = rows
    return (
        sorted((r for r in attribution if r.opportunity_id in deals), key=lambda r: r.opportunity_id),
        sorted(
            (c for c in credits if c.opportunity_id in deals), key=lambda c: (c.opportunity_id, c.partner_id)
        ),
        sorted((e for e in evidence if e.opportunity_id in deals), key=lambda e: e.opportunity_id),
        sorted(
            (c for c in claims if c.opportunity_id in deals),
            key=lambda c: (c.opportunity_id, c.rule, c.partner_id, c.source),
        ),
    )


def _newest(ws: Workspace, evaluated_at: datetime | None) -> list[list[tuple[Any, ...]]]:
    """What every reader of the newest version reads (as of ``evaluated_at`` when given), the run
    that made each row left out."""
    attribution_views(ws.con, None, evaluated_at)
    return [
        ws.con.execute(f"SELECT * EXCLUDE (run_id) FROM {view} ORDER BY ALL").fetchall()
        for view in ("v_attribution", "v_credits", "v_evidence", "v_claims")
    ]


class Redecisions(RuleBasedStateMachine):
    """One generated world, its decisions and runs (see the module docstring)."""

    ws: Workspace

    @initialize(tables=datasets(), policy=policies(), model=st.sampled_from(MODELS))
    def start(self, tables: dict[str, list[dict[str, str]]], policy: Policy, model: str) -> None:
        self.tables, self.policy, self.model = _priced(tables), policy, model
        self.ws = golden.empty_workspace()
        golden.insert_tables(self.ws, self.tables)
        _imported(self.ws, AS_OF)
        with self.ws.transaction():  # what an import's intake does
            apply_auto_tags(self.ws, policy, AS_OF)
            refresh_prompts(self.ws, policy, AS_OF)
        save_run(self.ws.con, attribute(self.ws.con, policy, AS_OF, model, known_at=AS_OF), "t", run_at=AS_OF)
        self.now, self.last_import, self.as_of = AS_OF + timedelta(days=1), AS_OF, AS_OF
        self.seen: dict[str, int] = {}  # each deal's newest version's run, as last read

    def teardown(self) -> None:
        if hasattr(self, "ws"):
            self.ws.close()

    def _tick(self) -> datetime:
        self.now += HOUR
        return self.now

    def _existing(self) -> list[str]:
        rows = self.ws.con.execute(
            "SELECT opportunity_id FROM cur_opportunities WHERE created_at <= ? ORDER BY 1", [self.now]
        ).fetchall()
        return [str(r[0]) for r in rows]

    # --- the steps --------------------------------------------------------------------------

    @rule(data=st.data(), back=st.sampled_from([0, 0, 0, 2]))
    def import_changes(self, data: st.DataObject, back: int) -> None:
        """Changed rows, imported now or dated back to the last import, then the intake's tags."""
        at = self._tick()
        at = max(self.last_import, at - back * HOUR) if back else at
        self.last_import = at
        change(self.ws, data.draw(changes(self.tables)), at=at)
        with self.ws.transaction():
            tagged = apply_auto_tags(self.ws, self.policy, at)
            refresh_prompts(self.ws, self.policy, at)
        for run_id in tagged.run_ids:
            self._check_partial(run_id)

    @rule(same=st.booleans(), earlier=st.sampled_from([0, 0, 0, 3]))
    def full_run(self, same: bool, earlier: int) -> None:
        at = self._tick()
        known = max(self.last_import, at - earlier * HOUR)
        self.as_of = self.as_of if same else known
        done = attribute_and_store(
            self.ws,
            self.policy,
            AsOf(self.as_of, known, True),
            self.model,
            by_user="t",
            reason="r",
            run_at=at,
        )
        self._check_explained(done.record.run_id, known)

    @rule(back=st.sampled_from([1, 2, 5]))
    def reproduce_earlier(self, back: int) -> None:
        """A full run stored now as the numbers stood at an instant before the newest complete run's
        knowledge instant (``cosell attribute --known-at K``): it knew less, so no reading of the
        newest version changes (it once became their base, hiding the fixes recorded after K)."""
        found = complete_run(self.ws.con)
        assert found is not None
        known = max(AS_OF, found[0].known_at - back * HOUR)
        if known >= found[0].known_at:
            return  # the newest complete run knew nothing later than the first import
        before = _newest(self.ws, None)
        attribute_and_store(
            self.ws,
            self.policy,
            AsOf(known, known, True),
            self.model,
            by_user="t",
            reason="r",
            run_at=self._tick(),
        )
        assert _newest(self.ws, None) == before

    @rule(earlier=st.sampled_from([0, 0, 0, 1]))
    def incremental_run(self, earlier: int) -> None:
        at = self._tick()
        at_k = AsOf(self.as_of, max(self.last_import, at - earlier * HOUR), True)
        inc = attribute_and_store(
            self.ws, self.policy, at_k, self.model, by_user="t", reason="r", run_at=at, incremental=True
        )
        read = (_newest(self.ws, self.as_of), _newest(self.ws, None))
        full_ws = golden.workspace_copy(self.ws)
        try:
            full = attribute_and_store(
                full_ws, self.policy, at_k, self.model, by_user="t", reason="r", run_at=at
            )
            assert run_rows(full_ws.con, inc.record.run_id) == run_rows(full_ws.con, full.record.run_id)
            assert evidence_rows(full_ws.con, inc.record.run_id) == evidence_rows(
                full_ws.con, full.record.run_id
            )
            assert read == (_newest(full_ws, self.as_of), _newest(full_ws, None)), inc.full_because
        finally:
            full_ws.close()
        self._check_explained(inc.record.run_id, at_k.known_at)

    @rule(
        data=st.data(),
        tier=st.sampled_from(TIERS),
        partner=st.sampled_from(["", *PARTNERS]),
        same=st.sampled_from([False, False, True]),
    )
    def accept_fix(self, data: st.DataObject, tier: str, partner: str, same: bool) -> None:
        """A fix, an hour later or (a pinned clock) at the instant of the last step, a run's too."""
        deals = self._existing()
        if not deals:
            return
        deal = data.draw(st.sampled_from(deals))
        request = OverrideRequest(
            deal, tier, partner or ("P1" if tier == "sourced" else None), f"finding:X-{deal}"
        )
        with self.ws.transaction():
            _, run_of, _ = apply_overrides(
                self.ws.con, self.policy, [request], kind="fix", by_user="u", reason="r",
                at=self.now if same else self._tick(),
            )  # fmt: skip
        self._check_partial(run_of[deal])

    @rule(
        data=st.data(),
        tier=st.sampled_from(TIERS),
        partner=st.sampled_from(["", *PARTNERS]),
        accept=st.booleans(),
    )
    def dispute(self, data: st.DataObject, tier: str, partner: str, accept: bool) -> None:
        deals = self._existing()
        if not deals:
            return
        deal = data.draw(st.sampled_from(deals))
        partner = partner or ("P2" if tier == "sourced" else "")
        claim = f"{tier}/{partner}" if partner and tier != "none" else tier
        with self.ws.transaction():
            opened = open_dispute(self.ws, deal, "u", "we did", claim, at=self._tick())
        with self.ws.transaction():
            decided = decide_dispute(
                self.ws,
                self.policy,
                opened.dispute_id,
                accept=accept,
                by_user="ops",
                reason="r",
                at=self._tick(),
            )
        if accept:
            assert decided.new_run_id is not None
            self._check_partial(decided.new_run_id)

    @rule(data=st.data(), tier=st.sampled_from(["influenced", "accelerated"]))
    def answer(self, data: st.DataObject, tier: str) -> None:
        at = self._tick()
        open_prompts = [p for p in list_prompts(self.ws.con, at) if p.status == "open"]
        if not open_prompts:
            return
        prompt = data.draw(st.sampled_from(open_prompts))
        with self.ws.transaction():
            answered = answer_prompt(
                self.ws, self.policy, prompt.prompt_id, tier=tier, activity="joint call", by_user="u", now=at
            )
        assert answered.run_id is not None
        self._check_partial(answered.run_id)

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        active = self.ws.con.execute(
            "SELECT override_id FROM attribution_overrides WHERE withdrawn_at IS NULL ORDER BY 1"
        ).fetchall()
        if active:
            withdraw_override(
                self.ws.con,
                data.draw(st.sampled_from([r[0] for r in active])),
                at=self._tick(),
                by_user="u-ops",
                reason="void",
            )

    # --- the checks -------------------------------------------------------------------------

    @invariant()
    def versions_never_go_back(self) -> None:
        """A deal's newest version is never taken from an earlier run than before (pay tells a new
        version by a greater run id: pay/posting_record.py)."""
        if not hasattr(self, "ws"):
            return
        attribution_views(self.ws.con)
        now = dict(self.ws.con.execute("SELECT opportunity_id, run_id FROM v_attribution").fetchall())
        assert all(now[deal] >= run_id for deal, run_id in self.seen.items()), (self.seen, now)
        self.seen = now

    def _check_partial(self, run_id: int) -> None:
        """The partial run's versions are a full run's as of its instant, with its model."""
        model, as_of = self.ws.con.execute(
            "SELECT model, as_of FROM attribution_runs WHERE run_id = ?", [run_id]
        ).fetchone() or ("", None)
        stored = run_rows(self.ws.con, run_id)
        deals = [r.opportunity_id for r in stored[0]]
        full = attribute(self.ws.con, self.policy, as_of, model, known_at=as_of)
        want = _of((full.rows(), full.credit_rows(), *full.evidence_rows()), deals)
        assert _of((*stored, *evidence_rows(self.ws.con, run_id)), deals) == want
        # Every reader of the newest version reads it for its deals, unless a partial run that knew
        # more holds them (an import dated back to before a fix): it is never hidden behind a
        # complete run recorded before it, which never read its inputs.
        attribution_views(self.ws.con)
        read = self.ws.con.execute(
            "SELECT v.run_id, r.scope, r.known_at > ? FROM v_attribution v "
            "JOIN attribution_runs r ON r.run_id = v.run_id WHERE list_contains(?, v.opportunity_id)",
            [as_of, deals],
        ).fetchall()
        assert len(read) == len(deals)
        assert all(r[0] == run_id or (r[1] == "partial" and r[2]) for r in read), (run_id, read)
        for row in want[0]:
            explained = explain_opportunity(
                self.ws.con, row.opportunity_id, self.policy, as_of, model, known_at=as_of
            ).to_json()
            assert (explained["tier"], explained["primary_partner_id"] or "") == (
                row.tier,
                row.primary_partner_id,
            )

    def _check_explained(self, run_id: int, known_at: datetime | None) -> None:
        """Every deal of a stored run (read with its chain) is explained as it is stored."""
        rows, credits = run_rows(self.ws.con, run_id)
        for row in rows:
            explained = explain_opportunity(
                self.ws.con, row.opportunity_id, self.policy, self.as_of, self.model, known_at=known_at
            ).to_json()
            told = sorted((c["partner_id"], c["role"], c["amount"]) for c in explained["credits"])
            stored = sorted(
                (c.partner_id, c.role, c.amount) for c in credits if c.opportunity_id == row.opportunity_id
            )
            assert (explained["tier"], explained["primary_partner_id"] or "", " ".join(explained["rules"]), told) == (
                row.tier, row.primary_partner_id, row.rules, stored,
            ), row.opportunity_id  # fmt: skip


Redecisions.TestCase.settings = settings(
    max_examples=6, stateful_step_count=8, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRedecisions = Redecisions.TestCase
