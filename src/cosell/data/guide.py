"""The data guide (``docs/data-guide.md``), generated from :mod:`cosell.store.schema`.

A test compares the committed file with :func:`render_guide`, so the guide cannot drift from the
schema. Regenerate it with ``python -m cosell.data.guide`` (``--check`` only compares).
"""

from __future__ import annotations

import sys
from pathlib import Path

from cosell.data.csv_shape import MAX_COLUMNS, MAX_NAME_CHARS, MAX_ROW_BYTES
from cosell.data.validate import FALSE_WORDS, TRUE_WORDS
from cosell.store.schema import DUCKDB_TYPES, TABLES, Column, Table

GUIDE_PATH = Path(__file__).resolve().parents[3] / "docs" / "data-guide.md"

KIND_DOCS: dict[str, str] = {
    "id": "any non-empty text; surrounding spaces are removed",
    "text": "any text; surrounding spaces are removed, empty is no value (a dump's NULL marker, `\\N` or `NULL`, is kept as written here and refused in every typed column: export NULL as an empty cell)",
    "enum": "exactly one of the listed values (lower case)",
    "instant": (
        "ISO 8601 date or timestamp: `2026-03-01`, `2026-03-01T09:30`, `2026-03-01 09:30:00.25+02:00`, "
        "`...Z` (or ` UTC`, as BigQuery writes a TIMESTAMP: `2026-03-01 09:30:00.25 UTC`; no other "
        "zone name is read; an offset may follow the time after one space, as Snowflake writes a TIMESTAMP_TZ: `2026-03-01 09:30:00.000 -0800`); no offset means UTC, a date is midnight UTC; in UTC it must fall in the years 1900 "
        "to 2999 that cosell supports (`1899-12-31T23:00:00-01:00` is fine; `0001-01-01` and "
        "`9999-12-30` are refused), except `deal_registrations.expires_at`, which may be any later "
        "date up to `9999-12-31` (a CRM's never: protection that does not end). cosell keeps instants "
        "to the microsecond: a fraction of more than six digits, as warehouses write nanoseconds "
        "(Snowflake `TIMESTAMP_NTZ(9)`, BigQuery, Spark: `2026-03-01 10:00:00.123000000`, "
        "`2026-03-01T10:00:00.000000000Z`), is read when its digits past the sixth are all zeros (it "
        "is exactly that microsecond instant) and refused when one is not (`...00.123456789Z`: the "
        "instant cannot be kept exactly; it is never truncated or rounded), here, in the Salesforce "
        "and HubSpot imports and in `--now`, `--as-of`, `--known-at` and `COSELL_NOW`"
    ),
    "money": (
        "a plain decimal (`48000.00`, `-12.5`; no thousands separators, no exponent) with at most 14 "
        "digits before the point; digits past the currency's minor unit (2 for USD, 0 for JPY, 3 for "
        "KWD) must be zeros: JPY `573600.00` is 573600 yen, JPY `573600.50` is refused"
    ),
    "rate": (
        "a plain decimal, positive, at most 8 digits before the point and 12 decimal places (more "
        "only when the digits past the twelfth are zeros, as a warehouse's NUMBER(38,18) writes them)"
    ),
    "currency": "an ISO 4217 code in upper case (`USD`, `EUR`, `JPY`)",
    "bool": "/".join(f"`{t}`/`{f}`" for t, f in zip(TRUE_WORDS, FALSE_WORDS, strict=True)) + ", any case",
    "period": "a quarter `2026-Q3` or a month `2026-08`, of the years 1900 to 2999",
}

