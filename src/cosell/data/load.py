"""The canonical import: stage every file, validate it all, then apply it in one transaction.

::

    ws = open_workspace("cosell.duckdb")
    report = import_canonical(ws, "dataset/")            # raises ImportFailed, nothing applied
    report = import_canonical(ws, "dataset/", rejects="rejects.csv")   # good rows in, bad rows out

Rows are versioned (SCD type 2) by their table's key: an identical row changes nothing, a changed
row closes the current version (``_valid_to`` = the import time) and adds a new one. Cost rows
without a ``cost_id`` have no key: a file replaces those rows of every period it contains. Rows are
never deleted. The import time is ``now``, else ``$COSELL_NOW`` (ISO 8601), else the clock.

``versioned=False`` (used by :func:`load_dataset` for ``--data DIR`` runs into a throwaway
workspace, when its fast pass gives up) validates exactly the same way but writes the accepted rows straight in,
without hashing or comparing them: ``_row_hash`` is the placeholder :data:`~cosell.data.typed_rows.UNHASHED`. It applies
only to tables that are still empty; a table that already has rows is versioned as usual.

A row's hash is the md5 of its stored values as text (:func:`cosell.data.typed_rows.row_hash_sql`), so it need not be
computed when the row is written: :data:`~cosell.data.typed_rows.UNHASHED` stands for the hash of the stored values,
computed when a later import compares (:func:`cosell.data.typed_rows.stored_row_hash`). The first import into a new
workspace (:func:`cosell.data.fast_load.import_first`) leaves it so: hashing twenty million rows
would double its cost, for a comparison only a later import makes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from cosell import clock
from cosell.cells import safe_cell_sql, safe_text_sql
from cosell.data.cross_checks import check_cross, opportunity_accounts
from cosell.data.import_report import (
    ImportReport,
    TableCounts,
    collected_warnings,
    import_reason,
    import_user,
    table_order_sql,
)
from cosell.data.import_warnings import collect_warnings
from cosell.data.read import Staged, TableFile, find_table_files, stage_file
from cosell.data.typed_rows import insert_versions_sql, stored_row_hash, typed_select
from cosell.data.validate import (
    PROBLEMS,
    WARNINGS,
    check_cells,
    check_duplicates,
    create_result_tables,
    duplicated_files,
    normalized_view,
    table_order,
)
from cosell.engine import Engine, apply_settings, count_of, settings
from cosell.engine.sql import lit
from cosell.errors import CosellError, ImportFailed, Problem, UsageError
from cosell.instants import format_instant
from cosell.outfiles import copy_query, writable_file
from cosell.policy import Policy
from cosell.profiling import timed
from cosell.store.schema import TABLES, Table
from cosell.store.size import fit_to_size, small_workspace
from cosell.store.users import SET_SOURCE, check_directory_change, current_admins
from cosell.store.workspace import Workspace

NOW_ENV = clock.NOW_ENV
MEMORY_ENV = "COSELL_IMPORT_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"  # DuckDB spills to disk beyond this; keeps a 20M-row import under 4 GiB
DEFAULT_PROBLEM_LIMIT = 50
# A ``--data`` dataset of at most this many bytes is imported, attributed and written out under
# the engine's small-input settings (DuckDB: no optimizer, one thread): its statements cost more to
# plan than to run. About a thousand demo deals, the size up to which the engine's run is tuned
# alike (cosell.attribution.engine.SMALL_RUN_DEALS).
SMALL_DATASET_BYTES = 4 * 2**20
_STAGE_PREFIX = "_cosell_stage_"
_COST_TABLES = ("program_costs", "direct_costs")


def import_memory(con: Engine) -> AbstractContextManager[None]:
    """Within: the settings of a large dataset's import, as :func:`import_settings` gives them;
    then the workspace's own again, for its new size."""
    return _import_settings(con, small=False)


def _memory_limit() -> dict[str, str | None]:
    return {"memory_limit": os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}


