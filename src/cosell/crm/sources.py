"""Reading a CRM export: a folder or a zip of CSV files, in the encoding the mapping names.

Exports come as a folder or a zip (Salesforce's weekly Data Export is a zip of ``Object.csv``
files; Data Loader and report exports are single files a person puts in a folder). A file is read
whole in the mapping's encoding (``utf-8``, ``utf-8-sig``, ``cp1252`` or ``latin-1``); a UTF-8 byte
order mark is dropped in either UTF-8 spelling. A byte the encoding cannot read is a located
error (the line, the byte and the encoding to try), never a replacement character.

Row numbers are those of a spreadsheet: the header is row 1, the first record row 2; a record
with a line break inside a quoted value is still one row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from cosell.data.csv_shape import HEAD_BYTES, MAX_COLUMNS, NOT_TEXT, not_text, separator_reason
from cosell.data.read import not_a_file
from cosell.errors import ImportFailed, Problem, UsageError

ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
_FIELD_LIMIT = 1 << 27


@dataclass(frozen=True)
class SourceFile:
    """One CSV file of an export: its name (as errors show it) and where its bytes are."""

    name: str
    path: Path
    member: str | None = None  # the zip member, when ``path`` is a zip

    @contextmanager
    def reading(self) -> Iterator[IO[bytes]]:
        """The file's bytes as a stream while the block runs (a zip member's, inflated as it is
        read: a damaged block is found by a read, so the reads are guarded too)."""
        if self.member is None:
            with self.path.open("rb") as raw:
                yield raw
            return
        # The archive's file stays open until the member's stream is closed, then closes with it.
        with self._unreadable(), zipfile.ZipFile(self.path) as archive, archive.open(self.member) as raw:
            yield raw

    def read_bytes(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive, self._unreadable():
            return archive.read(self.member)

    @contextmanager
    def _unreadable(self) -> Iterator[None]:
        """A member the zip module cannot give (damaged, encrypted, an unknown compression) is a
        problem of that file, not a traceback."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
            problem = Problem(self.name, None, None, None, f"cannot be read from the zip: {exc}")
            raise ImportFailed([problem]) from None


