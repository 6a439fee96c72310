"""Reading canonical files (CSV, gzip CSV, Parquet) into DuckDB as text, before any validation.

Every cell is staged as text, exactly as the file has it, into a temporary table whose columns are
named ``c0, c1, ...`` in header order (so any header, even one with odd characters, is safe).
Under the import's memory limit DuckDB spills temporary tables to its temp directory. The
checks here are about the file as a whole: its name, encoding, header and shape. A CSV file that
DuckDB's reader refuses is read again record by record (:mod:`cosell.data.csv_shape`): a mix of
line endings is then read, and any other fault is named by row and column. Cell values are
checked afterwards, in SQL, by :mod:`cosell.data.validate`.

Row numbers: for CSV the spreadsheet row (the header is row 1, the first data row is row 2); for
Parquet the 1-based record number. A staged table's ``rowid`` is its record index in file order.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import re
import stat
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cosell.data.csv_shape import (
    MAX_COLUMNS,
    MAX_NAME_CHARS,
    MAX_ROW_BYTES,
    NOT_UTF8,
    check_and_normalise,
    not_text,
    read_header,
)
from cosell.engine import Engine, EngineError
from cosell.errors import Problem
from cosell.store.schema import TABLES_BY_NAME, Table

FORMATS = ("csv", "csv.gz", "parquet")
_SNIFF_BYTES = 1 << 16
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")


class RowPlaces(Protocol):
    """Where the rows of a translated file, read in any order, stand in its sources' order (a CRM
    export's activities, read on every thread): a warning names its first row in that order."""

    @property
    def size(self) -> int:
        """How many records the sources hold (kept or not)."""
        ...

    def relation(self, first: int | None = None) -> str:
        """A query of each row's key (``key``: the table's one key column, as stored) and its
        ``place``, an integer ordered as the rows are in the sources; with ``first``, only the rows
        among the sources' first ``first`` records (read no further)."""
        ...

    def row(self, place: int) -> int:
        """The file's row (from 2, as a CSV file's) of the row at ``place``."""
        ...


@dataclass(frozen=True)
class TableFile:
    """One input file that holds a canonical table.

    A translated file (a CRM export translated in the engine, :mod:`cosell.crm.salesforce_sql`) has
    no bytes of its own: ``relation`` is a query whose columns ``c0, c1, ...`` hold its cells as
    text under ``header``, read by the first import as a CSV file's cells would be; ``path`` only
    names it."""

    table: str
    path: Path
    format: str  # one of FORMATS, or "relation"
    relation: str | None = None
    header: tuple[str, ...] = ()
    # A relation that joins lookups to each row of a large file is read on every thread, in any
    # order (Dialect.lookup_settings): these are its rows' places in the file's order.
    places: RowPlaces | None = field(default=None, compare=False)
    # The columns of a translated file whose cells are stripped already (of every character
    # Python's str.strip() removes, which includes all that the engine's trim() does) and never
    # empty (NULL instead): the first import reads them as they are, not trimmed again.
    stripped: frozenset[str] = frozenset()
    # Written by cosell from a CRM export's files, each checked as text where it was read
    # (:mod:`cosell.crm.sources`): a NUL in its first bytes is a cell's, not a binary file's.
    translated: bool = False

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Staged:
    """A file staged as text in the table ``relation`` (columns ``c0, c1, ...``)."""

    table: Table
    file: TableFile
    relation: str
    header: tuple[str, ...]
    row_offset: int  # add to rowid for the row number of a problem: 2 for CSV, 1 for Parquet
    rows: int

    def column(self, name: str) -> str | None:
        """The staged column holding canonical column ``name``, or None when the file lacks it."""
        try:
            return f"c{self.header.index(name)}"
        except ValueError:
            return None

    @property
    def unknown_columns(self) -> tuple[tuple[str, str], ...]:
        """(header name, staged column) of the columns the schema does not know, sorted by name."""
        known = set(self.table.column_names)
        return tuple(sorted((h, f"c{i}") for i, h in enumerate(self.header) if h not in known))