def import_settings(con: Engine, files: dict[str, TableFile]) -> AbstractContextManager[None]:
    """Within: when ``files`` are a small dataset (:data:`SMALL_DATASET_BYTES`) going into a small
    workspace (:data:`cosell.store.size.SMALL_WORKSPACE_ROWS`), the engine's small-input settings
    (DuckDB: no optimizer, one thread), as a ``--data`` run of a small dataset has them; else the
    import's memory limit (``$COSELL_IMPORT_MEMORY``: DuckDB spills to disk beyond it) and the
    engine's large-input settings (DuckDB: a thread per core, also in a workspace that was small).
    Then the previous settings again, and after a large dataset the workspace's own for its new
    size (:func:`fit_to_size`)."""
    small = bool(con.dialect.small_input_settings) and is_small(files) and small_workspace(con)
    return _import_settings(con, small=small)


def export_import_settings(con: Engine, folder: Path) -> AbstractContextManager[None]:
    """Within: the settings of a CRM export's first import into an empty workspace, translated by
    the engine, as :func:`import_settings` gives a dataset's files: small when the export's files
    hold at most :data:`SMALL_DATASET_BYTES` (the translation's tables are relations, not files of
    a size). Its statements, like a small import's, cost more to plan than to run. Then the
    previous settings again, and after a large export the workspace's own for its new size."""
    small = bool(con.dialect.small_input_settings) and folder.is_dir()
    return _import_settings(con, small=small and _bytes_at_most(folder, SMALL_DATASET_BYTES))


@contextmanager
def _import_settings(con: Engine, *, small: bool) -> Iterator[None]:
    if small:
        # Far below the memory limit: setting it and back would be two statements of 1.4 ms (DuckDB
        # resizes its buffer pool). The workspace grows by a small dataset at most: its next
        # opening fits it to its size (cosell.store.size), not a size check here (0.75 ms).
        with settings(con, dict(con.dialect.small_input_settings)):
            yield
        return
    values = _memory_limit()
    values.update(con.dialect.large_input_settings)
    with settings(con, values):
        yield
    # An import that made a small workspace large leaves it with the engine's defaults.
    fit_to_size(con)


def _bytes_at_most(folder: Path, limit: int) -> bool:
    """Whether the files under ``folder`` hold at most ``limit`` bytes (counted no further)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_file():
            total += path.stat().st_size
            if total > limit:
                return False
    return True


def is_small(files: dict[str, TableFile]) -> bool:
    """Whether the files hold a small dataset (:data:`SMALL_DATASET_BYTES`): files on disk only."""
    return all(f.relation is None for f in files.values()) and (
        sum(f.path.stat().st_size for f in files.values()) <= SMALL_DATASET_BYTES
    )


def import_time(now: datetime | None = None) -> datetime:
    """The import's instant: ``now``, else ``$COSELL_NOW`` (ISO 8601), else the current UTC time."""
    return clock.now(now)


