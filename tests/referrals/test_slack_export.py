"""Reading a Slack export folder or zip safely: what is read, what is refused, and the size limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cosell.errors import InputError
from cosell.referrals import slack_export
from cosell.referrals.slack_export import read_export_files
from cosell.referrals.slack_parse import parse_slack_export

from .slack_helpers import CHANNELS, USERS, build_zip, day_file, export_files

MESSAGE = day_file(
    {"type": "message", "user": "U1", "ts": "1772460000.000001", "text": "Lead\nCompany: Globex"}
)


def _refused(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        read_export_files(path)
    return str(raised.value)


def test_only_index_and_day_files_are_read(tmp_path: Path) -> None:
    members = [
        ("channels.json", CHANNELS),
        ("users.json", USERS),
        ("partners/2026-03-02.json", MESSAGE),
        ("integration_logs.json", b"not json at all"),  # never read, so never an error
        ("partners/notes.txt", b"\x00\xff"),
        ("canvases/F01.json", b"{"),
    ]
    files = read_export_files(build_zip(tmp_path / "x.zip", members))
    assert sorted(files) == ["channels.json", "partners/2026-03-02.json", "users.json"]
    (found,) = parse_slack_export(tmp_path / "x.zip")
    assert (found.source_ref, found.prospect_company) == ("C9/1772460000.000001", "Globex")


@pytest.mark.parametrize(
    "name",
    ["../channels.json", "/etc/channels.json", "partners/../../2026-03-02.json", "C:/x.json", "a\\b.json"],
)
def test_a_member_name_that_leaves_the_export_is_refused(tmp_path: Path, name: str) -> None:
    path = build_zip(tmp_path / "evil.zip", [("channels.json", CHANNELS), (name, MESSAGE)])
    assert _refused(path) == f'{path}: member "{name}" has an unsafe name (outside the export); refused'


def test_a_member_twice_is_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = build_zip(tmp_path / "twice.zip", [("channels.json", CHANNELS), ("channels.json", b"[]")])
    assert _refused(path) == f"{path}/channels.json: appears twice in the zip; refused rather than pick one"


def test_a_member_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build_zip(
        tmp_path / "big.zip", [("channels.json", CHANNELS), ("partners/2026-03-02.json", MESSAGE)]
    )
    monkeypatch.setattr(slack_export, "MAX_FILE_BYTES", len(MESSAGE) - 1)
    assert (
        _refused(path)
        == f"{path}/partners/2026-03-02.json: is larger than the {len(MESSAGE) - 1:,} bytes a Slack file may be"
    )


def test_an_export_over_the_total_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build_zip(
        tmp_path / "many.zip", [("channels.json", CHANNELS), ("partners/2026-03-02.json", MESSAGE)]
    )
    monkeypatch.setattr(slack_export, "MAX_TOTAL_BYTES", len(CHANNELS) + len(MESSAGE) - 1)
    assert "unpacks to more than" in _refused(path)


def test_a_folder_export_reads_the_same_members(tmp_path: Path) -> None:
    for name, data in export_files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "integration_logs.json").write_text("{")
    assert read_export_files(tmp_path) == export_files()


def test_a_symbolic_link_in_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "channels.json").write_bytes(CHANNELS)
    secret = tmp_path.parent / f"{tmp_path.name}-outside.json"
    secret.write_bytes(MESSAGE)
    (tmp_path / "partners").mkdir()
    os.symlink(secret, tmp_path / "partners" / "2026-03-02.json")
    assert _refused(tmp_path) == (
        f"{tmp_path}/partners/2026-03-02.json: is a symbolic link or not a plain file; refused"
    )


def test_what_is_not_an_export(tmp_path: Path) -> None:
    assert _refused(tmp_path / "nope") == f"{tmp_path / 'nope'}: does not exist"
    (tmp_path / "notes.txt").write_text("hello")
    assert (
        _refused(tmp_path / "notes.txt")
        == f"{tmp_path / 'notes.txt'}: is neither a Slack export folder nor a .zip file"
    )
    (tmp_path / "empty").mkdir()
    assert (
        _refused(tmp_path / "empty")
        == f"{tmp_path / 'empty'}: is not a Slack export: it has no channels.json"
    )


def test_a_folder_where_a_day_file_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "channels.json").write_bytes(CHANNELS)
    (tmp_path / "partners" / "2026-03-02.json").mkdir(parents=True)
    assert (
        _refused(tmp_path)
        == f"{tmp_path}/partners/2026-03-02.json: is a symbolic link or not a plain file; refused"
    )


def test_json_nested_beyond_reason_is_refused_not_a_crash(tmp_path: Path) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    path = build_zip(tmp_path / "deep.zip", [("channels.json", CHANNELS), ("partners/2026-03-02.json", deep)])
    with pytest.raises(InputError) as raised:
        parse_slack_export(path)
    assert (
        str(raised.value)
        == f"{path}/partners/2026-03-02.json: is nested too deeply to be a Slack export file"
    )
