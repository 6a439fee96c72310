"""DuckDB, the embedded default engine: the only module of cosell that imports ``duckdb``.

:class:`DuckDBEngine` implements :class:`cosell.engine.base.Engine` over one DuckDB connection; its
dialect is the reference one. :func:`open_duckdb` opens a workspace file the way cosell's commands
need: DuckDB lets either one process open a database file read-write or any number of processes
open it read-only, never both at once. So cosell's readers (reports, explain, history, lists, show,
statements, the ledger) open the workspace read-only and run side by side; a writer (an import, an
attribution run, a posting) has it to itself. A command that finds the file held in a conflicting
mode waits up to ``$COSELL_LOCK_TIMEOUT`` seconds (default :data:`DEFAULT_LOCK_TIMEOUT`) for it to be
released, then stops with :class:`~cosell.errors.WorkspaceBusy` naming the process that holds it
(DuckDB's lock error names its PID). Anything else that stops DuckDB from opening the file (a folder,
a file that is not a DuckDB database, a missing folder, no permission) becomes a
:class:`~cosell.errors.CosellError` naming the path and the reason, never a raw DuckDB error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# The compiled engine, which the duckdb package re-exports (``duckdb.connect is _duckdb.connect``,
# the same exception classes: tests/engine/test_duckdb_module.py holds them). The package adds, in
# Python, relations (``con.sql``) and scans of Arrow data, and reads its own version from its
# installed metadata: importing it takes 60 to 80 ms, a tenth of a run over a hundred deals that
# only executes statements. So this module runs on the compiled engine and imports the package
# where a relation or an Arrow scan is needed (:func:`_relational`).
import _duckdb

from cosell.engine.base import (
    DUCKDB,
    ConstraintViolation,
    Cursor,
    EngineError,
    EngineIOError,
    Params,
    ReadOnlyViolation,
    catalog_columns,
)
from cosell.engine.sql import lit
from cosell.errors import CosellError, UsageError, WorkspaceBusy

LOCK_TIMEOUT_ENV = "COSELL_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds: longer than a typical report, shorter than a person's patience
_POLL_SECONDS = 0.2
_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# DuckDB adds this when the holder has the file read-only (a reader): a writer must wait for it.
_HOLDER_READS = "would be able to open this database in read-only mode"
# A scratch file's row groups (DuckDB's default is 122,880 rows). Measured on the 20M touches of
# the 1M demo (docs/benchmarks.md): one typed insert takes about a fifth less at 61,440 rows,
# reading them back is no slower; 30,720 and 16,384 gain less.
SCRATCH_ROW_GROUP_ROWS = 61_440
# Every connection's settings: DuckDB never downloads an extension (a file it would read through
# one, a SQLite database given as the workspace, is refused instead; cosell reaches no network).
CONFIG: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False}
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Holder:
    """The process holding a workspace in a conflicting mode, as DuckDB's lock error names it."""

    pid: int
    program: str  # its command line when the system shows it, else the executable DuckDB names
    writing: bool  # True: it has the workspace open read-write; False: read-only

    def __str__(self) -> str:
        return f"process {self.pid} ({self.program})"


def lock_timeout() -> float:
    """Seconds to wait for a busy workspace: ``$COSELL_LOCK_TIMEOUT``, else 30; 0 means do not wait."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        seconds = Decimal(-1)
    if not seconds.is_finite() or seconds < 0 or seconds > 86_400:
        raise UsageError(f"{LOCK_TIMEOUT_ENV}: {text!r} is not a number of seconds from 0 to 86400")
    return float(seconds)


def _command_line(pid: int) -> str | None:
    """The holder's command line (``cosell import canonical data``), where /proc shows it."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    if not args:
        return None
    # "python /path/.venv/bin/cosell import ..." reads better as "cosell import ...".
    if len(args) > 1 and Path(args[0]).name.startswith("python") and not args[1].startswith("-"):
        args = args[1:]
    text = " ".join(" ".join([Path(args[0]).name, *args[1:]]).split())  # one line, whatever the args hold
    return text if len(text) <= 120 else text[:119] + "…"


