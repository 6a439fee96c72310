"""The batch engine's plan: its rules compiled once to SQL steps, cached, and run on a connection.

Building the rules (Ibis expressions compiled by sqlglot, :mod:`cosell.attribution.engine_build`)
costs about two seconds whatever the size of the data; running the SQL over a hundred deals costs
milliseconds. So the rules are compiled into a :class:`Plan`, plain data: an ordered list of
operations, each one SQL statement and what to do with its result. The run's values (the as-of
and knowledge instants, and every value of the policy) are compiled as placeholders and written in
when the plan runs (:mod:`cosell.attribution.engine_params`), so one plan serves every run of the
same shape. A plan depends only on what is baked into its SQL, which is its key: the policy's
shape (how many amount bands, which roles), the credit model, the backend and its version, the
columns and types of the relations the rules read, and the engine's own source code.

Plans are kept in the process and on disk (``$COSELL_CACHE_DIR``, else ``$XDG_CACHE_HOME/cosell``,
else ``~/.cache/cosell``; never the working folder; ``COSELL_CACHE_DIR=off`` keeps them in the
process only). A plan file is written whole under another name and renamed, and holds its key and
the digest of its operations: a file that is truncated, corrupted, from another format or another
key is ignored and compiled again (then rewritten); one that cannot be written is not an error.
This module does not import Ibis: a run whose plan is cached never loads it. It reaches the data
through :class:`cosell.engine.Engine` only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cosell.attribution.engine_params import Filler, Params, Shape, shape_of, values
from cosell.cache_folder import cache_folder, source_digest, write_then_rename
from cosell.engine import Engine
from cosell.errors import InputError, Problem
from cosell.policy import Policy
from cosell.profiling import enabled, timed
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


def input_columns(con: Engine) -> tuple[tuple[str, str, str], ...]:
    """(relation, column, type) of every input relation, in order: the inputs' part of a plan's key.

    Types are the engine's names for them in the reference dialect (``TIMESTAMP WITH TIME ZONE``,
    ``DECIMAL(18,4)``, ...): :meth:`cosell.engine.Engine.columns`."""
    return tuple(con.columns(INPUTS))


def plan_key(
    shape: Shape,
    model: str,
    columns: tuple[tuple[str, str, str], ...],
    dialect: str = "duckdb",
    engine_version: str = "",
) -> str:
    """The digest of everything a plan's SQL depends on (the run's values are placeholders,
    :mod:`cosell.attribution.engine_params`): the policy's shape (how many band edges, which
    roles), the model, the input relations' columns and types, the dialect and engine version,
    Ibis's and sqlglot's versions, and cosell's version and source."""
    parts = {
        "format": PLAN_FORMAT,
        "code": _code_digest(),
        "dialect": dialect,
        "versions": {**_versions(), "engine": engine_version},
        "shape": _jsonable(asdict(shape)),
        "model": model,
        "inputs": columns,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Decimal):
        return "Decimal:" + str(value)
    return value


def code_files() -> list[Path]:
    """The source the plan's SQL is built from: the engine's steps, the values and rules they
    format and share, and the engine boundary's dialects."""
    here = Path(__file__).parent
    package = here.parent
    files = [*sorted(here.glob("engine*.py")), here / "credit.py"]
    files += [package / name for name in ("results.py", "money.py", "instants.py", "policy.py")]
    files += sorted((package / "engine").glob("*.py"))
    return files


@functools.cache
def _code_digest() -> str:
    """The engine's source code: a changed rule is a new plan, also for a cached one on disk."""
    return source_digest(code_files())


_COMPILED_BY = ("cosell", "ibis-framework", "sqlglot")


@functools.cache
def _versions() -> dict[str, str]:
    """The versions of what compiles a plan, once per process (:func:`installed_versions`)."""
    return installed_versions(_COMPILED_BY)


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each distribution in ``names``, "?" for one not installed.

    Read from the names of the ``NAME-VERSION.dist-info`` folders on ``sys.path`` (the layout
    every wheel installs, editable ones included), first found first, as the import system would:
    importing :mod:`importlib.metadata` and parsing three ``METADATA`` files took about 15 ms of
    every run (a tenth of a run over a hundred deals). A distribution not found that way (an egg,
    an unusual install) is asked of :mod:`importlib.metadata`.
    """
    wanted = {_normalized(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            children = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for child in children:
            name, dash, version = child.removesuffix(".dist-info").partition("-")
            key = _normalized(name)
            if child.endswith(".dist-info") and dash and key in wanted and key not in found:
                found[key] = version
    out: dict[str, str] = {}
    for key, name in wanted.items():
        out[name] = found.get(key) or _metadata_version(name)
    return out


def _normalized(name: str) -> str:
    """A distribution's name as its dist-info folder spells it (PEP 503, then ``-`` as ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


