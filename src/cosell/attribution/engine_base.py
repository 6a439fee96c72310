"""The batch engine's small dialect layer: the few backend functions and the way steps are compiled.

The rules are built once as Ibis expressions and compiled into a plan of SQL steps
(:mod:`cosell.attribution.engine_execute` runs it); this module is the one place that knows how a
step is compiled and named (a temp table the later steps read) and which functions the rules need
beyond Ibis's portable set (exact epoch microseconds, exact integer division and a 128-bit integer:
placeholder functions that the compiler replaces by the engine's own SQL, from its
:class:`cosell.engine.Dialect`). Everything else in
``engine_*`` is backend-neutral Ibis; where engines differ (a windowed median, lists of structs)
the step asks ``run.dialect``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cosell.attribution.engine_params import Placeholders as Placeholders
from cosell.attribution.engine_plan import INPUTS, STEP_PREFIX, Op, Plan
from cosell.engine import DUCKDB, Dialect
from cosell.instants import MICROS_PER_DAY


def _udf_epoch_us(ts: Any) -> Any:
    """Microseconds since the epoch of an instant (``Dialect.epoch_us``)."""


def _udf_from_epoch_us(us: Any) -> Any:
    """The instant at a number of epoch microseconds (``Dialect.from_epoch_us``)."""


# Placeholders: no engine has functions of these names; Runner.compile writes in the dialect's SQL.
EPOCH_US = "cosell_epoch_us"
FROM_EPOCH_US = "cosell_from_epoch_us"
_UTC = dt.Timestamp(timezone="UTC")
_epoch_us: Any = ibis.udf.scalar.builtin(_udf_epoch_us, name=EPOCH_US, signature=((_UTC,), dt.int64))
_from_epoch_us: Any = ibis.udf.scalar.builtin(
    _udf_from_epoch_us, name=FROM_EPOCH_US, signature=((dt.int64,), _UTC)
)


def _udf_wide(a: Any) -> Any:
    """An integer as an exact integer of 128 bits (``Dialect.wide_integer``)."""


# A product of two 64-bit integers can need 128 bits: an amount near the import's limit in a
# 4-decimal currency (CLF 99,999,999,999,999.9999 is 999,999,999,999,999,999 units) times a role
# weight of 50 overflowed BIGINT. Ibis has no 128-bit integer type: it sees an int64, and the
# compiler writes the dialect's cast (DuckDB HUGEINT, NUMERIC(38, 0) or DECIMAL(38, 0) elsewhere);
# whatever is computed from it is cast back to int64 where it fits again.
WIDE = "cosell_wide"
_wide: Any = ibis.udf.scalar.builtin(_udf_wide, name=WIDE, signature=((dt.int64,), dt.int64))


def wide(a: Any) -> Any:
    """``a`` as a 128-bit integer in the engine's SQL (products past 64 bits stay exact)."""
    return _wide(a)


def _udf_int_div(a: Any, b: Any) -> Any:
    """The integer quotient of two integers (``a // b``, each engine's own integer division)."""


# Ibis writes ``a // b`` as FLOOR(a / b), a division in binary floating point: past 2**53 (a deal
# of 90 trillion in cents, a credit split of 1.8 trillion at a role weight of 50) the quotient was
# off, and an amount printed a unit wrong. The compiler writes this placeholder as the dialect's
# integer division (DuckDB ``//``, PostgreSQL ``DIV``, Spark ``DIV``), exact for non-negative operands.
INT_DIV = "cosell_int_div"
_int_div: Any = ibis.udf.scalar.builtin(
    _udf_int_div, name=INT_DIV, signature=((dt.int64, dt.int64), dt.int64)
)


def int_div(a: Any, b: Any) -> Any:
    """``a // b`` for integers ``a >= 0`` and ``b > 0``, exact at any size (not through a double)."""
    return _int_div(a, b)


def us(col: Any) -> Any:
    """An instant column as exact integer epoch microseconds (NULL stays NULL)."""
    return _epoch_us(col)


def instant(col: Any) -> Any:
    """Epoch microseconds back to an instant."""
    return _from_epoch_us(col)


def nz(col: Any) -> Any:
    """Empty text is no value. The importer already trims cells and stores an empty cell as NULL;
    this only guards against an empty string written by another path."""
    return col.nullif("")


def lit(value: Any, type_: str | None = None) -> Any:
    return ibis.literal(value, type=type_) if type_ else ibis.literal(value)


