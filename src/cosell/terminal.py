"""Tables on a terminal: the one renderer, in one style, of every command that prints a table.

>>> from io import StringIO
>>> from rich.console import Console
>>> out = Console(file=StringIO(), width=40)
>>> print_table(out, ["kind", "amount", "note"], [{"kind": "bonus", "amount": "1,000.00", "note": ""}])
>>> print(out.file.getvalue().rstrip())
kind     amount
───────────────
bonus  1,000.00

The rules, at any width of the console from 40 columns (the terminal, or ``$COLUMNS``):

- a number, an amount, a date, an instant or an id is never wrapped or cut: its column is at least
  as wide as its widest cell; text wraps between words (a word longer than 30 characters folds);
- a column empty in every row is not printed; the columns keep the order they are given in;
- when the columns do not fit, the *optional* ones are hidden (a note names them) and, when the
  rest still does not fit, each row is printed as a block of ``label: value`` lines.

Only the ``table`` format is rendered here; json and csv are written as they are, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from cosell.shown import visible

Cell = str | Text | None
Justify = Literal["left", "right"]

GAP = 2  # spaces between two columns
MIN_TEXT = 16  # a text column is never narrower than this (or its longest cell): below, blocks read better
LONGEST_WORD = 30  # a longer word in text may fold: it would force a table into blocks otherwise
# A number as the commands print it: 1,234.50, -63,922.60, 15.4%, 0.2312, 12,345.00 USD, 49.2 days.
NUMBER = re.compile(r"[-+]?(\d[\d,]*)?\.?\d+%?( [A-Z]{3}| days)?")
# A header breaks between words and after a hyphen ("Partner-" / "sourced"): headers are words
# for people, and a narrow column of numbers should not be widened by one long header word. A
# period or a date in a header ("Deals won 2026-Q2", "2026-08", "2026-07-01") stays whole.
_HEADER_PIECES = re.compile(r"\d{4}-(?:Q\d|\d\d)(?:-\d\d)?(?![\w-])|[^\s-]*-+|[^\s-]+")
_TRAILING_SPACES = re.compile(r" +(?=\n)")


@dataclass(frozen=True)
class TableColumn:
    """One column: which key of the row it shows, and how.

    ``label`` defaults to the key with spaces for underscores (so a header can wrap between words);
    ``justify`` defaults to right for a column of numbers, left otherwise; ``wrap`` (default: text
    with spaces wraps, anything else does not) forces a column to wrap or not; an ``optional``
    column is the first hidden when the table does not fit (the last optional one first).
    """

    key: str
    label: str = ""
    justify: Justify | None = None
    wrap: bool | None = None
    optional: bool = False

    @property
    def header(self) -> str:
        return self.label or self.key.replace("_", " ")


@dataclass(frozen=True)
class _Measured:
    column: TableColumn
    cells: tuple[str, ...]
    right: bool
    least: int  # the narrowest width that breaks no number, id, date or word (nor a header word)
    cells_natural: int  # the width that puts every cell on one line
    natural: int  # the width that puts every cell and the header on one line


def _visible_cell(cell: Cell) -> Cell:
    if isinstance(cell, Text):
        shown = cell.copy()
        shown.plain = visible(cell.plain)
        return shown
    return visible(cell) if isinstance(cell, str) else cell


def without_trailing_spaces(text: str) -> str:
    """``text`` with no line ending in spaces: rich pads a table's last column and a wrapped line
    to the width, which is invisible on a terminal but noise in a file, a pipe or a forwarded
    report (and in a diff of two of them)."""
    return _TRAILING_SPACES.sub("", text)


def plain(cell: Cell) -> str:
    """A cell's text without styles ("" for None)."""
    if cell is None:
        return ""
    return cell.plain if isinstance(cell, Text) else str(cell)