class Export:
    """The CSV files of an export folder or zip, by name (case-insensitive lookup). A ``.csv``
    name in a folder that is no file to read (a folder, a link to nothing) is refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        files: list[SourceFile] = []
        if path.is_dir():
            problems = []
            for p in sorted(path.rglob("*")):
                if p.suffix.lower() != ".csv":
                    continue
                name = p.relative_to(path).as_posix()
                why = not_a_file(p)
                if why is None:
                    files.append(SourceFile(name, p))
                else:
                    problems.append(Problem(name, None, None, None, why))
            if problems:
                raise ImportFailed(problems)
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    if not info.is_dir() and info.filename.lower().endswith(".csv"):
                        files.append(SourceFile(info.filename, path, info.filename))
        elif path.exists():
            raise UsageError(f"{path} is neither a folder nor a zip file")
        else:
            raise UsageError(f"{path} does not exist")
        self.files = tuple(files)

    def find(self, name: str) -> SourceFile | None:
        """The file called ``name`` (its path in the export, or its base name; any case)."""
        wanted = name.lower()
        for f in self.files:
            if f.name.lower() == wanted:
                return f
        matches = self.called(wanted)
        return matches[0] if len(matches) == 1 else None

    def called(self, base_name: str) -> list[SourceFile]:
        """The files whose base name is ``base_name`` (any case), in whatever folder of the export."""
        wanted = base_name.lower()
        return [f for f in self.files if PurePosixPath(f.name).name.lower() == wanted]

    def missing(self, obj: str) -> str:
        """Why the export has no file of ``obj`` that :meth:`find` returns: none is called
        ``<obj>.csv``, or several are (in different folders) and the mapping must name one."""
        name = f"{obj}.csv"
        several = self.called(name)
        if len(several) > 1:
            return (
                f"{len(several)} files are called {name} ({', '.join(f.name for f in several)}): "
                f"name the one to read under [files.{obj}] path"
            )
        return f"no {obj} file in {self.path}"


@dataclass(frozen=True)
class Table:
    """A CSV file read as text: its header and its records (each as long as the header, plus one
    empty cell at the end that a fast reader uses for a column the file does not have)."""

    file: str
    header: tuple[str, ...]
    rows: list[list[str]]

    def index(self, column: str) -> int | None:
        """The position of ``column`` in the header (exact, then ignoring case and spaces)."""
        found = self.positions(column)
        return found[0] if found else None

    def positions(self, column: str) -> list[int]:
        """Every position :meth:`index` could read ``column`` at: more than one when the header
        has it twice (a person must say which)."""
        exact = [i for i, name in enumerate(self.header) if name == column]
        if exact:
            return exact
        wanted = _loose(column)
        return [i for i, name in enumerate(self.header) if _loose(name) == wanted]

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """Each record with its spreadsheet row number (the first record is row 2)."""
        return zip(range(2, len(self.rows) + 2), self.rows, strict=True)


def _loose(name: str) -> str:
    return "".join(name.split()).lower()


def decode(name: str, data: bytes, encoding: str) -> str:
    """The file's text in ``encoding``; a byte it cannot read raises :class:`ImportFailed`."""
    if encoding not in ENCODINGS:
        raise UsageError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    codec = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        # utf-8-sig counts the error's place after the byte-order mark it dropped.
        start = exc.start + (3 if codec == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0)
        line = data.count(b"\n", 0, start) + 1
        byte = data[start : start + 1].hex().upper()
        hint = (
            'set encoding = "cp1252" (Windows) or "latin-1" for this file in the mapping'
            if codec == "utf-8-sig"
            else "check the file's encoding in the mapping"
        )
        raise ImportFailed(
            [Problem(name, line, None, f"0x{byte}", f"is not a {encoding} byte: {hint}")]
        ) from None


def read_table(source: SourceFile, encoding: str) -> Table:
    """Read ``source`` as CSV in ``encoding``; a record whose shape differs from the header's, an
    empty file or a header column without a name is a located error."""
    data = source.read_bytes()
    _check_text(source.name, data[:HEAD_BYTES])
    return parse_table(source.name, decode(source.name, data, encoding))


def read_header(source: SourceFile, encoding: str) -> Table:
    """``source``'s header as :func:`read_table` reads it, without its records (for a file the
    engine reads: the first record is read from the start of the file, however long the file)."""
    if encoding not in ENCODINGS:
        raise UsageError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    codec = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    with source.reading() as raw:
        _check_text(source.name, raw.read(HEAD_BYTES))
        raw.seek(0)
        with io.TextIOWrapper(raw, encoding=codec, newline="") as text:
            try:
                first = next(csv.reader(text, strict=True), [])
            except (csv.Error, UnicodeDecodeError) as exc:
                raise ImportFailed(
                    [Problem(source.name, 1, None, None, f"has no readable header ({exc})")]
                ) from None
    _check_delimiter(source.name, first)
    header = tuple(h.strip() for h in first)
    _check_width(source.name, header)
    if not header or not all(header):
        raise ImportFailed([Problem(source.name, 1, None, None, "has a header column without a name")])
    return Table(source.name, header, [])


def _check_text(name: str, head: bytes) -> None:
    """Refuse a file whose first bytes show it is no text table, as the canonical import does
    (:func:`cosell.data.csv_shape.not_text`); a binary file's first NUL is named by its line."""
    reason = not_text(head)
    if reason is None:
        return
    line = head.count(b"\n", 0, head.find(b"\x00")) + 1 if reason == NOT_TEXT else None
    raise ImportFailed([Problem(name, line, None, None, reason)])