class Runner:
    """Builds a :class:`~cosell.attribution.engine_plan.Plan`: each named step is compiled to SQL
    once and recorded; the steps after it read it as a table of that name.

    ``inputs`` holds the columns and types of the relations the rules read, as the reference
    dialect names the types (see :func:`cosell.attribution.engine_plan_cache.input_columns`);
    ``dialect`` is the engine's (:class:`cosell.engine.Dialect`).
    """

    def __init__(self, inputs: Iterable[tuple[str, str, str]], dialect: Dialect = DUCKDB) -> None:
        from ibis.backends.sql.datatypes import DuckDBType

        self.dialect = dialect
        if dialect.ibis_compiler == "pyspark":
            _pyspark_options()
        self._target = Target(
            dialect.ibis_compiler,
            dialect.sqlglot_name,
            dialect.epoch_us,
            dialect.from_epoch_us,
            dialect.wide_integer,
        )
        columns: dict[str, dict[str, dt.DataType]] = {}
        for table, column, type_ in inputs:
            columns.setdefault(table, {})[column] = DuckDBType.from_string(type_)
        self.inputs = {name: ibis.schema(schema) for name, schema in columns.items()}
        self.ops: list[Op] = []
        self.tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        """An input relation (one of ``engine_plan.INPUTS``) or an earlier step's table."""
        if name in self.tables:
            return self.tables[name]
        if name not in INPUTS or name not in self.inputs:
            raise KeyError(f"the engine reads no relation {name!r}")
        return ibis.table(self.inputs[name], name=name)

    def has_input(self, name: str) -> bool:
        return name in self.inputs

    def compile(self, expr: ir.Expr) -> str:
        """The SQL of ``expr`` in the dialect, the instant functions written in (:func:`compiled`)."""
        return compiled(self._target, expr.op())

    def step(self, name: str, expr: ir.Table) -> ir.Table:
        """Record ``expr`` as the temp table of step ``name`` and return that table."""
        full = STEP_PREFIX + name
        self.ops.append(Op("step", full, self.compile(expr)))
        return self._made(full, expr.schema())

    def output(self, name: str, expr: ir.Table) -> None:
        """Record ``expr`` as the temp table ``name`` the caller reads after the run."""
        self.ops.append(Op("output", name, self.compile(expr)))

    def check(self, expr: ir.Table, problem: tuple[str | None, str | None, str | None, str]) -> None:
        """Record a check: any row of ``expr`` is bad input (see ``engine_plan.Op``)."""
        self.ops.append(Op("check", "check", self.compile(expr.limit(1)), problem=problem))

    def fetch(self, name: str, expr: ir.Table) -> None:
        """Record that the rows of ``expr`` are fetched, as ``name``, for a Python step."""
        self.ops.append(Op("fetch", name, self.compile(expr)))

    def python(self, name: str, outputs: dict[str, ibis.Schema]) -> dict[str, ir.Table]:
        """Record the Python step ``name``, which makes the tables ``outputs`` (name: schema)."""
        full = {out: STEP_PREFIX + out for out in outputs}
        self.ops.append(Op("python", name, outputs=tuple(full.values())))
        return {out: self._made(full[out], schema) for out, schema in outputs.items()}

    def tick(self) -> None:
        """Mark the end of one of the engine's stages (for a progress bar)."""
        self.ops.append(Op("tick", "tick"))

    def guard(self, name: str, expr: ir.Table) -> None:
        """Record the guard ``name``: ``expr`` is one row of one boolean, computed when the plan
        runs; the operations recorded under :meth:`only` run or not by its value."""
        self.ops.append(Op("guard", name, self.compile(expr)))

    @contextmanager
    def only(self, guard: str, value: bool = True) -> Iterator[None]:
        """The operations recorded inside run only when the guard ``guard`` is ``value`` (one guard
        an operation: these blocks do not nest)."""
        start = len(self.ops)
        yield
        when = guard if value else "!" + guard
        self.ops[start:] = [replace(op, when=op.when or when) for op in self.ops[start:]]

    def plan(self) -> Plan:
        return Plan(tuple(self.ops))

    def _made(self, full: str, schema: ibis.Schema) -> ir.Table:
        table = ibis.table(schema, name=full)
        self.tables[full] = table
        return table


@dataclass(frozen=True)
class Target:
    """What a statement's SQL depends on besides its Ibis expression: the Ibis compiler, the
    sqlglot dialect it writes, and the dialect's SQL for the two instant functions."""

    ibis_compiler: str
    sqlglot_name: str
    epoch_us: str
    from_epoch_us: str
    wide_integer: str


@functools.lru_cache(maxsize=256)
def compiled(target: Target, node: Any) -> str:
    """The SQL of the relation ``node`` (an Ibis operation) for ``target``, the instant functions
    written in; remembered for the process.

    A statement is a pure function of its expression, whose leaves are the input relations and
    the earlier steps' tables with their names and schemas; Ibis compares expressions by
    structure. The plans of one process share most of their statements (the six models' plans
    for one dialect: 47 distinct statements of 238), so each is compiled once: compiling is most
    of what building a plan costs (Ibis's rewriting, then sqlglot). An entry keeps its expression
    alive (about 0.2 MB): the most recent 256 are kept."""
    from ibis.backends.sql import compilers

    compiler = getattr(compilers, target.ibis_compiler).compiler
    instants = _instant_templates(target)
    tree = compiler.to_sqlglot(node.to_expr())  # every table is unbound: nothing to unbind
    # transform copies the tree (Ibis's tree shares nodes), so the generator need not copy it again.
    tree = tree.transform(_write_instants, instants)
    return str(tree.sql(dialect=compiler.dialect, pretty=False, copy=False))


