"""Drafting a mapping file from an export's own headers and values (``cosell crm map init``).

The draft explains every line in a comment. What the export itself shows (a stage whose deals are
all closed and won, a date column whose every value fits one format) is written as a mapping; what
only a person can know (a date that fits both month-first and day-first, a picklist value with no
obvious meaning) is written too, marked ``CHECK``, and listed by the command, so nothing is
guessed silently: the import reads exactly what the file says, and the person reads the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cosell.crm import values
from cosell.crm.fields import DECLARED_FIELDS, PARTNER_SOURCE_CHOICES, is_result_field
from cosell.crm.mapping import OBJECTS
from cosell.crm.sources import Export, SourceFile, Table, decode, distinct_values, parse_table
from cosell.errors import ImportFailed
from cosell.policy import Policy

# Formats tried on a date column that is not ISO, month-first before day-first (US exports).
FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y %I:%M %p",
    "%d/%m/%Y %I:%M %p",
    "%d/%m/%y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
)

# Words that make a partner column one of the five fields, tried in this order (the broadest last)
# when the export does not use the blueprint's names.
FIELD_WORDS = (
    ("partner_source", ("source", "tier", "type")),
    ("partner_contact_id", ("contact",)),
    ("partner_engagement_date", ("date",)),
    ("partner_activity_log", ("activit", "log", "note")),
    ("partner_id", ("account", "name", "partner__c", "partner_id", "company")),
)
# The blueprint's Partner Source picklist: its values and labels mean what they say.
BLUEPRINT_TIERS = {
    **{c.label: c.value for c in PARTNER_SOURCE_CHOICES},
    **{c.value: c.value for c in PARTNER_SOURCE_CHOICES},
}


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # what TOML allows in no string and no comment


def q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


@dataclass
class Draft:
    """The mapping text being written, and the CHECK notes for the person to read."""

    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def entry(self, key: str, value: str, comment: str, check: bool = False, section: str = "") -> None:
        mark = "CHECK: " if check else ""
        self.lines.append(f"{q(key)} = {q(value)}  # {mark}{comment}")
        if check:
            self.notes.append(f"[{section}] {q(key)} = {q(value)}: {comment}")

    def text(self) -> str:
        """The mapping, every control character from the export written as a ``\\uXXXX`` escape:
        the same character in a quoted string, plain text in a comment (where a raw line break
        would end the comment and a raw control character is not TOML)."""
        return (
            "\n".join(_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", line) for line in self.lines) + "\n"
        )


@dataclass(frozen=True)
class Loaded:
    """One object's file as the draft reads it."""

    obj: str
    source: SourceFile
    encoding: str
    table: Table


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """(encoding, certain): UTF-8 when it decodes (with BOM: utf-8-sig), else cp1252 (uncertain)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", True
    try:
        data.decode("utf-8")
        return "utf-8", True
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252", False
    except UnicodeDecodeError:
        return "latin-1", False


def load_objects(export: Export, crm: str, names: dict[str, Sequence[str]] | None = None) -> list[Loaded]:
    """The export's files that hold an object cosell reads, found by their default names."""
    found: list[Loaded] = []
    for obj in OBJECTS[crm]:
        for name in (f"{obj}.csv", *(names or {}).get(obj, ())):
            source = export.find(name)
            if source is None:
                continue
            try:
                encoding, table = _read(source)
            except ImportFailed:
                continue  # missing_note says why
            found.append(Loaded(obj, source, encoding, table))
            break
    return found


def _read(source: SourceFile) -> tuple[str, Table]:
    data = source.read_bytes()
    encoding, _certain = detect_encoding(data)
    return encoding, parse_table(source.name, decode(source.name, data, encoding))


def date_format(samples: Iterable[str]) -> tuple[str | None, list[str]]:
    """(format, other formats that fit too) for a column's values; (None, []) when all are ISO or
    none fits. Every sampled non-empty value must fit a format for it to count."""
    cells = [s.strip() for s in samples if s.strip()]
    if not cells:
        return None, []
    try:
        for cell in cells:
            values.instant(cell, None, None)
        return None, []
    except values.BadValue:
        pass
    fits = []
    for fmt in FORMATS:
        try:
            for cell in cells:
                datetime.strptime(cell, fmt)
        except ValueError:
            continue
        fits.append(fmt)
    return (fits[0], fits[1:]) if fits else (None, [])


