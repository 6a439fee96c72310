"""The import of a ``--data DIR`` run: a temporary workspace, and one typed pass per file.

A ``--data`` run imports a dataset into a throwaway workspace, attributes it and writes files. The
workspace is a DuckDB file in a temporary folder (removed when it is closed), not ``:memory:``:
DuckDB compresses a file's tables as it writes them, and twenty million touches take 3 GiB
uncompressed in memory, more than the import's memory limit, so an in-memory workspace spills them
to disk uncompressed and reads them back at every step.

The import itself (:func:`import_fast`) is the canonical import's validation in fewer passes. The
canonical import stages each file as text, checks the text, then converts it; for a dataset without
problems, which is what a ``--data`` run normally gets, the same can be done reading each file
once: every row is converted straight into its table while the cell and row rules of
:func:`cosell.data.validate.check_cells` are evaluated on it (a bad row stops the pass), then the
duplicate keys and warnings are checked with the canonical import's own functions over the typed
tables, and the references and close times by one existence check over them (:func:`_cross_problem`:
which rows and why is the canonical import's to say). As soon as anything is wrong (a bad cell, a bad file, a
duplicate, a dangling reference, or a warning whose text needs the raw cell), nothing is kept and
``None`` is returned: the caller runs the canonical import, which names every problem exactly as
it always does. The result of a successful fast import is the same as the canonical unversioned
import's: the same rows, counts and warnings (a test holds the two together), but for what a
workspace made only to be attributed does not keep: the columns nothing reads
(:data:`UNREAD_BY_ATTRIBUTION`), the version columns (each table's rows are in a lean table behind
a view of the table's name, :func:`_load_lean`) and the warnings.

The first import into a new workspace (:func:`import_first`, what ``cosell import canonical`` tries
first) is the same pass inside the import's transaction, with its intake; tests/data/
test_import_first.py holds it to the canonical import's outcome, tables and hashes included.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cosell.data.import_report import (
    ImportReport,
    TableCounts,
    collected_warnings,
    import_reason,
    import_user,
)
from cosell.data.import_warnings import checked_columns, collect_warnings, has_warnings
from cosell.data.read import (
    Staged,
    TableFile,
    _header_problems,
    _sniff_csv,
    csv_relation,
    stage_file,
)
from cosell.data.typed_rows import UNHASHED, insert_versions_sql, typed_select
from cosell.data.validate import (
    PROBLEMS,
    WARNINGS,
    bad_row_condition,
    check_duplicates,
    create_result_tables,
    normalized_columns,
    table_order,
    with_instants,
)
from cosell.engine import Engine, EngineError, count_of, settings
from cosell.engine.sql import in_list, lit, ts
from cosell.policy import Policy
from cosell.profiling import timed
from cosell.store.schema import TABLE_NAMES, TABLES, TABLES_BY_NAME, Table
from cosell.store.workspace import Workspace, open_workspace

_STAGE_PREFIX = "_cosell_fast_"
# A lean table (:func:`_load_lean`): the columns of a table a workspace made only to be attributed
# keeps, behind a view of the table's name.
LEAN_PREFIX = "_cosell_lean_"
# A warning whose message quotes a raw cell that the typed table no longer holds as it was written
# (a boolean flag written "yes" or "T", an instant written "2026-01-01"): the canonical import
# reports it.
_RAW_TEXT_WARNINGS = {
    ("opportunities", "is_closed"),
    ("opportunities", "is_won"),
    ("deal_registrations", "expires_at"),
}
# The columns a ``--data`` run's attribution never reads: no statement of the engine's plan (any
# model) reads them, and none of the one pass's checks (keys, references, warnings, close times).
# Their cells are checked as always (a bad one refuses the pass); a workspace made only to be
# attributed (:func:`cosell.data.load.load_dataset` with ``attribution_only``) does not store them
# (its tables are lean: :func:`_load_lean`; their view shows them as NULL), which spares trimming
# and storing the cells no rule reads (measured in docs/benchmarks.md).
# tests/data/test_import_unread.py holds the list to the plan's SQL and to the checks, and a run's
# files to those of a workspace that keeps every column.
UNREAD_BY_ATTRIBUTION: dict[str, frozenset[str]] = {
    "accounts": frozenset({"name", "domain", "industry", "country"}),
    "partner_accounts": frozenset({"domain"}),
    "leads": frozenset({"company", "email", "converted_at"}),
    "opportunities": frozenset({"opportunity_type"}),
    "field_history": frozenset({"old_value", "new_value"}),
    "opportunity_partners": frozenset({"is_primary"}),
    "touches": frozenset({"notes"}),
}


@dataclass
class TemporaryWorkspace(Workspace):
    """A workspace in a file of a temporary folder; closing it removes the folder."""

    folder: str = field(default="")

    def close(self) -> None:
        try:
            self.con.close(keep=False)  # the file is removed next: its last changes are not written
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def temporary_workspace() -> TemporaryWorkspace:
    """A new, empty workspace in a temporary folder (DuckDB spills there too), a copy of the
    migrated template (:mod:`cosell.store.template`), opened as a scratch file (written once, in
    bulk: :func:`cosell.engine.open_engine`)."""
    folder = tempfile.mkdtemp(prefix="cosell-data-")
    try:
        opened = open_workspace(str(Path(folder) / "workspace.duckdb"), scratch=True)  # from the template
        opened.con.execute("SET enable_progress_bar = false")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return TemporaryWorkspace(path=opened.path, con=opened.con, folder=folder)


class _Refused(Exception):
    """The fast import does not apply, or found something wrong: the canonical import runs."""


def import_fast(
    workspace: Workspace,
    files: dict[str, TableFile],
    policy: Policy,
    at: datetime,
    *,
    on_file: Callable[[str], None] | None = None,
    by_user: str | None = None,
    unread: Mapping[str, frozenset[str]] | None = None,
) -> ImportReport | None:
    """Import ``files`` (by table name, from :func:`cosell.data.read.find_table_files`) into an
    empty ``workspace`` in one typed pass per file, in one transaction; None (and nothing kept)
    when the canonical import must run instead. ``unread``: the workspace is made only to be
    attributed: each table's rows go into a lean table without the columns ``unread`` names (by
    table; checked all the same, :data:`UNREAD_BY_ATTRIBUTION`) nor the version columns, behind a
    view of the table's name (:func:`_load_lean`), and no warnings are collected (the report has
    none: nothing shows a --data run's warnings). The caller holds the import's
    memory limit. Never called inside another transaction (a failed pass rolls the transaction
    back)."""
    if not _applies(workspace.con, files):
        return None
    return _in_one_transaction(workspace, files, policy, at, on_file=on_file, by_user=by_user, unread=unread)


def import_first(
    workspace: Workspace,
    files: dict[str, TableFile],
    policy: Policy,
    at: datetime,
    *,
    on_file: Callable[[str], None] | None = None,
    by_user: str | None = None,
    source_name: str | None = None,
    reason: str | None = None,
    problem_limit: int = 50,
    within: Callable[[datetime], None] | None = None,
) -> ImportReport | None:
    """The first import into a new workspace of ``files`` by table (a folder's, listed by
    :func:`cosell.data.read.find_table_files` without a problem, for ``cosell import canonical``;
    or translated ones: a CRM export translated by the engine), in one typed pass per file, as :func:`import_fast` does it, several times faster than staging
    every file as text first. The rows are versions as the canonical import writes them, their
    hashes computed from the stored values when a later import compares
    (:func:`cosell.data.typed_rows.stored_row_hash`); the rows, the import log and what ``within(at)``
    writes (the intake) are one transaction, logged with ``reason``, else what was run
    (:func:`cosell.data.import_report.import_reason`). None, and nothing applied, when the canonical import
    must run instead (a workspace with data, or any problem in the files: it names them). The
    caller holds the import's memory limit. Never called inside another transaction (a failed
    pass rolls the transaction back)."""
    if not _applies(workspace.con, files):
        return None
    return _in_one_transaction(
        workspace, files, policy, at, on_file=on_file, by_user=by_user, source=source_name, reason=reason,
        problem_limit=problem_limit, within=within,
    )  # fmt: skip


def _in_one_transaction(
    workspace: Workspace,
    files: dict[str, TableFile],
    policy: Policy,
    at: datetime,
    *,
    on_file: Callable[[str], None] | None,
    by_user: str | None,
    reason: str | None = None,
    source: str | None = None,
    problem_limit: int = 50,
    within: Callable[[datetime], None] | None = None,
    unread: Mapping[str, frozenset[str]] | None = None,
) -> ImportReport | None:
    """The one pass, and what ``within(at)`` writes, as one transaction: a workspace file commits
    (and syncs its log) once, not after each of the pass's statements. None, and the transaction
    rolled back, when the canonical import must run instead."""
    staged: dict[str, tuple[Staged, str]] = {}
    try:
        with workspace.transaction():
            try:
                report = _one_pass(
                    workspace, files, policy, at, staged, on_file=on_file, by_user=by_user,
                    source=source, reason=reason, problem_limit=problem_limit, unread=unread,
                )  # fmt: skip
            except EngineError as exc:  # a bad row or file: roll back, then the canonical import
                raise _Refused from exc
            if within is not None:
                with timed("import intake"):
                    within(at)
    except _Refused:
        return None
    finally:
        _drop_checks(workspace.con, staged)
    return report


def _applies(con: Engine, files: dict[str, TableFile]) -> bool:
    """The one pass imports into an empty workspace only, and every required table is there (else
    the canonical import names the missing one)."""
    return all(t.optional or t.name in files for t in TABLES) and is_empty(con)


def is_empty(con: Engine) -> bool:
    """Whether the workspace has had no import and holds no row (the one pass imports only there)."""
    # One statement, not one per table: is there any import or any row at all?
    has_rows = " UNION ALL ".join(f"(SELECT 1 FROM {t.name} LIMIT 1)" for t in TABLES)
    return not count_of(con, f"SELECT count(*) FROM ((SELECT 1 FROM imports LIMIT 1) UNION ALL {has_rows})")


def _one_pass(
    workspace: Workspace,
    files: dict[str, TableFile],
    policy: Policy,
    at: datetime,
    staged: dict[str, tuple[Staged, str]],
    *,
    on_file: Callable[[str], None] | None,
    by_user: str | None,
    reason: str | None,
    source: str | None = None,
    problem_limit: int = 50,
    unread: Mapping[str, frozenset[str]] | None,
) -> ImportReport:
    """Load every file, check it and log the import; raise :class:`_Refused` (or the engine's
    error at a bad row) when the canonical import must run instead. ``staged`` is filled as it
    goes, for the caller to clean up."""
    con = workspace.con
    import_id = workspace.next_import_id()
    loaded: dict[str, Staged] = {}
    for name in sorted(files, key=table_order):
        with timed(f"import file {name}", _rows_of(loaded, name)):
            lean = None if unread is None else unread.get(name, frozenset())
            loaded[name] = _load_file(con, files[name], policy, at, import_id, lean)
        if on_file is not None:
            on_file(files[name].name)
    names = sorted(loaded, key=table_order)
    create_result_tables(con)
    # A lean import (a workspace made only to be attributed) collects no warnings: nothing shows
    # them (a --data run writes its results only), and they read every row of the largest files.
    warned = unread is None
    with timed("import duplicates"):
        duplicated = _may_have_duplicates(con, [loaded[name] for name in names])
        # A check view only for the tables the checks below read: those that may hold a duplicate
        # key, and those with warnings (each view is a statement to make and one to drop).
        checked = {n: loaded[n] for n in names if n in duplicated or (warned and has_warnings(n))}
        staged.update(_check_views(con, checked))
        for name in duplicated:
            check_duplicates(con, staged[name][0], staged[name][1], policy)
    with timed("import cross-checks"):
        if (duplicated and count_of(con, f"SELECT count(*) FROM {PROBLEMS}")) or _cross_problem(
            con, loaded, policy
        ):
            raise _Refused
    for name in names:
        if warned and name in staged:
            with timed(f"import warnings {name}"):
                collect_warnings(
                    con,
                    staged[name][0],
                    staged[name][1],
                    policy,
                    places=files[name].places,
                    clean=True,
                    # the workspace was empty: its deals are this import's, as loaded
                    opportunity_accounts="SELECT opportunity_id AS o, account_id AS a FROM opportunities",
                )
    raw = " OR ".join(f"(tbl = {lit(t)} AND col = {lit(c)})" for t, c in sorted(_RAW_TEXT_WARNINGS))
    if warned and count_of(con, f"SELECT count(*) FROM {WARNINGS} WHERE {raw}"):
        raise _Refused
    warnings, warning_total = collected_warnings(con, problem_limit)
    counts = tuple(
        TableCounts(name, loaded[name].file.name, loaded[name].rows, loaded[name].rows, 0, 0, 0)
        for name in names
    )
    folder = next(iter(files.values())).path.parent
    why = import_reason(reason, source, folder)
    source = source or f"canonical {folder.resolve()}"
    summary = json.dumps([c.__dict__ for c in counts], sort_keys=True)
    con.execute(
        "INSERT INTO imports (import_id, imported_at, source, by_user, summary, reason) VALUES (?, ?, ?, ?, ?, ?)",
        [import_id, at, source, by_user or import_user(), summary, why],
    )
    return ImportReport(
        import_id=import_id,
        imported_at=at,
        source=source,
        reason=why,
        tables=counts,
        warnings=tuple(warnings),
        warning_count=warning_total,
    )


def _load_file(
    con: Engine, file: TableFile, policy: Policy, at: datetime, import_id: int, lean: frozenset[str] | None
) -> Staged:
    """Convert one file into its table, refusing at its first bad row; return the file as staged
    (its header, rows and the table that holds them). ``lean``: the columns not stored (checked
    all the same), in a lean table behind a view of the table's name (:func:`_load_lean`); None:
    every column, in the table itself."""
    table = TABLES_BY_NAME[file.table]
    parquet = _STAGE_PREFIX + table.name
    if file.relation is not None:
        relation, header, offset = file.relation, file.header, 2
    elif file.format == "parquet":
        # Parquet is staged as the canonical import stages it (with its checks), then converted.
        result = stage_file(con, file, parquet)
        if isinstance(result, list):
            raise _Refused
        relation, header, offset = result.relation, result.header, result.row_offset
    else:
        sniffed = _sniff_csv(file)
        if not isinstance(sniffed, tuple):
            raise _Refused
        header, offset = sniffed, 2
        if _header_problems(file, table, header):
            raise _Refused
        relation = csv_relation(file, header)
    source = Staged(table, file, relation, header, offset, 0)
    bad = bad_row_condition(source, policy)
    normalized = f"(SELECT *, {', '.join(normalized_columns(source))} FROM {relation})"
    rows = f"({with_instants(table, normalized)})"
    # The rules are evaluated in the projection that converts the cells, not in a filter below it:
    # there DuckDB computes what both use once per row; in a filter it computes it at every use.
    # (An instant's cast, which the rules use four times, is read once below them: t_<column>.)
    # Converting a bad row is harmless (the conversions cannot fail) and the filter above stops
    # the pass at it.
    also = None if bad is None else f"({bad}) AS _bad"
    select = typed_select(source, rows, policy, hashed=False, filtered=False, also=also)
    if bad is not None:
        # The pass stops at the first row that any cell or row rule rejects.
        select = (
            f"SELECT * FROM ({select}) WHERE CASE WHEN _bad THEN error('cosell: a bad row') ELSE true END"
        )
    try:
        # A fresh table's rowid is its row's place in the file (see _check_view), but for a file
        # with places: it is read on every thread, in any order, and its warnings' first rows
        # are found from its places (collect_warnings).
        lookups = dict(con.dialect.lookup_settings)
        with settings(con, lookups) if file.places is not None else nullcontext():
            if lean is not None:
                stored_in, count = _load_lean(con, table, select, at, import_id, lean)
            else:
                stored_in, count = table.name, _insert(con, table, select, at, import_id)
    finally:
        if file.format == "parquet":  # a CSV file is read where it is: nothing was staged
            con.execute(f"DROP TABLE IF EXISTS {parquet}")
    return Staged(table, file, stored_in, header, offset, count)


def _insert(con: Engine, table: Table, select: str, at: datetime, import_id: int) -> int:
    """Insert the converted rows of ``select`` into ``table`` as the first import's versions; how
    many."""
    inserted = con.execute(
        insert_versions_sql(table, select),
        [at, import_id],
    ).fetchall()
    return int(inserted[0][0]) if inserted else 0


def _load_lean(
    con: Engine, table: Table, select: str, at: datetime, import_id: int, unread: frozenset[str]
) -> tuple[str, int]:
    """The converted rows of ``select`` into a table of only the columns read (:data:`LEAN_PREFIX`
    and the table's name), and in the table's place a view of its whole shape over it: the unread
    columns and ``extra`` NULL, the version columns those of the first import's rows. Return the
    lean table's name and its rows. Every column DuckDB stores costs it time at every row, even
    one holding NULL or one value (measured in docs/benchmarks.md), so the view's constant
    columns are not stored. Inside the one pass's transaction: a refused pass leaves the table as
    it was."""
    lean = LEAN_PREFIX + table.name
    kept = [c for c in table.columns if c.name not in unread]
    made = con.execute(
        f"CREATE TABLE {lean} AS SELECT "
        + ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in kept)
        + f" FROM ({select})"
    ).fetchall()
    shape = [
        c.name if c.name not in unread else f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in table.columns
    ]
    shape += [
        "CAST(NULL AS VARCHAR) AS extra",
        f"CAST({lit(UNHASHED)} AS VARCHAR) AS _row_hash",
        f"CAST({ts(at)} AS TIMESTAMPTZ) AS _valid_from",
        "CAST(NULL AS TIMESTAMPTZ) AS _valid_to",
        f"CAST({int(import_id)} AS BIGINT) AS _import_id",
    ]
    con.execute(f"DROP TABLE {table.name}")
    con.execute(f"CREATE VIEW {table.name} AS SELECT {', '.join(shape)} FROM {lean}")
    return lean, int(made[0][0]) if made else 0


def _check_views(con: Engine, loaded: dict[str, Staged]) -> dict[str, tuple[Staged, str]]:
    """Each loaded table with its check view (:func:`_check_view`); the tables' first row ids
    are read in one statement."""
    if not loaded:
        return {}
    firsts = con.execute(
        "SELECT " + ", ".join(f"(SELECT coalesce(min(rowid), 0) FROM {s.relation})" for s in loaded.values())
    ).fetchall()[0]
    return {
        name: (staged, _check_view(con, staged, int(first)))
        for (name, staged), first in zip(loaded.items(), firsts, strict=True)
    }


def _check_view(con: Engine, staged: Staged, first: int) -> str:
    """The typed table (the table, or its lean table: :func:`_load_lean`) in the shape of
    :func:`cosell.data.validate.normalized_view`: ``_row``,
    ``c<i>`` per header column and ``n_<column>``, each the stored value as text. The checks that
    run over it read ids and text, which the table holds as the file's trimmed cells, and instants
    and flags only through :func:`cosell.data.validate.typed`, which gives back the stored value.
    A fresh table's ``rowid`` counts its rows in file order (one insert in file order), from 0
    once committed and from a large base while the first import's transaction is open: the row's
    record index is its ``rowid`` less the table's ``first``. Not so for a file with places (read
    in any order): there ``_row`` is only a row's number for the checks that refuse the pass, and
    its warnings' first rows come from its places (:func:`cosell.data.import_warnings.collect_warnings`).
    Only the columns those checks read are in it (:func:`cosell.data.import_warnings.checked_columns`):
    a small import plans without the optimizer, which would otherwise leave the others out."""
    checked = checked_columns(staged.table)
    raw = ", ".join(f"CAST({h} AS VARCHAR) AS c{i}" for i, h in enumerate(staged.header) if h in checked)
    normalized = [
        n
        for column, n in zip(staged.table.columns, normalized_columns(staged), strict=True)
        if column.name in checked
    ]
    view = f"_cosell_{staged.table.name}_n"
    rows = (
        f"(SELECT _rid - {first} + {staged.row_offset} AS _row, *, "
        f"{', '.join(normalized)} FROM (SELECT rowid AS _rid, {raw} FROM {staged.relation}))"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {with_instants(staged.table, rows, checked)}")
    return view


def _may_have_duplicates(con: Engine, tables: list[Staged]) -> list[str]:
    """The tables (of ``tables``, in their order) in which two rows may share a key: rows whose
    stored keys (the typed values :func:`cosell.data.validate.check_duplicates` compares) have
    the same 64-bit hash. Equal keys hash alike, so none means no duplicate, and
    :func:`~cosell.data.validate.check_duplicates` decides the rest. The hashes are sorted and each
    compared with the one before it: at twenty million keys, a sort of integers is several times
    cheaper than grouping them in a hash table. One statement answers for every table."""
    if not tables:
        return []
    parts = []
    for staged in tables:
        keys = staged.table.key
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        parts.append(
            f"SELECT {lit(staged.table.name)} AS name FROM (SELECT h = lag(h) OVER (ORDER BY h) AS again "
            f"FROM (SELECT hash({', '.join(keys)}) AS h FROM {staged.relation} WHERE {not_null})) "
            "WHERE again LIMIT 1"
        )
    found = {str(r[0]) for r in con.execute(" UNION ALL ".join(f"({p})" for p in parts)).fetchall()}
    return [t.table.name for t in tables if t.table.name in found]


def _cross_problem(con: Engine, staged: dict[str, Staged], policy: Policy) -> bool:
    """Whether :func:`cosell.data.cross_checks.check_cross` would find any problem in this import
    (without cascade, into an empty workspace): a reference to a key no file holds, or a closed
    deal with neither a close_date nor a stage_history entry into its stage. The same rules over
    the typed tables, which hold each cell as its check view's ``n_<column>`` (trimmed text, NULL
    for an empty cell): one anti-join per referenced key, of every reference to it at once,
    stopping at the first row found (a join costs the engine a fixed setup, which at a hundred
    deals outweighs its rows: 7 joins, not 27). Which rows and why is left to the canonical
    import, which runs when there is any."""
    users_present = "users" in staged  # the workspace is empty: only this import's users count
    references: dict[str, list[str]] = {}  # referenced key -> each reference to it, as a query
    for name in TABLE_NAMES:
        if name not in staged:
            continue
        source = staged[name]
        for column in source.table.columns:
            if not column.references or source.column(column.name) is None:
                continue
            if column.references.startswith("users.") and not users_present:
                continue
            references.setdefault(column.references, []).append(
                f"SELECT {column.name} AS k FROM {name} WHERE {column.name} IS NOT NULL"
            )
    found: list[str] = []
    for key, queries in references.items():
        target, target_column = key.split(".")
        found.append(
            f"SELECT 1 FROM ({' UNION ALL '.join(queries)}) s ANTI JOIN {target} t ON s.k = t.{target_column}"
        )
    closed = sorted(policy.won_stages | policy.lost_stages)
    if "opportunities" in staged and closed:
        found.append(
            "SELECT 1 FROM opportunities s ANTI JOIN stage_history h "
            "ON s.opportunity_id = h.opportunity_id AND s.stage = h.stage "
            f"WHERE s.stage IN {in_list(closed)} AND s.close_date IS NULL"
        )
    return bool(found) and bool(count_of(con, f"SELECT count(*) FROM ({' UNION ALL '.join(found)} LIMIT 1)"))


def _rows_of(loaded: dict[str, Staged], name: str) -> Callable[[], int | None]:
    """The rows a file made once it is loaded (for the profile log)."""
    return lambda: loaded[name].rows if name in loaded else None


def _drop_checks(con: Engine, staged: dict[str, tuple[Staged, str]]) -> None:
    for _, view in staged.values():
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute(f"DROP TABLE IF EXISTS {PROBLEMS}")
    con.execute(f"DROP TABLE IF EXISTS {WARNINGS}")