def import_canonical(
    workspace: Workspace,
    directory: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    rejects: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    problem_limit: int = DEFAULT_PROBLEM_LIMIT,
    on_file: Callable[[str], None] | None = None,
    by_user: str | None = None,
    versioned: bool = True,
    within: Callable[[datetime], None] | None = None,
    source: str | None = None,
    reason: str | None = None,
    partial: bool = False,
    translated: Collection[str] = (),
) -> ImportReport:
    """Import a folder of canonical files into ``workspace``, all or nothing.

    Without ``rejects`` any problem raises :class:`ImportFailed` (listing up to ``problem_limit``
    problems, with the exact total) and nothing is applied. With ``rejects`` the good rows are
    imported and each bad row, with every reason, is written to that CSV file; a row that refers to
    a rejected row is rejected too. ``on_file`` is called with each file name once it is staged.
    ``versioned=False`` skips the row hashes and version comparisons for tables that are empty
    (see the module docstring); the validation and the outcome are the same. ``within`` is called
    with the import instant inside the import's transaction, after the rows and the import log are
    written: what it writes commits with the import or not at all (the intake of
    :func:`cosell.hygiene.intake.import_with_intake`). ``source`` replaces ``canonical <folder>``
    in the import log (``cosell users set USER``); ``reason`` is why the import is recorded
    (:func:`cosell.data.import_report.import_reason`: without one, ``source`` when given, else
    ``cosell import canonical <folder>``). ``partial=True`` does not
    ask for the required tables (a directory change before any data is imported). ``translated``
    names the tables whose files cosell wrote from a CRM export (:attr:`TableFile.translated`).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a directory")
    policy = policy or Policy()
    at = import_time(now)
    why = import_reason(reason, source, folder, rejects)
    con = workspace.con
    staged: dict[str, tuple[Staged, str]] = {}
    # listed once: the settings, the one pass, the staging
    files, found = find_table_files(folder, translated)
    with import_settings(con, files):
        try:
            if rejects is None and versioned and not partial and files and not found:
                from cosell.data.fast_load import import_first  # (it imports this module)

                first = import_first(
                    workspace, files, policy, at, on_file=on_file, by_user=by_user, source_name=source,
                    reason=why, problem_limit=problem_limit, within=within,
                )  # fmt: skip
                if first is not None:
                    return first
            with timed("import stage"):
                problems = _stage_all(con, folder, files, found, staged, on_file, partial=partial)
            if problems:
                raise ImportFailed(problems[:problem_limit], len(problems), len(problems) > problem_limit)
            with timed("import validate"):
                _validate(con, staged, policy, cascade=rejects is not None)
            problem_total = count_of(con, f"SELECT count(*) FROM {PROBLEMS}")
            shown = _problems(con, problem_limit)
            if problem_total and rejects is None:
                raise ImportFailed(shown, problem_total, problem_total > problem_limit)
            warnings, warning_total = collected_warnings(con, problem_limit)
            if rejects is not None:
                _write_rejects(con, staged, Path(rejects))
            last = con.execute("SELECT max(imported_at) FROM imports").fetchone()
            if last and last[0] is not None and last[0] > at:
                raise CosellError(
                    f"import time {format_instant(at)} is before the last import ({format_instant(last[0])})"
                )
            who = by_user or import_user()
            admins_before = current_admins(con) if "users" in staged else frozenset[str]()
            with workspace.transaction():
                import_id = workspace.next_import_id()
                counts = tuple(
                    _timed_apply(con, staged[name], policy, import_id, at, versioned=versioned)
                    for name in _names(staged)
                )
                _check_users_changed(con, counts, admins_before, who, source)
                source = source or f"canonical {folder.resolve()}"
                summary = json.dumps([c.__dict__ for c in counts], sort_keys=True)
                con.execute(
                    "INSERT INTO imports (import_id, imported_at, source, by_user, summary, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [import_id, at, source, who, summary, why],
                )
                if within is not None:
                    with timed("import intake"):
                        within(at)
        finally:
            _drop_staging(con, staged)
    return ImportReport(
        import_id=import_id,
        imported_at=at,
        source=source,
        reason=why,
        tables=counts,
        warnings=tuple(warnings),
        warning_count=warning_total,
        problems=tuple(shown) if rejects is not None else (),
        problem_count=problem_total,
        rejects_file=str(rejects) if rejects is not None else None,
    )


def _check_users_changed(
    con: Engine, counts: tuple[TableCounts, ...], admins_before: frozenset[str], who: str, source: str | None
) -> None:
    """Refuse (rolling the import back) users added or changed by someone other than an admin, or
    a change that leaves no admin (:func:`cosell.store.users.check_directory_change`): an import of
    users.csv changes the directory as ``cosell users set`` does, under the same rule."""
    for count in counts:
        if count.table == "users" and (count.inserted or count.updated):
            by_set = source is not None and source.startswith(SET_SOURCE)
            check_directory_change(con, admins_before, who, None if by_set else count.file)


def load_dataset(
    directory: str | os.PathLike[str],
    policy: Policy | None = None,
    *,
    on_file: Callable[[str], None] | None = None,
    now: datetime | None = None,
    attribution_only: bool = False,
) -> Workspace:
    """A fresh temporary workspace holding the dataset in ``directory`` (for ``--data DIR`` runs),
    imported at ``now`` (:func:`import_time`); closing it removes it. ``attribution_only``: the
    workspace is made only to be attributed: the columns the attribution never reads are
    checked but not kept (:data:`cosell.data.fast_load.UNREAD_BY_ATTRIBUTION`), each table's
    rows are in a lean table behind a view of the table's name (without the version columns),
    and no warnings are collected (:func:`cosell.data.fast_load.import_fast`).

    The dataset is read in one typed pass per file (:mod:`cosell.data.fast_load`); when that finds
    anything wrong, the unversioned canonical import runs instead and reports every problem as
    it always does. ``on_file`` is called with each file name once it is read. The workspace of a
    small dataset (:data:`SMALL_DATASET_BYTES`) keeps the engine's small-input settings (DuckDB: no
    optimizer, one thread) for its life.
    """
    from cosell.data.fast_load import UNREAD_BY_ATTRIBUTION, import_fast, temporary_workspace

    folder = Path(directory)
    policy = policy or Policy()
    at = import_time(now)
    files, problems = find_table_files(folder) if folder.is_dir() else ({}, [])
    workspace = temporary_workspace()
    try:
        small = is_small(files)
        if small:
            # For the workspace's life: the import, and the attribution and files made from it.
            apply_settings(workspace.con, dict(workspace.con.dialect.small_input_settings))
        report = None
        if files and not problems:
            # A small dataset is far below the import's memory limit: setting it (and back) is
            # three statements for nothing.
            with nullcontext() if small else import_memory(workspace.con):
                unread = UNREAD_BY_ATTRIBUTION if attribution_only else None
                report = import_fast(workspace, files, policy, at, on_file=on_file, unread=unread)
        if report is None:
            import_canonical(workspace, folder, policy=policy, now=at, on_file=on_file, versioned=False)
    except BaseException:
        workspace.close()
        raise
    return workspace


def _names(staged: dict[str, tuple[Staged, str]]) -> list[str]:
    return sorted(staged, key=table_order)


def _stage_all(
    con: Engine,
    folder: Path,
    files: dict[str, TableFile],
    found: list[Problem],
    staged: dict[str, tuple[Staged, str]],
    on_file: Callable[[str], None] | None,
    *,
    partial: bool = False,
) -> list[Problem]:
    problems = list(found)  # the listing's, then each file's
    if not files and not problems:
        return [
            Problem(str(folder), None, None, None, "has no canonical table files (see docs/data-guide.md)")
        ]
    for table in TABLES:
        if (
            not partial
            and not table.optional
            and table.name not in files
            and not count_of(con, f"SELECT count(*) FROM cur_{table.name}")
        ):
            problems.append(
                Problem(
                    f"{table.name}.csv",
                    None,
                    None,
                    None,
                    f"missing: {table.name} is a required table and the workspace has none",
                )
            )
    for name in sorted(files, key=table_order):
        result = stage_file(con, files[name], _STAGE_PREFIX + name)
        if isinstance(result, list):
            problems += result
        else:
            staged[name] = (result, normalized_view(con, result))
        if on_file is not None:
            on_file(files[name].name)
    return problems


def _validate(con: Engine, staged: dict[str, tuple[Staged, str]], policy: Policy, *, cascade: bool) -> None:
    create_result_tables(con)
    for name in _names(staged):
        source, view = staged[name]
        with timed(f"import cells {name}"):
            check_cells(con, source, view, policy)
    with timed("import duplicates"):
        duplicated = duplicated_files(con, [staged[name] for name in _names(staged)], policy)
        for name in _names(staged):
            if name in duplicated:
                check_duplicates(con, staged[name][0], staged[name][1], policy)
    changed: set[str] | None = None
    while True:
        with timed("import cross-checks"):
            changed = check_cross(con, staged, policy, cascade=cascade, changed=changed)
        if not cascade or not changed:
            break
    if not cascade and count_of(con, f"SELECT count(*) FROM (SELECT 1 FROM {PROBLEMS} LIMIT 1)"):
        return  # the import fails: its warnings would never be shown
    for name in _names(staged):
        source, view = staged[name]
        with timed(f"import warnings {name}"):
            deals = opportunity_accounts(con, staged) if name == "deal_registrations" else None
            collect_warnings(con, source, view, policy, opportunity_accounts=deals)


def _problems(con: Engine, limit: int) -> list[Problem]:
    rows = con.execute(
        f"SELECT file, row, col, val, reason FROM {PROBLEMS} "
        f"ORDER BY {table_order_sql()}, row, col_order, reason LIMIT {int(limit)}"
    ).fetchall()
    return [Problem(str(f), None if r is None else int(r), c, v, str(reason)) for f, r, c, v, reason in rows]


def _drop_staging(con: Engine, staged: dict[str, tuple[Staged, str]]) -> None:
    for source, view in staged.values():
        con.execute(f"DROP VIEW IF EXISTS {view}")
        con.execute(f"DROP TABLE IF EXISTS {source.relation}")
    con.execute(f"DROP TABLE IF EXISTS {PROBLEMS}")
    con.execute(f"DROP TABLE IF EXISTS {WARNINGS}")


def _apply(
    con: Engine,
    source: Staged,
    view: str,
    policy: Policy,
    import_id: int,
    at: datetime,
    *,
    versioned: bool = True,
) -> TableCounts:
    """Write one staged file's accepted rows as new versions; close the versions they replace."""
    table = source.table
    rejected = count_of(con, f"SELECT count(DISTINCT row) FROM {PROBLEMS} WHERE tbl = {lit(table.name)}")
    accepted = source.rows - rejected
    if not versioned and not count_of(con, f"SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT 1)"):
        rows = typed_select(source, view, policy, hashed=False, filtered=rejected > 0)
        result = con.execute(
            insert_versions_sql(table, rows),
            [at, import_id],
        ).fetchone()
        inserted = int(result[0]) if result else 0
        return TableCounts(
            table.name, source.file.name, source.rows, inserted, 0, accepted - inserted, rejected
        )
    rows = typed_select(source, view, policy, filtered=rejected > 0)
    replaced = 0
    no_key_inserted = 0
    if table.name in _COST_TABLES:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _cosell_costs AS {rows}")
        rows = "SELECT * FROM _cosell_costs"
        replaced, no_key_inserted = _replace_costs_by_period(con, table, import_id, at)
        keyed = f"SELECT * FROM ({rows}) WHERE cost_id IS NOT NULL"
    else:
        keyed = rows
    inserted_total = _insert_versions(con, table, keyed, import_id, at)
    updated = _close_replaced(con, table, import_id, at)
    if table.name in _COST_TABLES:
        con.execute("DROP TABLE _cosell_costs")
    return TableCounts(
        table=table.name,
        file=source.file.name,
        read=source.rows,
        inserted=inserted_total - updated + no_key_inserted,
        updated=updated,
        unchanged=accepted - inserted_total - no_key_inserted,
        rejected=rejected,
        replaced=replaced,
    )