def column_values(table: Table, column: int, limit: int = 2000) -> list[str]:
    """Up to ``limit`` of a column's distinct values, spread over them in sorted order (the same
    sample whatever the order of the rows)."""
    found = sorted({r[column] for r in table.rows})
    return found[:: max(1, len(found) // limit)]


def find(table: Table, name: str, labels: Mapping[str, Sequence[str]]) -> int | None:
    """A column by its API name or one of its labels (as the import finds it)."""
    for candidate in (name, *labels.get(name, ())):
        i = table.index(candidate)
        if i is not None:
            return i
    return None


def shown_values(
    loaded: Mapping[str, Loaded], obj: str, column: str, labels: Mapping[str, Mapping[str, Sequence[str]]]
) -> list[str]:
    """The values the export shows in ``column`` of the object ``obj`` (found by its API name or
    one of its ``labels``), sorted; none when the file or the column is missing."""
    item = loaded.get(obj)
    if item is None:
        return []
    i = find(item.table, column, labels.get(obj, {}))
    return [] if i is None else list(distinct_values(item.table, i))


def formats_section(
    draft: Draft, loaded: Loaded, date_columns: Sequence[str], labels: Mapping[str, Sequence[str]]
) -> list[str]:
    """``[files.X.formats]`` lines for the object's date columns that are not ISO 8601."""
    lines: list[str] = []
    for name in date_columns:
        i = find(loaded.table, name, labels)
        if i is None:
            continue
        fmt, others = date_format(column_values(loaded.table, i))
        if fmt is None:
            sample = distinct_values(loaded.table, i, 1)
            if sample:
                try:
                    values.instant(sample[0], None, None)
                except values.BadValue:
                    draft.notes.append(
                        f"[files.{loaded.obj}.formats] {name}: no known format fits {q(sample[0])}; write one"
                    )
                    lines.append(f'# {name} = "?"  # CHECK: no known format fits {q(sample[0])}')
            continue
        example = distinct_values(loaded.table, i, 1)[0]
        if others:
            note = f"{q(example)} also fits {', '.join(others)}: which does the export write?"
            lines.append(f"{q(name)} = {q(fmt)}  # CHECK: {note}")
            draft.notes.append(f"[files.{loaded.obj}.formats] {name} = {q(fmt)}: {note}")
        else:
            lines.append(f"{q(name)} = {q(fmt)}  # every value fits, e.g. {q(example)}")
    return lines


def file_section(
    draft: Draft,
    loaded: Loaded,
    encoding: str,
    date_columns: Sequence[str],
    required: Sequence[str] = (),
    labels: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """``[files.X]``: the file's path and encoding when they are not the defaults, its formats,
    and a CHECK for each column the import needs that the file does not have by name."""
    lines = []
    labels = labels or {}
    missing = [name for name in required if find(loaded.table, name, labels) is None]
    if loaded.source.name.lower() != f"{loaded.obj}.csv".lower():
        lines.append(f"path = {q(loaded.source.name)}  # the file of {loaded.obj} in the export")
    if loaded.encoding != encoding:
        lines.append(f"encoding = {q(loaded.encoding)}  # this file's bytes are not {encoding}")
    formats = formats_section(draft, loaded, date_columns, labels)
    if not lines and not formats and not missing:
        return
    draft.add("", f"[files.{loaded.obj}]  # {loaded.source.name}: {len(loaded.table.rows)} rows")
    draft.add(*lines)
    if missing:
        draft.add(f"[files.{loaded.obj}.columns]  # the name cosell reads -> this file's header")
        for name in missing:
            draft.add(f'# {name} = "?"  # CHECK: the import needs it and the file has no column by that name')
            draft.notes.append(
                f"[files.{loaded.obj}.columns] {name}: {loaded.source.name} has no such column; name it"
            )
    if formats:
        draft.add(
            f"[files.{loaded.obj}.formats]  # strptime formats of its dates (default ISO 8601)", *formats
        )


def missing_note(export: Export, obj: str) -> str:
    """The CHECK note for a file the import needs that the draft did not find."""
    if len(export.called(f"{obj}.csv")) > 1:
        return export.missing(obj)  # names them, and asks for the one to read
    source = export.find(f"{obj}.csv")
    if source is not None:  # there, but not readable as a table: say why, not that it is missing
        try:
            _read(source)
        except ImportFailed as exc:
            more = f" (and {exc.total - 1:,} more problems)" if exc.total > 1 else ""
            return f"{exc.problems[0]}{more}: fix the file, then draft the mapping again"
    return f"no {obj}.csv in the export: name its file under [files.{obj}] path"


def export_encoding(draft: Draft, loaded: Sequence[Loaded]) -> str:
    """The encoding most files have (the rest get a per-file override)."""
    counts: dict[str, int] = {}
    for item in loaded:
        counts[item.encoding] = counts.get(item.encoding, 0) + 1
    encoding = max(sorted(counts), key=lambda e: counts[e]) if counts else "utf-8"
    if encoding in ("cp1252", "latin-1"):
        draft.notes.append(
            f'encoding = "{encoding}": the files are not UTF-8; cp1252 and latin-1 differ only in 0x80-0x9F'
        )
    return encoding


def classify(value: str, rules: Sequence[tuple[Sequence[str], str]]) -> str | None:
    """The meaning of a picklist value by the first rule whose words it contains (any case)."""
    low = value.lower()
    for words, meaning in rules:
        if any(w in low for w in words):
            return meaning
    return None


def header(policy: Policy, crm: str, encoding: str) -> list[str]:
    return [
        f"# cosell mapping for a {crm} export (docs/crm-import.md describes every key).",
        "# Drafted by `cosell crm map init` from the export's own headers and values. Read it:",
        "# lines marked CHECK are the draft's best reading of something only you can confirm.",
        "# An export value the mapping does not name is an error at import, never a guess.",
        "",
        f"crm = {q(crm)}",
        f"encoding = {q(encoding)}  # utf-8, utf-8-sig (with BOM), cp1252 (Windows) or latin-1",
        'timezone = "UTC"  # zone of date-times written without an offset (report exports use the '
        "running user's zone)",
        "",
        "[currencies]",
        f"default = {q(policy.workspace_currency)}  # the currency of a deal without one",
    ]


def fields_section(
    draft: Draft, crm: str, obj: str, headers: Sequence[str], partnerish: Sequence[str]
) -> dict[str, str]:
    """``[fields]``: the five declared fields, the blueprint's names (or labels) first, else a partner
    column whose name says which (marked CHECK). cosell's own result fields are never proposed: they
    are what the write-back writes. Returns the chosen column of each field found."""
    exact: dict[str, str] = {}
    for f in DECLARED_FIELDS:
        names = (f.name_in(crm).lower(), f.label.lower())
        column = next((h for h in headers if h.lower() in names), None)
        if column is not None:
            exact[f.key] = column
    chosen = dict(exact)
    candidates = [h for h in partnerish if not is_result_field(crm, h)]
    for key, words in FIELD_WORDS:
        if key in chosen:
            continue
        column = next(
            (h for h in candidates if h not in chosen.values() and any(w in h.lower() for w in words)), None
        )
        if column is not None:
            chosen[key] = column
    for f in DECLARED_FIELDS:
        name = f.name_in(crm)
        column = chosen.get(f.key)
        if column is None:
            draft.add(f"# {q(f.key)} = {q(name)}  # the blueprint's name; no such column in {obj}")
        elif f.key in exact:
            draft.entry(f.key, column, f"the blueprint's {f.label} field")
        else:
            draft.entry(
                f.key,
                column,
                f"a partner column of {obj} (the blueprint's is {name})",
                check=True,
                section="fields",
            )
    return chosen


def value_section(
    draft: Draft,
    name: str,
    title: str,
    found: Sequence[str],
    rules: Sequence[tuple[Sequence[str], str]],
    fallback: str | None = None,
    known: Mapping[str, str] | None = None,
) -> None:
    """One picklist section of the draft: each value the export shows (once), mapped to the
    blueprint's own value as it is, else to the meaning its words give (CHECK), else to
    ``fallback`` (CHECK), else left as a CHECK line the import stops on until it is mapped."""
    draft.add("", f"[{name}]  # {title}")
    if not found:
        draft.add("# (the export has no values for this yet)")
    for value in dict.fromkeys(found):
        meaning = classify(value, rules)
        if known and value in known:
            draft.entry(value, known[value], "the blueprint's picklist value")
        elif meaning is None and fallback is not None:
            draft.entry(
                value, fallback, f'no obvious meaning: "{fallback}" (neutral)', check=True, section=name
            )
        elif meaning is None:
            draft.lines.append(f'# {q(value)} = "?"  # CHECK: no obvious meaning; map it or the import stops')
            draft.notes.append(f"[{name}] {q(value)}: no obvious meaning; map it")
        else:
            draft.entry(value, meaning, f'read from the words of "{value}"', check=True, section=name)