def parse_holder(message: str, *, read_only: bool) -> Holder | None:
    """The holder named by a DuckDB lock error, or None when ``message`` is not one."""
    found = _LOCK_RE.search(message)
    if found is None:
        return None
    pid = int(found["pid"])
    program = _command_line(pid) or found["program"]
    # A reader conflicts only with a writer; a writer conflicts with either, and DuckDB says which.
    writing = read_only or _HOLDER_READS not in message
    return Holder(pid, program, writing)


def _reason(exc: _duckdb.Error) -> str:
    text = str(exc).split("\n")[0]
    for prefix in ("IO Error: ", "Connection Error: ", "Invalid Input Error: ", "Serialization Error: "):
        text = text.removeprefix(prefix)
    return text


def _refusal(path: str, exc: _duckdb.Error) -> CosellError:
    text = str(exc)
    if _starts_with(path, SQLITE_MAGIC):  # DuckDB would open it through an extension it lacks
        return CosellError(f"{path} is not a cosell workspace: it is a SQLite database")
    if "not a valid DuckDB database file" in text:
        return CosellError(f"{path} is not a cosell workspace: it is not a DuckDB database file")
    if "No such file or directory" in text:
        return CosellError(f"cannot open workspace {path}: the folder {Path(path).parent} does not exist")
    if "Permission denied" in text:
        return CosellError(f"cannot open workspace {path}: permission denied")
    return CosellError(f"cannot open workspace {path}: {_reason(exc)}")


def _starts_with(path: str, magic: bytes) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(magic)) == magic
    except OSError:
        return False


def _busy(path: str, holder: Holder, waited: float, read_only: bool) -> WorkspaceBusy:
    mode = "writing to" if holder.writing else "reading"
    wanted = "read" if read_only else "write to"
    return WorkspaceBusy(
        f"workspace {path} is busy: {holder} is {mode} it, so this command cannot {wanted} it; "
        f"waited {waited:g} s. Run it again when that command has finished (or set "
        f"{LOCK_TIMEOUT_ENV} to wait longer)"
    )


@dataclass
class _Attached:
    """A database attached to the process's host instance, and how many engines use it."""

    alias: str
    read_only: bool
    users: int = 1


class _Host:
    """The one DuckDB instance of this process, to which every workspace file it opens (and every
    in-memory database) is attached, each engine on its own connection whose default database is
    its file. A new DuckDB instance costs 15 to 18 ms (its catalog of built-in functions is built
    anew); attaching a file to a running one costs about 1 ms. A command opens its workspace once
    or twice, a process serving many workspaces (the test suite's workers, a service) thousands
    of times. Attached databases are shared: the same file opened twice is attached once and
    detached (checkpointed, its lock released) when its last engine closes."""

    def __init__(self) -> None:
        self._con: _duckdb.DuckDBPyConnection | None = None
        self._attached: dict[str, _Attached] = {}
        self._names = itertools.count(1)
        # Re-entrant: an engine dropped unclosed is released by its finalizer, which the garbage
        # collector may run in the middle of an attach or a release on the same thread.
        self._lock = threading.RLock()

    def _instance(self) -> _duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = _duckdb.connect(":memory:", config=CONFIG)
        return self._con

    def attach(self, path: str, *, read_only: bool) -> tuple[_duckdb.DuckDBPyConnection, str]:
        """A new connection whose default database is the file ``path`` (``:memory:``: a new,
        empty in-memory database), and the key that :meth:`release` takes. Raises DuckDB's error
        when the file cannot be attached (held by another process, not a database, missing)."""
        memory = path == ":memory:"  # a new database each time, never shared
        key = path if memory else os.path.realpath(path)
        with self._lock:
            host = self._instance()
            found = None if memory else self._attached.get(key)
            if found is not None and found.read_only and not read_only:
                raise CosellError(
                    f"cannot open workspace {path} to write: this process has it open read-only"
                )
            if found is None:
                alias = f"_cosell_{next(self._names)}"
                host.execute(f"ATTACH {lit(path)} AS {alias}{' (READ_ONLY)' if read_only else ''}")
                if not memory:
                    self._spill_beside(key)
                found = _Attached(alias, read_only)
                key = alias if memory else key
                self._attached[key] = found
            else:
                found.users += 1  # read-write serves a reader too, as DuckDB's own instances did
            con = host.cursor()
        try:
            con.execute(f"USE {found.alias}")
        except BaseException:
            self.release(key, con)
            raise
        return con, key

    def _spill_beside(self, path: str) -> None:
        """Spill to the folder DuckDB gives a database file of its own (``<file>.tmp``), not to
        the in-memory instance's default (``.tmp`` in the working directory). The folder is the
        instance's, and fixed once something has spilled: until then it follows the newest file
        attached, so a command's spills go beside its workspace."""
        with contextlib.suppress(_duckdb.NotImplementedException):  # already used: it stays
            self._instance().execute(f"SET temp_directory = {lit(path + '.tmp')}")

    def release(self, key: str, con: _duckdb.DuckDBPyConnection, *, keep: bool = True) -> None:
        """Close ``con``; detach its database when no other engine uses it, writing its last
        changes into the file first unless ``keep`` is False (a file about to be deleted)."""
        con.close()  # rolls back a transaction it left open
        with self._lock:
            found = self._attached[key]
            found.users -= 1
            if found.users == 0:
                del self._attached[key]
                host = self._instance()
                try:
                    # Set for each detach: the setting is the instance's, shared by every file.
                    host.execute(f"SET checkpoint_on_detach = '{'ENABLED' if keep else 'DISABLED'}'")
                    host.execute(f"DETACH {found.alias}")
                except _duckdb.Error as exc:  # the checkpoint could not write (a full disk): said, not raw
                    raise _translate(exc) from exc


