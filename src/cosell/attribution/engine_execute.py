"""Running a batch engine plan (:class:`cosell.attribution.engine_plan.Plan`) on a connection: its
SQL steps with the run's values written in, its checks, fetches and Python steps (a Python step
runs beside the SQL that does not read it), reaching the data through
:class:`cosell.engine.Engine` only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cosell.attribution.engine_params import Filler, shape_of, values
from cosell.attribution.engine_plan import STEP_PREFIX, Op, Plan, PythonStep, RunContext
from cosell.engine import Engine
from cosell.errors import InputError, Problem
from cosell.profiling import enabled, timed


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
