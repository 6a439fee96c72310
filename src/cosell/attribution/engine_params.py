"""The run's values in a compiled plan: placeholders, written in when the plan runs.

Compiling the rules costs about two seconds (:mod:`cosell.attribution.engine_plan_cache`); a plan is
therefore compiled once per *shape* of the rules, not per policy. Every value the rules read from
the policy and the run (the as-of and knowledge instants, the windows, thresholds, kinds, stages,
band edges, role weights, the workspace currency and the policy version) is compiled as a
placeholder literal no rule computes, and :class:`Filler` writes the run's values in, one pass over
each statement, so a value that looks like a placeholder is never replaced again. What stays in a
plan's key is its :class:`Shape`: how many band edges there are (one comparison each) and which
roles are weighted.

Each value is written in exactly as it is (nothing goes through a float): integers as 64-bit integers
(day windows as integer microseconds; the minimum percent as the integer numerator and denominator
of the share of the baseline a deal must stay under), a boolean as 0 or 1, a text as the dialect's
string literal, a set of texts as the items of an ``IN`` list, a decimal as the text a cast reads.

The builder's side, :class:`Placeholders`, hands the rules Ibis literals (Ibis is imported only
there: a run whose plan is cached never loads it) and records which it gave, so
:func:`check_placeholders` can tell that each is in the compiled SQL where the builder put it and
that no other placeholder-like value is (a *collision*: a rule's own constant in the placeholders'
range would be replaced by a value at run time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cosell.engine import Dialect
from cosell.instants import MICROS_PER_DAY, format_instant
from cosell.policy import Policy, integer_role_weights

if TYPE_CHECKING:  # pragma: no cover - the plan's builder imports Ibis, a cached run does not
    import ibis.expr.types as ir


# The kinds of value: how a placeholder is compiled and how a value is written in.
INT = "int"  # an integer literal
TEXT = "text"  # a string literal
TEXTS = "texts"  # the only item of an IN list, written in as the set's items
DECIMAL = "decimal"  # a string literal cast to a decimal
INSTANT_TEXT = "instant_text"  # the ISO 8601 text of an instant, inside a string literal

# The as-of and knowledge instants as integer microseconds, and the as-of instant's text:
# 2199-12-31T23:59:59.987654Z and .876543Z, instants no rule computes.
AS_OF_PLACEHOLDER_US = 7_258_118_399_987_654
KNOWN_PLACEHOLDER_US = 7_258_118_399_876_543
# The other integers from here, one each: 7258118398000001 and on. Every integer of 16 digits
# that begins 725811839 is a placeholder's range; no rule computes one.
_INT_BASE = 7_258_118_398_000_000
_INT_RANGE = re.compile(r"(?<![0-9.])725811839[0-9]{7}(?![0-9])")
_TEXT_RANGE = re.compile(r"'__cosell_param_[a-z0-9_]*__'")


def format_instant_micros(micros: int) -> str:
    """Epoch microseconds as :func:`cosell.instants.format_instant` writes the instant."""
    return format_instant(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros))


AS_OF_PLACEHOLDER_TEXT = format_instant_micros(AS_OF_PLACEHOLDER_US)

# The integer values a plan reads, besides the two instants and the role weights.
_INTS = (
    "lookback_us",
    "protection_us",
    "baseline_us",
    "min_cohort_size",
    "keep_numerator",
    "keep_denominator",
    "twice_min_days_us",
    "requires_activity",
    "fiscal_start_month",
)
_TEXTS = ("workspace_currency", "policy_version")
_SETS = ("engagement_kinds", "won_stages", "lost_stages")


@dataclass(frozen=True)
class Shape:
    """What of the policy shapes a plan's statements, the part of its key the policy gives: the
    number of band edges (one comparison each) and the roles weighted."""

    bands: int
    roles: tuple[str, ...]

    @classmethod
    def of(cls, band_edges: tuple[Any, ...], roles: Iterable[str]) -> Shape:
        return cls(len(band_edges), tuple(sorted(roles)))


@dataclass(frozen=True)
class Slot:
    """One placeholder: the value's name, its kind and the text it compiles to (``token``)."""

    name: str
    kind: str
    token: str


def slots(shape: Shape) -> dict[str, Slot]:
    """Every placeholder of a plan of ``shape``, by name. Raises ValueError when two share a token."""
    made = [
        Slot("as_of_us", INT, str(AS_OF_PLACEHOLDER_US)),
        Slot("known_us", INT, str(KNOWN_PLACEHOLDER_US)),
        Slot("as_of_text", INSTANT_TEXT, AS_OF_PLACEHOLDER_TEXT),
    ]
    ints = [*_INTS, *(f"weight_{role}" for role in shape.roles)]
    made += [Slot(name, INT, str(_INT_BASE + i)) for i, name in enumerate(ints, start=1)]
    made += [Slot(name, TEXT, _text_token(name)) for name in _TEXTS]
    made += [Slot(name, TEXTS, _text_token(name)) for name in _SETS]
    made += [Slot(f"band_edge_{i}", DECIMAL, _text_token(f"band_edge_{i}")) for i in range(shape.bands)]
    return unique_slots(made)