_HOST = _Host()


def _connect(
    path: str,
    *,
    read_only: bool = False,
    timeout: float | None = None,
    on_wait: Callable[[Holder, float], None] | None = None,
) -> tuple[_duckdb.DuckDBPyConnection, str]:
    """Connect to the DuckDB file ``path`` (or ``:memory:``), waiting for a conflicting process;
    the connection and its key for :meth:`_Host.release`.

    ``timeout`` defaults to :func:`lock_timeout`; ``on_wait(holder, timeout)`` is called once when
    the wait starts (the CLI says who it waits for). Raises WorkspaceBusy when the holder has not
    let go in time, UsageError for a folder, CosellError for any other reason DuckDB gives.
    """
    if path == ":memory:":
        return _HOST.attach(path, read_only=False)
    if Path(path).is_dir():
        raise UsageError(
            f"workspace {path} is a folder: give a workspace file, e.g. {Path(path) / 'cosell.duckdb'}"
        )
    wait = lock_timeout() if timeout is None else timeout
    started: float | None = None
    while True:
        try:
            return _HOST.attach(path, read_only=read_only)
        except _duckdb.IOException as exc:
            holder = parse_holder(str(exc), read_only=read_only)
            if holder is None:
                raise _refusal(path, exc) from None
            # Durations, not instants: the monotonic clock is the right one (and never recorded).
            if started is None:
                started = time.monotonic()
                if on_wait is not None and wait > 0:
                    on_wait(holder, wait)
            waited = time.monotonic() - started
            if waited >= wait:
                raise _busy(path, holder, wait, read_only) from None
            time.sleep(min(_POLL_SECONDS, wait - waited))
        except _duckdb.Error as exc:
            raise _refusal(path, exc) from None


def _connect_scratch(path: str) -> _duckdb.DuckDBPyConnection:
    """Connect to the scratch file ``path`` (a ``--data`` run's workspace, in a temporary folder
    of this process's own: nobody else holds it) with row groups of :data:`SCRATCH_ROW_GROUP_ROWS`
    rows. The row group size is an option of ``ATTACH``, not of a connection, so the file is
    attached to an empty in-memory database and made the default one; the spill folder is set
    where DuckDB puts a file database's own (beside the file), not in the working directory.
    Nothing is synced to the disk (``fsync_mode``): the file outlives no crash of its process, and
    a commit's sync took 15 to 35 ms of a run over a hundred deals (a tenth of its import)."""
    con = _duckdb.connect(":memory:", config=CONFIG)
    try:
        con.execute("SET fsync_mode = 'NONE'")  # this database instance's only: the scratch file
        con.execute(f"SET temp_directory = {lit(path + '.tmp')}")
        con.execute(f"ATTACH {lit(path)} AS scratch (ROW_GROUP_SIZE {SCRATCH_ROW_GROUP_ROWS})")
        con.execute("USE scratch")
    except _duckdb.Error as exc:
        con.close()
        raise _refusal(path, exc) from None
    return con