_RULES = """\
## Files

- A dataset is a folder with one file per table: `<table>.csv`, `<table>.csv.gz` or `<table>.parquet`.
  Other files are ignored; the same table in two formats is an error, and so is a table's name that
  is no file to read (a directory, a link that leads nowhere or back to itself).
- `accounts`, `partners` and `opportunities` are required: a first import must bring them.
- CSV: UTF-8 with or without a byte-order mark, comma separated, `"` quotes (a quote inside a quoted
  value is doubled), a header row with the exact column names. Another encoding (latin-1, UTF-16),
  an empty (0-byte) file or rows with more or fewer cells than the header are refused, naming the
  file and row (trailing empty cells beyond the header are ignored). A header-only file is a table
  with no rows. Line endings may be CRLF, LF or CR, mixed in one file (a value's own line breaks
  inside quotes are kept as written). A file separated by `;`, tabs or `|` (a spreadsheet saved
  in a European locale), or starting with a spreadsheet's `sep=` line, is refused at row 1 saying
  so: save it as comma-separated CSV.
- Limits: a CSV row may hold at most {row:,} bytes as written (cells, quotes and separators, not
  the line ending): the largest text field of Salesforce holds 131,072 characters, HubSpot's
  65,536. A longer row is refused naming the row and the column of its largest cell. A file (CSV or
  Parquet) may have at most {columns:,} columns, above the field limits of a Salesforce or HubSpot
  object, each named in at most {name:,} characters.
- Parquet: any column types; values are read as text and checked like CSV cells, except that money
  and rate columns stored as binary floating point (FLOAT, DOUBLE) are refused.
- Missing optional columns are empty. Unknown columns are kept, as a JSON object in the `extra`
  column (keys sorted), and otherwise ignored.

## Problems, rejects and warnings

- A problem names the file, the row (CSV: the spreadsheet row, the header is row 1; Parquet: the
  1-based record), the column, the value and the reason, for example
  `opportunities.csv row 1042, amount: "12,5OO" is not a number`.
- Every problem is found, and the first 50 are listed with the exact total. Any problem stops the
  import and nothing from it is applied.
- With `--rejects FILE` the good rows are imported and each bad row is written to FILE (CSV): all
  its original columns, then `_file`, `_row`, `_column` and `_reason` (several problems of a row are
  joined with `; `). A row that refers to a rejected row is rejected too, unless the workspace
  already has the row it refers to. Problems with a whole file (encoding, missing required column)
  cannot be quarantined and always stop the import.
  FILE may not be one of the import's inputs (a table file of the folder, the `--policy` file),
  nor a file of the folder named like a table's (`leads.csv`: the folder's next import would read
  the rejected rows as its leads): that is bad usage (exit 2), said before anything is imported,
  and the input is left as it was.
- Duplicate keys inside a file are problems on every row of that key; each names another of them.
- References are checked against the workspace's current rows plus this import's rows. References
  to `users.user_id` are checked only when there are users (workspace or import).
- A closed deal (its stage maps to won or lost) needs a `close_date` or a `stage_history` entry into
  that stage.
- Warnings never stop an import: unknown touch kinds, a touch of one side with a kind of the other
  side, `is_closed` / `is_won` disagreeing with the stage mapping, an fx_rates row of the workspace
  currency (its rate is always 1), and a deal registration that the CRM wrote inconsistently: its
  `expires_at` not after its `registered_at` (it ended no later than it was made, so the rules
  count it for no deal), or its `opportunity_id` a deal of another account than its `account_id` (the rules read
  it as written: a registration of that deal; the deal's account is the one the workspace holds
  once the import is applied). Such a registration is kept as written, never corrected or
  refused: the warning names its file, row, column and value so that the CRM can be fixed. They
  are counted per value. `cosell attribute --data DIR` collects no warnings (its speed) but names
  the unknown touch kinds, with their rows.

## Versions

- Rows are keyed by their table's key. Importing an identical row changes nothing; a changed row
  (any value, including unknown columns) closes the current version at the import time and adds a
  new one; rows are never deleted, so any result can be recomputed as of an earlier time.
- Values are compared after conversion: `2026-01-01` and `2026-01-01T00:00:00Z` are the same
  instant, `1200` and `1200.00` the same amount. A row's hash (`_row_hash`, an md5 of its stored
  values) is what a later import compares; the first import into a new workspace stores `-` instead
  and the next import computes it from the stored values (the same md5), so a first import of 20
  million touches does not hash them all.
- The first import into a new (empty) workspace, without `--rejects`, converts each file straight
  into its table in one pass and then checks the tables; the outcome is the staged import's (rows,
  report, warnings, auto-tags and prompts). If anything is wrong it is rolled back and the staged
  import runs, which names every problem as above.
- An opportunity with an empty `currency` is stored with the workspace currency of the policy in force.
- Cost rows with a `cost_id` are keyed by it. Rows without one have no key: a cost file replaces the
  cost rows without `cost_id` of every period it contains (when they differ), and leaves other
  periods alone.
- The import time is the clock's: `cosell import canonical --now T`, else `COSELL_NOW` (ISO 8601)
  when set, else the system's; it may not be earlier than the last import. `COSELL_NOW`, every
  `--as-of`, `--known-at`, `--now` and `--registered-at`, and every `--period` follow the instant
  rule above: in UTC, inside the years 1900 to 2999 (see [as-of.md](as-of.md)); a plan's effective
  dates only inside the years 1 to 9999. Every import is logged in the `imports` table with who
  ran it (`$COSELL_USER`, else the login name), when and why: `--reason TEXT`, else the command
  that was run (`cosell import canonical DIR`, with `--rejects FILE` when given).
- Every row is known from its import time on, whatever its own dates say: historical data imported
  today is known today. Read it as it stood at an earlier instant with `--as-of T` (the evaluation
  instant), not `--known-at` (the knowledge instant): see [as-of.md](as-of.md).
"""


