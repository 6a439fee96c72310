"""The Salesforce translation in the engine against the reference translation in Python.

Both import the same export into an empty workspace; every canonical table must hold the same rows
in the same order (row hashes, validity and extra columns included), and the report the same
counts, files, warnings (at the same export rows) and skipped rows. When the engine's translation
does not apply, the reference runs and names the problem as it always does.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import sys
from pathlib import Path

import pytest
from crm_fixtures import mapping, write_org
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.crm import activity_files, salesforce_sql
from cosell.crm.mapping import load_mapping
from cosell.crm.salesforce_sql import SPACES
from cosell.crm.sources import Export
from cosell.errors import ImportFailed
from cosell.policy import Policy
from cosell.service import crm_import
from cosell.service.crm_import import CrmImport, import_crm
from cosell.store.schema import TABLES
from cosell.store.workspace import open_workspace

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")


@pytest.fixture(scope="module")
def demo_60(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cosell demo --size 60 --crm salesforce` written once for the module: read-only, each test
    edits its own copy (the export is the same files every time: a size and a seed)."""
    export = tmp_path_factory.mktemp("sf-demo-60") / "export"
    with pytest.MonkeyPatch.context() as patch:  # the environment each test has (_fixed_time)
        patch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
        patch.setenv("COSELL_USER", "tester")
        written = runner.invoke(app, ["demo", "--out", str(export), "--size", "60", "--crm", "salesforce"])
    assert written.exit_code == 0, written.output
    return export


Outcome = tuple[object, dict[str, list[tuple[object, ...]]]]


def _import(folder: Path, mapping_path: Path, ws_path: Path, *, in_engine: bool) -> Outcome:
    """The import's report and every table's rows in stored order, or the problems it raised.

    The workspace is new (a copy of the cached migrated template, as a ``--data`` run's is: the
    same empty tables as migrating it in place, for a tenth of the CPU)."""
    ws = open_workspace(str(ws_path))
    try:
        try:
            done = import_crm(
                ws, "salesforce", folder, Policy(), mapping_path=mapping_path, in_engine=in_engine
            )
        except ImportFailed as exc:
            return [str(p) for p in exc.problems], {}
        tables = {
            t.name: ws.con.execute(f"SELECT * EXCLUDE (_import_id) FROM {t.name} ORDER BY rowid").fetchall()
            for t in TABLES
        }
        return _report(done), tables
    finally:
        # Read and thrown away: what the import wrote need not be checkpointed into the file.
        ws.con.close(keep=False)


def _report(done: CrmImport) -> object:
    r = done.report
    return (
        [(t.table, t.file, t.read, t.inserted) for t in r.tables],
        [(w.file, w.column, w.value, w.reason, w.count, w.first_row) for w in r.warnings],
        r.warning_count,
        r.source.split(" ")[0],
        done.intake,
        done.skipped,
    )


def _both(folder: Path, text: str, tmp: Path) -> tuple[Outcome, Outcome]:
    (tmp / "m.toml").write_text(text, encoding="utf-8")
    engine = _import(folder, tmp / "m.toml", tmp / "engine.duckdb", in_engine=True)
    reference = _import(folder, tmp / "m.toml", tmp / "reference.duckdb", in_engine=False)
    return engine, reference