def is_number(text: str) -> bool:
    """Is this cell a number, an amount or a percent (right-justified, never wrapped)?

    >>> [is_number(t) for t in ("-1,234.50", "12,345.00 USD", "15.4%", "49.2 days", "2026-Q3", "n/a")]
    [True, True, True, True, False, False]
    """
    return NUMBER.fullmatch(text.strip()) is not None


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def _longest_word(text: str) -> int:
    """The widest word, the first one with the indentation before it (kept on its line)."""
    longest = max((cell_len(word) for word in text.split()), default=0)
    first = text.split(maxsplit=1)[:1]
    indent = len(text) - len(text.lstrip(" ")) if first else 0
    return max(longest, indent + cell_len(first[0]) if first else 0)


def _measure(column: TableColumn, cells: tuple[str, ...]) -> _Measured:
    present = [c for c in cells if c.strip()]
    numbers = bool(present) and all(is_number(c) for c in present)
    wraps = column.wrap
    if wraps is None:
        wraps = not numbers and any(len(c.split()) > 1 for c in present)
    widest = max((_width(c) for c in cells), default=0)
    if wraps:
        longest = min(max((_longest_word(c) for c in cells), default=0), LONGEST_WORD)
        least = max(longest, min(widest, MIN_TEXT))
    else:
        least = widest
    header = column.header
    least = max([least, 1, *(cell_len(piece) for piece in _HEADER_PIECES.findall(header))])
    right = column.justify == "right" if column.justify else numbers
    return _Measured(column, cells, right, least, widest, max(widest, _width(header), 1))


def _fit(columns: Sequence[_Measured], width: int) -> list[int] | None:
    """Each column's width within ``width``, or None when even the narrowest widths do not fit.

    The room goes first to the cells, then to the headers (a header wraps on a few lines once; a
    cell that wraps does so on every row): see :func:`_level`.
    """
    budget = width - GAP * (len(columns) - 1)
    least = [m.least for m in columns]
    if sum(least) > budget:
        return None
    cells = _level(least, [max(m.least, m.cells_natural) for m in columns], budget)
    return _level(cells, [max(w, m.natural) for w, m in zip(cells, columns, strict=True)], budget)


def _level(floor: list[int], ceiling: list[int], budget: int) -> list[int]:
    """Widths between ``floor`` and ``ceiling`` that sum to at most ``budget``: every column at
    ``max(floor, min(ceiling, level))`` for the highest level that fits, so the widest contents
    wrap first; what the level leaves over goes to the earliest columns still short."""

    def at(level: int) -> list[int]:
        return [max(f, min(c, level)) for f, c in zip(floor, ceiling, strict=True)]

    low, high = 0, max(ceiling)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if sum(at(mid)) <= budget else (low, mid - 1)
    widths = at(low)
    spare = budget - sum(widths)
    for i, c in enumerate(ceiling):
        if spare and widths[i] < c:
            widths[i] += 1
            spare -= 1
    return widths


def _wrap_header(header: str, width: int) -> str:
    """The header in lines of at most ``width`` characters, broken between words or after a hyphen."""
    pieces = [
        (piece, i == 0) for word in header.split() for i, piece in enumerate(_HEADER_PIECES.findall(word))
    ]
    lines: list[str] = []
    line = ""
    for piece, spaced in pieces:
        longer = line + (" " if spaced and line else "") + piece
        if line and cell_len(longer) > width:
            lines.append(line)
            line = piece
        else:
            line = longer
    return "\n".join([*lines, line])


