"""Help texts read as wrapped paragraphs at 80 columns: no sentence is broken where its docstring
had a hard line break (``which partner,`` then ``what evidence with dates`` on the next line while
the words would have fitted)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from cosell.cli.app import app, unwrap_help

runner = CliRunner()
WIDTH = 80
BORDER = "│"


def _command_paths() -> Iterator[tuple[str, ...]]:
    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    # The root loads a command when asked for it (cosell.cli.app.COMMAND_MODULES): ask for each.
    root = typer.main.get_command(app)
    context = typer.Context(root)
    yield ()
    for name in sorted(root.commands):
        yield from walk(root.get_command(context, name), (name,))


COMMANDS = list(_command_paths())


def _region(line: str) -> tuple[str, int]:
    """The text of a help line and the column its text may reach: inside a panel, up to the
    border less the panel's and the cell's padding; outside, up to the width."""
    if line.startswith(BORDER) and line.rstrip().endswith(BORDER):
        inner = line.rstrip()[1:-1]
        return inner, len(inner) - 2
    return line.rstrip(), WIDTH - 1


def hard_breaks(output: str) -> list[str]:
    """Pairs of lines where the second line's first word would have fitted on the first: a wrap
    that rich did not make, i.e. a line break copied from the source text. Only single-column text
    is judged (a line whose text from that column on has no gap of two spaces)."""
    found = []
    lines = output.splitlines()
    for first, second in itertools.pairwise(lines):
        text1, limit = _region(first)
        text2, limit2 = _region(second)
        if limit != limit2 or not text1.strip() or not text2.strip():
            continue
        start = len(text2) - len(text2.lstrip())
        if start == 0 or start >= len(text1) or text1[start - 1] != " " or text1[start] == " ":
            continue
        tail1, tail2 = text1[start:].rstrip(), text2[start:].rstrip()
        if "  " in tail1 or "  " in tail2 or not re.match(r"[\w(`'\"$-]", tail2):
            continue
        word = tail2.split(" ")[0]
        if len(text1.rstrip()) + 1 + len(word) <= limit:
            found.append(f"{first.rstrip()}\n{second.rstrip()}")
    return found


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "cosell")
def test_help_has_no_hard_line_breaks_at_80_columns(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": None})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= WIDTH
    assert hard_breaks(result.output) == []


def test_the_check_sees_a_hard_break() -> None:
    # The check itself: a copied line break is found, a wrap at the width is not.
    broken = " Explain one opportunity: which partner,\n what evidence with dates.\n"
    wrapped = " " + "word " * 15 + "\n which partner.\n"
    assert hard_breaks(broken)
    assert not hard_breaks(wrapped)


def test_unwrap_help_joins_lines_and_keeps_paragraphs() -> None:
    text = """First line
    goes on.

    Second paragraph
    also goes on.

    \b
    kept
    as is"""
    assert unwrap_help(text) == "First line goes on.\n\nSecond paragraph also goes on.\n\n\b\nkept\nas is"