def _used_engine(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether each import's engine translation applied."""
    used: list[bool] = []
    real = salesforce_sql.translate_in_engine

    def spy(*args: object) -> object:
        got = real(*args)  # type: ignore[arg-type]
        used.append(got is not None)
        return got

    monkeypatch.setattr("cosell.service.crm_import.translate_in_engine", spy)
    return used


def _imported_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether each first import of translated tables applied (no problem found in them,
    which would have the reference and the canonical import run instead)."""
    imported: list[bool] = []
    real = crm_import.import_first

    def spy(*args: object, **kwargs: object) -> object:
        got = real(*args, **kwargs)  # type: ignore[arg-type]
        imported.append(got is not None)
        return got

    monkeypatch.setattr("cosell.service.crm_import.import_first", spy)
    return imported


@pytest.mark.parametrize("style", ["loader", "export"])
def test_the_fixture_org_translates_alike(
    tmp_path: Path, style: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = _used_engine(monkeypatch)
    engine, reference = _both(write_org(tmp_path / "sf", style), mapping(style), tmp_path)
    assert used == [True]
    assert engine == reference
    assert sum(len(rows) for rows in engine[1].values()) > 10


def test_the_demo_export_translates_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = tmp_path / "export"
    written = runner.invoke(app, ["demo", "--out", str(export), "--size", "150", "--crm", "salesforce"])
    assert written.exit_code == 0, written.output
    used = _used_engine(monkeypatch)
    text = (export / "salesforce-mapping.toml").read_text(encoding="utf-8")
    engine, reference = _both(export, text, tmp_path)
    assert used == [True]
    report = engine[0]
    assert isinstance(report, tuple) and report[1], "the demo's export has warnings to place"
    assert engine == reference


def test_a_report_export_is_left_to_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used = _used_engine(monkeypatch)
    engine, reference = _both(write_org(tmp_path / "sf", "report"), mapping("report"), tmp_path)
    assert used == [False]  # Windows-1252 and date formats: the engine does not read them
    assert engine == reference


def test_spaces_are_what_python_strips() -> None:
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == SPACES


# -- generated exports: the fixture org with rows changed, added, deleted or made wrong -------------

_EDITS = st.lists(
    st.tuples(
        st.sampled_from(
            ["Task", "OpportunityHistory", "OpportunityFieldHistory", "OpportunityPartner", "Lead"]
        ),
        st.sampled_from(["duplicate", "delete", "blank", "bad", "spaces"]),
        st.integers(0, 50),
        st.integers(0, 20),
    ),
    max_size=6,
)


def _edit(folder: Path, edits: list[tuple[str, str, int, int]]) -> None:
    for obj, how, row_at, column_at in edits:
        path = folder / f"{obj}.csv"
        text = path.read_bytes().decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline="")))
        header, rows = records[0], records[1:]
        if not rows:
            continue
        i, c = row_at % len(rows), column_at % len(header)
        if how == "duplicate":
            rows.insert(i, list(rows[i]))
        elif how == "delete":
            if "IsDeleted" not in header:
                header.append("IsDeleted")
                rows = [[*r, ""] for r in rows]
            rows[i][header.index("IsDeleted")] = "1"
        elif how == "blank":
            rows[i][c] = ""
        elif how == "bad":
            rows[i][c] = "not-a-value"
        else:
            rows[i][c] = f" \t{rows[i][c]}\u00a0"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
        path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_a_changed_export_translates_alike_or_is_left_to_the_reference(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, str, int, int]]
) -> None:
    tmp = tmp_path_factory.mktemp("gen")
    folder = write_org(tmp / "sf", "loader")
    _edit(folder, edits)
    engine, reference = _both(folder, mapping("loader"), tmp)
    assert engine == reference


_OBJECTS = [
    "Account",
    "Lead",
    "Opportunity",
    "OpportunityHistory",
    "OpportunityFieldHistory",
    "OpportunityPartner",
]


@pytest.mark.parametrize("obj", [*_OBJECTS, "Task"])
@pytest.mark.parametrize("how", ["duplicate", "delete", "spaces"])
def test_rows_doubled_deleted_or_padded_translate_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, obj: str, how: str
) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    _edit(folder, [(obj, how, 0, 1)])
    used = _used_engine(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert used == [True], "the engine translates these itself"
    assert engine == reference


def test_field_changes_made_twice_translate_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field history row written twice, the copy of one further down: each copy of a change
    read is left out as a second row for the same change, at the same rows as the reference's."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "OpportunityFieldHistory.csv"
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    rows = records[1:]
    doubled = [*rows[:2], *rows[2:], *rows[2:], *rows[:2]]  # (a copy after, one before the rest's)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([records[0], *doubled])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    used = _used_engine(monkeypatch)
    imported = _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert used == [True]
    assert imported == [True], "the translated tables are imported as they are (no copy left in)"
    skipped = engine[0][-1]  # type: ignore[index]
    assert any(s.reason == "a second row for the same change" for s in skipped)
    assert engine == reference


@pytest.mark.parametrize(
    ("row", "created", "stage", "refused_by"),
    [
        # The deal's first Prospecting entry (kept): an instant the engine reads and Python does
        # not goes into stage_history as it is, and the first import refuses it.
        (1, "2026-01-05T24:00:00Z", None, "import"),
        (1, "0000-01-05T10:00:00Z", None, "import"),
        # Not ISO 8601 (a zone name: only BigQuery's " UTC" is read), an instant to the engine.
        (1, "2026-01-20 10:00:00 Europe/Paris", None, "import"),
        (1, "2026-13-45T10:00:00Z", None, "translation"),  # ISO 8601 in shape, no instant
        (1, "", "Unmapped Stage", "translation"),  # no instant (no entry), a stage not mapped
        (1, "2026-01-05T10:00:00Z", "Unmapped Stage", "translation"),
        # Its second Prospecting entry (left out as a repeat, so never seen by the import).
        (2, "2026-01-24T24:00:00Z", None, "translation"),
        (2, "2026-01-25T11:00:00.1234567Z", None, "translation"),
    ],
)
def test_a_stage_entry_the_reference_refuses_is_left_to_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    row: int,
    created: str,
    stage: str | None,
    refused_by: str,
) -> None:
    """A stage history row the reference refuses (its instant or its stage) is refused by the
    engine's translation or by the first import (an entry kept, its instant as it is): nothing
    is imported, the reference runs and names it."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "OpportunityHistory.csv"
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    header, rows = records[0], records[1:]
    rows[row][header.index("CreatedDate")] = created
    if stage is not None:
        rows[row][header.index("StageName")] = stage
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    used = _used_engine(monkeypatch)
    imported = _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert (used, imported) == (([True], [False]) if refused_by == "import" else ([False], []))
    assert engine == reference
    assert isinstance(engine[0], list), "the reference names the problem"


@pytest.mark.parametrize(
    ("obj", "column"),
    [
        ("Lead", "CreatedDate"),
        ("Lead", "ConvertedDate"),
        ("Opportunity", "CreatedDate"),
        ("Opportunity", "CloseDate"),
        ("OpportunityFieldHistory", "CreatedDate"),
        ("OpportunityPartner", "CreatedDate"),
    ],
)
@pytest.mark.parametrize("bad", ["05/01/2026 10:00", "2026-05-01 at noon"])
def test_a_date_the_translation_does_not_test_is_refused_by_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, obj: str, column: str, bad: str
) -> None:
    """A date that goes as it is into an instant column is not tested by the translation: the
    first import refuses it by the same pattern, and the reference runs and names it (a deal's
    dates also give the exchange rates' months: one that is not a month is left out there)."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / f"{obj}.csv"
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    header, rows = records[0], records[1:]
    for row in rows:
        row[header.index(column)] = bad
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    used = _used_engine(monkeypatch)
    imported = _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert used == [True], "the translation does not test these dates"
    assert imported == [False], "the first import refuses them"
    assert engine == reference
    assert any(f"{obj}.csv" in str(p) and "ISO 8601" in str(p) for p in engine[0]), engine[0]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "obj", ["Task", "Lead", "Opportunity", "OpportunityHistory", "OpportunityFieldHistory"]
)
def test_padded_cells_and_padded_mapped_values_translate_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, obj: str
) -> None:
    """Every cell of a file padded with what both Python and the engine strip, and the mapping's
    kind padded too: the first import reads the translated cells as they are (stripped by the
    translation), but the mapping's values, which it trims as the canonical import does."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / f"{obj}.csv"
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    padded = [[f" \u00a0{c}\u3000 " for c in r] for r in records[1:]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([records[0], *padded])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    # (a kind's value is the mapping's own; a tier's or a lead source's must be one of cosell's)
    text = mapping("loader").replace('"Call" = "outbound_call"', '"Call" = " outbound_call\u00a0"')
    assert text != mapping("loader")
    used = _used_engine(monkeypatch)
    engine, reference = _both(folder, text, tmp_path)
    assert used == [True]
    tables = engine[1]
    assert {"outbound_call", "joint_call"} <= {t[4] for t in tables["touches"]}
    assert "partner_referral" in {t[5] for t in tables["leads"]}
    assert "sourced" in {t[12] for t in tables["opportunities"]}
    assert engine == reference


def _pad_column(path: Path, column: str) -> None:
    """Every cell of ``column`` (an empty one too) padded with what Python and the engine strip."""
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    header, rows = records[0], records[1:]
    at = header.index(column)
    for r in rows:
        r[at] = f" \t{r[at]}\u00a0"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


@pytest.mark.parametrize(
    ("column", "tries"),
    [
        ("Id", [True]),  # (always stripped)
        ("Subject", [True]),
        ("WhatId", [False, True]),  # found by no lookup as it is
        ("WhoId", [False, True]),
        ("AccountId", [False, True]),
        ("ActivityDate", [False, True]),  # the import: not ISO 8601
        ("Type", [False, True]),  # the import: no kind
        ("OwnerId", [False, True]),  # the import: no such user
    ],
)
def test_an_activity_cell_read_as_it_is_with_something_to_strip_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, tries: list[bool]
) -> None:
    """The touches read most activity cells as they are (nearly every export has nothing to
    strip); one column padded in every row: the first import refuses the touches, or a lookup
    stops it, and it is tried once more with every activity cell stripped, alike the reference."""
    folder = write_org(tmp_path / "sf", "loader")
    _pad_column(folder / "Task.csv", column)
    used, imported = _used_engine(monkeypatch), _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert used == [True]
    assert imported == tries
    assert engine == reference
    assert engine[1]["touches"], "the tasks are touches"


