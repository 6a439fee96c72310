"""The batch engine's plan: its rules compiled once to SQL steps, as plain data.

Building the rules (Ibis expressions compiled by sqlglot, :mod:`cosell.attribution.engine_build`)
costs about two seconds whatever the size of the data; running the SQL over a hundred deals costs
milliseconds. So the rules are compiled into a :class:`Plan`, plain data: an ordered list of
operations, each one SQL statement and what to do with its result. The run's values (the as-of
and knowledge instants, and every value of the policy) are compiled as placeholders and written in
when the plan runs (:mod:`cosell.attribution.engine_params`), so one plan serves every run of the
same shape. A plan is cached by what is baked into its SQL (:mod:`cosell.attribution.engine_plan_cache`)
and run on a connection by :mod:`cosell.attribution.engine_execute`. This module also names the
tables a run leaves for its caller. It does not import Ibis: a run whose plan is cached never loads
it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from cosell.attribution.engine_params import Params
from cosell.policy import Policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow

# The temp tables a run leaves for its caller: the attribution and credit rows, and the evidence
# stored with them (docs/evidence.md).
ATTRIBUTION_TABLE = "cosell_attribution"
CREDITS_TABLE = "cosell_credits"
EVIDENCE_OUTPUT = "cosell_evidence"
CLAIMS_OUTPUT = "cosell_claims"
# Each baseline deal's first entry into every stage it passed through, and each acceleration
# candidate's into its stage s (opp_id, stage, first_t): stored with the run, so that an
# incremental re-run reads the unchanged deals' entries instead of grouping their stage history.
STAGE_ENTRIES_OUTPUT = "cosell_stage_entries"
# The entries as a run stores them (:func:`cosell.store.evidence_store.save_stage_entries`).
STAGE_ENTRIES_SQL = f"SELECT opp_id, stage, first_t FROM {STAGE_ENTRIES_OUTPUT}"


def select_columns(columns: Iterable[str], table: str) -> str:
    """``columns`` of ``table``, in their order: a result row's relation as the store keeps it."""
    return f"SELECT {', '.join(columns)} FROM {table}"


class RunRelations:
    """A run's attribution and credit rows as relations, read from the tables named by
    ``attribution_table`` and ``credits_table`` (the plan's, or copies a what-if keeps)."""

    attribution_table = ATTRIBUTION_TABLE
    credits_table = CREDITS_TABLE

    @property
    def attribution_sql(self) -> str:
        """The attribution rows as a relation (for :func:`cosell.store.attribution_store.save_run`)."""
        return select_columns(AttributionRow.columns(), self.attribution_table)

    @property
    def credits_sql(self) -> str:
        """The credit rows as a relation."""
        return select_columns(CreditRow.columns(), self.credits_table)


class PlanOutputs(RunRelations):
    """A run's output tables as the relations the store keeps of it
    (:class:`cosell.store.attribution_store.RunResults`): the plan's tables, which a full run and
    an incremental run (the deals it decided again) both leave on the connection."""

    @property
    def evidence_sql(self) -> str:
        """What each decision rests on, one row per deal (:class:`~cosell.results.EvidenceRow`)."""
        return select_columns(EvidenceRow.columns(), EVIDENCE_OUTPUT)

    @property
    def claims_sql(self) -> str:
        """Every sourcing claim with its guard (:class:`~cosell.results.ClaimRow`)."""
        return select_columns(ClaimRow.columns(), CLAIMS_OUTPUT)

    @property
    def stage_entries_sql(self) -> str:
        """The first stage entries the cohorts read (opp_id, stage, first_t in epoch microseconds):
        of every direct-only won deal, and of every candidate into its stage s (an incremental
        run: of the deals it computed; a re-tested deal keeps the ones it has)."""
        return STAGE_ENTRIES_SQL

    @property
    def retests_sql(self) -> str:
        """The re-tested deals (:mod:`cosell.store.retests`); empty: none (a full run decides
        every deal whole)."""
        return ""


PLAN_FORMAT = 4
STEP_PREFIX = "_cosell_eng_"

