"""Validation of staged canonical files, as SQL over their text columns.

Each check selects only the failing rows and writes them to one temporary problems table, so a file
of twenty million rows is checked in a few vectorised passes, never row by row in Python:

1. cell checks, one pass per file: required values, enumerations, ISO 8601 instants, plain decimals
   whose digits past the currency's minor unit are zeros, positive rates, ISO 4217 codes, booleans,
   periods, and the row rules (a partner touch needs a partner or a partner contact, a partner
   user needs a partner);
2. duplicate keys inside a file (each duplicate names the other row);
3. cross-file checks against what the workspace already has plus what this import brings:
   references, and a closed deal's close time (:mod:`cosell.data.cross_checks`).

Warnings (unknown touch kinds, CRM flags that disagree with the stage mapping, a touch of one side
with the other side's kind) never stop an import; they are counted per distinct value
(:mod:`cosell.data.import_warnings`). This module holds the tables both write to, the normalized
view they read and the typed value of a cell.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from cosell.data.read import Staged
from cosell.engine import Engine, count_of
from cosell.engine.sql import in_list, lit
from cosell.instants import (
    BAD_OFFSET_PATTERN,
    END_SUPPORTED,
    FIRST_SUPPORTED,
    FIRST_SUPPORTED_YEAR,
    ISO_PATTERN,
    LAST_SUPPORTED_YEAR,
    OUT_OF_RANGE,
    SPACED_OFFSET_PATTERN,
    SUB_MICROSECOND,
    SUB_MICROSECOND_PATTERN,
    UNSUPPORTED,
)
from cosell.money import DECIMAL_PATTERN, MINOR_UNITS, MONEY_INTEGER_DIGITS, beyond_minor_unit_reason
from cosell.policy import Policy
from cosell.store.schema import TABLE_NAMES, TABLES_BY_NAME, Column, Table

PROBLEMS = "_cosell_import_problems"
WARNINGS = "_cosell_import_warnings"
PERIOD_PATTERN = r"^[0-9]{4}-(Q[1-4]|0[1-9]|1[0-2])$"
TRUE_WORDS = ("true", "t", "yes", "1")
FALSE_WORDS = ("false", "f", "no", "0")
# A rate times an amount of 14 integer digits must fit the product cosell.fx.convert_sql computes
# (DECIMAL(38,16): 22 integer digits); a rate of 26 digits stopped every report and attribution run
# with an internal overflow. No currency is worth 100 million units of another.
RATE_INTEGER_DIGITS = 22 - MONEY_INTEGER_DIGITS
RATE_FRACTION_DIGITS = 12
_DUPLICATES = "_cosell_import_duplicates"
_CURRENCY_CODES = lit("[" + ", ".join(MINOR_UNITS) + "]")  # every code is three letters


def create_result_tables(con: Engine) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PROBLEMS} (tbl VARCHAR, file VARCHAR, row BIGINT, "
        "col_order INTEGER, col VARCHAR, val VARCHAR, reason VARCHAR)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {WARNINGS} (tbl VARCHAR, file VARCHAR, col VARCHAR, val VARCHAR, "
        "reason VARCHAR, n BIGINT, first_row BIGINT)"
    )


# How databases write NULL into a text dump (MySQL's and Hive's \N, a literal NULL): a typed
# cell holding one is refused with a reason that says so. A free-text cell keeps it as written
# (a company may be called "Null"), so an export must write NULL as an empty cell (docs/data-guide.md).
NULL_MARKERS = ("\\N", "NULL", "null")
NULL_MARKED_KINDS = frozenset({"enum", "instant", "money", "rate", "currency", "bool", "period"})
NULL_MARKER = "is how a database writes NULL, not a value: export NULL as an empty cell"


def normalized_view(con: Engine, staged: Staged) -> str:
    """Create ``<relation>_n``: ``_row``, the raw ``c*`` columns, ``n_<column>`` trimmed (or NULL)
    and ``t_<column>`` of each instant column (:func:`with_instants`)."""
    parts = [f"rowid + {staged.row_offset} AS _row", "*", *normalized_columns(staged)]
    view = f"_cosell_{staged.table.name}_n"
    normalized = f"(SELECT {', '.join(parts)} FROM {staged.relation})"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {with_instants(staged.table, normalized)}")
    return view


def with_instants(table: Table, rows: str, columns: Collection[str] | None = None) -> str:
    """A query of ``rows`` (a relation with ``n_<column>`` of ``table``'s columns) and, for each
    instant column (of ``columns``, default all), ``t_<column>``: its instant read once
    (:func:`typed_instant`), which :func:`typed` and the cell rules then name. A small import's
    statements are planned without the optimizer, which would otherwise find the cast the rules
    repeat (four times an instant column, beside the conversion): written once, the
    opportunities' insert binds in a quarter less time."""
    casts = [
        f"{typed_instant(f'n_{c.name}')} AS t_{c.name}"
        for c in table.columns
        if c.kind == "instant" and (columns is None or c.name in columns)
    ]
    return f"SELECT *, {', '.join(casts)} FROM {rows}" if casts else f"SELECT * FROM {rows}"


def normalized_columns(staged: Staged) -> list[str]:
    """``n_<column>`` of each canonical column: the raw text trimmed, empty as NULL (NULL when the
    file lacks the column; as it is when a translated file's cells are stripped already:
    :attr:`cosell.data.read.TableFile.stripped`)."""
    parts = []
    for column in staged.table.columns:
        raw = staged.column(column.name)
        if raw is None:
            parts.append(f"NULL::VARCHAR AS n_{column.name}")
        elif column.name in staged.file.stripped:
            parts.append(f"{raw} AS n_{column.name}")
        else:
            parts.append(f"nullif(trim({raw}), '') AS n_{column.name}")
    return parts


def typed(column: Column, policy: Policy, table: str) -> str:
    """SQL turning the normalized text ``n_<column>`` into the column's stored type (NULL if invalid);
    an instant is the relation's ``t_<column>``, read once (:func:`with_instants`)."""
    n = f"n_{column.name}"
    if column.kind == "instant":
        return f"t_{column.name}"  # read once by the relation (with_instants)
    if column.kind in ("money", "rate"):
        return f"TRY_CAST({n} AS {column.sql_type})"
    if column.kind == "bool":
        return (
            f"CASE WHEN lower({n}) IN {in_list(TRUE_WORDS)} THEN true "
            f"WHEN lower({n}) IN {in_list(FALSE_WORDS)} THEN false END"
        )
    if column.kind == "currency" and TABLES_BY_NAME[table].money_currency_column == column.name:
        return f"coalesce({n}, {lit(policy.workspace_currency)})"
    return n


def typed_instant(n: str) -> str:
    """SQL: the instant of the normalized text ``n`` (NULL if invalid), as :func:`typed` reads it and
    as :func:`cosell.instants.parse_instant` reads it: the engine's cast reads neither a lower-case
    ``z`` nor a space before a numeric offset (Snowflake's ``... -0800``). The ``LIKE`` tests keep
    the regular expression off the cells that have no such space (measured on 5M instants: the
    cast alone 0.14-0.23 s, with them 0.17-0.28 s)."""
    spaced = f"{n} LIKE '% +%' OR {n} LIKE '% -%'"
    unspaced = f"regexp_replace({n}, {lit(SPACED_OFFSET_PATTERN)}, '\\1')"
    return (
        f"TRY_CAST(CASE WHEN {n} LIKE '%z' THEN {n}[:-2] || 'Z' WHEN {spaced} THEN {unspaced} "
        f"ELSE {n} END AS TIMESTAMPTZ)"
    )


def _timestamptz(instant: datetime) -> str:
    """SQL literal of a UTC instant."""
    return f"TIMESTAMPTZ '{instant:%Y-%m-%d %H:%M:%S}+00'"


def _is_currency_code(sql: str) -> str:
    """SQL: whether the text ``sql`` is an ISO 4217 code (NULL for NULL), as ``IN (<the codes>)``
    is, but with the codes as one constant (a list cast from its text), which the engine plans in
    a third of the time of an IN list of 169 literals: the rules of every money and currency
    column use it, in the statements of every import."""
    return f"list_contains(CAST({_CURRENCY_CODES} AS VARCHAR[]), {sql})"


def _minor_digits(currency_sql: str) -> str:
    odd = sorted((code, digits) for code, digits in MINOR_UNITS.items() if digits != 2)
    whens = " ".join(f"WHEN {lit(code)} THEN {digits}" for code, digits in odd)
    return f"(CASE {currency_sql} {whens} ELSE 2 END)"


def _integer_digits(n: str) -> str:
    return f"length(ltrim(split_part(ltrim({n}, '+-'), '.', 1), '0'))"


def significant_fraction_digits_sql(n: str) -> str:
    """SQL of :func:`cosell.money.significant_fraction_digits` for a plain decimal text ``n``."""
    return f"length(rtrim(split_part({n}, '.', 2), '0'))"


def _sql_text(template: str, **parts: str) -> str:
    """A text with ``{name}`` placeholders as SQL concatenating literals and the SQL ``parts``."""
    pieces = re.split(r"\{(\w+)\}", template)
    sql = [lit(p) if i % 2 == 0 else f"CAST({parts[p]} AS VARCHAR)" for i, p in enumerate(pieces) if p]
    return " || ".join(sql)


def _cell_reason(column: Column, staged: Staged, policy: Policy) -> str | None:
    """SQL giving the reason a cell is bad, or NULL; None when the column cannot be wrong."""
    whens = _cell_whens(column, staged, policy)
    if not whens and not column.required:
        return None
    n = f"n_{column.name}"
    sql = "CASE"
    if column.required:
        sql += f" WHEN {n} IS NULL THEN 'a value is required'"
    sql += f" WHEN {n} IS NULL THEN NULL"
    for condition, reason_sql in whens:
        sql += f" WHEN {condition} THEN {reason_sql}"
    return sql + " END"


def _cell_bad(column: Column, staged: Staged, policy: Policy) -> str | None:
    """SQL true exactly when :func:`_cell_reason` gives a reason (else false or NULL), without the
    reasons, which cost the engine time to plan (the money reason repeats its currency's minor
    unit lookup). Every reason of a condition that holds is a text (the money reason's currency
    is one of the codes it was found in), so the cell is bad when it is required and empty, or
    present and any condition holds."""
    whens = _cell_whens(column, staged, policy)
    if not whens and not column.required:
        return None
    n = f"n_{column.name}"
    holds = " OR ".join(f"({condition})" for condition, _ in whens)
    if column.required:
        return f"{n} IS NULL OR {holds}" if holds else f"{n} IS NULL"
    return f"{n} IS NOT NULL AND ({holds})"


def _cell_whens(column: Column, staged: Staged, policy: Policy) -> list[tuple[str, str]]:
    """The rules of a present cell ``n_<column>``, in order: (condition, reason as SQL)."""
    n = f"n_{column.name}"
    whens: list[tuple[str, str]] = []  # (condition, reason as SQL)

    def add(condition: str, reason: str) -> None:
        whens.append((condition, lit(reason)))

    kind = column.kind
    if kind in NULL_MARKED_KINDS:
        # Checked first, so that a warehouse dump's NULL gets this reason rather than "is not a
        # number": the user's fix is in the export's settings, not in the cell.
        add(f"{n} IN {in_list(NULL_MARKERS)}", NULL_MARKER)
    if kind == "enum":
        add(f"{n} NOT IN {in_list(column.values)}", f"is not one of: {', '.join(column.values)}")
    elif kind == "instant":
        add(f"regexp_full_match({n}, {lit(SUB_MICROSECOND_PATTERN)})", SUB_MICROSECOND)
        add(f"NOT regexp_full_match({n}, {lit(ISO_PATTERN)})", "is not an ISO 8601 date or timestamp")
        value = typed(column, policy, staged.table.name)
        add(
            f"{value} IS NULL OR substr({n}, 12, 2) > '23' OR regexp_full_match({n}, {lit(BAD_OFFSET_PATTERN)})",
            "is not a valid date or time",
        )
        # An offset can carry a valid local time outside the years 1 to 9999 in UTC:
        # 0001-01-01T00:00:00+14:00 would be stored as a BC date. 9999-12-31 stays valid.
        add(
            f"{value} < TIMESTAMPTZ '0001-01-01 00:00:00+00' OR {value} >= TIMESTAMPTZ '10000-01-01 00:00:00+00'",
            OUT_OF_RANGE,
        )
        # cosell's own range (instants.FIRST_SUPPORTED to END_SUPPORTED): windows and periods
        # computed from the instant stay in the calendar. An open end may be later ("never").
        too_late = "" if column.open_end else f" OR {value} >= {_timestamptz(END_SUPPORTED)}"
        add(f"{value} < {_timestamptz(FIRST_SUPPORTED)}{too_late}", UNSUPPORTED)
    elif kind == "money":
        add(f"NOT regexp_full_match({n}, {lit(DECIMAL_PATTERN)})", "is not a number")
        add(
            f"{_integer_digits(n)} > {MONEY_INTEGER_DIGITS}",
            f"is too large (more than {MONEY_INTEGER_DIGITS} digits before the decimal point)",
        )
        currency_col = staged.table.money_currency_column
        workspace = lit(policy.workspace_currency)
        currency = f"coalesce(n_{currency_col}, {workspace})" if currency_col else workspace
        digits = _minor_digits(currency)
        # The one minor-unit rule (money.significant_fraction_digits): zeros past the minor unit
        # are fine (JPY "573600.00" from a DECIMAL(18,2) column), a non-zero digit is not.
        whens.append(
            (
                f"{_is_currency_code(currency)} AND {significant_fraction_digits_sql(n)} > {digits}",
                _sql_text(
                    beyond_minor_unit_reason("{currency}", "{digits}"), currency=currency, digits=digits
                ),
            )
        )
    elif kind == "rate":
        add(f"NOT regexp_full_match({n}, {lit(DECIMAL_PATTERN)})", "is not a number")
        add(
            f"{_integer_digits(n)} > {RATE_INTEGER_DIGITS}",
            f"is too large (more than {RATE_INTEGER_DIGITS} digits before the decimal point)",
        )
        # Zeros past the twelfth decimal are the same rate (a warehouse's NUMBER(38,18) column
        # writes 1.087500000000000000), as zeros past a currency's minor unit are the same amount.
        add(
            f"{significant_fraction_digits_sql(n)} > {RATE_FRACTION_DIGITS}",
            f"has non-zero digits beyond {RATE_FRACTION_DIGITS} decimal places",
        )
        add(f"TRY_CAST({n} AS DECIMAL(38,12)) <= 0", "must be positive")
    elif kind == "currency":
        add(f"NOT {_is_currency_code(n)}", "is not an ISO 4217 currency code")
    elif kind == "bool":
        words = ", ".join(f"{t}/{f}" for t, f in zip(TRUE_WORDS, FALSE_WORDS, strict=True))
        add(f"lower({n}) NOT IN {in_list(TRUE_WORDS + FALSE_WORDS)}", f"is not true or false ({words})")
    elif kind == "period":
        add(
            f"NOT regexp_full_match({n}, {lit(PERIOD_PATTERN)})",
            "is not a period (a quarter like 2026-Q3 or a month like 2026-08)",
        )
        year = f"TRY_CAST(substr({n}, 1, 4) AS INTEGER)"
        add(f"{year} < {FIRST_SUPPORTED_YEAR} OR {year} > {LAST_SUPPORTED_YEAR}", UNSUPPORTED)
    return whens


def _row_rules(staged: Staged) -> list[tuple[str, str]]:
    """Rules over several cells of a row: (condition, reason), reported on column partner_id."""
    name = staged.table.name
    if name == "touches":
        return [
            (
                "n_actor = 'partner' AND n_partner_id IS NULL AND n_partner_contact_id IS NULL",
                "a partner touch needs partner_id or partner_contact_id",
            )
        ]
    if name == "users":
        return [("n_role = 'partner' AND n_partner_id IS NULL", "a user with role partner needs partner_id")]
    return []


def check_cells(con: Engine, staged: Staged, view: str, policy: Policy) -> None:
    """Problems of single cells and single rows, one pass over the file."""
    rules = _cell_rules(staged, policy)
    if not rules:
        return
    # Each rule's reason is computed once per row (planning a rule costs more than running it on
    # a small file); the rows with any are kept, and of those each rule's entry with a reason.
    reasons = ", ".join(f"{rule.reason} AS _r{i}" for i, rule in enumerate(rules))
    entries = ", ".join(
        f"{{'o': {rule.order}, 'c': {lit(rule.column)}, 'v': {rule.value}, 'r': _r{i}}}"
        for i, rule in enumerate(rules)
    )
    bad = " OR ".join(f"_r{i} IS NOT NULL" for i in range(len(rules)))
    con.execute(
        f"INSERT INTO {PROBLEMS} SELECT {lit(staged.table.name)}, {lit(staged.file.name)}, _row, "
        f"p.o, p.c, p.v, p.r FROM (SELECT _row, unnest([{entries}]) AS p "
        f"FROM (SELECT * FROM (SELECT *, {reasons} FROM {view}) WHERE {bad})) WHERE p.r IS NOT NULL"
    )


def bad_row_condition(staged: Staged, policy: Policy) -> str | None:
    """SQL over the ``n_<column>`` values of a row, true when :func:`check_cells` would report a
    problem of the row; None when no rule applies to the file's columns."""
    bad = [rule.bad for rule in _cell_rules(staged, policy)]
    return " OR ".join(f"({b})" for b in bad) if bad else None


@dataclass(frozen=True)
class _Rule:
    """A cell or row rule of a staged file: the problem's column (its order and name) and value,
    the reason (SQL, NULL when the rule holds) and ``bad``, SQL true exactly when the reason is a
    text."""

    order: int
    column: str
    value: str
    reason: str
    bad: str


def _cell_rules(staged: Staged, policy: Policy) -> list[_Rule]:
    """The cell and row rules of a staged file, in column order."""
    rules: list[_Rule] = []
    for order, column in enumerate(staged.table.columns):
        condition = _cell_bad(column, staged, policy)
        raw = staged.column(column.name)
        if condition is None or raw is None:
            continue
        rules.append(_Rule(order, column.name, raw, str(_cell_reason(column, staged, policy)), condition))
    partner_order = (
        staged.table.column_names.index("partner_id") if "partner_id" in staged.table.column_names else 0
    )
    for condition, reason in _row_rules(staged):
        rule = f"CASE WHEN {condition} THEN {lit(reason)} END"
        rules.append(_Rule(partner_order, "partner_id", "NULL::VARCHAR", rule, condition))
    return rules


def duplicated_files(con: Engine, staged: Sequence[tuple[Staged, str]], policy: Policy) -> set[str]:
    """The tables of ``staged`` (each file and its view) whose file has two rows with the same
    key, as :func:`check_duplicates` finds them, in one statement: a file without any (the usual
    case) then needs no statement of its own."""
    parts = []
    for source, view in staged:
        names, k = _keys(source, view, policy)
        parts.append(
            f"SELECT {lit(source.table.name)} AS name FROM (SELECT 1 FROM {k} GROUP BY {names} "
            "HAVING count(*) > 1 LIMIT 1)"
        )
    if not parts:
        return set()
    return {str(r[0]) for r in con.execute(" UNION ALL ".join(f"({p})" for p in parts)).fetchall()}


def _keys(staged: Staged, view: str, policy: Policy) -> tuple[str, str]:
    """The key columns' names (``k0, k1, ...``) and a query of the rows whose key has no NULL:
    ``_row``, ``shown`` (the key as the file has it) and the key in its stored types."""
    table = staged.table
    keys = [table.column(k) for k in table.key]
    key_sql = ", ".join(f"{typed(c, policy, table.name)} AS k{i}" for i, c in enumerate(keys))
    names = ", ".join(f"k{i}" for i in range(len(keys)))
    shown = " || ', ' || ".join(f"n_{c.name}" for c in keys)
    not_null = " AND ".join(f"k{i} IS NOT NULL" for i in range(len(keys)))
    return names, f"(SELECT * FROM (SELECT _row, {shown} AS shown, {key_sql} FROM {view}) WHERE {not_null})"


def check_duplicates(con: Engine, staged: Staged, view: str, policy: Policy) -> None:
    """Rows of one file with the same key; each names another row with that key."""
    table = staged.table
    names, k = _keys(staged, view, policy)
    order = table.column_names.index(table.key[0])
    # One grouping pass finds the duplicated keys; a file without any needs nothing more.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_DUPLICATES} AS "
        f"SELECT {names}, min(_row) AS first_row FROM {k} GROUP BY {names} HAVING count(*) > 1"
    )
    if count_of(con, f"SELECT count(*) FROM {_DUPLICATES}"):
        con.execute(
            f"""INSERT INTO {PROBLEMS}
        WITH k AS {k},
        d AS (SELECT * FROM {_DUPLICATES}),
        r AS (SELECT k._row, k.shown, d.first_row FROM k JOIN d USING ({names})),
        s AS (SELECT first_row, min(_row) FILTER (WHERE _row > first_row) AS second_row
              FROM r GROUP BY first_row)
        SELECT {lit(table.name)}, {lit(staged.file.name)}, r._row, {order}, {lit(", ".join(table.key))},
            r.shown, 'is a duplicate key: also on row '
                || CASE WHEN r._row = r.first_row THEN s.second_row ELSE r.first_row END
        FROM r JOIN s USING (first_row)"""
        )
    con.execute(f"DROP TABLE {_DUPLICATES}")


def _accepted(view: str, table: str) -> str:
    return f"(SELECT * FROM {view} WHERE _row NOT IN (SELECT row FROM {PROBLEMS} WHERE tbl = {lit(table)}))"


def accepted_now(con: Engine, view: str, table: str) -> str:
    """The accepted rows of ``view`` as the problems stand now: the view itself when it has none."""
    if count_of(con, f"SELECT count(*) FROM (SELECT 1 FROM {PROBLEMS} WHERE tbl = {lit(table)} LIMIT 1)"):
        return _accepted(view, table)
    return view


def table_order(name: str) -> int:
    return TABLE_NAMES.index(name)


def ordered_tables(names: Sequence[str]) -> list[str]:
    return sorted(names, key=table_order)