def test_an_activity_file_the_engine_cannot_read_is_left_to_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task with a cell too many, and a padded owner: the first import stops at the file, the
    look for cells to strip cannot read it either, and the reference names the problem."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "Task.csv"
    _pad_column(path, "OwnerId")
    path.write_bytes(path.read_bytes() + b"00TA00000000009,,,x,2026-02-12,Call,,,extra\n")
    imported = _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    assert imported == [False]
    assert not engine[1], "refused"
    assert engine == reference


def test_a_padded_partner_column_of_the_activities_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_60: Path
) -> None:
    """The demo's events name their partner in a column of their own (the mapping's
    partner_column), read as it is: padded, the import finds no such partner and is tried again."""
    export = tmp_path / "export"
    shutil.copytree(demo_60, export)
    text = (export / "salesforce-mapping.toml").read_text(encoding="utf-8")
    assert 'partner_column = "Partner_Account__c"' in text
    _pad_column(export / "Event.csv", "Partner_Account__c")
    used, imported = _used_engine(monkeypatch), _imported_in_one_pass(monkeypatch)
    engine, reference = _both(export, text, tmp_path)
    assert used == [True]
    assert imported == [False, True]
    assert engine == reference


def test_a_kind_with_something_to_strip_matches_no_cell_read_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mapping's kind padded exactly as the cells are: a stripped cell is not that kind, so the
    reference refuses them; the cells read as they are must not match it either."""
    folder = write_org(tmp_path / "sf", "loader")
    _pad_column(folder / "Task.csv", "Type")
    text = mapping("loader").replace('"Call" = "outbound_call"', '" \tCall\u00a0" = "outbound_call"')
    text = text.replace('"Joint Call" = "joint_call"', '" \tJoint Call\u00a0" = "joint_call"')
    assert text.count("\u00a0") == 2
    imported = _imported_in_one_pass(monkeypatch)
    engine, reference = _both(folder, text, tmp_path)
    assert imported == [False, False]
    assert not engine[1], "refused"
    assert engine == reference


def test_tasks_and_events_translate_alike_in_the_files_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_60: Path
) -> None:
    """Touches from Task.csv and Event.csv, some left out, keep both files' rows in order."""
    export = tmp_path / "export"
    shutil.copytree(demo_60, export)
    events = list(
        csv.reader(io.StringIO((export / "Event.csv").read_bytes().decode("utf-8-sig"), newline=""))
    )
    header, rows = events[0], events[1:]
    at, ident, what, account = (header.index(c) for c in ("ActivityDateTime", "Id", "WhatId", "AccountId"))
    task_header = [("ActivityDate" if c == "ActivityDateTime" else c) for c in header]
    kind = header.index("Type")
    # No webinar among the tasks: that warning's first row is an event's, after every task.
    tasks = [[*r[:at], r[at][:10], *r[at + 1 :]] for r in rows[::3] if r[kind] != "Webinar View"]
    for i, r in enumerate(tasks):
        r[ident] = f"00TTa{i:010d}"
        if i % 7 == 0:  # no customer account: left out, and the rows after it move up
            r[what] = r[account] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([task_header, *tasks])
    (export / "Task.csv").write_text(out.getvalue(), encoding="utf-8")
    used = _used_engine(monkeypatch)
    text = (export / "salesforce-mapping.toml").read_text(encoding="utf-8")
    engine, reference = _both(export, text, tmp_path)
    assert used == [True]
    report = engine[0]
    assert isinstance(report, tuple)
    assert any(s.file == "Task.csv" for s in report[5]), "some tasks are left out"
    # (the demo's registrations on a deal's old account are warned too, in deal_registrations.csv)
    assert {"Task.csv", "Event.csv"} <= {w[0] for w in report[1]}, "warnings placed in both files"
    assert engine == reference