class PlanCache:
    """Plans by key: in this process, and as files in a folder (when there is one)."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}
        self._lock = threading.Lock()

    def folder(self) -> Path | None:
        """Where plan files go: ``engine-plans`` in the user's cache folder
        (:func:`cosell.cache_folder.cache_folder`); None when there is none."""
        return cache_folder("engine-plans")

    def get(self, key: str, build: Callable[[], Plan]) -> Plan:
        """The plan of ``key``: from memory, else from its file, else ``build()`` (and kept)."""
        with self._lock:
            plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = self._read(key)
        if plan is None:
            plan = build()
            self._write(key, plan)
        with self._lock:
            self._plans[key] = plan
        return plan

    def clear(self) -> None:
        """Forget the plans held in this process (files stay)."""
        with self._lock:
            self._plans.clear()

    def _path(self, key: str) -> Path | None:
        folder = self.folder()
        return folder / f"{key}.json" if folder is not None else None

    def _read(self, key: str) -> Plan | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return Plan.from_json(path.read_text(encoding="utf-8"), key)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, unreadable, damaged or from another format: compile again

    def _write(self, key: str, plan: Plan) -> None:
        path = self._path(key)
        if path is None:
            return

        def write(temporary: Path) -> None:
            with open(temporary, "x", encoding="utf-8") as f:
                f.write(plan.to_json(key))
                f.flush()
                os.fsync(f.fileno())

        # A read-only or full cache folder is no error: the plan is still kept in this process.
        write_then_rename(path, write)


PLANS = PlanCache()


def execute(
    con: Engine,
    plan: Plan,
    context: RunContext,
    python_steps: Mapping[str, PythonStep],
    *,
    on_tick: Callable[[], None] | None = None,
    stop_after: str | None = None,
    skip: frozenset[str] = frozenset(),
) -> list[str]:
    """Run ``plan`` on ``con`` for the run in ``context``; return the temp tables its steps made
    (the caller drops them; on an error they are dropped here). ``on_tick`` is called at each of
    the engine's stages; ``stop_after`` stops after the step of that name (for tests); the
    operations named in ``skip`` (outputs no other operation reads) are not run."""
    params = context.params
    filler = Filler(shape_of(params), values(params, context.known_us), con.dialect)
    made: list[str] = []
    guards: dict[str, bool] = {}

    def sql_of(op: Op) -> str:
        return filler.fill(op.sql)

    profile = enabled()

    def made_rows(op: Op) -> Callable[[], int | None]:
        def rows() -> int | None:
            if op.kind in ("step", "output"):
                return int(con.execute(f'SELECT count(*) FROM "{op.name}"').fetchall()[0][0])
            if op.kind == "fetch":
                return int(context.fetched[op.name].num_rows)
            return None

        return rows

    def runs(op: Op) -> bool:
        """Whether ``op`` runs in this run; its guard is known (guards run in the plan's order)."""
        if op.name in skip:
            return False
        return not op.when or guards[op.when.removeprefix("!")] != op.when.startswith("!")

    def run(op: Op) -> None:
        if profile and op.kind != "tick":
            with timed(f"engine {op.kind} {op.name.removeprefix(STEP_PREFIX)}", made_rows(op)):
                _run_op(con, op, sql_of, context, made, on_tick)
        else:
            _run_op(con, op, sql_of, context, made, on_tick)

    ops = plan.ops
    done: set[int] = set()  # operations run ahead of their turn (while a Python step ran)
    background: _Background | None = None
    try:
        for i, op in enumerate(ops):
            if i in done or not runs(op):
                continue
            if op.kind == "guard":
                given = context.guards.get(op.name)
                guards[op.name] = bool(con.execute(sql_of(op)).fetchall()[0][0]) if given is None else given
                continue
            if background is not None and (op.kind == "python" or _reads(op, background.op.outputs)):
                for j in _ahead(ops, i, done, background.op.outputs, runs):
                    run(ops[j])
                    done.add(j)
                background.finish(con, made)
                background = None
            if op.kind == "python":
                background = _Background.start(op, python_steps[op.name], context, profile)
                if stop_after is not None:  # nothing runs ahead of a run stopped early
                    background.finish(con, made)
                    background = None
                continue
            run(op)
            if stop_after is not None and op.name == STEP_PREFIX + stop_after:
                break
        if background is not None:
            background.finish(con, made)
            background = None
    except BaseException:
        if background is not None:
            background.abandon()
        drop(con, made)
        raise
    return made


@dataclass
class _Background:
    """A plan's Python step running in a thread of its own, while the SQL steps that do not read
    its tables run on the engine.

    The step (the cohort medians at 1M deals: about two seconds of NumPy on one core) reads only
    what the plan fetched before it, never the engine, and the engine's SQL steps leave the
    interpreter while they run; so the two overlap, and the second core does the SQL steps that
    would otherwise wait for it (the roles, the blocking touches, the claims). Every step is a
    pure function of the tables it reads, so the order changes no result.
    """

    op: Op
    thread: threading.Thread
    result: dict[str, Any]

    @classmethod
    def start(cls, op: Op, step: PythonStep, context: RunContext, profile: bool) -> _Background:
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                if profile:
                    with timed(f"engine python {op.name}"):
                        result["tables"] = step(context)
                else:
                    result["tables"] = step(context)
            except BaseException as exc:  # handed to the plan's thread in finish()
                result["error"] = exc

        thread = threading.Thread(target=work, name=f"cosell-{op.name}", daemon=True)
        thread.start()
        return cls(op, thread, result)

    def finish(self, con: Engine, made: list[str]) -> None:
        """Wait for the step; make its tables (or raise its error) on the plan's thread."""
        self.thread.join()
        if "error" in self.result:
            raise self.result["error"]
        tables = self.result["tables"]
        for name in self.op.outputs:
            made.append(name)
            _register(con, name, tables[name])

    def abandon(self) -> None:
        """Another step failed: wait for this one (it touches no engine) and drop its result."""
        self.thread.join()


def _reads(op: Op, names: tuple[str, ...]) -> bool:
    """Whether ``op``'s SQL reads any of the tables ``names`` (compiled SQL quotes every name)."""
    return any(f'"{name}"' in op.sql for name in names)


def _made_by(op: Op) -> tuple[str, ...]:
    return op.outputs if op.kind == "python" else (op.name,)


def _ahead(
    ops: tuple[Op, ...], i: int, done: set[int], pending: tuple[str, ...], runs: Callable[[Op], bool]
) -> list[int]:
    """The operations after ``ops[i]`` that may run before it, while the Python step making
    ``pending`` finishes: SQL steps and outputs that read none of ``pending`` and none of what an
    operation not yet run before them makes, and make nothing such an operation reads or makes.
    The search stops at the first check, guard, fetch or Python step not yet run: a check may
    exist to report what a later step would otherwise fail on, and nothing moves past it."""
    waiting: list[Op] = [ops[i]]  # not run yet, in order: each later candidate must not touch them
    chosen: list[int] = []
    for j in range(i + 1, len(ops)):
        op = ops[j]
        if j in done or op.kind == "tick":
            continue
        if op.kind not in ("step", "output"):
            break
        blocked = (
            not runs(op)
            or _reads(op, pending)
            or any(
                _reads(op, _made_by(w)) or _reads(w, (op.name,)) or op.name in _made_by(w) for w in waiting
            )
        )
        if blocked:
            waiting.append(op)
        else:
            chosen.append(j)
    return chosen


def _run_op(
    con: Engine,
    op: Op,
    sql_of: Callable[[Op], str],
    context: RunContext,
    made: list[str],
    on_tick: Callable[[], None] | None,
) -> None:
    """Run one SQL or tick operation (a Python step runs in :class:`_Background`)."""
    if op.kind in ("step", "output"):
        for statement in con.dialect.temp_table(op.name, sql_of(op)):
            con.execute(statement)
        if op.kind == "step":
            made.append(op.name)
    elif op.kind == "check":
        _check(con, sql_of(op), op.problem)
    elif op.kind == "fetch":
        context.fetched[op.name] = con.fetch_arrow(sql_of(op))
    elif op.kind == "tick":
        if on_tick is not None:
            on_tick()
    else:  # pragma: no cover - a plan is built by this package
        raise ValueError(f"unknown plan operation {op.kind!r}")


def drop(con: Engine, names: list[str]) -> None:
    for name in names:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _check(con: Engine, sql: str, problem: tuple[str | None, ...]) -> None:
    result = con.execute(sql)
    columns = [d[0] for d in result.description or ()]
    rows = result.fetchall()
    if not rows:
        return
    row = {c: ("" if v is None else str(v)) for c, v in zip(columns, rows[0], strict=True)}
    file, column, value, reason = (None if t is None else t.format(**row) for t in problem)
    raise InputError(Problem(file or "", None, column, value, reason or ""))


def _register(con: Engine, name: str, data: Any) -> None:
    con.register("_cosell_arrow_in", data)
    try:
        for statement in con.dialect.temp_table(name, "SELECT * FROM _cosell_arrow_in"):
            con.execute(statement)
    finally:
        con.unregister("_cosell_arrow_in")
