"""A migrated empty workspace, kept in the user's cache folder and copied into each new temporary
workspace.

A ``--data`` run imports its dataset into a new workspace, and migrating a new workspace runs every
schema step (hundreds of DDL statements): a tenth of a second of a run over a hundred deals, the
same work with the same result every time. So the result is made once, kept as a file in the cache
folder (:mod:`cosell.cache_folder`, subfolder ``workspaces``) and copied. The file's name is
``<key>-<content digest>.duckdb``: the key is the digest of what makes the file (the source of the
store, which holds every migration, and of what the store imports, with the engine's version), and
the content digest finds a damaged file, which is removed and made again, like a file that the
engine cannot open. Without a cache folder, or one that cannot be written, each new workspace is
migrated in place as before.

A new in-memory workspace (``:memory:``, what most tests open) is given the template's schema the
same way: the template is attached read-only and copied into it (:func:`copy_into`). A new
workspace file (``cosell init``, the first import into a new ``-w`` path) is a copy of the file,
linked into place only where no file is (:func:`placed_copy`, which
:func:`cosell.store.workspace.open_workspace` calls for a new file): 20 to 30 ms against 90 for
migrating it in place. The store gives each call its schema version and its own migration (this
module knows nothing of a workspace but its file).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from cosell.cache_folder import cache_folder, source_digest, write_then_rename
from cosell.engine import Engine, EngineError, engine_version
from cosell.engine.sql import lit

TEMPLATE_FOLDER = "workspaces"
_ATTACHED = "_cosell_template"
# What the store imports besides itself (tests/test_architecture.py: what the store may import),
# as files or folders of cosell; tests/store/test_template.py holds the list to the store's imports.
STORE_REACHES = (
    "engine",
    "errors.py",
    "money.py",
    "instants.py",
    "clock.py",
    "results.py",
    "entries.py",
    "cache_folder.py",
)


def source_files() -> list[Path]:
    """The source a new workspace's schema is made from: the store and what it imports."""
    package = Path(__file__).parents[1]
    files: list[Path] = []
    for name in ("store", *STORE_REACHES):
        path = package / name
        files += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return files


# Migrates a new, empty workspace file at the path given, in place (the store's own migration).
MakeSchema = Callable[[str], None]


@functools.cache
def template_key(schema_version: int) -> str:
    """The digest of what makes the template: the schema version, the source of
    :func:`source_files` and the engine's version (a file is read back by the version that wrote it)."""
    made_of = f"{schema_version}\0{engine_version()}\0{source_digest(source_files())}"
    return hashlib.sha256(made_of.encode()).hexdigest()[:32]


def placed_copy(path: str, schema_version: int, make: MakeSchema) -> bytes | None:
    """Place a copy of the cached template (made first with ``make`` when there is none) at
    ``path``, where no file is yet; return its bytes. None, and nothing left at ``path``, when
    there is no cache folder or the copy cannot be placed there: the caller migrates in place.

    The copy is written under another name in the same folder and linked into place only if
    ``path`` is still free, so a process that created the workspace meanwhile keeps its own file
    (then this one is not placed and the caller opens that file, waiting for it as usual)."""
    folder = cache_folder(TEMPLATE_FOLDER)
    if folder is None:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        return None  # the caller's opening says why
    image = _template_image(folder, schema_version, make)
    placed = write_then_rename(target, lambda temporary: temporary.write_bytes(image), replace=False)
    return image if placed else None


def discard(path: str, image: bytes, schema_version: int) -> None:
    """Forget the cached template ``image`` and remove its copy placed at ``path`` (and its
    write-ahead log): the engine did not open it as a workspace, so it is made again next time."""
    folder = cache_folder(TEMPLATE_FOLDER)
    if folder is not None:
        _remove(folder, image, schema_version)
    _remove_database(Path(path))


def copy_into(con: Engine, schema_version: int, make: MakeSchema) -> bool:
    """Give the new, empty in-memory database of ``con`` the current schema: a copy of the cached
    template's (made first when there is none), read in place. About half the work of migrating
    it (every test that opens ``:memory:`` does). False, and the database left empty, when there
    is no cache folder or the copy fails: the caller migrates it."""
    folder = cache_folder(TEMPLATE_FOLDER)
    if folder is None:
        return False
    image = _template_image(folder, schema_version, make)
    try:
        con.execute(f"ATTACH {lit(str(folder / _name(image, schema_version)))} AS {_ATTACHED} (READ_ONLY)")
    except EngineError:  # not kept (a folder that cannot be written), or removed meanwhile
        return False
    try:
        with con.transaction():
            (target,) = con.execute("SELECT current_database()").fetchall()[0]
            con.execute(f"COPY FROM DATABASE {_ATTACHED} TO {target}")
    except EngineError:
        return False  # rolled back: empty again
    finally:
        con.execute(f"DETACH {_ATTACHED}")
    return True


def _template_image(folder: Path, schema_version: int, make: MakeSchema) -> bytes:
    """The cached template's bytes, made first (in a scratch folder of its own) when there is none."""
    image = _read_template(folder, schema_version)
    if image is None:
        scratch = Path(tempfile.mkdtemp(prefix="cosell-template-"))
        try:
            image = _make_template(folder, scratch / "template.duckdb", schema_version, make)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return image


def _read_template(folder: Path, schema_version: int) -> bytes | None:
    """The cached template's bytes; None when there is none or none whose content is whole (a
    damaged one is removed)."""
    try:
        candidates = sorted(folder.glob(f"{template_key(schema_version)}-*.duckdb"))
    except OSError:
        return None
    for candidate in candidates:
        try:
            image = candidate.read_bytes()
        except OSError:
            continue
        if candidate.name == _name(image, schema_version):
            return image
        candidate.unlink(missing_ok=True)  # damaged: made again
    return None


def _make_template(folder: Path, beside: Path, schema_version: int, make: MakeSchema) -> bytes:
    """Migrate an empty workspace into a scratch file beside ``beside`` (in the caller's folder),
    keep a copy of it in ``folder`` (when it can be written) and return its bytes."""
    scratch = beside.with_name(f".template-{beside.name}")
    try:
        # Migrated in place; closing writes everything into the one file.
        make(str(scratch))
        image = scratch.read_bytes()
    finally:
        _remove_database(scratch)
    write_then_rename(folder / _name(image, schema_version), lambda temporary: temporary.write_bytes(image))
    return image


def _name(image: bytes, schema_version: int) -> str:
    return f"{template_key(schema_version)}-{hashlib.sha256(image).hexdigest()[:16]}.duckdb"


def _remove(folder: Path, image: bytes, schema_version: int) -> None:
    with contextlib.suppress(OSError):
        (folder / _name(image, schema_version)).unlink(missing_ok=True)


def _remove_database(path: Path) -> None:
    """Remove a database file and its write-ahead log."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