def _timed_apply(
    con: Engine, staged: tuple[Staged, str], policy: Policy, import_id: int, at: datetime, *, versioned: bool
) -> TableCounts:
    with timed(f"import apply {staged[0].table.name}"):
        return _apply(con, staged[0], staged[1], policy, import_id, at, versioned=versioned)


def _insert_versions(con: Engine, table: Table, rows: str, import_id: int, at: datetime) -> int:
    """Insert the rows whose key has no current version with the same hash; return how many."""
    on = " AND ".join(f"n.{k} = c.{k}" for k in table.key)
    current = (
        f"SELECT {', '.join(table.key)}, {stored_row_hash(table)} AS _row_hash FROM {table.name} "
        "WHERE _valid_to IS NULL"
    )
    # A first import of a table has nothing to compare with: skip the join (the largest cost).
    empty = not count_of(con, f"SELECT count(*) FROM ({current} LIMIT 1)")
    compare = "" if empty else f" ANTI JOIN ({current}) c ON {on} AND n._row_hash = c._row_hash"
    result = con.execute(
        insert_versions_sql(table, f"SELECT n.* FROM ({rows}) n{compare}"),
        [at, import_id],
    ).fetchone()
    return int(result[0]) if result else 0


def _close_replaced(con: Engine, table: Table, import_id: int, at: datetime) -> int:
    """Close the older current versions of the keys this import wrote; return how many."""
    if not count_of(
        con, f"SELECT count(*) FROM (SELECT 1 FROM {table.name} WHERE _import_id <> {int(import_id)} LIMIT 1)"
    ):
        return 0
    on = " AND ".join(f"{table.name}.{k} = n.{k}" for k in table.key)
    result = con.execute(
        f"UPDATE {table.name} SET _valid_to = ? "
        f"FROM (SELECT {', '.join(table.key)} FROM {table.name} WHERE _import_id = ?) n "
        f"WHERE {on} AND {table.name}._valid_to IS NULL AND {table.name}._import_id <> ?",
        [at, import_id, import_id],
    ).fetchone()
    return int(result[0]) if result else 0