# The relations the rules read. A plan is keyed by their columns and types.
INPUTS = (
    "v_opportunities",
    "v_accounts",
    "v_stage_history",
    "v_touches",
    "v_partner_contacts",
    "v_leads",
    "v_deal_registrations",
    "v_opportunity_partners",
    "v_fx_rates",
    "attribution_overrides",
)


@dataclass(frozen=True)
class Op:
    """One operation of a plan.

    ``kind`` is one of:

    - ``step``: ``CREATE TEMP TABLE name AS sql`` (dropped when the plan ends);
    - ``check``: the rows of ``sql`` are bad input: the first one is raised as an
      :class:`~cosell.errors.InputError` made from ``problem`` (file, column, value, reason, each a
      ``str.format`` template over the row's columns, or None);
    - ``fetch``: the rows of ``sql`` are kept, as an Arrow table named ``name``, for a ``python`` op;
    - ``python``: the function registered as ``name`` makes Arrow tables from the fetched ones;
      each becomes a temp table (``outputs``, dropped when the plan ends). It runs in a thread of
      its own while the later SQL steps that do not read its tables run (:class:`_Background`);
    - ``output``: ``CREATE TEMP TABLE name AS sql``, kept for the caller;
    - ``guard``: ``sql`` gives one row of one boolean, kept as the guard ``name`` for the run;
    - ``tick``: one of the engine's stages is done (for a progress bar).

    ``when`` names the guard an operation depends on: it runs only when that guard was true
    (``"name"``) or false (``"!name"``); an empty ``when`` always runs.
    """

    kind: str
    name: str
    sql: str = ""
    problem: tuple[str | None, ...] = ()
    outputs: tuple[str, ...] = ()
    when: str = ""


OP_KINDS = ("step", "check", "fetch", "python", "output", "guard", "tick")


@dataclass(frozen=True)
class Plan:
    """The compiled rules: operations to run in order."""

    ops: tuple[Op, ...]

    def to_json(self, key: str = "") -> str:
        """The plan as a file's text: its format, its key, its operations and their digest."""
        ops = [asdict(op) for op in self.ops]
        return json.dumps({"format": PLAN_FORMAT, "key": key, "digest": _ops_digest(ops), "ops": ops})

    @classmethod
    def from_json(cls, text: str, key: str = "") -> Plan:
        """The plan in a file's text; ValueError when it is not exactly a plan of ``key``."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise ValueError("another plan format")
        if data.get("key") != key:
            raise ValueError("the plan of another key")
        raw_ops = data.get("ops")
        if not isinstance(raw_ops, list) or data.get("digest") != _ops_digest(raw_ops):
            raise ValueError("a damaged plan")
        ops = []
        for raw in raw_ops:
            problem, outputs = raw["problem"], raw["outputs"]
            if raw["kind"] not in OP_KINDS or not isinstance(problem, list) or not isinstance(outputs, list):
                raise ValueError("a damaged plan")
            if not isinstance(raw.get("when"), str):
                raise ValueError("a damaged plan")
            ops.append(
                Op(
                    kind=str(raw["kind"]),
                    name=str(raw["name"]),
                    sql=str(raw["sql"]),
                    problem=tuple(None if t is None else str(t) for t in problem),
                    outputs=tuple(str(o) for o in outputs),
                    when=raw["when"],
                )
            )
        return cls(tuple(ops))


def _ops_digest(ops: Any) -> str:
    return hashlib.sha256(json.dumps(ops, sort_keys=True).encode()).hexdigest()


@dataclass
class RunContext:
    """What a plan's ``python`` operations read: the fetched tables and the run's settings."""

    policy: Policy
    model: str
    params: Params
    known_us: int | None = None  # the knowledge instant (overrides); None: the as-of instant
    fetched: dict[str, Any] = field(default_factory=dict)
    # Guards given by the caller instead of computed (a run whose Python step must run whatever
    # the size, e.g. the incremental run's cohort step).
    guards: Mapping[str, bool] = field(default_factory=dict)


PythonStep = Callable[[RunContext], Mapping[str, Any]]