def print_table(
    console: Console,
    columns: Sequence[TableColumn | str],
    rows: Sequence[Mapping[str, Cell]],
    *,
    title: str | None = None,
    row_styles: Sequence[str] | None = None,
) -> None:
    """Print rows (mappings of column key to cell) as a table that fits ``console.width``.

    Columns empty in every row are left out; optional columns are hidden when the others need the
    room (a dim note names them); when even that does not fit, each row becomes a block of
    ``label: value`` lines. ``row_styles`` gives a style per row (e.g. bold for a total row).
    """
    wanted = [TableColumn(c) if isinstance(c, str) else c for c in columns]
    # Measured as shown: a control character from data takes the cell its picture takes.
    rows = [{key: _visible_cell(cell) for key, cell in r.items()} for r in rows]
    measured = [_measure(c, tuple(plain(r.get(c.key)) for r in rows)) for c in wanted]
    measured = [m for m in measured if any(cell.strip() for cell in m.cells)]
    if title:
        console.print(Text(title, style="bold"))
    if not rows or not measured:
        console.print("(no rows)", highlight=False)
        return
    shown = list(measured)
    hidden: list[_Measured] = []
    widths = _fit(shown, console.width)
    while widths is None and any(m.column.optional for m in shown):
        drop = [m for m in shown if m.column.optional][-1]
        shown.remove(drop)
        hidden.insert(0, drop)
        widths = _fit(shown, console.width)
    if widths is None:
        print_blocks(console, [m.column for m in measured], rows, row_styles=row_styles)
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
    )
    for m, w in zip(shown, widths, strict=True):
        header = _wrap_header(m.column.header, w)
        table.add_column(header, justify="right" if m.right else "left", width=w, overflow="fold")
    for i, r in enumerate(rows):
        style = row_styles[i] if row_styles else None
        table.add_row(*(_indented(r.get(m.column.key)) for m in shown), style=style)
    console.print(table)
    if hidden:
        names = ", ".join(m.column.header for m in hidden)
        note = f"not shown at {console.width} columns: {names} (a wider terminal or --format json shows them)"
        console.print(Text(note, style="dim"))


def print_blocks(
    console: Console,
    columns: Sequence[TableColumn | str],
    rows: Sequence[Mapping[str, Cell]],
    *,
    row_styles: Sequence[str] | None = None,
) -> None:
    """Print each row as a block of ``label: value`` lines (empty values left out), a blank line
    between blocks. Values wrap between words after the aligned labels."""
    wanted = [TableColumn(c) if isinstance(c, str) else c for c in columns]
    labels = {c.key: f"{c.header}:" for c in wanted}
    label_width = max(cell_len(label) for label in labels.values())
    # A number too wide to print whole beside the labels goes under its label, indented, in every
    # block: folded beside it, "99,999,999,999,999.99" read "99,999,999,999,9" over "99.99".
    room = console.width - label_width - 1
    under = any(
        is_number(text) and cell_len(text) > room
        for r in rows
        for c in wanted
        if (text := plain(r.get(c.key)).strip())
    )
    for i, r in enumerate(rows):
        if i:
            console.print()
        grid = Table.grid(padding=(0, 1, 0, 0))
        if under:
            grid.add_column(overflow="fold")
        else:
            grid.add_column(width=label_width, no_wrap=True, style="dim")
            grid.add_column(overflow="fold")
        style = row_styles[i] if row_styles else None
        for c in wanted:
            value = _renderable(r.get(c.key))
            if value.plain.strip():
                # Indentation shows nesting in a table's first column; in a block it only shifts the value.
                value = value[len(value.plain) - len(value.plain.lstrip()) :]  # a copy, never the caller's
                if not grid.row_count:
                    value.stylize("bold")  # where a block starts, for the eye running down a long list
                if under:
                    grid.add_row(Text(labels[c.key], style="dim"), style=style)
                    grid.add_row(Padding(value, (0, 0, 0, 2)), style=style)
                else:
                    grid.add_row(labels[c.key], value, style=style)
        console.print(grid)


def _indented(cell: Cell) -> RenderableType:
    """A table cell; leading spaces indent every line it wraps onto, not only the first."""
    text = _renderable(cell)
    indent = len(text.plain) - len(text.plain.lstrip(" "))
    return Padding(text[indent:], (0, 0, 0, indent)) if indent and text.plain.strip() else text


def _renderable(cell: Cell) -> Text:
    # Text, never markup: a cell holding [brackets] prints as it is.
    return cell if isinstance(cell, Text) else Text(plain(cell))