def find_table_files(
    directory: Path, translated: Collection[str] = ()
) -> tuple[dict[str, TableFile], list[Problem]]:
    """The canonical table files in ``directory`` by table name; other files are ignored.

    A table present in two formats (``touches.csv`` and ``touches.parquet``) is a problem, and
    so is a path named like a table's file that is no file to read (:func:`not_a_file`).
    ``translated``: the tables whose files are a CRM export's translation (:attr:`TableFile.translated`).
    """
    found: dict[str, list[TableFile]] = {}
    problems: list[Problem] = []
    for path in sorted(directory.iterdir()):
        named = table_file_name(path.name)
        if named is not None:
            stem, fmt = named
            why = not_a_file(path)
            if why is not None:
                problems.append(Problem(path.name, None, None, None, why))
            else:
                found.setdefault(stem, []).append(TableFile(stem, path, fmt, translated=stem in translated))
    files: dict[str, TableFile] = {}
    for table in TABLES_BY_NAME:
        candidates = found.get(table, [])
        if len(candidates) > 1:
            names = " and ".join(c.name for c in candidates)
            problems.append(
                Problem(candidates[0].name, None, None, None, f"table {table} is given twice ({names})")
            )
        elif candidates:
            files[table] = candidates[0]
    return files, problems


def table_file_name(name: str) -> tuple[str, str] | None:
    """The table and format a file of this name is read as by an import of its folder, if any.

    >>> table_file_name("touches.csv.gz"), table_file_name("touches.xlsx")
    (('touches', 'csv.gz'), None)
    """
    for fmt in FORMATS:
        suffix = "." + fmt
        stem = name[: -len(suffix)]
        if name.endswith(suffix) and stem in TABLES_BY_NAME:
            return stem, fmt
    return None


def not_a_file(path: Path) -> str | None:
    """Why ``path``, named like a file to read, is none (a folder, a link to nothing, a pipe), or
    None when it is a regular file (or a link to one)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a link that leads back to itself, not to a file"
        if path.is_symlink():
            return "is a link that leads nowhere (no file where it points)"
        return f"cannot be read: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, a pipe or a socket)"
    return None


def stage_file(con: Engine, file: TableFile, relation: str) -> Staged | list[Problem]:
    """Stage one file as text into the table ``relation``; return problems instead on failure."""
    table = TABLES_BY_NAME[file.table]
    if file.format == "parquet":
        result = _stage_parquet(con, file, relation)
        offset = 1
    else:
        result = _stage_csv(con, file, relation)
        offset = 2
    if isinstance(result, list):
        return result
    header = result
    problems = _header_problems(file, table, header)
    if problems:
        con.execute(f"DROP TABLE IF EXISTS {relation}")
        return problems
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return Staged(table, file, relation, header, offset, int(row[0]) if row else 0)


def _header_problems(file: TableFile, table: Table, header: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name.strip():
            problems.append(Problem(file.name, 1, None, None, f"column {i} of the header has no name"))
        elif len(name) > MAX_NAME_CHARS:
            reason = (
                f"column {i} of the header is {len(name):,} characters long: "
                f"a column name may have at most {MAX_NAME_CHARS:,}"
            )
            problems.append(Problem(file.name, 1, None, None, reason))
        elif name in seen:
            problems.append(Problem(file.name, 1, name, None, "the column appears twice in the header"))
        seen.add(name)
    problems += [
        Problem(file.name, None, c, None, "required column is missing")
        for c in table.required_columns
        if c not in header
    ]
    return problems


def _open_bytes(file: TableFile) -> io.BufferedIOBase:
    if file.format == "csv.gz":
        return gzip.open(file.path, "rb")
    return open(file.path, "rb")


def _sniff_csv(file: TableFile) -> tuple[str, ...] | Problem:
    """Check encoding and shape from the file's first bytes and read its header row."""
    try:
        with _open_bytes(file) as raw:
            head = raw.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        reason = "is not a gzip file" if file.format == "csv.gz" else f"cannot be read: {exc}"
        return Problem(file.name, None, None, None, reason)
    if not head:
        return Problem(file.name, None, None, None, "empty file (0 bytes): expected a header row")
    binary = None if file.translated else not_text(head)
    if binary is not None:
        return Problem(file.name, None, None, None, binary)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut in half at the end of the sample
            line = head[: exc.start].count(b"\n") + 1
            return Problem(file.name, line, None, None, NOT_UTF8)
    # The header is read whole, not from the sample: a wide export's header can be longer.
    return read_header(file.name, lambda: _open_bytes(file))


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_LINE_SIZE = re.compile(r"Maximum line size of \d+ bytes exceeded\. Actual Size:\s*(\d+)")


def _stage_csv(con: Engine, file: TableFile, relation: str) -> tuple[str, ...] | list[Problem]:
    header = _sniff_csv(file)
    if isinstance(header, Problem):
        return [header]
    try:
        _read_csv(con, file.path, len(header), relation, _compression(file))
    except EngineError as exc:
        refused = _csv_problem(file, str(exc))
        if refused.reason == NOT_UTF8:  # DuckDB's row is exact; Python's decoder reads ahead
            return [refused]
        return _stage_carefully(con, file, header, relation, refused)
    return header