def test_a_warning_on_a_deal_is_placed_at_its_export_row(tmp_path: Path) -> None:
    """A deal whose IsWon disagrees with its stage: a warning on the opportunities table (not the
    touches), placed at the export's row either way."""
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "Opportunity.csv"
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    header, rows = records[0], records[1:]
    stage, won = header.index("StageName"), header.index("IsWon")
    open_row = next(i for i, r in enumerate(rows) if not r[stage].startswith("Closed"))
    rows[open_row][won] = "1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    report = engine[0]
    assert isinstance(report, tuple)
    assert ("Opportunity.csv", "IsWon") in {(w[0], w[1]) for w in report[1]}
    assert [w[5] for w in report[1] if w[1] == "IsWon"] == [open_row + 2]
    assert engine == reference


def test_a_deleted_copy_of_a_warned_activity_does_not_move_its_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_60: Path
) -> None:
    """A deleted copy of an activity, with its Id, at the top of the file: the reference leaves it
    out, so the warning on that activity's kind still starts at the kept row (the touches' places
    come from the rows kept, not from every row with the id)."""
    export = tmp_path / "export"
    shutil.copytree(demo_60, export)
    path = export / "Event.csv"
    events = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    header, rows = [*events[0], "IsDeleted"], [[*r, ""] for r in events[1:]]
    kind, deleted = header.index("Type"), header.index("IsDeleted")
    first = next(i for i, r in enumerate(rows) if r[kind] == "Webinar View")
    assert first > 3, "the warned kind's first row is not at the top already"
    copy = [*rows[first]]
    copy[deleted] = "1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, copy, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    used = _used_engine(monkeypatch)
    engine, reference = _both(
        export, (export / "salesforce-mapping.toml").read_text(encoding="utf-8"), tmp_path
    )
    assert used == [True]
    report = engine[0]
    assert isinstance(report, tuple)
    webinar = [w for w in report[1] if w[0] == "Event.csv" and "Webinar View" in str(w[2])]
    assert [w[5] for w in webinar] == [first + 3], "the kept row (the copy is row 2, above it)"
    assert any(s.file == "Event.csv" and s.reason == "IsDeleted is set" for s in report[5])
    assert engine == reference


