"""A workspace is one DuckDB file (``./cosell.duckdb`` by default, or ``:memory:``).

Every canonical table is stored with its row versions (SCD type 2): a row is keyed by the table's
key; a re-import of an identical row changes nothing; a changed row closes the old version
(``_valid_to``) and adds a new one (``_valid_from``), so anything can be re-run as of an earlier
time. ``cur_<table>`` views show the current versions; :func:`as_of_views` builds views of the
versions known at an instant (and of the deals existing at the evaluation instant, :mod:`cosell.asof`).

The schema is versioned: :data:`MIGRATIONS` is an ordered list of SQL steps, and opening a workspace
applies the steps it has not seen, so a later release opens an older workspace.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cosell import clock
from cosell.engine import Engine, EngineError, open_engine
from cosell.errors import CosellError, WorkspaceBusy
from cosell.instants import format_instant
from cosell.store import template
from cosell.store.intake import (
    has_prompt_declarations,
    migration_intake,
    overlaid_opportunities_sql,
    version_filter,
)
from cosell.store.known import migration_known_at
from cosell.store.schema import TABLES, Table
from cosell.store.size import fit_to_size

OnWait = Callable[[Any, float], None]  # told who holds a busy workspace and how long to wait

DEFAULT_WORKSPACE = "cosell.duckdb"
WORKSPACE_ENV = "COSELL_WORKSPACE"

# Bookkeeping columns every versioned table carries after its own columns.
VERSION_COLUMNS = (
    ("extra", "VARCHAR"),  # unknown input columns, as a JSON object (kept, never interpreted)
    ("_row_hash", "VARCHAR NOT NULL"),  # hash of the row's values, to detect changes on re-import
    ("_valid_from", "TIMESTAMPTZ NOT NULL"),  # when this version was imported
    ("_valid_to", "TIMESTAMPTZ"),  # when a later version replaced it; NULL = current
    ("_import_id", "BIGINT NOT NULL"),
)


def table_ddl(table: Table) -> str:
    """CREATE TABLE for one canonical table with its version columns."""
    cols = [f"{c.name} {c.sql_type}" for c in table.columns] + [f"{n} {t}" for n, t in VERSION_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)})"


def current_view_ddl(table: Table) -> str:
    names = ", ".join(table.column_names)
    return (
        f"CREATE OR REPLACE VIEW cur_{table.name} AS "
        f"SELECT {names}, extra FROM {table.name} WHERE _valid_to IS NULL"
    )


def _migration_1(con: Engine) -> None:
    """Canonical tables, their current views, and the import log."""
    for table in TABLES:
        con.execute(table_ddl(table))
        con.execute(current_view_ddl(table))
    con.execute(
        """CREATE TABLE IF NOT EXISTS imports (
            import_id BIGINT PRIMARY KEY, imported_at TIMESTAMPTZ NOT NULL, source VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL, summary VARCHAR NOT NULL)"""
    )


def migration_import_reasons(con: Engine) -> None:
    """Why each import was recorded (``imports.reason``; empty for one recorded before the reason
    was). Idempotent."""
    con.execute("ALTER TABLE imports ADD COLUMN IF NOT EXISTS reason VARCHAR DEFAULT ''")


def _migration_reasons(con: Engine) -> None:
    """Schema step 18: why each import and each reconciliation was recorded (a ``reason`` column
    each; older rows read back with an empty one)."""
    migration_import_reasons(con)
    _step("review", "migration_reconciliation_reasons")(con)


def _step(module: str, name: str) -> Callable[[Engine], None]:
    """The migration step ``name`` of the store module ``module``, imported when it runs: a
    workspace is migrated once, and most commands open one that is (or copy the migrated
    template), so they never load the ledger's, the referrals' or the reviews' schema modules
    (8 ms of a run over a hundred deals)."""

    def run(con: Engine) -> None:
        getattr(importlib.import_module(f"cosell.store.{module}"), name)(con)

    run.__name__ = run.__qualname__ = name
    return run


# Ordered, append-only: never edit a released step; add a new one.
MIGRATIONS: tuple[tuple[int, str, Callable[[Engine], None]], ...] = (
    (1, "canonical tables, current views, import log", _migration_1),
    (2, "attribution runs, history, credits, overrides", _step("attribution_store", "migration_attribution")),
    (3, "attribution versions: run kind and scope, partial runs", _step("versions", "migration_versions")),
    (4, "declarations and influence prompts", migration_intake),
    (5, "reconciliation findings, decisions and disputes", _step("review", "migration_review")),
    (6, "compensation plan versions", _step("plans", "migration_plans")),
    (7, "pay ledger and payout runs", _step("ledger", "migration_ledger")),
    (
        8,
        "pay ledger: each posted deal as posted, and the change that caused its entries",
        _step("ledger", "migration_posted_deals"),
    ),
    (9, "attribution runs and reconciliations record the knowledge instant", migration_known_at),
    (
        10,
        "evidence and sourcing claims stored with each attribution version",
        _step("evidence_store", "migration_evidence"),
    ),
    (11, "referrals: every version, with who, when and why", _step("referrals", "migration_referrals")),
    (
        12,
        "deal registrations: who changed each, when, why, and the conflicts found",
        _step("referrals", "migration_registration_events"),
    ),
    (
        13,
        "the first stage entries the cohorts read, kept with full and incremental runs",
        _step("evidence_store", "migration_stage_entries"),
    ),
    (
        14,
        "attribution runs record the last import they read",
        _step("attribution_store", "migration_run_last_import"),
    ),
    (
        15,
        "attribution versions ordered by what their runs knew; each run names its chain's full run",
        _step("versions", "migration_version_order"),
    ),
    (
        16,
        "overrides: who withdrew each, when and why",
        _step("attribution_store", "migration_override_withdrawals"),
    ),
    (17, "plan versions: why each was loaded", _step("plans", "migration_plan_reasons")),
    (18, "imports and reconciliations: why each was recorded", _migration_reasons),
    (
        19,
        "re-tested deals stored as the change of their acceleration columns; the history as views",
        _step("retests", "migration_retests"),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def resolve_path(path: str | os.PathLike[str] | None) -> str:
    """The workspace path: the argument, else ``$COSELL_WORKSPACE``, else ``./cosell.duckdb``."""
    if path is not None:
        return str(path)
    return os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE


def connect(
    path: str, *, read_only: bool = False, on_wait: OnWait | None = None, scratch: bool = False
) -> Engine:
    """The engine over the workspace at ``path``, in UTC (timestamps without offset are UTC).

    Waits for a process holding the file in a conflicting mode (see
    :mod:`cosell.engine.duckdb_engine`). ``scratch``: see :func:`cosell.engine.open_engine`.
    """
    return open_engine(path, read_only=read_only, on_wait=on_wait, scratch=scratch)


@dataclass
class Workspace:
    """An open workspace: an engine (:mod:`cosell.engine`) with the schema at :data:`SCHEMA_VERSION`."""

    path: str
    con: Engine
    read_only: bool = False

    @property
    def schema_version(self) -> int:
        row = self.con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[Engine]:
        """All or nothing: commit when the block ends normally, roll back on any exception. A block
        inside another joins it (see :meth:`cosell.engine.base.Engine.transaction`)."""
        with self.con.transaction():
            yield self.con

    def next_import_id(self) -> int:
        row = self.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
        assert row is not None
        return int(row[0])

    def counts(self) -> dict[str, int]:
        """Current row count of every canonical table."""
        out: dict[str, int] = {}
        for table in TABLES:
            row = self.con.execute(f"SELECT count(*) FROM cur_{table.name}").fetchone()
            out[table.name] = int(row[0]) if row else 0
        return out


def migrate(con: Engine) -> list[int]:
    """Apply every migration the database has not seen yet, all in one transaction (the workspace
    moves from its version to the newest at once, or stays as it was); return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    seen = {int(r[0]) for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    pending = [m for m in MIGRATIONS if m[0] not in seen]
    if not pending:
        return []
    # One commit, not one per step: a new workspace (every ``--data`` run makes one) pays one
    # durable write instead of nine.
    with con.transaction():
        for version, description, step in pending:
            step(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, description, clock.now()])
    return [version for version, _, _ in pending]


