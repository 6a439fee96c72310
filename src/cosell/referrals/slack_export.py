"""Reading a Slack export, a folder or the .zip Slack hands out, into ``{member name: bytes}``.

Only the files a referral needs are read: ``channels.json``, ``groups.json``, ``mpims.json``,
``dms.json``, ``users.json`` and the day files ``<channel folder>/<YYYY-MM-DD>.json``; anything else
in the export (integration_logs.json, canvases, uploaded files) is left unread. Nothing is ever
extracted to disk, and a member name is only ever a key: a name that climbs out of the export
(``../x.json``, ``/etc/x.json``, ``C:\\x.json``) or repeats is refused, as is a symbolic link in a
folder. Sizes are bounded before and while reading, so a zip whose headers understate its members
(a zip bomb) stops at the limit instead of filling memory.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from cosell.referrals.slack_messages import problem

# A day file is at most a day of one channel; a busy channel's day is a few megabytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_FILES = 100_000

INDEX_FILES = ("channels.json", "groups.json", "mpims.json", "dms.json", "users.json")
_DAY_FILE_RE = re.compile(r"^[^/\\]+/\d{4}-\d{2}-\d{2}\.json$")


def wanted(member: str) -> bool:
    """Whether ``member`` (a POSIX relative name) is an index file or a channel's day file."""
    return member in INDEX_FILES or _DAY_FILE_RE.match(member) is not None


def read_export_files(path: Path) -> dict[str, bytes]:
    """The export's index and day files, by their name inside the export (``enrique/2016-01-14.json``).

    ``path`` is the export folder or its .zip. Raises InputError (naming the path or member and the
    reason) for a missing path, a file that is no zip, an unsafe member name, a symbolic link, an
    encrypted member or one over the size limits, and an export with no channels.json."""
    if path.is_dir():
        files = _read_folder(path)
    elif path.is_file():
        if not zipfile.is_zipfile(path):
            raise problem(str(path), "is neither a Slack export folder nor a .zip file")
        files = _read_zip(path)
    else:
        raise problem(str(path), "does not exist")
    if "channels.json" not in files and not any(name in files for name in INDEX_FILES[1:4]):
        raise problem(str(path), "is not a Slack export: it has no channels.json")
    return files


def _read_folder(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for entry in _listing(root):
        if entry.is_symlink():
            raise problem(str(entry), "is a symbolic link; an export holds only plain files and folders")
        names = [entry] if entry.is_file() else _listing(entry) if entry.is_dir() else []
        for file in names:
            member = file.relative_to(root).as_posix()
            if not wanted(member):
                continue
            info = file.lstat()
            if not stat.S_ISREG(info.st_mode):
                raise problem(str(file), "is a symbolic link or not a plain file; refused")
            if info.st_size > MAX_FILE_BYTES:
                raise problem(str(file), f"is larger than the {MAX_FILE_BYTES:,} bytes a Slack file may be")
            total += info.st_size
            if total > MAX_TOTAL_BYTES or len(files) >= MAX_FILES:
                raise problem(str(root), f"holds more than {MAX_TOTAL_BYTES:,} bytes or {MAX_FILES:,} files")
            try:
                with file.open("rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except OSError as error:
                raise problem(str(file), f"cannot be read ({error.strerror or error})") from None
            if len(data) > MAX_FILE_BYTES:
                raise problem(str(file), f"is larger than the {MAX_FILE_BYTES:,} bytes a Slack file may be")
            files[member] = data
    return files


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as error:
        raise problem(str(folder), f"cannot be read ({error.strerror or error})") from None


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise problem(str(path), f"cannot be read as a zip ({error})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise problem(str(path), f"holds more than {MAX_FILES:,} files")
        names = [_safe_name(info.filename, path) for info in infos]
        prefix = _common_folder(names)
        seen: set[str] = set()
        files: dict[str, bytes] = {}
        total = 0
        for info, name in zip(infos, names, strict=True):
            if name in seen:
                raise problem(f"{path}/{name}", "appears twice in the zip; refused rather than pick one")
            seen.add(name)
            member = name[len(prefix) :]
            if not wanted(member):
                continue
            where = f"{path}/{name}"
            if info.flag_bits & 0x1:
                raise problem(where, "is encrypted; export the workspace again without a password")
            if info.file_size > MAX_FILE_BYTES:
                raise problem(where, f"is larger than the {MAX_FILE_BYTES:,} bytes a Slack file may be")
            try:
                with archive.open(info) as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as error:
                raise problem(where, f"cannot be read from the zip ({error})") from None
            if len(data) > MAX_FILE_BYTES:
                raise problem(where, f"is larger than the {MAX_FILE_BYTES:,} bytes a Slack file may be")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise problem(str(path), f"unpacks to more than {MAX_TOTAL_BYTES:,} bytes")
            files[member] = data
    return files


def _safe_name(name: str, path: Path) -> str:
    """A zip member's name, if it stays inside the export: relative, no ``..``, no backslash or
    drive; otherwise an InputError."""
    pure = PurePosixPath(name)
    if (
        "\\" in name
        or "\x00" in name
        or pure.is_absolute()
        or ".." in pure.parts
        or re.match(r"^[A-Za-z]:", name)
    ):
        raise problem(f"{path}", f'member "{name}" has an unsafe name (outside the export); refused')
    return pure.as_posix()


def _common_folder(names: list[str]) -> str:
    """``"Acme Slack export/"`` when every member sits in that one folder and channels.json is
    there (an export zipped again with its folder), else ``""``."""
    if any(n in INDEX_FILES for n in names):
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1 and all("/" in n for n in names):
        top = tops.pop()
        if any(f"{top}/{index}" in names for index in INDEX_FILES):
            return f"{top}/"
    return ""