def _write_instants(node: Any, instants: dict[str, Any]) -> Any:
    import sqlglot.expressions as sge

    if isinstance(node, sge.Anonymous) and str(node.name).lower() == INT_DIV:
        # sqlglot does not visit a replaced node's children: the operands are written here.
        a, b = (x.transform(_write_instants, instants) for x in node.expressions)
        return sge.Paren(this=sge.IntDiv(this=a, expression=b))
    if not isinstance(node, sge.Anonymous) or str(node.name).lower() not in instants:
        return node
    arg = node.expressions[0].transform(_write_instants, instants)
    made = instants[str(node.name).lower()].copy()
    made = made.transform(lambda n: arg.copy() if isinstance(n, sge.Column) and n.name == _ARG else n)
    return made if isinstance(made, sge.Func) else sge.Paren(this=made)


_ARG = "__cosell_arg__"


@functools.cache
def _instant_templates(target: Target) -> dict[str, Any]:
    """The dialect's SQL for each instant function, as sqlglot trees (copied where used)."""
    return {
        EPOCH_US: _template(target.epoch_us, target.sqlglot_name),
        FROM_EPOCH_US: _template(target.from_epoch_us, target.sqlglot_name),
        WIDE: _template(target.wide_integer, target.sqlglot_name),
    }


def _template(template: str, dialect: str) -> Any:
    """A dialect's SQL template (``{}`` the argument) as a sqlglot tree."""
    import sqlglot

    return sqlglot.parse_one(template.format(_ARG), read=dialect)


def _pyspark_options() -> None:
    """Ibis's PySpark compiler reads options its backend registers when it connects; compiling
    without a Spark session (a plan built ahead, a test) gives them their defaults."""
    if ibis.options.pyspark is None:

        class PySparkOptions(ibis.config.Config):  # type: ignore[misc]
            treat_nan_as_null: bool = False

        ibis.options.pyspark = PySparkOptions()


def union_all(tables: Iterable[ir.Table]) -> ir.Table:
    items = list(tables)
    return items[0].union(*items[1:], distinct=False) if len(items) > 1 else items[0]


def days_quotient(n: Any, denominator_us: int) -> Any:
    """``|n| / denominator_us`` days (``n`` an integer count of microseconds, or of half
    microseconds when ``denominator_us`` is twice a day) in millionths of a day, rounded half-even:
    the integer :func:`days_text` writes, as :func:`cosell.instants.format_days` does. The plan
    computes it as a column of its own first, so that the text refers to it instead of repeating
    it three times (the statement's size is what the engine's binding costs, on every run)."""
    unit = denominator_us // 1_000_000  # microseconds (or halves) per millionth of a day
    mag = n.abs()
    q = int_div(mag, unit)
    r = mag % unit
    up = (r * 2 > unit) | ((r * 2 == unit) & (q % 2 == 1))
    return ibis.ifelse(up, q + 1, q)


def days_text(n: Any, q: Any) -> Any:
    """The days of ``n`` (its sign, NULL when it is) whose rounded magnitude is ``q`` millionths."""
    sign = ibis.ifelse(n < 0, "-", "")  # Decimal keeps the sign of a tiny negative: "-0.000000"
    return ibis.ifelse(n.isnull(), ibis.null("string"), sign + millionths_text(q))


def millionths_text(q: Any) -> Any:
    """A count of millionths (``q`` >= 0) as a number with six decimals: 1500000 is ``1.500000``."""
    return int_div(q, 1_000_000).cast("string") + "." + six_digits(q % 1_000_000)


def six_digits(n: Any) -> Any:
    """``n`` (0 to 999999) as six digits, zeros first: the digits of ``n + 1000000`` but its
    first. Written so, not as a left pad, because the engine's padding compiles to a CASE that
    casts ``n`` four times, in every days, share and instant text (binding is what a small run's
    statements cost)."""
    return (n + 1_000_000).cast("string").right(6)


def instant_fraction(micros: Any) -> Any:
    """The microseconds past the second of epoch microseconds (``0`` to ``999999``): the integer
    :func:`instant_text` writes after the seconds. The plan computes it as a column of its own
    first, so that the text refers to it instead of repeating it six times (the statement's size
    is what the engine's binding costs, on every run)."""
    frac = micros % 1_000_000
    return ibis.ifelse(frac < 0, frac + 1_000_000, frac)


def instant_text(micros: Any, frac: Any) -> Any:
    """Epoch microseconds as ISO 8601 UTC with ``Z``, microseconds only when present (``frac``,
    from :func:`instant_fraction`)."""
    text = instant(micros).strftime("%Y-%m-%dT%H:%M:%S") + ibis.ifelse(frac == 0, "", "." + six_digits(frac))
    return ibis.ifelse(micros.isnull(), ibis.null("string"), text + "Z")


def micros_per_day() -> int:
    return MICROS_PER_DAY