@pytest.mark.parametrize(
    ("text", "records"),
    [
        (b"", 0),
        (b"Id", 0),
        (b"Id\n", 0),
        (b"Id\nA\nB\n", 2),
        (b"Id\nA\nB", 2),
        (b"Id\r\nA\r\nB\r\n", 2),
        (b"Id\r\nAB\r\nC", 2),
        (b"Id\rA\rB\r", 2),
        (b'Id\n"A\nB"\nC\n', 3),  # two records over three lines: at most three
        (b"Id\nA\n\n", 2),
    ],
)
def test_records_at_most_counts_the_line_ends_past_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, records: int
) -> None:
    monkeypatch.setattr(activity_files, "_CHUNK", 3)  # a CRLF across two chunks counts once
    path = tmp_path / "Event.csv"
    path.write_bytes(text)
    assert activity_files.records_at_most(path) == records


def test_an_activity_over_two_lines_translates_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_60: Path
) -> None:
    """A Subject with a line break, in a file of CRLF lines: the file holds fewer records than
    line ends, so its rows kept are counted rather than taken to be every record."""
    export = tmp_path / "export"
    shutil.copytree(demo_60, export)
    path = export / "Event.csv"
    events = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    subject = events[0].index("Subject")
    events[5][subject] = "Call notes\nsecond line"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(events)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    used = _used_engine(monkeypatch)
    counted: list[str] = []
    real = activity_files.Activities._left_out

    def left_out(self: activity_files.Activities, stream: object, skipped: object) -> object:
        counted.append(stream.file)  # type: ignore[attr-defined]
        return real(self, stream, skipped)  # type: ignore[arg-type]

    monkeypatch.setattr(activity_files.Activities, "_left_out", left_out)
    engine, reference = _both(
        export, (export / "salesforce-mapping.toml").read_text(encoding="utf-8"), tmp_path
    )
    assert used == [True]
    assert counted == ["Event.csv"], "the rows kept are counted"
    assert engine == reference
    assert "Call notes\nsecond line" in {r[9] for r in engine[1]["touches"]}


