"""Files and folders cosell writes: safe default names, and a clear error when a path cannot be written.

Default names (``cosell-cfo-2026-Q3.pdf``, ``cosell-statement-P012-2026-10.pdf``) are built by
:func:`file_name` from a slug of each part (:func:`slug`): an id comes from a CRM or a person, and
``../../escaped/P2`` must not put a statement outside the working folder. Writing goes through
:func:`write_file` and :func:`output_folder`: a folder where a file is expected is bad usage (exit 2);
a path that cannot be written (no such folder, a file in the way, no permission, a full disk) is a
:class:`~cosell.errors.CosellError` naming the path and the reason (exit 1), never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from cosell.errors import CosellError, UsageError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_PART = 80


def slug(text: str) -> str:
    """``text`` as one safe file-name part: ASCII letters, digits, ``.``, ``_`` and ``-`` are kept,
    each run of anything else (``/``, ``\\``, spaces, control characters) becomes ``_``, and leading
    or trailing ``.``, ``_``, ``-`` are dropped (no hidden file, no ``..``, nothing read as an option).

    >>> slug("../../escaped/P2"), slug("P012"), slug("Müller & Söhne"), slug("..")
    ('escaped_P2', 'P012', 'M_ller_S_hne', 'x')
    """
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:_MAX_PART].strip("._-")
    return cleaned or "x"


def file_name(*parts: str, ext: str) -> str:
    """A default file name: the slugs of ``parts`` joined by ``-``, then ``.ext``; always a plain name
    in the current folder (never a path).

    >>> file_name("cosell", "statement", "../../escaped/P2", "2026-10", ext="pdf")
    'cosell-statement-escaped_P2-2026-10.pdf'
    """
    return "-".join(slug(p) for p in parts) + "." + slug(ext)


def _no_file_in_the_way(path: Path) -> None:
    """Say which file stands where a folder must be made (the OS only says "Not a directory")."""
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise CosellError(f"cannot write {path}: {parent} is a file, not a folder")


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def write_file(path: Path, data: bytes, option: str = "--out") -> None:
    """Write ``data`` to ``path`` (creating its folder); ``option`` names where the path came from."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder: give a file name")
    _no_file_in_the_way(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise write_failed(path, _reason(exc)) from None


def writable_file(path: Path, option: str) -> Path:
    """Check, before the work starts, that ``path`` names a file in a folder cosell can write into
    (the folder is created); the file itself is written later."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder: give a file name")
    _no_file_in_the_way(path)
    output_folder(path.parent, option)
    return path


def write_failed(path: Path, reason: str) -> CosellError:
    """The error for a write that failed part-way (a full disk, a vanished folder)."""
    return CosellError(f"cannot write {path}: {reason}")


def output_folder(path: Path, option: str = "--out") -> Path:
    """Make sure ``path`` is a folder cosell can write into (creating it); return it."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a folder")
    _no_file_in_the_way(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".cosell-write-check"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise CosellError(f"cannot write into {path}: {_reason(exc)}") from None
    return path
