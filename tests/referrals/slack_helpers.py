"""The Slack fixtures of these tests, as files and as zips built at run time."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
EXPORT = FIXTURES / "export"
EVENTS = FIXTURES / "events"


def export_files() -> dict[str, bytes]:
    """The fixture export as ``{member name: bytes}``, members in sorted order."""
    return {p.relative_to(EXPORT).as_posix(): p.read_bytes() for p in sorted(EXPORT.rglob("*.json"))}


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def build_zip(target: Path, members: Iterable[tuple[str, bytes]]) -> Path:
    """A zip at ``target`` holding ``members`` in the order given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    target.write_bytes(buffer.getvalue())
    return target


def day_file(*messages: dict[str, Any]) -> bytes:
    return json.dumps(list(messages)).encode()


CHANNELS = json.dumps([{"id": "C9", "name": "partners"}]).encode()
USERS = json.dumps(
    [
        {"id": "U1", "name": "pat", "profile": {"real_name": "Pat Partner", "email": "pat@partnerco.com"}},
        {"id": "U2", "name": "rita", "profile": {"display_name": "Rita Rep", "email": "rita@ourco.com"}},
    ]
).encode()
