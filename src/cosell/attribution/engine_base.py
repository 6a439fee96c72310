"""The batch engine's small dialect layer: the few backend functions and the way steps are compiled.

The rules are built once as Ibis expressions and compiled into a plan of SQL steps
(:mod:`cosell.attribution.engine_plan` runs it); this module is the one place that knows how a
step is compiled and named (a temp table the later steps read) and which builtin functions the
rules need beyond Ibis's portable set (exact epoch microseconds). Everything else in ``engine_*``
is backend-neutral Ibis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cosell.attribution.engine_plan import INPUTS, STEP_PREFIX, Op, Plan
from cosell.attribution.engine_plan import Params as Params
from cosell.instants import MICROS_PER_DAY


def _udf_epoch_us(ts: Any) -> Any:
    """Microseconds since the epoch of an instant (DuckDB ``epoch_us``)."""


def _udf_make_timestamptz(us: Any) -> Any:
    """The instant at a number of epoch microseconds (DuckDB ``make_timestamptz``)."""


_UTC = dt.Timestamp(timezone="UTC")
_epoch_us: Any = ibis.udf.scalar.builtin(_udf_epoch_us, name="epoch_us", signature=((_UTC,), dt.int64))
_from_epoch_us: Any = ibis.udf.scalar.builtin(
    _udf_make_timestamptz, name="make_timestamptz", signature=((dt.int64,), _UTC)
)


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

    ``inputs`` holds the columns and types of the relations the rules read (see
    :func:`cosell.attribution.engine_plan.input_columns`); ``dialect`` is the SQL dialect.
    """

    def __init__(self, inputs: Iterable[tuple[str, str, str]], dialect: str = "duckdb") -> None:
        from ibis.backends.sql import compilers
        from ibis.backends.sql.datatypes import DuckDBType

        self.dialect = dialect
        self.compiler = getattr(compilers, dialect).compiler
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
        sql = self.compiler.to_sqlglot(expr.unbind())
        return str(sql.sql(dialect=self.compiler.dialect, pretty=False))

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

    def plan(self) -> Plan:
        return Plan(tuple(self.ops))

    def _made(self, full: str, schema: ibis.Schema) -> ir.Table:
        table = ibis.table(schema, name=full)
        self.tables[full] = table
        return table


def union_all(tables: Iterable[ir.Table]) -> ir.Table:
    items = list(tables)
    return items[0].union(*items[1:], distinct=False) if len(items) > 1 else items[0]


def format_days_expr(numerator: Any, denominator_us: int) -> Any:
    """``numerator / denominator_us`` days (an integer count of microseconds, or of half
    microseconds when ``denominator_us`` is twice a day) as text with six decimals, half-even,
    exactly as :func:`cosell.instants.format_days` writes it."""
    unit = denominator_us // 1_000_000  # microseconds (or halves) per millionth of a day
    n = numerator.cast("int64")
    mag = n.abs()
    q = mag // unit
    r = mag % unit
    up = (r * 2 > unit) | ((r * 2 == unit) & (q % 2 == 1))
    q = ibis.ifelse(up, q + 1, q)
    sign = ibis.ifelse(n < 0, "-", "")  # Decimal keeps the sign of a tiny negative: "-0.000000"
    text = sign + (q // 1_000_000).cast("string") + "." + (q % 1_000_000).cast("string").lpad(6, "0")
    return ibis.ifelse(n.isnull(), ibis.null("string"), text)


def format_instant_expr(micros: Any) -> Any:
    """Epoch microseconds as ISO 8601 UTC with ``Z``, microseconds only when present."""
    ts = instant(micros)
    frac = micros % 1_000_000
    frac = ibis.ifelse(frac < 0, frac + 1_000_000, frac)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S") + ibis.ifelse(
        frac == 0, "", "." + frac.cast("string").lpad(6, "0")
    )
    return ibis.ifelse(micros.isnull(), ibis.null("string"), text + "Z")


def micros_per_day() -> int:
    return MICROS_PER_DAY
