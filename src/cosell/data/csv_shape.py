"""The careful CSV pass: what DuckDB's fast reader refused, read again record by record in Python.

DuckDB reads a well-formed file in one vectorised pass (:mod:`cosell.data.read`). When it refuses
one, its message is terse ("The CSV Parser state machine reached an invalid state", "Found: 3" for
a row of 50,000 fields), so the file is read again here with Python's strict :mod:`csv` reader,
which takes any mix of line endings (CRLF, LF, CR) between records and keeps a value's own line
breaks as they are. Either every record has the header's shape and fits the limits below, and a
normalised copy (LF between records) is written for DuckDB to stage; or every shape problem is
returned with its row, its column where one is to blame, and the reason.

The limits a CSV file must keep (documented in ``docs/data-guide.md``):

- :data:`MAX_ROW_BYTES`: one record as written (cells, quotes and separators; not the line ending)
  at most 2,000,000 bytes. The largest text field of Salesforce holds 131,072 characters
  and HubSpot's 65,536; a row this long is an export mistake (a file pasted into a cell), not a
  deal. A refused row names the column of its largest cell.
- :data:`MAX_COLUMNS`: at most 2,000 columns, above the per-object field limits of Salesforce
  (800 custom fields plus the standard ones) and HubSpot (1,000 custom properties plus defaults).
- :data:`MAX_NAME_CHARS`: a column name of at most 1,000 characters (checked with the header, in
  :mod:`cosell.data.read`, for Parquet too): an unknown column is kept in every row's ``extra``
  under its name, so a name of a megabyte on a few thousand rows runs the engine out of memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from cosell.errors import Problem

MAX_ROW_BYTES = 2_000_000
MAX_COLUMNS = 2_000
MAX_NAME_CHARS = 1_000
# Python's reader gives up on a single cell beyond this; below it the cell's column is named.
_FIELD_LIMIT = 64 * MAX_ROW_BYTES

NOT_UTF8 = "is not UTF-8 encoded (for example latin-1 or Windows-1252): save it as UTF-8"
NOT_TEXT = "is not a text table (it contains NUL bytes)"
# A NUL in a file's first bytes is a binary file (or UTF-16); deeper, a cell's own character: a
# file is not read whole to look for one (a canonical touches file can hold gigabytes).
HEAD_BYTES = 4096

Opener = Callable[[], io.BufferedIOBase]


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    # csv.field_size_limit is process-wide: set it for this read only.
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _records(raw: io.BufferedIOBase) -> Iterator[list[str]]:
    # A GzipFile is a BufferedIOBase that typeshed does not take for TextIOWrapper's buffer.
    text = io.TextIOWrapper(cast("IO[bytes]", raw), encoding="utf-8-sig", newline="")
    yield from csv.reader(text, strict=True)


def not_text(head: bytes) -> str | None:
    """Why a file whose first bytes are ``head`` is no UTF-8 text table (UTF-16 or UTF-32, or
    binary: a NUL in its first :data:`HEAD_BYTES`), or None."""
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and b"\x00" not in head[:HEAD_BYTES]:
        return None
    if utf16 or head[:512].count(b"\x00") * 3 >= len(head[:512]):
        return "is UTF-16 or UTF-32 encoded: save it as UTF-8"
    return NOT_TEXT


def separator_reason(header: Sequence[str]) -> str | None:
    """Why a file whose header row reads as ``header`` is not comma-separated, or None: a
    spreadsheet saved in a European locale separates by ``;``, a "text" export by tabs, and Excel
    may write a ``sep=;`` line first. Read as commas, each row would be "N values, the header has
    1", or a required column missing, which hides why.

    >>> separator_reason(["id;name"])
    'is separated by ";", not by commas: save it as comma-separated CSV'
    >>> separator_reason(["id", "a;b"]) is None
    True
    """
    joined = ",".join(header)
    if joined.lower().startswith("sep=") and len(joined) <= 5:
        return 'starts with a spreadsheet\'s "sep=" line: delete that line, and save the file as comma-separated CSV'
    if len(header) == 1 and (separator := next((c for c in ";\t|" if c in header[0]), None)):
        shown = "a tab" if separator == "\t" else f'"{separator}"'
        return f"is separated by {shown}, not by commas: save it as comma-separated CSV"
    return None


def read_header(file: str, opener: Opener) -> tuple[str, ...] | Problem:
    """The header row, read whole however long it is (within the limits)."""
    with _field_limit(_FIELD_LIMIT), opener() as raw:
        try:
            header = next(_records(raw))
        except StopIteration:
            return Problem(file, 1, None, None, "is not a table: no header row")
        except csv.Error as exc:
            return Problem(file, 1, None, None, f"is not a table: the header row cannot be read ({exc})")
        except UnicodeDecodeError:
            return Problem(file, 1, None, None, NOT_UTF8)
    if not header:  # a blank first line: csv reads it as a record of no cells
        return Problem(file, 1, None, None, "is not a table: the header row is empty")
    separated = separator_reason(header)
    if separated is not None:
        return Problem(file, 1, None, None, separated)
    if len(header) > MAX_COLUMNS:
        return Problem(
            file,
            1,
            None,
            None,
            f"the header has {len(header):,} columns: a file may have at most {MAX_COLUMNS:,}",
        )
    size = _size(header)
    if size > MAX_ROW_BYTES:
        return Problem(file, 1, None, None, _too_long(size))
    return tuple(header)


def _cell_size(cell: str) -> int:
    """Bytes of a cell as written with the fewest quotes (as the normalised copy writes it)."""
    size = len(cell.encode("utf-8"))
    if any(c in cell for c in _NEEDS_QUOTES):
        size += 2 + cell.count('"')
    return size


_NEEDS_QUOTES = (",", '"', "\r", "\n")


def _size(record: list[str]) -> int:
    """Bytes of a record as written, without its line ending: cells, quotes and separators."""
    return sum(_cell_size(cell) for cell in record) + max(len(record) - 1, 0)


def _too_long(size: int) -> str:
    return f"the row is {size:,} bytes long: a row may hold at most {MAX_ROW_BYTES:,} bytes"


def _largest(record: list[str], header: tuple[str, ...]) -> tuple[str | None, int]:
    sizes = [_cell_size(cell) for cell in record]
    index = max(range(len(sizes)), key=sizes.__getitem__)
    return (header[index] if index < len(header) else None), sizes[index]


def check_and_normalise(file: str, opener: Opener, header: tuple[str, ...], out: Path) -> list[Problem]:
    """Read every record; write a copy with LF line endings to ``out``, or return the problems.

    Rows are numbered like DuckDB's (the header is row 1; blank lines are skipped in a file of more
    than one column, as DuckDB does). Trailing empty cells beyond the header are dropped, as DuckDB
    does; any other difference in the number of cells is a problem. Reading stops at the first
    record Python's strict reader cannot parse (an unterminated quote, a character after a closing
    quote), since what follows it cannot be placed.
    """
    width = len(header)
    problems: list[Problem] = []
    row = 1
    with _field_limit(_FIELD_LIMIT), opener() as raw, out.open("w", encoding="utf-8", newline="") as sink:
        writer = csv.writer(sink, lineterminator="\n")
        records = _records(raw)
        try:
            writer.writerow(next(records))
            for record in records:
                if not record:
                    if width > 1:
                        continue
                    record = [""]
                row += 1
                if len(record) > width and not any(record[width:]):
                    record = record[:width]
                problem = _record_problem(file, row, record, header)
                if problem is not None:
                    problems.append(problem)
                elif not problems:
                    writer.writerow(record)
        except csv.Error as exc:
            problems.append(Problem(file, row + 1, None, None, _csv_error(str(exc))))
        except UnicodeDecodeError:
            # The decoder reads ahead of the records, so the row is not known exactly.
            problems.append(Problem(file, None, None, None, NOT_UTF8))
    return problems


def _record_problem(file: str, row: int, record: list[str], header: tuple[str, ...]) -> Problem | None:
    if len(record) != len(header):
        reason = f"is not a table: this row has {len(record):,} columns, the header {len(header):,}"
        return Problem(file, row, None, None, reason)
    size = _size(record)
    if size > MAX_ROW_BYTES:
        column, largest = _largest(record, header)
        return Problem(file, row, column, None, f"{_too_long(size)} (this cell holds {largest:,})")
    return None


def _csv_error(message: str) -> str:
    if message.startswith("field larger than field limit"):
        return f"a cell is over {_FIELD_LIMIT:,} bytes long: a row may hold at most {MAX_ROW_BYTES:,} bytes"
    return f"cannot be read as CSV: {message}"