def unique_slots(made: Iterable[Slot]) -> dict[str, Slot]:
    """The slots by name; ValueError when a name or a token is there twice (a collision)."""
    by_name: dict[str, Slot] = {}
    tokens: dict[str, str] = {}
    for slot in made:
        if slot.name in by_name or slot.token in tokens:
            other = tokens.get(slot.token, slot.name)
            raise ValueError(f"placeholder collision: {slot.name} and {other} ({slot.token})")
        by_name[slot.name] = slot
        tokens[slot.token] = slot.name
    return by_name


def _text_token(name: str) -> str:
    return f"'__cosell_param_{name}__'"


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
    role_weights: tuple[tuple[str, int], ...] = ()  # by role, scaled to integers (integer_role_weights)

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
            role_weights=tuple(sorted(integer_role_weights(policy.role_weights).items())),
        )


def values(params: Params, known_us: int | None = None) -> dict[str, Any]:
    """The run's value of every placeholder, by name (``known_us``: the knowledge instant, None
    for the as-of instant)."""
    # A deal is accelerated when its remaining time is at most (1 - min_pct) of the baseline:
    # the kept share as an exact fraction, compared in integers.
    keep = Fraction(1) - Fraction(params.min_pct)
    out: dict[str, Any] = {
        "as_of_us": params.as_of_us,
        "known_us": params.as_of_us if known_us is None else known_us,
        "as_of_text": format_instant_micros(params.as_of_us),
        "lookback_us": params.lookback_us,
        "protection_us": params.protection_us,
        "baseline_us": params.baseline_us,
        "min_cohort_size": params.min_cohort_size,
        "keep_numerator": keep.numerator,
        "keep_denominator": keep.denominator,
        "twice_min_days_us": 2 * params.min_days_us,
        "requires_activity": 1 if params.requires_activity else 0,
        "fiscal_start_month": params.fiscal_start_month,
        "workspace_currency": params.workspace_currency,
        "policy_version": params.policy_version,
        "engagement_kinds": tuple(sorted({*params.partner_kinds, *params.direct_kinds})),
        "won_stages": params.won_stages,
        "lost_stages": params.lost_stages,
    }
    out.update({f"weight_{role}": weight for role, weight in params.role_weights})
    out.update({f"band_edge_{i}": edge for i, edge in enumerate(params.band_edges)})
    return out


def shape_of(params: Params) -> Shape:
    """The shape of the plan that serves ``params``."""
    return Shape.of(params.band_edges, (role for role, _ in params.role_weights))


class Filler:
    """Writes one run's values into a plan's statements (one pass each: a value written in is
    never read again as a placeholder)."""

    def __init__(self, shape: Shape, run_values: Mapping[str, Any], dialect: Dialect) -> None:
        by_token: dict[str, str] = {}
        for name, slot in slots(shape).items():
            if name not in run_values:
                raise ValueError(f"no value for the placeholder {name}")
            by_token[slot.token] = _written(slot.kind, run_values[name], dialect)
        self._by_token = by_token
        texts = sorted((t for t in by_token if not t.isdigit()), key=len, reverse=True)
        self._pattern = re.compile("|".join([_INT_RANGE.pattern, *map(re.escape, texts)]))

    def fill(self, sql: str) -> str:
        """``sql`` with the run's values in place of the placeholders."""
        return self._pattern.sub(self._value, sql)

    def _value(self, match: re.Match[str]) -> str:
        try:
            return self._by_token[match.group(0)]
        except KeyError:
            raise ValueError(f"a placeholder this plan has no value for: {match.group(0)}") from None


def _written(kind: str, value: Any, dialect: Dialect) -> str:
    """A value as the SQL that replaces its placeholder."""
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"an integer placeholder takes an integer, not {value!r}")
        # As the 64-bit integer its placeholder compiled to: a bare small literal is a 32-bit
        # INTEGER to the engine, and a rule multiplying it (a role weight of 5025 by a share's
        # 1,000,000) would overflow. The cast also keeps "x - -1" from becoming "x--1" (a comment).
        return f"CAST({value} AS BIGINT)"
    if kind == TEXT:
        return dialect.string_literal(str(value))
    if kind == TEXTS:
        # An empty set matches only the empty text, as the rules' IN list did: no stage or kind is
        # stored empty (the importer stores an empty cell as NULL).
        return ", ".join(dialect.string_literal(str(v)) for v in value) or dialect.string_literal("")
    if kind == DECIMAL:
        if not isinstance(value, Decimal | int) or not Decimal(value).is_finite():
            raise TypeError(f"a decimal placeholder takes a finite Decimal, not {value!r}")
        return dialect.string_literal(format(Decimal(value), "f"))
    if kind == INSTANT_TEXT:
        return str(value)
    raise ValueError(f"unknown placeholder kind {kind!r}")  # pragma: no cover - slots() makes them


