"""Golden cases: load a case folder into a workspace and run an implementation on it.

A case is a folder under ``tests/golden/`` with input CSVs named after the canonical tables (absent
tables are empty), ``expected_attribution.csv``, ``expected_credits.csv``, and optionally
``policy.toml`` and ``case.toml`` (``as_of``, ``model``).

Rows are imported with :func:`cosell.data.load.import_canonical`, the validated importer users run;
the property tests use the small direct loader below instead (parse each cell by its schema kind,
insert as one version known since 1970), for speed. Either way the rules then read the *current*
rows evaluated at the case's ``as_of``. A case is imported once per test process into a workspace
file, and each test reads a copy of it (:func:`case_workspace`); the generated worlds go into
``:memory:`` workspaces.
"""

from __future__ import annotations

import atexit
import csv
import functools
import hashlib
import io
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from build_once import build_once
from cosell.attribution.facts import Facts
from cosell.attribution.facts_read import load_facts
from cosell.attribution.reference import attribute_reference, decide_all
from cosell.data.load import import_canonical
from cosell.engine import Engine
from cosell.instants import format_instant, parse_instant
from cosell.money import parse_decimal
from cosell.policy import Policy, load_policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.store.schema import TABLES, TABLES_BY_NAME
from cosell.store.workspace import VERSION_COLUMNS, Workspace, as_of_views, open_workspace

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
DEFAULT_AS_OF = "2026-10-01T00:00:00Z"

Tables = Mapping[str, Sequence[Mapping[str, str]]]
Evidence = tuple[list[EvidenceRow], list[ClaimRow]]
Implementation = Callable[[Engine, Policy, datetime, str], tuple[list[AttributionRow], list[CreditRow]]]


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    as_of: datetime
    model: str
    policy: Policy


def case_names() -> list[str]:
    return sorted(p.name for p in GOLDEN_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))