class _ParsedStatements:
    """The statements a process has run, parsed once each: a text run again is executed from its
    parsed form, not parsed anew.

    Parsing is a share of what a small statement costs DuckDB: of the 34 steps of an engine run
    over a few deals, 80 ms as text and 51 ms parsed beforehand (docs/engine.md). A process runs
    the same texts again and again (a service's requests, a cached plan's steps, the as-of views),
    so the parsed forms of the texts used last are kept, up to :attr:`TEXT_BYTES` of their text (a
    parsed statement takes about 17 times its text's memory: 2 MiB of text, some 35 MiB). DuckDB
    executes a copy of one each time (its ``Statement``), so a parsed statement serves every
    connection and thread; parsing depends on the text alone (names are resolved when the copy is
    bound). A text holding several statements is executed as text."""

    TEXT_BYTES = 2 * 2**20

    def __init__(self) -> None:
        self._parsed: OrderedDict[str, Any] = OrderedDict()
        self._bytes = 0  # the kept texts' length
        self._lock = threading.Lock()

    def statement(self, con: _duckdb.DuckDBPyConnection, sql: str) -> Any:
        """``sql`` parsed (from the cache when it was parsed before), or the text itself when it
        holds more or fewer than one statement."""
        with self._lock:
            found = self._parsed.get(sql)
            if found is not None:
                self._parsed.move_to_end(sql)
                return found
        parsed = con.extract_statements(sql)
        kept = parsed[0] if len(parsed) == 1 else sql  # several statements: kept as text, not split again
        with self._lock:
            if sql not in self._parsed:  # (another thread may have kept it meanwhile)
                self._bytes += len(sql)
            self._parsed[sql] = kept
            while self._bytes > self.TEXT_BYTES:
                oldest, _ = self._parsed.popitem(last=False)
                self._bytes -= len(oldest)
        return kept


_PARSED = _ParsedStatements()


def _relational() -> None:
    """Import the duckdb package (once: later calls find it loaded): it gives the compiled
    engine's connections their relations and their scans of Arrow data."""
    import duckdb  # noqa: F401  (imported for what it sets up)


def _translate(exc: _duckdb.Error) -> EngineError:
    """DuckDB's error as the engine boundary's (the message kept)."""
    if isinstance(exc, _duckdb.ConstraintException):
        return ConstraintViolation(str(exc))
    if isinstance(exc, _duckdb.InvalidInputException) and "read-only" in str(exc):
        return ReadOnlyViolation(str(exc))
    if isinstance(exc, _duckdb.IOException):
        return EngineIOError(str(exc))
    return EngineError(str(exc))


