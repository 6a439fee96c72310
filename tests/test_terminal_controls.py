"""Text from data is shown, never obeyed: a name holding terminal escape sequences (clear the
screen, retitle the window) or a carriage return prints as visible pictures in every output for
people (tables, sentences, messages), while JSON keeps the data as it is."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.shown import visible

sys.path.insert(0, str(Path(__file__).parent / "data"))
from import_fixtures import base_tables, write_dataset

HOSTILE = "Alpha\x1b]0;pwned\x07\x1b[2J\x9b31m\rEvil"
runner = CliRunner()
ENV = {"COSELL_NOW": "2026-11-02T09:00:00Z", "COLUMNS": "80", "COSELL_USER": "U1"}
# The reads are the local operator's (no user named): U1 is a rep, who may not read the league table.
READ_ENV: dict[str, str | None] = {**ENV, "COSELL_USER": None}


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
    done = runner.invoke(app, [*args, "-w", workspace], env=READ_ENV)
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
    assert visible("Zoë\tS.A.\nRoma 北京 שלום مرحبا") == "Zoë\tS.A.\nRoma 北京 שלום مرحبا"
    assert len(visible("".join(map(chr, range(0x100))))) == 0x100


# Each class of character that acts instead of showing, or shows as nothing (cosell.shown.visible).
BIDI_MARKS = "\u200e\u200f\u061c"  # LRM, RLM, ALM
BIDI_EMBEDDINGS = "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
BIDI_ISOLATES = "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # ZWSP, ZWNJ, ZWJ, word joiner, BOM
INVISIBLE_OPERATORS = "\u2061\u2062\u2063\u2064"
DEPRECATED_FORMAT = "".join(map(chr, range(0x206A, 0x2070)))
TAGS = "".join(map(chr, range(0xE0000, 0xE0080)))
C0_AND_DEL = "".join(chr(c) for c in [*range(0x20), 0x7F] if c not in (0x09, 0x0A))
C1 = "".join(map(chr, range(0x80, 0xA0)))
REPLACED = (
    BIDI_MARKS + BIDI_EMBEDDINGS + BIDI_ISOLATES + ZERO_WIDTH + INVISIBLE_OPERATORS + DEPRECATED_FORMAT + TAGS
)


@pytest.mark.parametrize(
    "characters",
    [BIDI_MARKS, BIDI_EMBEDDINGS, BIDI_ISOLATES, ZERO_WIDTH, INVISIBLE_OPERATORS, DEPRECATED_FORMAT, TAGS],
)
def test_visible_shows_bidi_controls_and_invisible_characters(characters: str) -> None:
    for c in characters:
        assert visible(f"Ac{c}me 1,250.00") == "Ac\ufffdme 1,250.00", hex(ord(c))


def test_visible_tells_apart_names_that_look_the_same() -> None:
    assert visible("Acme") != visible("Ac\u200bme")
    assert visible("Evil\u202e 00.052,1") == "Evil\ufffd 00.052,1"  # the digits stay in their order


# Text mixing any characters with those of the replaced classes (drawn from the list itself:
# st.characters() alone rarely draws them).
MIXED = st.lists(st.one_of(st.sampled_from(REPLACED + C0_AND_DEL + C1), st.characters())).map("".join)


@given(MIXED)
def test_visible_keeps_one_character_for_one_and_lets_none_of_them_through(text: str) -> None:
    shown = visible(text)
    assert len(shown) == len(text)
    assert not set(shown) & set(REPLACED + C0_AND_DEL + C1)
    assert all(s == t for s, t in zip(shown, text, strict=True) if t not in REPLACED + C0_AND_DEL + C1)


def test_a_bidi_override_in_a_partner_name_does_not_reach_the_table(tmp_path: Path) -> None:
    """The league table prints a name holding U+202E (which would make the amounts beside it read
    backwards) with the override shown as U+FFFD; --format json keeps the name as it is."""
    tables = base_tables()
    name = "Evil\u202e Partner\u200b"
    tables["partners"] = [dict(p, name=name) if p["partner_id"] == "P1" else p for p in tables["partners"]]
    tables["opportunities"] = [dict(o, currency="USD") for o in tables["opportunities"]]
    folder = write_dataset(tmp_path / "in", tables)
    path = str(tmp_path / "ws.duckdb")
    for args in (["import", "canonical", str(folder)], ["attribute"]):
        done = runner.invoke(app, [*args, "-w", path], env=ENV)
        assert done.exit_code == 0, done.output
    args = ["report", "partners", "--period", "2026-Q2", "-w", path]
    done = runner.invoke(app, args, env={**READ_ENV, "COLUMNS": "160"})
    assert done.exit_code == 0, done.output
    assert not set(done.output) & set(REPLACED), repr(done.output)
    line = next(line for line in done.output.splitlines() if "Evil" in line)
    assert "Evil\ufffd Partner\ufffd" in line and "48,000.00" in line, line
    as_json = runner.invoke(app, [*args, "--format", "json"], env=READ_ENV)
    assert as_json.exit_code == 0, as_json.output
    assert name in json.dumps(json.loads(as_json.output), ensure_ascii=False)


def test_explain_on_a_terminal_shows_the_controls_too(workspace: str) -> None:
    # On a terminal the sentences go through rich (wrapped between words), which would drop a bell
    # and read a carriage return as a line break before they could be shown.
    import io

    from cosell.cli import attribute_cmd
    from cosell.cli.common import TextConsole

    screen = io.StringIO()
    terminal = TextConsole(file=screen, force_terminal=True, width=80, color_system=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attribute_cmd, "console", terminal)
        done = runner.invoke(app, ["explain", "O1", "-w", workspace], env=ENV)
    assert done.exit_code == 0, done.output
    shown = screen.getvalue()
    assert not any(c in shown for c in "\x07\r\x9b"), repr(shown)
    assert "\x1b]" not in shown and "\x1b[2J" not in shown, repr(shown)
    assert "␛]0;pwned␇␛[2J" in "".join(shown.split()) and "North␍wind" in shown, shown
    assert max(len(line) for line in shown.splitlines()) <= 80
