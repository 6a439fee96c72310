"""Files and folders cosell writes: safe default names, and a clear error when a path cannot be written.

Default names (``cosell-cfo-2026-Q3.pdf``, ``cosell-statement-P012-2026-10.pdf``) are built by
:func:`file_name` from a slug of each part (:func:`slug`): an id comes from a CRM or a person, and
``../../escaped/P2`` must not put a statement outside the working folder. Writing goes through
:func:`write_file` and :func:`output_folder`: a folder where a file is expected is bad usage (exit 2);
a path that cannot be written (no such folder, a file in the way, no permission, a full disk) is a
:class:`~cosell.errors.CosellError` naming the path and the reason (exit 1), never a traceback.

A file is made whole under a temporary name in its folder and renamed onto its path
(:func:`placed_whole`), so a write that fails part-way (a full disk) leaves the old file, or none,
and no temporary file. A path that is a symbolic link is refused (:func:`refuse_link`), the link and
what it points to left untouched: a link planted in a shared ``--out`` folder at the name a
statement will get (``cosell-statement-P012-2026-10.pdf -> ~/.bashrc``) must not make cosell
overwrite a file outside the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cosell.engine.base import EngineIOError
from cosell.errors import CosellError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from cosell.engine import Engine

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_PART = 80
_DIGEST = 12  # hex digits of the SHA-256 that tells apart ids cleaned alike
_HASHED = re.compile(r"-[0-9a-f]{12}$")


def slug(text: str) -> str:
    """``text`` as one safe file-name part: ASCII letters, digits, ``.``, ``_`` and ``-`` are kept,
    each run of anything else (``/``, ``\\``, spaces, control characters) becomes ``_``, and leading
    or trailing ``.``, ``_``, ``-`` are dropped (no hidden file, no ``..``, nothing read as an option).

    A ``text`` that had to change (or is too long, or ends like such a suffix) gets ``-`` and 12
    hex digits of its SHA-256: two ids that read the same once cleaned (``P/4`` and ``P_4``, ``-12``
    and ``12``, two long ids alike in their first 80 characters) never share a file name, and the
    second statement written never silently replaces the first. A plain id is kept as it is.

    >>> slug("../../escaped/P2"), slug("P012"), slug("Müller & Söhne"), slug("..")
    ('escaped_P2-3af4be4c1e69', 'P012', 'M_ller_S_hne-6d9a29bd7737', 'x-5ec1f7e700f3')
    >>> slug("P/4") != slug("P_4"), slug("-12") != slug("12")
    (True, True)
    """
    cleaned = _UNSAFE.sub("_", text).strip("._-")
    if text and cleaned == text and len(text) <= _MAX_PART and not _HASHED.search(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    kept = cleaned[: _MAX_PART - _DIGEST - 1].strip("._-") or "x"
    return f"{kept}-{digest}"


def file_name(*parts: str, ext: str) -> str:
    """A default file name: the slugs of ``parts`` joined by ``-``, then ``.ext``; always a plain name
    in the current folder (never a path).

    >>> file_name("cosell", "statement", "../../escaped/P2", "2026-10", ext="pdf")
    'cosell-statement-escaped_P2-3af4be4c1e69-2026-10.pdf'
    """
    return "-".join(slug(p) for p in parts) + "." + slug(ext)


def _no_file_in_the_way(path: Path) -> None:
    """Say which file stands where a folder must be made (the OS only says "Not a directory")."""
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise CosellError(f"cannot write {path}: {parent} is a file, not a folder")


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


@contextlib.contextmanager
def placed_whole(path: Path, *, replace: bool = True) -> Iterator[Path]:
    """A temporary path in ``path``'s folder for the body to create the file at (open it with mode
    ``"x"``/``"xb"``: a link planted at that name then fails instead of being followed); when the
    body ends normally the file is renamed onto ``path``. ``replace=False``: linked into place only
    where no file is yet (:class:`FileExistsError` when one is: it is kept). Whatever fails, in the
    body or the rename, the temporary file is removed and the error raised: :class:`OSError` for a
    failure to write. The rename replaces a link at ``path``, never writes through it.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with placed_whole(folder / "a.txt") as temporary:
    ...     _ = temporary.write_bytes(b"whole")
    >>> sorted(p.name for p in folder.iterdir()), (folder / "a.txt").read_bytes()
    (['a.txt'], b'whole')
    """
    temporary = path.with_name(_temporary_name(path.name))
    try:
        yield temporary
        if replace:
            _keep_mode(path, temporary)
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails when a file is there
    finally:
        # Gone once renamed; once linked, its second name is removed here; else what a failed write
        # left (if there is a folder to remove it from).
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


# The longest file name most file systems take, in bytes (NAME_MAX).
_NAME_MAX = 255


def _temporary_name(name: str) -> str:
    """``.<name>.<random>.tmp``, the name cut short where it would make the temporary name longer
    than a file name may be: a ``--out`` name of 250 characters is a file name the system takes, and
    its temporary one must be too.

    >>> len(_temporary_name("r" * 250)), _temporary_name("r.pdf")[:7], _temporary_name("r.pdf")[-4:]
    (255, '.r.pdf.', '.tmp')
    """
    random = os.urandom(6).hex()
    room = _NAME_MAX - len(f"..{random}.tmp")
    kept = os.fsencode(name)[:room].decode(errors="ignore") if len(os.fsencode(name)) > room else name
    return f".{kept}.{random}.tmp"


def _keep_mode(path: Path, temporary: Path) -> None:
    """Give the new file the permissions of the file it replaces: a statement kept private (0600)
    stays private when it is written again (a new file gets the umask's, as before)."""
    try:
        old = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISREG(old.st_mode):
        os.chmod(temporary, stat.S_IMODE(old.st_mode))


def refuse_link(path: Path) -> None:
    """Refuse a ``path`` that is a symbolic link (a dangling one too): cosell replaces files, it
    does not write through links to places the user did not name."""
    if path.is_symlink():
        raise CosellError(
            f"cannot write {path}: it is a symbolic link, and cosell does not write through links"
        )


@contextlib.contextmanager
def output_file(path: Path, option: str = "--out") -> Iterator[Path]:
    """Write a user-facing file whole: the checks of :func:`writable_file` (a link, a folder or a
    file in the way), its folder created, then a temporary path for the body to create the file at
    (mode ``"x"``), renamed onto ``path`` when the body ends; a failure to write is a
    :class:`~cosell.errors.CosellError` naming ``path`` and the reason, and leaves nothing behind."""
    writable_file(path, option, probe=False)
    with _placed_output(path) as temporary:
        yield temporary


def copy_query(con: Engine, query: str, path: Path, options: str, option: str = "--out") -> None:
    """Write the rows of ``query`` to ``path`` with the engine's ``COPY ... TO`` and its
    ``options`` (the format), whole (:func:`output_file`): a failure of the engine to write (a
    full disk, a folder removed meanwhile) is the error naming ``path``, and leaves nothing."""
    with output_file(path, option) as temporary:
        target = str(temporary).replace("'", "''")
        try:
            con.execute(f"COPY ({query}) TO '{target}' ({options})")
        except EngineIOError as exc:
            raise write_failed(path, str(exc).removeprefix("IO Error: ")) from None


@contextlib.contextmanager
def _placed_output(path: Path) -> Iterator[Path]:
    try:
        with placed_whole(path) as temporary:
            yield temporary
    except OSError as exc:
        raise write_failed(path, _reason(exc)) from None


def write_file(path: Path, data: bytes, option: str = "--out") -> None:
    """Write ``data`` to ``path`` whole (creating its folder, see :func:`output_file`); ``option``
    names where the path came from."""
    writable_file(path, option, probe=False)
    if path.exists() and not path.is_file():
        # A device or a pipe (``--out /dev/stdout``): there is no file to replace, and renaming onto
        # it would put a plain file where the device was.
        try:
            with path.open("wb") as f:
                f.write(data)
        except OSError as exc:
            raise write_failed(path, _reason(exc)) from None
        return
    with _placed_output(path) as temporary, temporary.open("xb") as f:
        f.write(data)


# A DuckDB database file (a workspace) holds "DUCK" after its header's 8-byte checksum.
_DATABASE_MAGIC, _DATABASE_MAGIC_AT = b"DUCK", 8


def is_database(path: Path) -> bool:
    """Whether ``path`` is a DuckDB database file (False when there is none, or none readable)."""
    try:
        with path.open("rb") as file:
            head = file.read(_DATABASE_MAGIC_AT + len(_DATABASE_MAGIC))
    except OSError:  # no such file (or none readable): nothing there to lose
        return False
    return head[_DATABASE_MAGIC_AT:] == _DATABASE_MAGIC


def refuse_database(path: Path, option: str) -> None:
    """Refuse an output ``path`` that is a DuckDB database: a workspace named by mistake
    (``report cfo --out cosell.duckdb``) would be replaced, with every import, run and ledger entry
    in it, by a report. Whichever workspace the command read, no output replaces one."""
    if is_database(path):
        raise UsageError(f"{option} {path} is a cosell workspace (a DuckDB database): give another file name")


def writable_file(path: Path, option: str, *, probe: bool = True) -> Path:
    """Check, before the work starts, that ``path`` names a file in a folder cosell can write into
    (the folder is created; ``probe``: and written into, once) and is no symbolic link; the file
    itself is written later."""
    refuse_link(path)  # first: a link to a folder is refused as a link
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder: give a file name")
    _no_file_in_the_way(path)
    if path.is_file():
        refuse_database(path, option)
    if probe:
        output_folder(path.parent, option)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_failed(path, _reason(exc)) from None
    return path


def not_an_input(path: Path, option: str, inputs: Mapping[str, str | Path | None]) -> None:
    """Refuse an output ``path`` that is one of the command's inputs (``inputs``: what each is, such
    as ``"the workspace"`` or ``"the --policy file"``, to its path; None or ``:memory:``: none): the
    output written there would replace what it was read from, a workspace by a text report.

    >>> import tempfile
    >>> policy = Path(tempfile.mkdtemp()) / "proposed.toml"
    >>> _ = policy.write_text("label = 'x'")
    >>> not_an_input(policy.parent / "." / "proposed.toml", "--out", {"the --policy file": policy})
    Traceback (most recent call last):
    cosell.errors.UsageError: --out .../proposed.toml is the --policy file: give another file name
    """
    for what, source in inputs.items():
        if source is None or str(source) == ":memory:":
            continue
        if _same_file(path, Path(source)):
            raise UsageError(f"{option} {path} is {what}: give another file name")


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names (a relative path, a link, a hard link), or one path not yet made."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def write_failed(path: Path, reason: str) -> CosellError:
    """The error for a write that failed part-way (a full disk, a vanished folder)."""
    return CosellError(f"cannot write {path}: {reason}")


def not_a_file(path: Path, option: str = "--out") -> None:
    """Refuse ``path`` (given by ``option``, or inside the folder it names) as a folder to write
    into when a file holds its name."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a folder")


def output_folder(path: Path, option: str = "--out") -> Path:
    """Make sure ``path`` is a folder cosell can write into (creating it); return it."""
    not_a_file(path, option)
    _no_file_in_the_way(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A name of its own, created exclusively: a link planted at a fixed probe name would be
        # followed (its target's time changed) before the probe is removed.
        probe = path / f".cosell-write-check.{os.urandom(6).hex()}"
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise CosellError(f"cannot write into {path}: {_reason(exc)}") from None
    return path


@contextlib.contextmanager
def removed_on_failure(
    folder: Path, parts: Sequence[str], said: Callable[[list[Path], list[Path]], None]
) -> Iterator[None]:
    """A command that builds ``parts`` (files or folders) in ``folder`` in several steps: when it
    fails (an error, Ctrl-C), what it made is removed (``folder`` itself when it did not exist
    before; else each part that did not), and ``said(removed, kept)`` is called with the paths
    removed and the parts found there before (left in place: they are not its to delete, though it
    may have rewritten them), before the failure goes on."""
    paths = [folder / part for part in parts]
    folder_before = os.path.lexists(folder)
    before = {path: os.path.lexists(path) for path in paths}
    try:
        yield
    except BaseException:
        made = [p for p in paths if not before[p]] if folder_before else [folder]
        removed: list[Path] = []
        for path in (p for p in made if os.path.lexists(p)):
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    path.unlink()
                removed.append(path)
        said(removed, [p for p in paths if before[p] and os.path.lexists(p)])
        raise
