"""Use case: import a Salesforce or HubSpot export (``cosell import salesforce|hubspot PATH``).

The export is translated through the mapping file into canonical tables in a temporary folder,
and that folder goes through the canonical import with its intake: the same validation, the same
all-or-nothing transaction, the same versions. Every problem names the export's own file, row
and column: the translation's own (an unreadable date, an unmapped picklist value) are found
before anything is imported, the canonical import's are mapped back to where the value came from.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cosell.crm import hubspot, salesforce
from cosell.crm import values as values_module
from cosell.crm.canonical import Skipped, Translation
from cosell.crm.mapping import CRMS, CrmMapping, default_mapping, load_mapping
from cosell.crm.salesforce_sql import NotInEngine, translate_in_engine
from cosell.crm.sources import Export
from cosell.data.fast_load import import_first, is_empty
from cosell.data.import_report import ImportReport, ImportWarning
from cosell.data.load import export_import_settings, import_time
from cosell.errors import ImportFailed, Problem, UsageError
from cosell.hygiene.intake import Intake, import_with_intake, run_intake
from cosell.policy import Policy
from cosell.reasons import given_or_ran
from cosell.store.workspace import Workspace

__all__ = ["CrmImport", "import_crm", "mapping_for", "translate"]

_PROBLEM_LIMIT = 50
_TRANSLATORS: dict[str, Callable[[Export, CrmMapping, Policy], Translation]] = {
    "salesforce": salesforce.translate,
    "hubspot": hubspot.translate,
}


@dataclass(frozen=True)
class CrmImport:
    """What an import of a CRM export did: the canonical import's report (in the export's own
    file names), its intake, and the export rows left out on purpose."""

    report: ImportReport
    intake: Intake
    skipped: tuple[Skipped, ...]


def mapping_for(crm: str, path: Path | None) -> CrmMapping:
    """The mapping file at ``path`` for ``crm``, or the CRM's own names without one."""
    if crm not in CRMS:
        raise UsageError(f"unknown CRM {crm!r} (one of {', '.join(CRMS)})")
    return load_mapping(path, crm) if path is not None else default_mapping(crm)


def translate(crm: str, path: Path, mapping: CrmMapping, policy: Policy) -> Translation:
    """The export at ``path`` as canonical rows; raises :class:`ImportFailed` on any problem."""
    translation = _TRANSLATORS[crm](Export(path), mapping, policy)
    problems = grouped(translation.problems)
    if problems:
        shown = problems[:_PROBLEM_LIMIT]
        if mapping.is_default:
            # Without a mapping file only cosell's own values read: the way out is a drafted mapping.
            shown.append(_draft_one(crm, path))
        total = len(problems) + len(shown) - min(len(problems), _PROBLEM_LIMIT)
        raise ImportFailed(shown, total, len(problems) > _PROBLEM_LIMIT)
    return translation


def _draft_one(crm: str, path: Path) -> Problem:
    """The problem that ends a failed import without --mapping: how to get a mapping."""
    return Problem(
        "--mapping",
        None,
        None,
        None,
        f"none given, so only cosell's own values are read; draft a mapping with `cosell crm map init "
        f"{crm} {path} --out {crm}-mapping.toml`, read it, and import with --mapping {crm}-mapping.toml",
    )


def grouped(problems: list[Problem]) -> list[Problem]:
    """One problem per file, column, value and reason, at its first row, naming the other rows
    (an unmapped picklist value is one thing to fix, however many deals carry it)."""
    rows: dict[tuple[str, str | None, str | None, str], list[Problem]] = {}
    for p in problems:
        rows.setdefault((p.file, p.column, p.value, p.reason), []).append(p)
    out = []
    for same in rows.values():
        first = same[0]
        others = [str(p.row) for p in same[1:] if p.row is not None]
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            first = replace(
                first, reason=f"{first.reason} (also row{'s' if len(others) > 1 else ''} {shown})"
            )
        out.append(first)
    return out


def as_exported(mapping: CrmMapping, warning: ImportWarning) -> tuple[str | None, str]:
    """A touch kind warning's value as the export writes it: the file at the warning's row says
    ``Linkedin Message``, not the ``linkedin_message`` the mapping reads it as, so the warning says
    both (the person looks for the first in the export, the second in the mapping and the policy)."""
    value = warning.value
    if warning.file != "touches.csv" or warning.column != "kind" or value is None:
        return value, warning.reason
    written = [k for k, v in mapping.kinds.items() if v == value and k != value]
    if not written:
        return value, warning.reason
    return " / ".join(written), f'(mapped to "{value}") {warning.reason}'