def _column_rules(column: Column) -> str:
    notes = []
    if column.values:
        notes.append("one of " + ", ".join(f"`{v}`" for v in column.values))
    if column.references:
        notes.append(f"must exist in `{column.references}`")
    return "; ".join(notes)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table_section(table: Table) -> list[str]:
    required = "required table" if not table.optional else "optional table"
    lines = [
        f"## {table.name}",
        "",
        f"{table.doc} ({required}; key: {', '.join(f'`{k}`' for k in table.key)})",
        "",
        "| column | kind | required | rules | description | example |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in table.columns:
        example = f"`{c.example}`" if c.example else ""
        lines.append(
            f"| `{c.name}` | {c.kind} | {'yes' if c.required else ''} | {_cell(_column_rules(c))} "
            f"| {_cell(c.doc)} | {_cell(example)} |"
        )
    return [*lines, ""]


def render_guide() -> str:
    """The data guide as Markdown, from the schema declaration."""
    lines = [
        "# Data guide: the canonical tables",
        "",
        "<!-- Generated from src/cosell/store/schema.py by `python -m cosell.data.guide`; do not edit. -->",
        "",
        "`cosell import canonical DIR` reads these tables; `--data DIR` reads the same folder for a",
        "batch run. Column names are exact. This guide is generated from the schema code.",
        "",
        _RULES.format(row=MAX_ROW_BYTES, columns=MAX_COLUMNS, name=MAX_NAME_CHARS),
        "## Column kinds",
        "",
        "| kind | accepted text | stored as |",
        "| --- | --- | --- |",
        *(f"| {kind} | {_cell(KIND_DOCS[kind])} | {DUCKDB_TYPES[kind]} |" for kind in DUCKDB_TYPES),
        "",
        "## Tables",
        "",
        *(f"- [{t.name}](#{t.name}): {t.doc}" for t in TABLES),
        "",
    ]
    for table in TABLES:
        lines += _table_section(table)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the guide (or with ``--check`` report whether it is up to date)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_guide()
    if "--check" in args:
        current = GUIDE_PATH.read_text(encoding="utf-8") if GUIDE_PATH.exists() else ""
        if current != text:
            print(f"{GUIDE_PATH} is out of date: run python -m cosell.data.guide", file=sys.stderr)
            return 1
        return 0
    GUIDE_PATH.parent.mkdir(parents=True, exist_ok=True)
    GUIDE_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {GUIDE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
