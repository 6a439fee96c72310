"""The stage gate: a deal may not enter a won stage unless its partner_source is confirmed.

SPEC section 4: ``none`` is a valid answer; empty is not. The declared partner_source is the one of
:mod:`cosell.hygiene.declared`: the CRM field, an answered prompt, or cosell's auto-tag (which
satisfies the gate, though it is not a rep's confirmation).

- :func:`check_move` is the pure decision for one proposed move.
- :class:`GateIndex` holds every deal's state, loaded once from a workspace, so that a service can
  answer a CRM validation callout per request in microseconds (``benchmarks/gate.py``).
- :func:`gate_audit` lists every won deal that entered its won stage while partner_source was not
  confirmed at that instant (batch runs list every violation).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.errors import NotFound, UsageError
from cosell.hygiene.declared import declared_sql
from cosell.hygiene.sql import close_time_ctes
from cosell.hygiene.sql import in_list as _in
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.store.intake import ensure_intake_schema, version_filter
from cosell.store.known import require_import
from cosell.store.schema import PARTNER_SOURCES
from cosell.store.versions import attribution_views

CONFIRMED_VALUES = frozenset(PARTNER_SOURCES)  # none, sourced, influenced, accelerated


@dataclass(frozen=True)
class DealState:
    """What the gate needs to know about a deal: its stage and declared partner_source ("" = none)."""

    opportunity_id: str
    stage: str
    partner_source: str
    declared_by: str = ""


@dataclass(frozen=True)
class GateDecision:
    """The answer to a proposed stage move: allowed or not, and why, in a sentence."""

    allowed: bool
    reason: str


def _who(declared_by: str) -> str:
    if declared_by == "system":
        return "cosell's auto-tag (system)"
    if declared_by == "crm":
        return "the CRM field"
    return declared_by or "unknown"


def workspace_stages(con: Engine) -> frozenset[str]:
    """Every stage an opportunity or a stage_history row of the workspace has ever had (any version)."""
    rows = con.execute(
        "SELECT stage FROM opportunities WHERE stage IS NOT NULL "
        "UNION SELECT stage FROM stage_history WHERE stage IS NOT NULL"
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def known_stages(con: Engine, policy: Policy) -> frozenset[str]:
    """Every stage name the workspace knows: the policy's won and lost stages, and every stage an
    opportunity or a stage_history row has ever had (any version)."""
    ensure_intake_schema(con)
    return policy.won_stages | policy.lost_stages | workspace_stages(con)


def _loosely(stage: str) -> str:
    """A stage name without its case and surrounding spaces: what a person reads as the same stage."""
    return stage.strip().casefold()


def _edges(stage: str) -> tuple[str, str]:
    return stage[: len(stage) - len(stage.lstrip())], stage[len(stage.rstrip()) :]


def stage_case_notes(policy: Policy, stages: Collection[str]) -> tuple[str, ...]:
    """Where a stage the policy maps (``stages.won``, ``stages.lost``) and a stage of the workspace
    (``stages``: :func:`workspace_stages`) differ only by case or surrounding spaces, a sentence
    naming the key and both stages (by key, then stage). Stages are compared exactly (SPEC section
    1), so the workspace's deals in such a stage are open and nothing else says why: this is a
    diagnostic, the comparison stays exact. Pure.

    >>> stage_case_notes(Policy(), {"Discovery", "closed won", "Closed Lost"})
    ('stages.won: "Closed Won" is not a stage in the workspace; "closed won" is (it differs by case): its deals count as open',)
    """
    mapped = policy.won_stages | policy.lost_stages
    unmapped: dict[str, list[str]] = {}
    for stage in sorted(set(stages) - mapped):
        unmapped.setdefault(_loosely(stage), []).append(stage)
    notes = []
    for key, named in (("stages.won", policy.won_stages), ("stages.lost", policy.lost_stages)):
        for stage in sorted(named):
            for other in unmapped.get(_loosely(stage), ()):
                ways = [way for way, differ in (("case", stage.strip() != other.strip()),
                        ("surrounding spaces", _edges(stage) != _edges(other))) if differ]  # fmt: skip
                if stage in stages:
                    found = f'"{stage}" is a stage in the workspace, and so is "{other}"'
                else:
                    found = f'"{stage}" is not a stage in the workspace; "{other}" is'
                notes.append(f"{key}: {found} (it differs by {' and '.join(ways)}): its deals count as open")
    return tuple(notes)


def _unknown_stage(opp: str, stage: str, known: Collection[str]) -> GateDecision:
    # A misspelt won stage ("Closed Wn") maps to open and would pass the gate unchecked.
    names = sorted(known)
    close = difflib.get_close_matches(stage, names, n=1, cutoff=0.6)
    if not close:  # "closed won": the same name in another case
        close = [n for n in names if n.casefold() == stage.casefold()][:1]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return GateDecision(
        False,
        f"{opp} may not enter {stage!r}: no such stage{hint}; it is neither in the policy's stage "
        "mapping nor a stage of any opportunity in this workspace",
    )


def check_move(
    state: DealState, to_stage: str, policy: Policy, stages: Collection[str] | None = None
) -> GateDecision:
    """May ``state``'s deal move to ``to_stage``? Pure: no I/O.

    A won stage (by the policy's stage mapping) needs a confirmed partner_source: sourced,
    influenced, accelerated or none. Lost and open stages are always allowed (every stage name the
    policy does not map to won or lost is open). Given the workspace's ``stages``
    (:func:`known_stages`), a stage outside them is refused, naming the closest one.

    >>> from cosell.policy import Policy
    >>> check_move(DealState("O1", "Proposal", ""), "Closed Won", Policy()).allowed
    False
    >>> check_move(DealState("O1", "Proposal", "none", "crm"), "Closed Won", Policy()).allowed
    True
    >>> check_move(DealState("O1", "Proposal", "none"), "Closed Wn", Policy(), {"Closed Won"}).reason
    "O1 may not enter 'Closed Wn': no such stage (did you mean 'Closed Won'?); it is neither in the policy's stage mapping nor a stage of any opportunity in this workspace"
    """
    stage = to_stage.strip()
    if not stage:
        raise UsageError("give the stage the deal would move to")
    opp = state.opportunity_id
    if stages is not None and stage not in stages:
        return _unknown_stage(opp, stage, stages)
    kind = policy.stage_class(stage)
    if kind != "won":
        return GateDecision(True, f"{opp} may enter {kind} stage {stage!r}: the gate guards won stages only")
    if state.partner_source in CONFIRMED_VALUES:
        return GateDecision(
            True,
            f"{opp} may enter won stage {stage!r}: partner_source is confirmed as "
            f"{state.partner_source!r} (declared by {_who(state.declared_by)})",
        )
    return GateDecision(
        False,
        f"{opp} may not enter won stage {stage!r}: partner_source is not confirmed; the owning rep "
        "must set it to sourced, influenced, accelerated or none first (none is a valid answer)",
    )


class GateIndex:
    """Every deal's gate state, loaded once; :meth:`check` answers a move without touching storage."""

    def __init__(
        self, states: Mapping[str, DealState], policy: Policy, stages: Collection[str] | None = None
    ) -> None:
        self._states = dict(states)
        self._policy = policy
        self._stages = None if stages is None else frozenset(stages)

    @classmethod
    def load(cls, con: Engine, policy: Policy, as_of: datetime | None = None) -> GateIndex:
        """Read every deal's current stage and declared partner_source (as known at ``as_of``),
        and the stage names the workspace knows."""
        ensure_intake_schema(con)
        rows = con.execute(
            f"SELECT opportunity_id, stage, partner_source, declared_by FROM ({declared_sql(as_of)})"
        ).fetchall()
        states = {r[0]: DealState(r[0], r[1] or "", r[2] or "", r[3] or "") for r in rows}
        return cls(states, policy, known_stages(con, policy))

    def __len__(self) -> int:
        return len(self._states)

    def state(self, opportunity_id: str) -> DealState:
        """The state of one deal (raises :class:`NotFound` for an unknown id)."""
        try:
            return self._states[opportunity_id]
        except KeyError:
            raise NotFound(f"no opportunity {opportunity_id}") from None

    def check(self, opportunity_id: str, to_stage: str) -> GateDecision:
        """:func:`check_move` for a deal of the index (an unknown stage is refused)."""
        return check_move(self.state(opportunity_id), to_stage, self._policy, self._stages)

    def record(self, state: DealState) -> None:
        """Replace one deal's state (for a service that learns of a change without reloading)."""
        self._states[state.opportunity_id] = state
        if self._stages is not None and state.stage:
            self._stages |= {state.stage}


@dataclass(frozen=True)
class GateViolation:
    """A won deal that entered its won stage while partner_source was not confirmed."""

    opportunity_id: str
    owner_id: str
    stage: str
    entered_won_at: datetime
    partner_source_at_entry: str  # "" when empty
    confirmed_at: datetime | None  # when it was confirmed later, if it was
    confirmed_by: str
    partner_source_now: str  # the declared value as known at the as-of time
    amount: Decimal
    currency: str


def gate_audit(
    con: Engine,
    policy: Policy,
    as_of: datetime | None = None,
    *,
    evaluated_at: datetime | None = None,
) -> list[GateViolation]:
    """Every deal won as known at ``as_of`` that entered its won stage unconfirmed, oldest entry first.

    ``as_of`` is the knowledge instant K (None: everything recorded); ``evaluated_at`` (the as-of
    instant T, :mod:`cosell.asof`) leaves out the deals that entered their won stage after T.

    The entry is the deal's close time X (SPEC section 1: its first entry into its current won stage
    after its last open stage in stage_history, else its close_date): as stored with the deal's
    attribution version known at ``as_of`` (``v_evidence``), else, for a deal without one, from
    the data. partner_source at that
    instant comes from field_history (the newest change at or before it, else the oldest change's
    old value); a deal without partner_source changes in field_history is judged by its current CRM
    value. A declaration recorded at or before the entry (an auto-tag or an answered prompt)
    confirms it too.

    A knowledge instant before the first import is refused (:func:`require_import`), not read as
    no violation.
    """
    require_import(con, as_of)
    ensure_intake_schema(con)
    attribution_views(con, as_of)
    won, lost = policy.won_stages, policy.lost_stages
    known = version_filter(as_of)
    declared_known = "TRUE" if as_of is None else f"recorded_at <= TIMESTAMPTZ '{format_instant(as_of)}'"
    confirmed = _in(CONFIRMED_VALUES)
    until = "" if evaluated_at is None else f" AND w.entered <= TIMESTAMPTZ '{format_instant(evaluated_at)}'"
    sql = f"""
        WITH ev AS (SELECT opportunity_id, status, closed_at FROM v_evidence),
        o_all AS (
            SELECT opportunity_id, stage, owner_id, amount,
                coalesce(nullif(currency, ''), '{policy.workspace_currency}') AS currency,
                close_date, lower(trim(partner_source)) AS crm_source
            FROM opportunities WHERE {known}),
        o AS (
            SELECT * FROM o_all
            WHERE stage IN {_in(won)} AND opportunity_id NOT IN (SELECT opportunity_id FROM ev)),
        sh AS (
            SELECT opportunity_id, stage, entered_at FROM stage_history
            WHERE {known} AND opportunity_id IN (SELECT opportunity_id FROM o)),{close_time_ctes(won, lost, "entered")},
        -- Deals with stored evidence: won and entered the stage when their version says (its X).
        w_all AS (
            SELECT * FROM w
            UNION ALL
            SELECT o_all.*, ev.closed_at AS entered FROM ev JOIN o_all USING (opportunity_id)
            WHERE ev.status = 'won'),
        fh AS (
            SELECT opportunity_id, lower(trim(new_value)) AS new_value,
                lower(trim(old_value)) AS old_value, changed_at, changed_by
            FROM field_history WHERE {known} AND field = 'partner_source'),
        first_fh AS (
            SELECT opportunity_id, arg_min(old_value, changed_at) AS before_first
            FROM fh GROUP BY opportunity_id),
        at_entry AS (
            SELECT w.opportunity_id, fh.new_value AS value_then
            FROM w_all w ASOF JOIN fh ON w.opportunity_id = fh.opportunity_id AND w.entered >= fh.changed_at),
        decl AS (
            SELECT opportunity_id, recorded_at AS ts, by_user AS who
            FROM declarations WHERE {declared_known}),
        early_decl AS (
            SELECT DISTINCT w.opportunity_id FROM w_all w JOIN decl
            ON decl.opportunity_id = w.opportunity_id AND decl.ts <= w.entered),
        later AS (
            SELECT opportunity_id, changed_at AS ts, coalesce(changed_by, 'crm') AS who
            FROM fh WHERE new_value IN {confirmed}
            UNION ALL SELECT opportunity_id, ts, who FROM decl),
        judged AS (
            SELECT w.*,
                CASE WHEN f.opportunity_id IS NULL THEN w.crm_source
                    WHEN a.opportunity_id IS NOT NULL THEN a.value_then
                    ELSE f.before_first END AS source_then
            FROM w_all w
            LEFT JOIN first_fh f ON f.opportunity_id = w.opportunity_id
            LEFT JOIN at_entry a ON a.opportunity_id = w.opportunity_id
            WHERE w.entered IS NOT NULL{until}),
        bad AS (
            SELECT j.* FROM judged j
            WHERE coalesce(j.source_then, '') NOT IN {confirmed}
              AND j.opportunity_id NOT IN (SELECT opportunity_id FROM early_decl))
        SELECT b.opportunity_id, b.owner_id, b.stage, b.entered, coalesce(b.source_then, ''),
            l.ts, l.who, d.partner_source, b.amount, b.currency
        FROM bad b
        ASOF LEFT JOIN later l ON l.opportunity_id = b.opportunity_id AND l.ts > b.entered
        LEFT JOIN ({declared_sql(as_of)}) d ON d.opportunity_id = b.opportunity_id
        ORDER BY b.entered, b.opportunity_id"""
    out: list[GateViolation] = []
    for r in con.execute(sql).fetchall():
        out.append(
            GateViolation(
                opportunity_id=r[0],
                owner_id=r[1] or "",
                stage=r[2],
                entered_won_at=r[3].astimezone(UTC),
                partner_source_at_entry=r[4] or "",
                confirmed_at=r[5].astimezone(UTC) if r[5] is not None else None,
                confirmed_by=r[6] or "",
                partner_source_now=r[7] or "",
                amount=Decimal(r[8]),
                currency=r[9],
            )
        )
    return out
