"""The engine boundary: the one narrow way cosell reaches its data.

Every query cosell runs goes through an :class:`Engine`: the store's tables and migrations, the
import, the attribution rules (relational expressions compiled by Ibis), reconciliation, the
metrics and the ledger. An engine runs a statement and hands back rows, holds Arrow data under a
name, runs a block as one transaction and gives the Ibis backend the rules compile for. What differs
from one engine to another (instants as integer microseconds, a median over a window, a Python
function applied per group) is its :class:`Dialect`. DuckDB (:mod:`cosell.engine.duckdb_engine`) is
the one implementation today and the only module that imports ``duckdb``; see docs/engine.md for
what a second engine implements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from cosell.errors import CosellError

Params = Sequence[object] | Mapping[str, object] | None


class EngineError(Exception):
    """A statement the engine refused (a bug, or data the checks before it should have caught).

    Not a :class:`~cosell.errors.CosellError`: the command line shows these with a traceback,
    because a user should never meet one."""


class EngineIOError(EngineError, CosellError):
    """The engine could not read or write a file or the disk (a workspace file cut short or
    damaged, a full disk, a folder removed). Unlike the other engine errors this is no bug but
    something a user meets, so it is a :class:`~cosell.errors.CosellError` too: the command line
    says it, naming the file, instead of showing a traceback."""


class ConstraintViolation(EngineError):
    """A write broke a table's constraint (a key twice, a sealed ledger row changed)."""


class ReadOnlyViolation(EngineError):
    """A write on an engine opened read-only."""


class Cursor(Protocol):
    """The result of one statement: its rows, and the names of its columns."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class Engine(Protocol):
    """What cosell asks of a database. Statements are SQL written in cosell's dialect (DuckDB's, the
    reference: an engine translates what it must, see :meth:`Dialect.translate`) with ``?`` or
    ``$name`` parameters; results are Python values (``Decimal`` for DECIMAL, aware UTC
    ``datetime`` for TIMESTAMPTZ)."""

    name: str
    dialect: Dialect
    read_only: bool
    # Workspace tables this connection has seen committed (:func:`cosell.store.tables.tables_present`),
    # and those it found inside the open transaction: kept as committed when that commits.
    present_tables: set[str]
    found_in_transaction: set[str]

    @property
    def version(self) -> str:
        """The engine's software version (SQL compiled once for it is cached under it)."""
        ...

    def execute(self, sql: str, params: Params = None) -> Cursor:
        """Run one statement; its rows are read from the returned cursor."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run one statement once per row of parameters."""
        ...

    def fetch_arrow(self, sql: str) -> Any:
        """The rows of a query as an Arrow table (a batch handed to a Python step)."""
        ...

    def register(self, name: str, data: Any) -> None:
        """Make an Arrow table (or record batch reader) readable as ``name`` until unregistered."""
        ...

    def unregister(self, name: str) -> None: ...

    def after_transaction(self, statements: Sequence[str]) -> None:
        """Run ``statements`` once the open transaction has ended (settings a failed statement
        left the transaction unable to restore: it can only roll back)."""
        ...

    @property
    def in_transaction(self) -> bool:
        """Whether a :meth:`transaction` block is open."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: commit when the block ends normally, roll back on any exception."""
        ...

    def columns(self, relations: Sequence[str]) -> list[tuple[str, str, str]]:
        """(relation, column, type) of each of ``relations`` that exists, by relation name, each
        relation's columns in their order; types named as the reference dialect names them
        (``TIMESTAMP WITH TIME ZONE``, ``DECIMAL(18,4)``). :func:`catalog_columns` is the
        standard way to answer it."""
        ...

    def ibis(self) -> Any:
        """The Ibis backend over this engine's connection (the rules' relational expressions)."""
        ...

    def close(self, *, keep: bool = True) -> None:
        """Let go of the database; ``keep=False`` when it is thrown away next (nothing it changed
        need be kept: an engine may skip writing its last changes)."""
        ...


