"""A workspace file cut short (a copy interrupted, a disk that filled) is met by users: every
command says so, naming the file, and never shows a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cosell.cli.app import app

ENV = {"COSELL_NOW": "2026-11-02T09:00:00Z", "COLUMNS": "80"}


def test_a_workspace_cut_short_is_an_error_naming_the_file(small_demo: Path, tmp_path: Path) -> None:
    size = small_demo.stat().st_size
    refused = []
    for share in (90, 60, 30):
        cut = tmp_path / f"cut-{share}.duckdb"
        shutil.copyfile(small_demo, cut)
        os.truncate(cut, size * share // 100)
        for command in (
            ["users"],
            ["report", "cfo", "--format", "json", "--out", str(tmp_path / "cfo.json")],
        ):
            done = CliRunner().invoke(app, [*command, "--workspace", str(cut)], env=ENV)
            where = f"{command[0]} on the file cut to {share}%"
            # Exit 0 (what it read was whole) or a refusal; never an exception out of the command.
            assert done.exception is None or isinstance(done.exception, SystemExit), (where, done.exception)
            if done.exit_code != 0:
                assert done.exit_code == 1, (where, done.output)
                assert done.output.startswith("error:") and str(cut) in done.output, (where, done.output)
                refused.append(done.output)
    # Some cuts leave the file openable but its rows unreadable: the engine's own read error.
    assert any("Could not read" in out for out in refused), refused