def _compression(file: TableFile) -> str:
    return "gzip" if file.format == "csv.gz" else "none"


def csv_relation(file: TableFile, header: tuple[str, ...]) -> str:
    """The ``read_csv`` call that reads every cell of a CSV file as text (columns ``c0, c1, ...``),
    as the staging reads it (the fast import of :mod:`cosell.data.fast_load` shares it)."""
    return _csv_call(file.path, len(header), _compression(file))


def _read_csv(con: Engine, source: Path, width: int, relation: str, compression: str) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT * FROM {_csv_call(source, width, compression)}"
    )


def _csv_call(source: Path, width: int, compression: str) -> str:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    path = str(source).replace("'", "''")
    # DuckDB refuses a line of max_line_size bytes or more (a CRLF line's CR counted): + 1 lets a
    # row of exactly MAX_ROW_BYTES through, as the careful pass does.
    return (
        f"read_csv('{path}', "
        f"columns = {columns}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"auto_detect = false, strict_mode = true, null_padding = false, max_line_size = {MAX_ROW_BYTES + 1}, "
        f"compression = '{compression}', encoding = 'utf-8')"
    )


def _stage_carefully(
    con: Engine, file: TableFile, header: tuple[str, ...], relation: str, refused: Problem
) -> tuple[str, ...] | list[Problem]:
    """DuckDB refused the file: read it record by record (:mod:`cosell.data.csv_shape`).

    A file whose only fault was its mix of line endings is staged from a normalised copy; otherwise
    the problems found there (row, column, reason) replace DuckDB's terse message.
    """
    handle, name = tempfile.mkstemp(prefix="cosell-", suffix=".csv")
    os.close(handle)
    copy = Path(name)
    try:
        problems = check_and_normalise(file.name, lambda: _open_bytes(file), header, copy)
        if problems:
            return problems
        try:
            _read_csv(con, copy, len(header), relation, "none")
        except EngineError:
            return [refused]
        return header
    finally:
        copy.unlink(missing_ok=True)


def _csv_problem(file: TableFile, message: str) -> Problem:
    line = _LINE.search(message)
    row = int(line.group(1)) if line else None
    if "Invalid unicode" in message or "not utf-8" in message:
        return Problem(file.name, row, None, None, NOT_UTF8)
    size = _LINE_SIZE.search(message)
    if size:
        return Problem(
            file.name,
            row,
            None,
            None,
            f"the row is {int(size.group(1)):,} bytes long: a row may hold at most {MAX_ROW_BYTES:,} bytes",
        )
    counts = _COLUMNS.search(message)
    if counts:
        expected, found = counts.groups()
        return Problem(
            file.name, row, None, None, f"is not a table: this row has {found} columns, the header {expected}"
        )
    first = message.split("\n", 1)[0].removeprefix("Invalid Input Error: ")
    return Problem(file.name, row, None, None, f"cannot be read as CSV: {first}")


def _stage_parquet(con: Engine, file: TableFile, relation: str) -> tuple[str, ...] | list[Problem]:
    size = file.path.stat().st_size
    if size == 0:
        return [Problem(file.name, None, None, None, "empty file (0 bytes)")]
    with open(file.path, "rb") as raw:
        magic = raw.read(4)
        raw.seek(max(0, size - 4))
        tail = raw.read(4)
    if magic != b"PAR1" or tail != b"PAR1":
        return [Problem(file.name, None, None, None, "is not a Parquet file")]
    path = str(file.path).replace("'", "''")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    except EngineError as exc:
        return [
            Problem(file.name, None, None, None, f"cannot be read as Parquet: {str(exc).splitlines()[0]}")
        ]
    header = tuple(str(r[0]) for r in described)
    if len(header) > MAX_COLUMNS:
        reason = f"has {len(header):,} columns: a file may have at most {MAX_COLUMNS:,}"
        return [Problem(file.name, None, None, None, reason)]
    table = TABLES_BY_NAME[file.table]
    problems = []
    for name, duck_type, *_ in described:
        kind = table.column(name).kind if name in table.column_names else None
        if kind in ("money", "rate") and str(duck_type).upper() in _FLOAT_TYPES:
            reason = f"is a binary floating-point column ({duck_type}): store amounts as DECIMAL or text"
            problems.append(Problem(file.name, None, name, None, reason))
    if problems:
        return problems
    select = ", ".join(
        f'CAST("{name.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS c{i}' for i, name in enumerate(header)
    )
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT {select} FROM read_parquet('{path}')")
    except EngineError as exc:
        return [
            Problem(file.name, None, None, None, f"cannot be read as Parquet: {str(exc).splitlines()[0]}")
        ]
    return header