def load_case(name: str) -> Case:
    path = GOLDEN_DIR / name
    settings: dict[str, Any] = {}
    if (path / "case.toml").exists():
        settings = tomllib.loads((path / "case.toml").read_text())
    policy = load_policy(path / "policy.toml") if (path / "policy.toml").exists() else Policy()
    return Case(
        name,
        path,
        parse_instant(str(settings.get("as_of", DEFAULT_AS_OF))),
        str(settings.get("model", "role_weighted")),
        policy,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [dict(row) for row in csv.DictReader(f)]


def read_tables(directory: Path) -> dict[str, list[dict[str, str]]]:
    """The input tables of a case folder, as text rows."""
    return {
        t.name: read_csv(directory / f"{t.name}.csv")
        for t in TABLES
        if (directory / f"{t.name}.csv").exists()
    }


def _cell(kind: str, text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if kind == "instant":
        return format_instant(parse_instant(text))
    if kind in ("money", "rate"):
        return str(parse_decimal(text))
    if kind == "bool":
        return text.lower() in ("true", "t", "yes", "y", "1")
    return text


def insert_tables(ws: Workspace, tables: Tables, import_id: int = 1) -> None:
    """The fallback loader: insert text rows as current versions (keyed upsert: the last row of a key wins).

    One INSERT per table (and a DELETE per row only when the table already holds rows): the
    property tests load a world per example, and a statement per row was most of that cost.
    """
    for name, rows in tables.items():
        table = TABLES_BY_NAME[name]
        columns = list(table.column_names)
        key_at = [columns.index(k) for k in table.key]
        latest: dict[object, list[Any]] = {}
        for n, row in enumerate(rows):
            values = [_cell(c.kind, row.get(c.name, "") or "") for c in table.columns]
            key_values = tuple(values[i] for i in key_at)
            # SQL's `k = NULL` matches nothing: a row with an empty key cell replaces no other row.
            key: object = ("row", n) if None in key_values else key_values
            latest.pop(key, None)  # the last row of a key wins, in the place it was inserted
            latest[key] = values
        if not latest:
            continue
        has_rows = ws.con.execute(f"SELECT count(*) FROM {name}").fetchone()
        if has_rows and has_rows[0]:
            where = " AND ".join(f"{k} = ?" for k in table.key)
            for values in latest.values():
                ws.con.execute(f"DELETE FROM {name} WHERE {where}", [values[i] for i in key_at])
        placeholders = ", ".join(
            f"CAST(? AS {c.sql_type})" if c.kind not in ("bool",) else "?" for c in table.columns
        )
        one = f"({placeholders}, NULL, 'golden', TIMESTAMPTZ '1970-01-01 00:00:00Z', NULL, {import_id})"
        extra = ", ".join(n for n, _ in VERSION_COLUMNS)
        batch = list(latest.values())
        for start in range(0, len(batch), 200):
            chunk = batch[start : start + 200]
            ws.con.execute(
                f"INSERT INTO {name} ({', '.join(columns)}, {extra}) VALUES {', '.join([one] * len(chunk))}",
                [v for values in chunk for v in values],
            )


def write_tables(directory: Path, tables: Tables) -> None:
    """Write text rows as canonical CSV files (header in schema order)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = TABLES_BY_NAME[name].column_names
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
        (directory / f"{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")


def import_tables(ws: Workspace, tables: Tables, policy: Policy, *, direct: bool = False) -> None:
    """Import text rows through the canonical importer (``direct``: the fast loader below, no validation)."""
    if direct:
        insert_tables(ws, tables)
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_tables(Path(tmp), tables)
        import_canonical(ws, Path(tmp), policy=policy)


def workspace_with(tables: Tables, policy: Policy, *, direct: bool = False) -> Workspace:
    """A new workspace with ``tables`` imported (``direct``: the fast loader without validation)."""
    ws = empty_workspace()
    import_tables(ws, tables, policy, direct=direct)
    return ws


def facts_of(ws: Workspace, policy: Policy) -> Facts:
    as_of_views(ws.con, None)
    return load_facts(ws.con, policy, make_views=False)


def run_reference(
    con: Engine, policy: Policy, as_of: datetime, model: str
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """The reference implementation on the current rows of a workspace, evaluated at ``as_of``."""
    as_of_views(con, None)
    return attribute_reference(load_facts(con, policy, make_views=False), policy, as_of, model)


def reference_evidence(con: Engine, policy: Policy, as_of: datetime, model: str) -> Evidence:
    """The evidence and claims the reference states, on the current rows evaluated at ``as_of``."""
    as_of_views(con, None)
    return evidence_of(load_facts(con, policy, make_views=False), policy, as_of, model)


def evidence_of(facts: Facts, policy: Policy, as_of: datetime, model: str) -> Evidence:
    """The evidence and claims the reference states on ``facts``, evaluated at ``as_of``."""
    decisions = decide_all(facts, policy, as_of, model)
    claims = [c for d in decisions for c in d.claim_rows()]
    return [d.evidence_row() for d in decisions], claims


def assert_same_evidence(expected: Evidence, actual: Evidence) -> None:
    """The engine's evidence rows and claims are exactly the reference's (docs/evidence.md)."""
    ref_rows, ref_claims = expected
    eng_rows, eng_claims = actual
    assert [r.opportunity_id for r in eng_rows] == [r.opportunity_id for r in ref_rows]
    for ref, eng in zip(ref_rows, eng_rows, strict=True):
        assert eng == ref, ref.opportunity_id
    assert eng_claims == ref_claims


def insert_overrides(ws: Workspace, rows: Sequence[Mapping[str, str]]) -> None:
    """Accepted overrides (``attribution_overrides.csv`` of a case) straight into their table."""
    for row in rows:
        withdrawn = row.get("withdrawn_at")
        ws.con.execute(
            "INSERT INTO attribution_overrides (override_id, opportunity_id, tier, partner_id, recorded_at, "
            "by_user, reason, source, withdrawn_at) VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, "
            "CAST(? AS TIMESTAMPTZ))",
            [
                row["override_id"],
                row["opportunity_id"],
                row["tier"],
                row.get("partner_id") or None,
                format_instant(parse_instant(row["recorded_at"])),
                row.get("by_user") or "golden",
                row.get("reason") or "golden case",
                row.get("source") or "manual",
                format_instant(parse_instant(withdrawn)) if withdrawn else None,
            ],
        )


def empty_workspace() -> Workspace:
    """A new, empty workspace of its own: a copy of one migrated once per test process (a fifth of
    the CPU of migrating a ``:memory:`` one, which the generated tests did for every example). The
    copy is deleted when the workspace is closed."""
    return _copy_of(_built_empty())


def case_workspace(case: Case) -> Workspace:
    """A workspace of its own holding a case's tables (and its overrides, if any).

    Imported once per test process (the validated importer, into a workspace file), then copied
    for each caller: the golden cases are read by five test files, and the copy takes a tenth of
    the import's time. The copy is deleted when the workspace is closed; write to it freely.
    """
    return _copy_of(_built_case(case))


def built_workspace(key: str, build: Callable[[Workspace], None]) -> Workspace:
    """A workspace of its own holding what ``build`` wrote into an empty one (rows, stored runs):
    built once per test process for each ``key`` (which must name everything ``build`` depends
    on), then copied for each caller, like :func:`case_workspace`. For the tests that start
    from the same stored world and each change it their own way."""
    path = _BUILT_WORLDS.get(key)
    if path is None:
        path = os.path.join(_built_cases(), f"world-{len(_BUILT_WORLDS)}.duckdb")
        _build_file(path, build)
        _BUILT_WORLDS[key] = path
    return _copy_of(path)


_BUILT_WORLDS: dict[str, str] = {}


def workspace_copy(ws: Workspace) -> Workspace:
    """A workspace of its own holding what the workspace file ``ws`` holds now (its tables and
    stored runs; not the connection's temp tables and views), deleted when closed."""
    ws.con.execute("CHECKPOINT")  # everything in the one file, which is then copied
    return _copy_of(ws.path)


def _copy_of(built: str) -> Workspace:
    fd, copy = tempfile.mkstemp(suffix=".duckdb", dir=_built_cases())
    os.close(fd)
    shutil.copyfile(built, copy)
    return _CopiedWorkspace(copy, open_workspace(copy).con)


@dataclass
class _CopiedWorkspace(Workspace):
    """A copy of a built case's workspace: gone when closed."""

    def close(self) -> None:
        # Thrown away: what it wrote need not be checkpointed into the file first (a file's close
        # otherwise does, a fifth of a generated example's CPU).
        self.con.close(keep=False)
        for path in (self.path, self.path + ".wal"):
            Path(path).unlink(missing_ok=True)


@functools.cache
def _built_cases() -> str:
    """This process's folder of built cases and their copies (removed when the process exits)."""
    folder = tempfile.mkdtemp(prefix="cosell-golden-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def _built_empty() -> str:
    path = os.path.join(_built_cases(), "empty.duckdb")
    open_workspace(path).close()  # closing writes everything into the one file
    return path


_BUILT: list[tuple[Case, str]] = []
# Set by tests/conftest.py: a folder of the test session's, where each case is built once for
# every xdist worker (under a lock), not once per worker.
SHARED_ENV = "COSELL_TEST_BUILT_CASES"


def _built_case(case: Case) -> str:
    """The workspace file of ``case`` as imported (its policy and overrides), built once per test
    session (shared by the workers) or, outside one, once per process."""
    for built, path in _BUILT:
        if built == case:  # the policy too: a Case holds one, and a dict is not hashable
            return path
    shared = os.environ.get(SHARED_ENV)
    if shared:
        path = _built_in_session(case, Path(shared))
    else:
        path = os.path.join(_built_cases(), f"{case.name}-{len(_BUILT)}.duckdb")
        _build_case(case, path)
    _BUILT.append((case, path))
    return path


def _built_in_session(case: Case, folder: Path) -> str:
    """The case's workspace in the session's shared folder, built by whichever worker asks first
    (an exclusive ``flock``; the others wait and read it). Named by a digest of the whole case (its
    policy by its version, a digest of its values); the mark written last says the file is whole
    (a failed build leaves none)."""
    made_of = "\0".join(
        (case.name, str(case.path), format_instant(case.as_of), case.model, case.policy.version)
    )
    name = f"{case.name}-{hashlib.sha256(made_of.encode()).hexdigest()[:16]}"
    path = folder / f"{name}.duckdb"
    build_once(folder, name, lambda: _build_case(case, str(path)))
    return str(path)


def _build_case(case: Case, path: str) -> None:
    """Import ``case`` into a new workspace file at ``path`` (nothing left there if it fails)."""

    def build(ws: Workspace) -> None:
        import_tables(ws, read_tables(case.path), case.policy)
        if (case.path / "attribution_overrides.csv").exists():
            insert_overrides(ws, read_csv(case.path / "attribution_overrides.csv"))

    _build_file(path, build)


def _build_file(path: str, build: Callable[[Workspace], None]) -> None:
    """Run ``build`` on a new workspace file at ``path`` and close it (closing writes everything
    into the one file); nothing left there if it fails."""
    for stale in (path, path + ".wal"):
        Path(stale).unlink(missing_ok=True)
    try:
        ws = open_workspace(path)
        try:
            build(ws)
        finally:
            ws.close()
    except BaseException:
        for partial in (path, path + ".wal"):  # a failed build is tried again, from nothing
            Path(partial).unlink(missing_ok=True)
        raise


def run_case(
    case: Case, implementation: Implementation = run_reference
) -> tuple[list[AttributionRow], list[CreditRow]]:
    ws = case_workspace(case)
    try:
        return implementation(ws.con, case.policy, case.as_of, case.model)
    finally:
        ws.close()


def expected(case: Case) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return read_csv(case.path / "expected_attribution.csv"), read_csv(case.path / "expected_credits.csv")


def as_dicts(rows: Sequence[AttributionRow | CreditRow], columns: Sequence[str]) -> list[dict[str, str]]:
    """Rows restricted to the columns an expected file has (so expected files may omit extras)."""
    out = []
    for row in rows:
        full = dict(zip(row.columns(), row.values(), strict=True))
        out.append({c: full[c] for c in columns})
    return out