def import_crm(
    ws: Workspace,
    crm: str,
    path: Path,
    policy: Policy,
    *,
    mapping_path: Path | None = None,
    mapping: CrmMapping | None = None,
    on_file: Callable[[str], None] | None = None,
    in_engine: bool = True,
    reason: str = "",
) -> CrmImport:
    """Import the export at ``path`` (a folder or a zip) through the mapping, all or nothing.

    Raises :class:`ImportFailed` naming the export's files, rows and columns; then nothing is
    applied. Dated by the import like ``cosell import canonical``, and recorded with ``reason``,
    else what was run (``cosell import salesforce PATH``: :func:`cosell.reasons.given_or_ran`). A Salesforce export's first
    import is translated by the engine when it can be (``in_engine=False``: never, the reference
    translation in Python, which the tests compare it with). ``mapping``: the mapping already read
    (:func:`mapping_for`), else it is read from ``mapping_path``.
    """
    if mapping is None:
        mapping = mapping_for(crm, mapping_path)
    why = given_or_ran(reason, f"cosell import {crm} {path.resolve()}")
    if crm == "salesforce" and in_engine:
        done = _import_in_engine(ws, path, mapping, policy, on_file, why)
        if done is not None:
            return done
    translation = translate(crm, path, mapping, policy)
    if crm == "salesforce":
        _refuse_ids_in_another_form(ws, translation)
    with tempfile.TemporaryDirectory(prefix="cosell-crm-") as folder:
        translation.write(Path(folder))
        try:
            report, intake = import_with_intake(
                ws, Path(folder), policy, on_file=on_file, source=f"{crm} {path.resolve()}", reason=why,
                translated=translation.translated_tables,
            )  # fmt: skip
        except ImportFailed as exc:
            located = [translation.locate(p) for p in exc.problems]
            raise ImportFailed(located, exc.total, exc.limit_hit) from None
    return _as_exported(report, intake, translation, mapping)


def _refuse_ids_in_another_form(ws: Workspace, translation: Translation) -> None:
    """Refuse deals and accounts the workspace holds under the other length of their Salesforce id
    (a report's 15 characters, Data Loader's 18): keyed apart, each would be there twice, its
    pipeline counted twice, silently."""
    problems = []
    for table, key in (("opportunities", "opportunity_id"), ("accounts", "account_id")):
        known = {r[0] for r in ws.con.execute(f"SELECT DISTINCT {key} FROM {table}").fetchall()}
        if not known:
            continue
        for row, values in enumerate(translation.rows(table), start=2):
            other = values_module.other_form(values[0], known)
            if other is not None:
                reason = (
                    f'is the record the workspace holds as "{other}" (Salesforce writes an id in 15 '
                    "characters in reports, 18 in Data Loader): import exports that write ids as the "
                    "first one did"
                )
                problems.append(translation.locate(Problem(f"{table}.csv", row, key, values[0], reason)))
    if problems:
        raise ImportFailed(problems[:50], len(problems))


class _Origins(Protocol):
    """Where a translation's canonical rows came from in the export."""

    @property
    def skipped(self) -> tuple[Skipped, ...]: ...

    def sources(self, table: str) -> str: ...

    def locate_row(self, file: str, row: int, column: str | None) -> tuple[str, int, str | None]: ...


def _as_exported(report: ImportReport, intake: Intake, origins: _Origins, mapping: CrmMapping) -> CrmImport:
    """The canonical import's report in the export's own files, rows and columns."""
    warnings = []
    for w in report.warnings:
        file, row, column = origins.locate_row(w.file, w.first_row, w.column)
        value, reason = as_exported(mapping, w)
        warnings.append(ImportWarning(file, column or w.column, value, reason, w.count, row))
    tables = tuple(replace(t, file=origins.sources(t.table) or t.file) for t in report.tables)
    return CrmImport(replace(report, warnings=tuple(warnings), tables=tables), intake, origins.skipped)


def _import_in_engine(
    ws: Workspace,
    path: Path,
    mapping: CrmMapping,
    policy: Policy,
    on_file: Callable[[str], None] | None,
    reason: str,
) -> CrmImport | None:
    """The first import of a Salesforce export into an empty workspace, translated by the engine
    (:mod:`cosell.crm.salesforce_sql`) and imported in one typed pass per table with its intake,
    one transaction; None, and nothing applied, whenever the reference translation and the
    canonical import must run instead (they name any problem)."""
    if not is_empty(ws.con):
        return None
    at = import_time()
    with export_import_settings(ws.con, path):
        translated = translate_in_engine(ws.con, Export(path), mapping, policy)
        if translated is None:
            return None
        intakes: list[Intake] = []

        def within(when: datetime) -> None:
            translated.settle()
            intakes.append(run_intake(ws, policy, when))

        try:
            report = None
            # Tried again only when the touches read a cell as it is that has something to strip
            # (the import refuses it: :meth:`EngineTranslation.read_carefully`).
            while report is None:
                report = import_first(
                    ws, translated.files, policy, at, on_file=on_file, source_name=f"salesforce {path.resolve()}",
                    reason=reason, within=within,
                )  # fmt: skip
                if report is None and not translated.read_carefully():
                    break
            # (placed before the translation's tables are dropped: they say where a row came from)
            return None if report is None else _as_exported(report, intakes[0], translated, mapping)
        except NotInEngine:  # (rolled back)
            return None
        finally:
            translated.drop()