class Dialect:
    """What differs per engine, in one place (splink's dialect classes are the model).

    The base class is DuckDB's behaviour, the reference; a subclass overrides what its engine does
    differently:

    - ``sqlglot_name`` names the engine for sqlglot (``duckdb``, ``postgres``, ``spark``) and
      ``ibis_compiler`` the Ibis SQL compiler the rules are compiled with;
    - ``epoch_us`` and ``from_epoch_us`` are SQL templates (``{}`` is the argument) that turn an
      instant into integer microseconds since the epoch and back: instants are compared as
      integers, never as floating-point days;
    - ``wide_integer`` is the SQL template of a cast to an exact integer of at least 128 bits (38
      digits), for a product past 64 bits: a credit split multiplies an amount in minor units
      (up to about 10**18 in a 4-decimal currency) by a role weight;
    - ``windowed_median``: whether a median can be computed over a RANGE window (DuckDB and Spark
      can; PostgreSQL has the median only as an ordered-set aggregate, so the cohort step computes
      it per group and joins it back);
    - ``client_median``: whether the cohort counts and medians are computed in the client from the
      baseline rows, fetched once (:mod:`cosell.attribution.engine_median`: exact integer order
      statistics for every candidate at once), rather than by the engine's windowed or grouped
      median (DuckDB's RANGE-window median evaluates every baseline row's frame too, most of the
      engine's time at a million deals), when there are at least ``client_median_min_rows``
      acceleration candidates (below that, loading numpy and Arrow costs more than it saves);
    - ``struct_lists``: whether a list of structs is sorted field by field and its fields read back
      as they were (the evidence tokens of a deal); otherwise the tokens are made distinct and
      joined by an ordered string aggregate;
    - ``small_input_settings``: the session settings (:func:`settings`) for a run over a small
      input, where planning each statement costs more than running it: DuckDB then plans without
      its optimizer and runs on one thread (about a third less CPU for each statement of a
      hundred-deal run; from ten thousand deals the optimizer's plans win);
    - ``small_workspace_settings``: the settings of a connection to a small workspace
      (:mod:`cosell.store.size`), whatever it runs: DuckDB runs on one thread, where handing a
      small statement's work to its worker threads costs more than it saves (a fifth of the CPU
      of the hygiene tests, a sixth less wall time on two cores);
    - ``large_input_settings``: what undoes them for a large input on such a connection (a large
      dataset imported, a run over many deals): DuckDB's threads back to its default, one per
      core (a value of None is the engine's default: ``RESET``);
    - ``lookup_settings``: the session settings for a query that joins small lookups to each row of
      a large file, read on every thread in any order: DuckDB may otherwise build its hash tables
      on the file's side (3 GiB for the two million activities of a 100,000-deal export, against
      under 1 GiB with the lookups as the build side);
    - ``own_relations``: the condition that keeps, of the standard ``information_schema``, the
      relations of this connection's own database and session (DuckDB lists every database
      attached to its instance, and cosell attaches each workspace a process opens to one
      instance: :mod:`cosell.engine.duckdb_engine`);
    - :meth:`temp_table`: the statements that materialise a query as a session table;
    - :meth:`string_literal`: a text as a string literal (a compiled plan's values are written in
      as text: :mod:`cosell.attribution.engine_params`).
    """

    name = "duckdb"
    sqlglot_name = "duckdb"
    ibis_compiler = "duckdb"
    epoch_us = "epoch_us({})"
    from_epoch_us = "make_timestamptz({})"
    wide_integer = "CAST({} AS HUGEINT)"
    windowed_median = True
    client_median = True
    client_median_min_rows = 2_000
    struct_lists = True
    small_input_settings: tuple[tuple[str, str], ...] = (("enable_optimizer", "false"), ("threads", "1"))
    small_workspace_settings: tuple[tuple[str, str], ...] = (("threads", "1"),)
    large_input_settings: tuple[tuple[str, str | None], ...] = (("threads", None),)
    lookup_settings: tuple[tuple[str, str], ...] = (("disabled_optimizers", "build_side_probe_side"),)
    own_relations = "table_catalog IN (current_database(), 'temp')"

    def translate(self, sql: str) -> str:
        """A statement in cosell's dialect (DuckDB's) as this engine runs it."""
        if self.sqlglot_name == "duckdb":
            return sql
        import sqlglot

        return ";\n".join(
            sqlglot.transpile(
                sql, read="duckdb", write=self.sqlglot_name, unsupported_level=sqlglot.ErrorLevel.RAISE
            )
        )

    def temp_table(self, name: str, select: str) -> list[str]:
        """The statements that make the session table ``name`` hold the rows of ``select``
        (replacing one of that name)."""
        return [f'CREATE OR REPLACE TEMP TABLE "{name}" AS {select}']

    def string_literal(self, text: str) -> str:
        """``text`` as a SQL string literal: in single quotes, a quote doubled (standard SQL)."""
        return "'" + text.replace("'", "''") + "'"


class PostgresDialect(Dialect):
    """PostgreSQL: microseconds through ``EXTRACT(EPOCH ...)`` (exact: a numeric since PostgreSQL
    14) and back through an interval; medians per group, not per window; evidence tokens by an
    ordered ``string_agg`` (Ibis reads a record's fields back through JSON)."""

    name = "postgres"
    sqlglot_name = "postgres"
    ibis_compiler = "postgres"
    epoch_us = "CAST(EXTRACT(EPOCH FROM {}) * 1000000 AS BIGINT)"
    from_epoch_us = "TO_TIMESTAMP(0) + {} * INTERVAL '1 microsecond'"
    wide_integer = "CAST({} AS NUMERIC(38, 0))"
    windowed_median = False
    client_median = False
    struct_lists = False
    small_input_settings: tuple[tuple[str, str], ...] = ()
    small_workspace_settings: tuple[tuple[str, str], ...] = ()
    large_input_settings: tuple[tuple[str, str | None], ...] = ()
    lookup_settings: tuple[tuple[str, str], ...] = ()
    own_relations = "table_catalog = current_database()"

    def temp_table(self, name: str, select: str) -> list[str]:
        return [f'DROP TABLE IF EXISTS "{name}"', f'CREATE TEMP TABLE "{name}" AS {select}']