def test_the_translation_keeps_only_what_the_import_reads(tmp_path: Path) -> None:
    """Once translated, the staged files and the steps' tables are gone: the canonical tables'
    and the activities' lookups are what the first import reads (and the memory is theirs)."""
    folder = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        translated = salesforce_sql.translate_in_engine(
            ws.con, Export(folder), load_mapping(tmp_path / "m.toml", "salesforce"), Policy()
        )
        assert translated is not None
        left = {
            str(r[0])
            for r in ws.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '_cosell_sf_%'"
            ).fetchall()
        }
        lookups = {f"_cosell_sf_{n}" for n in ("x_maps", "x_id_account", "x_id_what", "x_id_who")}
        assert lookups <= left
        assert {t for t in left - lookups if not t.startswith("_cosell_sf_out_")} == set()
        assert "_cosell_sf_out_opportunities" in left
        views = "SELECT view_name FROM duckdb_views() WHERE temporary AND view_name LIKE '_cosell_sf_%'"
        assert not ws.con.execute(views).fetchall(), "the staged files' views are gone too"
        translated.drop()
        assert not ws.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '_cosell_sf_%'"
        ).fetchall()
    finally:
        ws.close()


def test_the_staged_rows_are_numbered_alike_within_a_transaction(tmp_path: Path) -> None:
    """A staged file's rows are numbered by its table's row ids, which start from a large base
    while a transaction is open: translated within one, every canonical table's rows keep the
    export rows they came from (``_row``, which warnings and tie-breaks read)."""
    folder = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    m = load_mapping(tmp_path / "m.toml", "salesforce")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    made: list[dict[str, list[tuple[object, ...]]]] = []
    try:
        for within in (False, True):
            with ws.con.transaction() if within else contextlib.nullcontext():
                translated = salesforce_sql.translate_in_engine(ws.con, Export(folder), m, Policy())
                assert translated is not None
                tables = [
                    str(r[0])
                    for r in ws.con.execute(
                        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_cosell_sf_out_%' "
                        "AND database_name IN (current_database(), 'temp')"
                    ).fetchall()
                ]
                made.append(
                    {t: ws.con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
                )
                translated.drop()
    finally:
        ws.close()
    assert made[0] == made[1]
    assert {row[1] for row in made[0]["_cosell_sf_out_opportunities"]} >= {2, 3}


def _respelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> tuple[list[bool], Outcome, Outcome, Outcome]:
    """The loader export with every date-time's ".000+0000" written as ``written``, translated by
    the engine and by the reference, and the export as it was, imported: (whether the engine
    translated it, the engine's outcome, the reference's, the plain export's)."""
    folder = write_org(tmp_path / "sf", "loader")
    for path in folder.glob("*.csv"):
        text = path.read_bytes().decode("utf-8-sig")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace(".000+0000", written).encode("utf-8"))
    used = _used_engine(monkeypatch)
    engine, reference = _both(folder, mapping("loader"), tmp_path)
    plain = _import(
        write_org(tmp_path / "plain", "loader"), tmp_path / "m.toml", tmp_path / "p.duckdb", in_engine=True
    )
    return used, engine, reference, plain


@pytest.mark.parametrize("zone", [" +0000", " +00:00", " UTC", "z"])
def test_warehouse_spellings_of_utc_translate_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """Every date-time of the export written as a warehouse writes UTC (Snowflake's space before
    the offset, BigQuery's " UTC", a lower-case z): the engine's translation and the reference read
    them as the same instants as the export's own "+0000", stage entries included (the engine
    ordered them by its cast alone, which reads neither the space nor the z)."""
    used, engine, reference, plain = _respelled(tmp_path, monkeypatch, f".000{zone}")
    assert engine == reference
    assert used[0] is True
    assert engine[1] == plain[1], "the same rows as the export written with +0000"


@pytest.mark.parametrize("nanos", ["000000", "000123"])
def test_nanosecond_instants_translate_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nanos: str
) -> None:
    """Every date-time of the export written with nine fraction digits (a warehouse copy): the
    engine's translation and the reference read zeros past the sixth as the same instant and refuse
    a non-zero one alike (with the same problems, never truncated)."""
    used, engine, reference, plain = _respelled(tmp_path, monkeypatch, f".000{nanos}+0000")
    assert engine == reference
    if nanos.strip("0"):
        problems = engine[0]
        assert isinstance(problems, list) and problems
        assert all("finer than a microsecond" in p for p in problems)
    else:
        assert used[0] is True
        assert engine[1] == plain[1], "the same rows as the export written to the millisecond"
