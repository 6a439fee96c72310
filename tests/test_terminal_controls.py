"""Text from data is shown, never obeyed: a name holding terminal escape sequences (clear the
screen, retitle the window) or a carriage return prints as visible pictures in every output for
people (tables, sentences, messages), while JSON keeps the data as it is."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.terminal import visible

sys.path.insert(0, str(Path(__file__).parent / "data"))
from import_fixtures import base_tables, write_dataset

HOSTILE = "Alpha\x1b]0;pwned\x07\x1b[2J\x9b31m\rEvil"
runner = CliRunner()
ENV = {"COSELL_NOW": "2026-11-02T09:00:00Z", "COLUMNS": "80", "COSELL_USER": "U1"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("controls")
    tables = base_tables()
    tables["partners"] = [dict(p, name=HOSTILE) if p["partner_id"] == "P1" else p for p in tables["partners"]]
    tables["opportunities"] = [dict(o, currency="USD") for o in tables["opportunities"]]  # no FX needed
    tables["accounts"] = [
        dict(a, name="North\rwind") if a["account_id"] == "A1" else a for a in tables["accounts"]
    ]
    folder = write_dataset(root / "in", tables)
    for name in ("partners", "accounts"):  # quoted, so that the carriage returns stay in their cells
        rows = tables[name]
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(rows)
    path = str(root / "ws.duckdb")
    for args in (["import", "canonical", str(folder)], ["attribute"]):
        done = runner.invoke(app, [*args, "-w", path], env=ENV)
        assert done.exit_code == 0, done.output
    return path


@pytest.mark.parametrize(
    ("args", "table"),
    [
        (["explain", "O1"], False),
        (["history", "O1"], False),
        (["report", "partners", "--period", "2026-Q2"], True),
    ],
)
def test_no_control_character_from_data_reaches_the_terminal(
    workspace: str, args: list[str], table: bool
) -> None:
    done = runner.invoke(app, [*args, "-w", workspace], env=ENV)
    assert done.exit_code == 0, done.output
    shown = done.output
    assert not any(c in shown for c in "\x1b\x07\r\x9b"), repr(shown)
    if args[0] != "history":  # the history names partners by id
        assert "␛]0;pwned␇␛[2J" in "".join(shown.split()), shown
    if table:  # measured as shown: each picture takes its cell, and nothing passes 80 columns
        assert max(len(line) for line in shown.splitlines()) <= 80
    if args[0] == "history":  # an amount for people is grouped, its digits exact
        assert "  credit  P1 sourcer 1.000000 48,000.00 USD" in shown


def test_json_keeps_the_data_as_it_is(workspace: str) -> None:
    done = runner.invoke(app, ["explain", "O1", "--format", "json", "-w", workspace], env=ENV)
    assert done.exit_code == 0, done.output
    assert any(HOSTILE in sentence for sentence in json.loads(done.output)["sentences"])


def test_visible_maps_one_character_to_one_and_leaves_text_alone() -> None:
    assert visible(HOSTILE) == "Alpha␛]0;pwned␇␛[2J\ufffd31m␍Evil"
    assert visible("Zoë\tS.A.\nRoma 北京 ‫") == "Zoë\tS.A.\nRoma 北京 ‫"
    assert len(visible("".join(map(chr, range(0x100))))) == 0x100