class SparkDialect(Dialect):
    """Spark SQL (and Databricks): ``unix_micros`` and ``timestamp_micros`` are built in; a session
    table is a cached temporary view."""

    name = "spark"
    sqlglot_name = "spark"
    ibis_compiler = "pyspark"
    epoch_us = "unix_micros({})"
    from_epoch_us = "timestamp_micros({})"
    wide_integer = "CAST({} AS DECIMAL(38, 0))"
    windowed_median = True
    client_median = False
    struct_lists = True
    small_input_settings: tuple[tuple[str, str], ...] = ()
    small_workspace_settings: tuple[tuple[str, str], ...] = ()
    large_input_settings: tuple[tuple[str, str | None], ...] = ()
    lookup_settings: tuple[tuple[str, str], ...] = ()

    def temp_table(self, name: str, select: str) -> list[str]:
        return [f"DROP VIEW IF EXISTS `{name}`", f"CACHE TABLE `{name}` AS {select}"]

    def string_literal(self, text: str) -> str:
        """Spark's string literals escape with a backslash (as sqlglot writes them)."""
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


DUCKDB = Dialect()
POSTGRES = PostgresDialect()
SPARK = SparkDialect()
DIALECTS: dict[str, Dialect] = {d.name: d for d in (DUCKDB, POSTGRES, SPARK)}


@contextmanager
def settings(con: Engine, values: Mapping[str, str | None]) -> Iterator[None]:
    """Run the block under the session settings ``values`` (name to value; None: the engine's
    default), then put back the values they had (also when the block fails). A setting that
    already has its value is left alone: setting DuckDB's threads, even to what they are, starts
    or stops its worker threads (about 2 ms)."""
    before, changed = _unmet(con, values)
    if not changed:
        yield
        return
    apply_settings(con, changed)
    again: dict[str, str | None] = {name: before[name] for name in changed}
    try:
        yield
    except BaseException:
        if con.in_transaction:  # a failed statement aborted it: restore once it has ended
            con.after_transaction([_set(con, name, value) for name, value in again.items()])
        else:
            apply_settings(con, again)
        raise
    apply_settings(con, again)


def fit_settings(con: Engine, values: Mapping[str, str | None]) -> None:
    """Set, for the rest of the session, those of the settings ``values`` (as :func:`settings`
    takes them) that do not have their value already."""
    apply_settings(con, _unmet(con, values)[1])


def apply_settings(con: Engine, values: Mapping[str, str | None]) -> None:
    """Set the session settings ``values`` (name to value; None: the engine's default) for the
    rest of the session."""
    for name, value in values.items():
        con.execute(_set(con, name, value))


def _unmet(con: Engine, values: Mapping[str, str | None]) -> tuple[dict[str, str], dict[str, str | None]]:
    """The settings' values now, as text, read in one statement (each costs a few tenths of a ms),
    and those of ``values`` they do not have already."""
    if not values:
        return {}, {}
    names = list(values)
    row = con.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchall()[0]
    before = {name: str(value) for name, value in zip(names, row, strict=True)}
    return before, {name: value for name, value in values.items() if not _same(before[name], value)}


def _same(current: str, wanted: str | None) -> bool:
    """Whether a setting that reads ``current`` already has the value ``wanted``. The default
    (None) is never taken as had, since it is not read; booleans read ``true`` or ``True`` alike."""
    return wanted is not None and current.lower() == wanted.lower()


def _set(con: Engine, name: str, value: str | None) -> str:
    if value is None:
        return f"RESET {name}"
    return f"SET {name} = {con.dialect.string_literal(value)}"


def catalog_columns(con: Engine, relations: Sequence[str]) -> list[tuple[str, str, str]]:
    """:meth:`Engine.columns` read from the standard ``information_schema``."""
    names = ", ".join(con.dialect.string_literal(name) for name in relations)
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_name IN ({names}) AND {con.dialect.own_relations} "
        "ORDER BY table_name, ordinal_position, column_name"
    ).fetchall()
    return [(str(t), str(c), str(d)) for t, c, d in rows]


def count_of(con: Engine, sql: str) -> int:
    """The one number ``sql`` selects (a count): 0 when it selects no row, or NULL."""
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def rows_as_dicts(cursor: Cursor) -> Iterator[dict[str, Any]]:
    """The rows of a cursor as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    for values in cursor.fetchall():
        yield dict(zip(names, values, strict=True))