def _stored_version(con: Engine, path: str) -> int | None:
    """The newest schema step applied, None for a new (empty) database; refuse a foreign one."""
    try:
        # A workspace answers this one cheap query; the catalog is read only when it fails.
        newest = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except EngineError:  # no schema_migrations: a new database, or not a workspace
        row = con.execute(
            f"SELECT count(*) FROM information_schema.tables WHERE {con.dialect.own_relations}"
        ).fetchone()
        if row and row[0]:
            raise CosellError(
                f"{path} is a DuckDB database but not a cosell workspace (it has tables and no schema_migrations)"
            ) from None
        return None
    return int(newest[0]) if newest and newest[0] is not None else None


def open_workspace(
    path: str | os.PathLike[str] | None = None,
    *,
    create: bool = True,
    read_only: bool = False,
    on_wait: OnWait | None = None,
    scratch: bool = False,
    from_template: bool = True,
) -> Workspace:
    """Open (and migrate) a workspace; with ``create=False`` a missing file is an error.
    ``scratch``: a workspace of this process's own, written once and thrown away (a ``--data``
    run's), see :func:`cosell.engine.open_engine`.

    A new workspace file is a copy of the migrated template (:mod:`cosell.store.template`, a
    fifth of the work of migrating it in place), its schema steps recorded as applied now;
    ``from_template=False``, or no template to be had, migrates it in place.

    ``read_only=True`` is how readers open it: any number of them run at once, beside no writer
    (see :mod:`cosell.engine.duckdb_engine`). A reader that finds an older schema has it migrated first, in
    a short read-write opening. ``on_wait(holder, seconds)`` is told when the file is busy and the
    opening waits for it.
    """
    resolved = resolve_path(path)
    memory = resolved == ":memory:"
    if not memory and not Path(resolved).exists() and (read_only or not create):
        raise CosellError(f"no workspace at {resolved}: run `cosell init` or `cosell import canonical DIR`")
    read_only = read_only and not memory
    if from_template and not memory and create and not read_only and not Path(resolved).exists():
        made = created_from_template(resolved, on_wait=on_wait, scratch=scratch)
        if made is not None:
            return made
    con = connect(resolved, read_only=read_only, on_wait=on_wait, scratch=scratch)
    try:
        # A new in-memory database is empty: asking it (a failed query, then the catalog) cost more
        # than copying the schema into it.
        version = None if memory else _stored_version(con, resolved)
        if memory and version is None:
            version = SCHEMA_VERSION if template.copy_into(con, SCHEMA_VERSION, _migrated_in_place) else None
        if version is not None and version > SCHEMA_VERSION:
            raise CosellError(
                f"workspace {resolved} has schema version {version}, newer than this cosell "
                f"understands ({SCHEMA_VERSION}): upgrade cosell"
            )
        if (version or 0) < SCHEMA_VERSION and read_only:
            con.close()
            con = connect(resolved, on_wait=on_wait)
            migrate(con)
            con.close()
            con = connect(resolved, read_only=True, on_wait=on_wait)
        elif not read_only and (version or 0) < SCHEMA_VERSION:
            migrate(con)
        fit_to_size(con)
    except BaseException:
        con.close()
        raise
    return Workspace(resolved, con, read_only)