def check_placeholders(statements: Iterable[str], shape: Shape, used: Iterable[str]) -> None:
    """Raise AssertionError unless the placeholders the builder gave (``used``: their names) are
    each in the compiled ``statements`` and nothing else in them looks like one: a placeholder
    folded away by the compiler, or a rule's own constant in a placeholder's range, would make a
    plan that runs with the wrong values."""
    sql = "\n".join(statements)
    known = slots(shape)
    used = set(used)
    wanted = {known[name].token: name for name in used}
    found = set(_INT_RANGE.findall(sql)) | set(_TEXT_RANGE.findall(sql))
    if AS_OF_PLACEHOLDER_TEXT in sql:
        found.add(AS_OF_PLACEHOLDER_TEXT)
    if stray := sorted(found - set(wanted)):
        raise AssertionError(f"placeholder collision: {', '.join(stray)} in the plan but no value of it")
    if missing := sorted(name for token, name in wanted.items() if token not in found):
        raise AssertionError(f"placeholders not in the compiled plan: {', '.join(missing)}")
    for name in used:
        slot = known[name]
        if slot.kind == TEXTS and sql.count(slot.token) != sql.count(f"IN ({slot.token})"):
            raise AssertionError(f"the placeholder {name} is not the only item of an IN list")


class Placeholders:
    """The run's values as the builder compiles them (the ``p`` of the ``engine_*`` steps): each
    an Ibis literal of its placeholder; :attr:`used` names those given out."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.slots = slots(shape)
        self.used: set[str] = set()

    def _take(self, name: str) -> Slot:
        slot = self.slots[name]
        self.used.add(name)
        return slot

    def _int(self, name: str) -> ir.IntegerValue:
        import ibis

        return ibis.literal(int(self._take(name).token), "int64")

    def _text(self, name: str) -> ir.StringValue:
        import ibis

        return ibis.literal(self._take(name).token.strip("'"), "string")

    @property
    def as_of_us(self) -> ir.IntegerValue:
        """The as-of instant T, epoch microseconds."""
        return self._int("as_of_us")

    @property
    def as_of_text(self) -> ir.StringValue:
        """T as ISO 8601 text (:func:`cosell.instants.format_instant`)."""
        import ibis

        self._take("as_of_text")
        return ibis.literal(AS_OF_PLACEHOLDER_TEXT, "string")

    @property
    def known_us(self) -> ir.IntegerValue:
        """The knowledge instant K (overrides recorded by then), epoch microseconds."""
        return self._int("known_us")

    @property
    def lookback_us(self) -> ir.IntegerValue:
        return self._int("lookback_us")

    @property
    def protection_us(self) -> ir.IntegerValue:
        return self._int("protection_us")

    @property
    def baseline_us(self) -> ir.IntegerValue:
        return self._int("baseline_us")

    @property
    def min_cohort_size(self) -> ir.IntegerValue:
        return self._int("min_cohort_size")

    @property
    def keep(self) -> tuple[ir.IntegerValue, ir.IntegerValue]:
        """1 - ``acceleration.min_pct`` as an integer numerator and denominator."""
        return self._int("keep_numerator"), self._int("keep_denominator")

    @property
    def twice_min_days_us(self) -> ir.IntegerValue:
        """Twice ``acceleration.min_days`` in microseconds (the rules compare doubled medians)."""
        return self._int("twice_min_days_us")

    @property
    def requires_activity(self) -> ir.BooleanValue:
        return self._int("requires_activity") == 1

    @property
    def fiscal_start_month(self) -> ir.IntegerValue:
        return self._int("fiscal_start_month")

    @property
    def workspace_currency(self) -> ir.StringValue:
        return self._text("workspace_currency")

    @property
    def policy_version(self) -> ir.StringValue:
        return self._text("policy_version")

    @property
    def engagement_kinds(self) -> list[ir.StringValue]:
        """For ``isin``: the partner and direct engagement kinds."""
        return [self._text("engagement_kinds")]

    @property
    def won_stages(self) -> list[ir.StringValue]:
        """For ``isin``: the stages that are won."""
        return [self._text("won_stages")]

    @property
    def lost_stages(self) -> list[ir.StringValue]:
        """For ``isin``: the stages that are lost."""
        return [self._text("lost_stages")]

    @property
    def band_edges(self) -> tuple[ir.DecimalValue, ...]:
        """The amount band edges in the workspace currency, as DECIMAL(38,12), ascending."""
        return tuple(self._text(f"band_edge_{i}").cast("decimal(38,12)") for i in range(self.shape.bands))

    def weights(self) -> dict[str, ir.IntegerValue]:
        """The integer role weights, by role."""
        return {role: self._int(f"weight_{role}") for role in self.shape.roles}
