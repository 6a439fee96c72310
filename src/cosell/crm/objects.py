"""One CRM object's file, read through the mapping: columns by API name, label or the mapping's
own name; values read strictly, every bad cell recorded with its file, row and column."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from cosell.crm import values
from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.sources import Export, SourceFile, Table, read_table, warehouse_tables


class ObjectFile:
    """The file of one CRM object (``Opportunity``, ``deals``) as the importer reads it.

    A column is found by the name the mapping gives it (``[files.X.columns]``), else by its API
    name (exact, then ignoring case and spaces), else by one of its standard report labels. A
    column read that the header has twice is a problem at row 1; one not read may be there twice.
    """

    def __init__(
        self,
        obj: str,
        table: Table,
        mapping: CrmMapping,
        labels: Mapping[str, Sequence[str]],
        out: Translation,
    ) -> None:
        self.obj = obj
        self.table = table
        self.file = table.file
        self.spec = mapping.spec(obj)
        self.mapping = mapping
        self.out = out
        self.zone = ZoneInfo(mapping.timezone)
        self._index: dict[str, int | None] = {}
        self._labels = labels

    def index(self, name: str) -> int | None:
        """The position of the column read as ``name``, or None when the file has none."""
        if name in self._index:
            return self._index[name]
        if name in self.spec.columns:
            found = self.table.positions(self.spec.columns[name])
        else:
            found = self.table.positions(name)
            for label in self._labels.get(name, ()):
                if found:
                    break
                found = self.table.positions(label)
        if len(found) > 1:
            # Which one is meant is the person's to say, as in a canonical file's header.
            twice = self.table.header[found[0]]
            self.out.problem(self.file, 1, twice, None, "the column appears twice in the header")
        self._index[name] = found[0] if found else None
        return self._index[name]

    def position(self, name: str) -> int:
        """The position of the column read as ``name``; a column the file lacks reads the empty
        cell every record ends with (for loops that read many rows fast)."""
        i = self.index(name)
        return len(self.table.header) if i is None else i

    def has(self, name: str) -> bool:
        return self.index(name) is not None

    def header(self, name: str) -> str | None:
        """The file's header of the column read as ``name``."""
        i = self.index(name)
        return None if i is None else self.table.header[i]

    def require(self, *names: str) -> bool:
        """Record a problem for each missing column; True when all are there."""
        ok = True
        for name in names:
            if not self.has(name):
                ok = False
                self.out.problem(
                    self.file,
                    None,
                    name,
                    None,
                    f"required column is missing (if the file calls it otherwise, name it under "
                    f"[files.{self.obj}.columns] in the mapping)",
                )
        return ok

    def text(self, record: list[str], name: str) -> str:
        i = self.index(name)
        return "" if i is None else record[i].strip()

    def ref(self, record: list[str], name: str) -> str:
        """A lookup id (the all-zero empty id is empty)."""
        i = self.index(name)
        if i is None:
            return ""
        text = values.lookup(record[i])
        return values.id18(text) if self.mapping.ids == "18" else text

    def flag(self, record: list[str], name: str, row: int) -> bool | None:
        """A checkbox; None when the file has no such column or the value is bad (recorded)."""
        i = self.index(name)
        if i is None:
            return None
        try:
            return values.boolean(record[i])
        except values.BadValue as exc:
            self.out.problem(self.file, row, self.table.header[i], record[i], str(exc))
            return None

    def when(self, record: list[str], name: str, row: int) -> str:
        """A date or date-time as canonical ISO text ("" when empty, absent or bad: recorded)."""
        i = self.index(name)
        if i is None:
            return ""
        fmt = self.spec.formats.get(name)
        if fmt is None:
            fmt = self.spec.formats.get(self.table.header[i])
        try:
            return values.instant(record[i], fmt, self.zone)
        except values.BadValue as exc:
            hint = (
                ""
                if fmt or isinstance(exc, values.NoFormatReads)  # epoch numbers, nanoseconds
                else f': name its format in the mapping, e.g. [files.{self.obj}.formats] {name} = "%m/%d/%Y"'
            )
            self.out.problem(self.file, row, self.table.header[i], record[i].strip(), str(exc) + hint)
            return ""

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """Each record with its spreadsheet row number."""
        return self.table.numbered()


def open_object(
    export: Export,
    obj: str,
    mapping: CrmMapping,
    labels: Mapping[str, Sequence[str]],
    out: Translation,
    default_names: Sequence[str] = (),
    read: Callable[[SourceFile, str], Table] = read_table,
) -> ObjectFile | None:
    """The object's file (the mapping's ``path``, else ``<Object>.csv``), or None when absent;
    ``read`` reads it (:func:`cosell.crm.sources.read_header` reads only its header)."""
    spec = mapping.spec(obj)
    source: SourceFile | None = None
    if spec.path is not None:
        source = export.find(spec.path)
        if source is None:
            out.problem(
                spec.path, None, None, None, f"not found in {export.path} (files.{obj}.path in the mapping)"
            )
            return None
    else:
        for name in (f"{obj}.csv", *default_names):
            source = export.find(name)
            if source is not None:
                break
    if source is None:
        return None
    table = read(source, spec.encoding or mapping.encoding)
    return ObjectFile(obj, table, mapping, labels, out)


def missing_objects(
    export: Export, out: Translation, required: Sequence[tuple[str, ObjectFile | None]]
) -> bool:
    """Record a problem for each required object (name, its file or None) the export lacks; the
    first is the one nothing can be read without. True when that one is missing because the folder
    holds a warehouse connector's tables instead: their problems are recorded and there is
    nothing more to read."""
    if required[0][1] is None:
        warehouse = warehouse_tables(export)
        if warehouse:
            out.problems.extend(warehouse)
            return True
    for obj, found in required:
        if found is None:
            out.problem(f"{obj}.csv", None, None, None, "missing: " + export.missing(obj))
    return False
