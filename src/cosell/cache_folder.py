"""The user's cache folder, where cosell keeps what it can always make again (compiled engine plans,
a migrated empty workspace) so that the next process need not.

The folder is ``$COSELL_CACHE_DIR``, else ``$XDG_CACHE_HOME/cosell``, else ``~/.cache/cosell``;
never the working folder. ``COSELL_CACHE_DIR=off`` (or ``none``, ``0``) keeps nothing on disk.
Each kind of thing has its own subfolder. A file is written whole under another name and renamed
into place, so a reader (another process) sees no file or a whole one; a folder that cannot be
written is no error (the caller goes on without the file). Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from cosell.outfiles import placed_whole

CACHE_ENV = "COSELL_CACHE_DIR"


def cache_folder(kind: str) -> Path | None:
    """Where files of ``kind`` go: ``$COSELL_CACHE_DIR/<kind>``, else the user's cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``) ``/cosell/<kind>``; None when ``$COSELL_CACHE_DIR``
    is ``off`` or there is no home folder."""
    chosen = (os.environ.get(CACHE_ENV) or "").strip()
    if chosen.lower() in ("off", "none", "0"):
        return None
    if chosen:
        return Path(chosen) / kind
    xdg = os.environ.get("XDG_CACHE_HOME") or ""
    if os.path.isabs(xdg):  # the XDG rule: a relative value is ignored
        return Path(xdg) / "cosell" / kind
    try:
        return Path.home() / ".cache" / "cosell" / kind
    except RuntimeError:  # no home folder: nothing is kept on disk
        return None


def write_then_rename(path: Path, write: Callable[[Path], object], *, replace: bool = True) -> bool:
    """Make ``path`` whole under another name in its folder (``write(temporary)`` creates the
    file), then rename it into place (:func:`cosell.outfiles.placed_whole`). False, and nothing
    left behind, when the folder cannot be written (``write`` raises :class:`OSError` for its own
    failures to write). ``replace=False``: linked into place only where no file is yet (False when
    one is: it is kept, never replaced)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with placed_whole(path, replace=replace) as temporary:
            write(temporary)
    except OSError:
        return False
    return True


def source_digest(paths: Iterable[Path]) -> str:
    """The digest of cosell source files, each by its path inside the package and its bytes: the
    part of a cached file's key that makes a changed module a new file."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