@dataclass
class DuckDBEngine:
    """:class:`cosell.engine.base.Engine` over one DuckDB connection (a file or ``:memory:``)."""

    con: _duckdb.DuckDBPyConnection
    read_only: bool = False
    name: str = "duckdb"
    dialect: Any = DUCKDB
    _depth: int = field(default=0, init=False, repr=False)  # open transaction() blocks
    _after_transaction: list[str] = field(default_factory=list, init=False, repr=False)  # settings to restore
    _backend: Any = field(default=None, init=False, repr=False)
    present_tables: set[str] = field(default_factory=set, init=False, repr=False)
    found_in_transaction: set[str] = field(default_factory=set, init=False, repr=False)
    # Detaches a host-attached database (:class:`_Host`) on close, or when the engine is collected
    # unclosed (so a forgotten engine still lets go of its file, as a forgotten instance did).
    _release: weakref.finalize[..., DuckDBEngine] | None = field(default=None, init=False, repr=False)
    _key: str = field(default="", init=False, repr=False)  # the host's key for its database

    def execute(self, sql: str, params: Params = None) -> Cursor:
        try:
            statement = _PARSED.statement(self.con, sql)
            return self.con.execute(statement) if params is None else self.con.execute(statement, params)
        except _duckdb.Error as exc:
            raise _translate(exc) from exc

    @property
    def version(self) -> str:
        return software_version()

    def fetch_arrow(self, sql: str) -> Any:
        _relational()
        try:
            return self.con.sql(sql).to_arrow_table()
        except _duckdb.Error as exc:
            raise _translate(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        try:
            self.con.executemany(sql, rows)
        except _duckdb.Error as exc:
            raise _translate(exc) from exc

    def register(self, name: str, data: Any) -> None:
        _relational()
        self.con.register(name, data)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def after_transaction(self, statements: Sequence[str]) -> None:
        self._after_transaction.extend(statements)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _settings(self, statements: list[str]) -> None:
        for statement in statements:
            self.con.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: commit when the block ends normally, roll back on any exception.

        A block inside another joins it (DuckDB has no nested transactions): its writes commit or
        roll back with the outermost block, so a step that is all or nothing on its own (auto-tags,
        prompts) can also be one part of a larger all-or-nothing step (an import and its intake).
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.found_in_transaction.clear()
            self.execute("ROLLBACK")
            restore, self._after_transaction = self._after_transaction, []
            self._settings(restore)
            raise
        self._depth = 0
        self.execute("COMMIT")
        # What the transaction found is committed now, its own tables too.
        self.present_tables |= self.found_in_transaction
        self.found_in_transaction.clear()
        restore, self._after_transaction = self._after_transaction, []
        self._settings(restore)

    def columns(self, relations: Sequence[str]) -> list[tuple[str, str, str]]:
        """Each relation's columns as a query of none of its rows describes them: about 4 ms for the
        engine's ten inputs, where DuckDB's first catalog query of a connection takes 13 (a tenth
        of a run over a hundred deals). In a transaction, the catalog: a missing relation's
        error would abort it."""
        if self.in_transaction:
            return catalog_columns(self, relations)
        out: list[tuple[str, str, str]] = []
        for name in sorted(relations):
            try:
                cursor = self.con.execute(f'SELECT * FROM "{name}" LIMIT 0')
            except _duckdb.CatalogException:
                continue  # no such relation: the catalog lists nothing for it either
            out += [(name, str(column), str(kind)) for column, kind, *_ in cursor.description or ()]
        return out

    def ibis(self) -> Any:
        """The Ibis DuckDB backend over this connection (made once, on first use: importing and
        wiring Ibis costs a fraction of a second that most commands never need)."""
        if self._backend is None:
            import ibis

            self._backend = ibis.duckdb.from_connection(self.con)
        return self._backend

    def close(self, *, keep: bool = True) -> None:
        """Close the connection, and let go of its database when no other engine uses it.
        ``keep=False``: the file is thrown away next, so its last changes are not written into it
        (DuckDB's checkpoint, a fifth of a small test's time)."""
        if self._release is not None:
            if self._release.detach() is not None:  # not released already (closed, or collected)
                _HOST.release(self._key, self.con, keep=keep)
            return
        if not keep:
            with contextlib.suppress(_duckdb.ConnectionException):  # closed already
                self.con.execute("PRAGMA disable_checkpoint_on_shutdown")  # this instance's only
        self.con.close()


def open_duckdb(
    path: str,
    *,
    read_only: bool = False,
    timeout: float | None = None,
    on_wait: Callable[[Holder, float], None] | None = None,
    scratch: bool = False,
) -> DuckDBEngine:
    """The engine over the DuckDB file ``path`` (or ``:memory:``), in UTC, waiting for a process
    that holds the file in a conflicting mode (see the module docstring). ``scratch``: a file of
    this process's own, written once in bulk and thrown away (:func:`_connect_scratch`)."""
    key = None
    if scratch:
        con = _connect_scratch(path)
    else:
        con, key = _connect(path, read_only=read_only, timeout=timeout, on_wait=on_wait)
    engine = DuckDBEngine(con, read_only=read_only and path != ":memory:")
    if key is not None:
        engine._key = key
        engine._release = weakref.finalize(engine, _HOST.release, key, con)
    con.execute("SET TimeZone = 'UTC'")
    return engine


def software_version() -> str:
    """The version of the DuckDB engine that runs the SQL (:func:`cosell.engine.engine_version`)."""
    return str(_duckdb.__version__)


def memory_engine() -> DuckDBEngine:
    """A fresh in-memory engine (a ``--data`` run, a scratch computation)."""
    return open_duckdb(":memory:")