def parse_table(name: str, text: str) -> Table:
    """Parse CSV ``text`` (any line endings) into a :class:`Table`; see :func:`read_table`."""
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        # The header first: a file separated otherwise may fail as CSV further on (a quoted cell
        # followed by ";"), and its separator is the reason to give.
        with contextlib.suppress(csv.Error):
            _check_delimiter(name, next(csv.reader(io.StringIO(text, newline=""), strict=True), []))
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ImportFailed([Problem(name, None, None, None, f"is not a readable CSV file ({exc})")]) from None
    finally:
        csv.field_size_limit(previous)
    records = [r for r in records if r]  # csv gives [] for a blank line (a trailing one is common)
    if not records:
        raise ImportFailed([Problem(name, None, None, None, "is empty (no header row)")])
    header = tuple(h.strip() for h in records[0])
    _check_width(name, header)
    problems = [
        Problem(name, 1, None, None, f"column {i} of the header has no name")
        for i, h in enumerate(header, start=1)
        if not h
    ]
    width = len(header)
    for row, record in enumerate(records[1:], start=2):
        if len(record) != width:
            problems.append(
                Problem(name, row, None, None, f"has {len(record)} values, the header has {width}")
            )
    if problems:
        raise ImportFailed(problems[:50], len(problems))
    rows = records[1:]
    for record in rows:
        record.append("")  # the empty cell of a column the file lacks (index: len(header))
    return Table(name, header, rows)


def _check_delimiter(name: str, first: list[str]) -> None:
    """Refuse a file that is not comma-separated at its header, saying so."""
    reason = separator_reason(first)
    if reason is not None:
        raise ImportFailed([Problem(name, 1, None, None, reason)])


def _check_width(name: str, header: tuple[str, ...]) -> None:
    """A file may have at most as many columns as a canonical one (the engine plans a statement
    over every column of a file it reads: tens of thousands take it minutes)."""
    if len(header) > MAX_COLUMNS:
        reason = f"the header has {len(header):,} columns: a file may have at most {MAX_COLUMNS:,}"
        raise ImportFailed([Problem(name, 1, None, None, reason)])


def beside_tables(export: Export, tables: tuple[str, ...]) -> dict[str, bytes]:
    """Canonical CSV files (``deal_registrations.csv``, ...) the export carries, by table."""
    found = {}
    for table in tables:
        source = export.find(f"{table}.csv")
        if source is not None:
            found[table] = source.read_bytes()
    return found


WAREHOUSE_COLUMNS = ("_fivetran_synced", "_fivetran_deleted", "_fivetran_active", "_airbyte_extracted_at")


def warehouse_tables(export: Export) -> list[Problem]:
    """A problem for each file that is a warehouse connector's table (Fivetran, Airbyte), not a
    CRM export: its columns are snake_case copies (``stage_name``, ``property_amount``) whose
    meaning the connector decided; cosell reads what the CRM itself writes, or canonical CSV."""
    problems = []
    for source in export.files:
        first = source.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff")
        columns = [c.strip().strip('"').lower() for c in first.split(",")]
        marker = next((c for c in columns if c in WAREHOUSE_COLUMNS), None)
        prefixed = [c for c in columns if c.startswith("property_")]
        if marker or len(prefixed) >= 2:
            why = f"column {marker}" if marker else f"columns {prefixed[0]}, {prefixed[1]}, ..."
            problems.append(
                Problem(
                    source.name,
                    1,
                    None,
                    None,
                    f"is a warehouse connector's table ({why}), not a CRM export: export the objects "
                    "from the CRM itself, or write the warehouse tables as canonical CSV (docs/crm-import.md)",
                )
            )
    return problems


def check_encoding_name(encoding: str, where: str) -> str | None:
    """The reason ``encoding`` is refused, or None."""
    if encoding in ENCODINGS:
        return None
    return f"{where}: {encoding!r} is not one of {', '.join(ENCODINGS)}"


def distinct_values(table: Table, column: int, limit: int = 200) -> Sequence[str]:
    """The first ``limit`` distinct non-empty values of a column, sorted (for drafting a mapping):
    the same draft whatever the order of the export's rows."""
    found = {record[column].strip() for record in table.rows}
    found.discard("")
    return sorted(found)[:limit]
