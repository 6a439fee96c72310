"""A new temporary workspace is a copy of a migrated empty workspace kept in the cache folder
(cosell.store.template): made once, the same schema as a workspace migrated in place, and a damaged
or unusable template is made again rather than used."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell import clock
from cosell.cache_folder import CACHE_ENV
from cosell.errors import CosellError
from cosell.store import template
from cosell.store import workspace as ws_module
from cosell.store.workspace import SCHEMA_VERSION, Workspace, open_workspace

PACKAGE = Path(template.__file__).parents[1]


@pytest.fixture
def migrations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[int]]:
    """The cache folder is the test's own; each full migration of a new workspace is counted."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    counted: list[int] = []
    migrate = ws_module.migrate

    def counting(con: object) -> list[int]:
        applied = migrate(con)  # type: ignore[arg-type]
        counted.extend(applied[:1])
        return applied

    monkeypatch.setattr(ws_module, "migrate", counting)
    yield counted


def templates(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / template.TEMPLATE_FOLDER).glob("*.duckdb"))


def schema(ws: Workspace) -> list[tuple[object, ...]]:
    """Every table's and view's columns with their types, and every index and view definition."""
    columns = ws.con.execute(
        "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_catalog = current_database() ORDER BY ALL"
    ).fetchall()
    views = ws.con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND database_name = current_database() "
        "ORDER BY ALL"
    ).fetchall()
    indexes = ws.con.execute(
        "SELECT table_name, sql FROM duckdb_indexes() WHERE database_name = current_database() ORDER BY ALL"
    ).fetchall()
    constraints = ws.con.execute(
        "SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints() "
        "WHERE database_name = current_database() ORDER BY ALL"
    ).fetchall()
    versions = ws.con.execute(
        "SELECT version, description FROM schema_migrations ORDER BY version"
    ).fetchall()
    return [*columns, *views, *indexes, *constraints, *versions]


def test_a_copy_of_the_template_is_a_migrated_workspace(tmp_path: Path, migrations: list[int]) -> None:
    in_place = open_workspace(tmp_path / "in-place.duckdb", from_template=False)
    copied = open_workspace(str(tmp_path / "copied.duckdb"))
    assert copied.schema_version == SCHEMA_VERSION
    assert schema(copied) == schema(in_place)
    copied.con.execute("INSERT INTO imports VALUES (1, now(), 'test', 'me', '[]', 'why')")  # writable
    in_place.close()
    copied.close()
    assert [p.name for p in (tmp_path / "cache" / template.TEMPLATE_FOLDER).iterdir()] == [
        p.name for p in templates(tmp_path)
    ]  # no scratch or temporary file left


def test_a_new_memory_workspace_is_a_copy_of_the_template(tmp_path: Path, migrations: list[int]) -> None:
    in_place = open_workspace(tmp_path / "in-place.duckdb", from_template=False)
    assert migrations == [1]
    copies = [open_workspace(":memory:") for _ in range(2)]
    assert migrations == [1, 1]  # the template's migration; the copies need none
    for copied in copies:
        assert copied.schema_version == SCHEMA_VERSION
        assert schema(copied) == schema(in_place)
        attached = copied.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        assert (template._ATTACHED,) not in attached  # the template is let go once copied
        copied.con.execute("INSERT INTO imports VALUES (1, now(), 'test', 'me', '[]', 'why')")  # writable
    assert copies[1].con.execute("SELECT count(*) FROM imports").fetchall() == [(1,)]  # each its own
    for ws in [in_place, *copies]:
        ws.close()


def test_a_new_workspace_file_is_a_copy_of_the_template_its_steps_applied_now(
    tmp_path: Path, migrations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-folder" / "w.duckdb"
    with pytest.raises(CosellError, match=f"cannot open workspace {missing}: the folder .* does not exist"):
        open_workspace(missing)  # named as without a template
    assert migrations == []  # and none made for it
    monkeypatch.setenv("COSELL_NOW", "2026-01-02T00:00:00Z")
    in_place = open_workspace(tmp_path / "in-place.duckdb", from_template=False)
    open_workspace(":memory:").close()  # the template, made now
    monkeypatch.setenv("COSELL_NOW", "2026-03-04T05:06:07.000008Z")
    copies = [open_workspace(tmp_path / f"copied-{n}.duckdb") for n in range(2)]
    assert migrations == [1, 1]  # in place, then the template's; the copies need none
    for copied in copies:
        assert copied.schema_version == SCHEMA_VERSION
        assert schema(copied) == schema(in_place)
        # Recorded as a migration in place records its steps: when this workspace got them.
        assert copied.con.execute("SELECT DISTINCT applied_at FROM schema_migrations").fetchall() == [
            (clock.now(),)
        ]
        copied.con.execute("INSERT INTO imports VALUES (1, now(), 'test', 'me', '[]', 'why')")  # writable
    for ws in [in_place, *copies]:
        ws.close()
    reopened = open_workspace(tmp_path / "copied-0.duckdb", read_only=True)
    assert reopened.con.execute("SELECT count(*) FROM imports").fetchall() == [(1,)]
    reopened.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "copied-0.duckdb",
        "copied-1.duckdb",
        "in-place.duckdb",
    ]  # no temporary copy left beside them