def _replace_costs_by_period(con: Engine, table: Table, import_id: int, at: datetime) -> tuple[int, int]:
    """Cost rows without cost_id: a period whose rows differ from the current ones is replaced whole.

    Returns (old versions closed, new rows inserted).
    """
    changed = [
        str(r[0])
        for r in con.execute(
            f"""WITH periods AS (SELECT DISTINCT period FROM _cosell_costs),
            incoming AS (SELECT period, list(_row_hash ORDER BY _row_hash) AS h FROM _cosell_costs
                         WHERE cost_id IS NULL GROUP BY period),
            existing AS (SELECT period, list(h ORDER BY h) AS h FROM (
                             SELECT period, {stored_row_hash(table)} AS h FROM {table.name}
                             WHERE _valid_to IS NULL AND cost_id IS NULL) GROUP BY period)
            SELECT p.period FROM periods p LEFT JOIN incoming i USING (period)
            LEFT JOIN existing e USING (period) WHERE i.h IS DISTINCT FROM e.h ORDER BY 1"""
        ).fetchall()
    ]
    if not changed:
        return 0, 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cosell_periods AS SELECT unnest(?::VARCHAR[]) AS period", [changed]
    )
    closed = con.execute(
        f"UPDATE {table.name} SET _valid_to = ? WHERE _valid_to IS NULL AND cost_id IS NULL "
        "AND period IN (SELECT period FROM _cosell_periods)",
        [at],
    ).fetchone()
    inserted = con.execute(
        insert_versions_sql(
            table,
            "SELECT * FROM _cosell_costs WHERE cost_id IS NULL AND period IN (SELECT period FROM _cosell_periods)",
        ),
        [at, import_id],
    ).fetchone()
    con.execute("DROP TABLE _cosell_periods")
    return (int(closed[0]) if closed else 0), (int(inserted[0]) if inserted else 0)