def created_from_template(
    path: str, *, on_wait: OnWait | None = None, scratch: bool = False
) -> Workspace | None:
    """The new workspace at ``path`` (where no file is yet) made as a copy of the cached template
    (:mod:`cosell.store.template`) and opened, its schema steps recorded as applied now, as a
    migration in place records them. None, and nothing left at ``path``, when there is no cache
    folder or the copy cannot be placed or opened there: the caller migrates in place."""
    image = template.placed_copy(path, SCHEMA_VERSION, _migrated_in_place)
    if image is None:
        return None
    try:
        opened = open_workspace(path, on_wait=on_wait, scratch=scratch, from_template=False)
    except WorkspaceBusy:
        raise  # another process opened the placed workspace first: a whole one, not ours to remove
    except (EngineError, CosellError):
        # A template the engine does not open as a workspace: forget it, migrate in place.
        template.discard(path, image, SCHEMA_VERSION)
        return None
    try:
        # One statement: atomic without a transaction.
        opened.con.execute("UPDATE schema_migrations SET applied_at = ?", [clock.now()])
    except BaseException:
        opened.close()
        raise
    return opened


def _migrated_in_place(path: str) -> None:
    """Migrate the new, empty workspace file at ``path`` in place (the template is made so)."""
    open_workspace(path, from_template=False).close()


def as_of_views(
    con: Engine,
    known_at: datetime | None,
    prefix: str = "v_",
    *,
    existing_at: datetime | None = None,
    prompts: bool = True,
) -> None:
    """Create temp views ``<prefix><table>`` of each table as known at ``known_at`` (None = current).

    ``existing_at`` (the evaluation instant T, :mod:`cosell.asof`) leaves out the opportunities
    created after it: they did not exist yet at T. ``<prefix>opportunities`` carries the answered
    influence prompts known at ``known_at`` over the CRM fields (a rep's declaration, see
    :func:`cosell.store.intake.overlaid_opportunities_sql`); without any, it is the plain
    versioned rows. ``prompts=False``: the caller knows the workspace holds no answered prompt
    (a ``--data`` run's, which only an import wrote), so it is not looked up.
    """
    overlay = prompts and has_prompt_declarations(con, known_at)
    for table in TABLES:
        names = ", ".join(table.column_names)
        existing = ""
        if existing_at is not None and table.name == "opportunities":
            existing = f" AND created_at <= TIMESTAMPTZ '{format_instant(existing_at)}'"
        if overlay and table.name == "opportunities":
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {prefix}{table.name} AS SELECT {names}, extra "
                f"FROM ({overlaid_opportunities_sql(table.column_names, known_at)}) WHERE TRUE{existing}"
            )
            continue
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {prefix}{table.name} AS SELECT {names}, extra "
            f"FROM {table.name} WHERE {version_filter(known_at)}{existing}"
        )