def test_a_file_already_at_the_path_is_never_replaced_by_the_template(tmp_path: Path) -> None:
    open_workspace(str(tmp_path / "w0.duckdb")).close()  # a template to place
    taken = tmp_path / "taken.duckdb"
    taken.write_bytes(b"another process's workspace")
    assert ws_module.created_from_template(str(taken)) is None
    assert taken.read_bytes() == b"another process's workspace"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.duckdb", "w0.duckdb"]
    with pytest.raises(CosellError, match="does not exist"):  # as without a template
        open_workspace(tmp_path / "no-folder" / "w.duckdb")


def test_without_a_cache_folder_a_new_workspace_file_is_migrated(
    tmp_path: Path, migrations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    open_workspace(tmp_path / "w.duckdb").close()
    assert migrations == [1]
    with pytest.raises(CosellError, match="does not exist"):
        open_workspace(tmp_path / "no-folder" / "w.duckdb")


def test_without_a_cache_folder_a_memory_workspace_is_migrated(
    migrations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    ws = open_workspace(":memory:")
    assert ws.schema_version == SCHEMA_VERSION
    ws.close()
    assert migrations == [1]


def test_the_template_is_made_once(tmp_path: Path, migrations: list[int]) -> None:
    for n in range(3):
        open_workspace(str(tmp_path / f"w{n}.duckdb")).close()
    assert migrations == [1]  # the template's migration; the copies need none
    assert len(templates(tmp_path)) == 1
    assert not list(tmp_path.glob(".template-*"))  # the scratch file is removed


def test_a_damaged_template_is_made_again(tmp_path: Path, migrations: list[int]) -> None:
    open_workspace(str(tmp_path / "w0.duckdb")).close()
    (kept,) = templates(tmp_path)
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF
    kept.write_bytes(bytes(data))
    ws = open_workspace(str(tmp_path / "w1.duckdb"))
    assert ws.schema_version == SCHEMA_VERSION
    ws.close()
    assert migrations == [1, 1]
    (made,) = templates(tmp_path)
    assert hashlib.sha256(made.read_bytes()).hexdigest()[:16] in made.name  # whole again


def test_a_template_the_engine_cannot_open_is_dropped(tmp_path: Path, migrations: list[int]) -> None:
    # Whole by its digest, but not a database: the workspace is migrated in place instead.
    junk = b"not a database" * 100
    folder = tmp_path / "cache" / template.TEMPLATE_FOLDER
    folder.mkdir(parents=True)
    (
        folder / f"{template.template_key(SCHEMA_VERSION)}-{hashlib.sha256(junk).hexdigest()[:16]}.duckdb"
    ).write_bytes(junk)
    ws = open_workspace(str(tmp_path / "w.duckdb"))
    assert ws.schema_version == SCHEMA_VERSION
    ws.close()
    assert migrations == [1]
    assert templates(tmp_path) == []


def test_without_a_cache_folder_each_workspace_is_migrated(
    tmp_path: Path, migrations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    open_workspace(str(tmp_path / "w0.duckdb")).close()
    open_workspace(str(tmp_path / "w1.duckdb")).close()
    assert migrations == [1, 1]
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocked))  # a cache folder that cannot be written: no error
    ws = open_workspace(str(tmp_path / "w2.duckdb"))
    assert ws.schema_version == SCHEMA_VERSION
    ws.close()
    assert migrations == [1, 1, 1]


def test_the_key_covers_every_module_the_store_imports() -> None:
    sources = {p.resolve() for p in template.source_files()}
    for path in sorted((PACKAGE / "store").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("cosell"):
                continue
            # "from cosell import clock" imports cosell/clock.py; "from cosell.x import y", cosell/x.
            names = [a.name for a in node.names] if node.module == "cosell" else [""]
            for name in names:
                module = PACKAGE.joinpath(*(node.module or "").split(".")[1:], name)
                target = module / "__init__.py" if module.is_dir() else module.with_suffix(".py")
                assert target.resolve() in sources, (path.name, node.module, name)
