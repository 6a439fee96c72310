"""The batch engine's small dialect layer: the few backend functions and the way steps are executed.

The rules are built once as Ibis expressions; this module is the one place that knows how a step
is materialised on the backend that holds the data (a temp table on DuckDB) and which builtin
functions the rules need beyond Ibis's portable set (exact epoch microseconds). Everything else in
``engine_*`` is backend-neutral Ibis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cosell.instants import MICROS_PER_DAY
from cosell.policy import Policy

# Counted for deterministic, unique temp-table names within one run.
_PREFIX = "_cosell_eng_"


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


@dataclass(frozen=True)
class Params:
    """Everything the rules read from the policy and the run, as integer microseconds."""

    as_of_us: int
    lookback_us: int
    protection_us: int
    baseline_us: int
    min_cohort_size: int
    min_pct: Any  # Decimal
    min_days_us: int
    requires_activity: bool
    partner_kinds: tuple[str, ...]
    direct_kinds: tuple[str, ...]
    won_stages: tuple[str, ...]
    lost_stages: tuple[str, ...]
    band_edges: tuple[Any, ...]
    workspace_currency: str
    fiscal_start_month: int
    policy_version: str

    @classmethod
    def from_policy(cls, policy: Policy, as_of_us: int) -> Params:
        return cls(
            as_of_us=as_of_us,
            lookback_us=policy.lookback_days * MICROS_PER_DAY,
            protection_us=policy.protection_window_days * MICROS_PER_DAY,
            baseline_us=policy.baseline_window_days * MICROS_PER_DAY,
            min_cohort_size=policy.min_cohort_size,
            min_pct=policy.acceleration_min_pct,
            min_days_us=policy.acceleration_min_days * MICROS_PER_DAY,
            requires_activity=policy.influence_requires_activity,
            partner_kinds=tuple(sorted(policy.partner_kinds)),
            direct_kinds=tuple(sorted(policy.direct_kinds)),
            won_stages=tuple(sorted(policy.won_stages)),
            lost_stages=tuple(sorted(policy.lost_stages)),
            band_edges=policy.band_edges,
            workspace_currency=policy.workspace_currency,
            fiscal_start_month=policy.fiscal_year_start_month,
            policy_version=policy.version,
        )


class Runner:
    """Executes steps on one backend: each named step becomes a temp table the next steps read."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.names: list[str] = []

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)

    def step(self, name: str, expr: ir.Table) -> ir.Table:
        """Materialise ``expr`` as temp table ``name`` (replacing it) and return it as a table."""
        full = _PREFIX + name
        sql = self.backend.compile(expr)
        self.backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{full}" AS {sql}')
        self.names.append(full)
        return self.backend.table(full)

    def drop_all(self) -> None:
        for full in self.names:
            self.backend.con.execute(f'DROP TABLE IF EXISTS "{full}"')
        self.names.clear()


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