def _write_rejects(con: Engine, staged: dict[str, tuple[Staged, str]], path: Path) -> None:
    """Each rejected row with all its original columns, then ``_file, _row, _column, _reason``
    (text cells escaped by :mod:`cosell.cells`)."""
    columns: list[str] = []
    for name in _names(staged):
        for header in staged[name][0].header:
            if header not in columns:
                columns.append(header)
    marks = ["_file", "_row", "_column", "_reason"]
    parts = []
    for name in _names(staged):
        source, view = staged[name]
        values = []
        kinds = {c.name: c.kind for c in source.table.columns}
        for header in columns:
            # The file's own text, escaped against formula injection (a person opens this file in
            # a spreadsheet to fix the rows); a plain number in a money or rate column stays one.
            cell = (
                safe_cell_sql(f"v.c{source.header.index(header)}", kinds.get(header) in ("money", "rate"))
                if header in source.header
                else "NULL::VARCHAR"
            )
            values.append(f'{cell} AS "{header.replace(chr(34), chr(34) * 2)}"')
        parts.append(
            f"""SELECT {", ".join(values)}, {lit(source.file.name)} AS _file, p.row AS _row,
                {safe_text_sql("p.cols")} AS _column, {safe_text_sql("p.reasons")} AS _reason,
                {table_order(name)} AS _t
            FROM {view} v JOIN (
                SELECT row, string_agg(col, '; ' ORDER BY col_order, reason) AS cols,
                    string_agg(CASE WHEN val IS NULL THEN '' ELSE '"' || val || '" ' END || reason, '; '
                               ORDER BY col_order, reason) AS reasons
                FROM {PROBLEMS} WHERE tbl = {lit(name)} GROUP BY row) p ON p.row = v._row"""
        )
    writable_file(path, "--rejects")
    names = ", ".join([f'"{c.replace(chr(34), chr(34) * 2)}"' for c in columns] + marks)
    if parts:
        query = f"SELECT {names} FROM ({' UNION ALL '.join(parts)}) ORDER BY _t, _row"
    else:
        query = (
            f"SELECT {names} FROM (SELECT {', '.join('NULL::VARCHAR AS ' + m for m in marks)}) WHERE false"
        )
    # A failure to write is an error before anything is imported (the import comes after).
    copy_query(con, query, path, "FORMAT csv, HEADER true, DELIMITER ','", "--rejects")
