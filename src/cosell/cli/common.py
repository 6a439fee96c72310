"""Options and output shared by every command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cosell import clock
from cosell.asof import AsOf
from cosell.errors import UsageError
from cosell.instants import parse_instant
from cosell.store.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    """Output formats of tabular commands."""

    table = "table"
    json = "json"
    csv = "csv"


WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="COSELL_WORKSPACE",
        help="Workspace file (DuckDB), or :memory:. Default ./cosell.duckdb.",
        show_default=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", envvar="COSELL_POLICY", help="Policy file (TOML).", show_default=False),
]


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The evaluation instant T (ISO 8601; a date is midnight UTC): open deals are evaluated "
        "at T, deals created after T did not exist yet. Default: the --known-at instant.",
        show_default=False,
    ),
]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        help="The knowledge instant K (ISO 8601): read only what was recorded at or before K (imports, "
        "attribution runs, fixes, decisions). Default: now, i.e. everything recorded so far.",
        show_default=False,
    ),
]


def _pin_now(ctx: typer.Context, value: str | None) -> str | None:
    """``--now``: pin :func:`cosell.clock.now` for this command, released when the command ends."""
    if value is None:
        return None
    try:
        instant = parse_instant(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    clock.pin(instant)
    ctx.call_on_close(lambda: clock.pin(None))
    return value


NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        callback=_pin_now,
        help="Record this instant as now (ISO 8601; default $COSELL_NOW, else the clock): the time of "
        "what this command records, and the default --known-at.",
        show_default=False,
    ),
]


def parse_instant_option(text: str | None, option: str) -> datetime | None:
    """An instant option's text (ISO 8601) to an instant; None stays None."""
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of`` text (ISO 8601) to an instant; None stays None."""
    return parse_instant_option(text, "--as-of")


def reading(as_of: str | None, known_at: str | None) -> AsOf:
    """The instants of a command from ``--as-of`` and ``--known-at`` (see :class:`cosell.asof.AsOf`)."""
    return AsOf.resolve(parse_as_of(as_of), parse_instant_option(known_at, "--known-at"))


def print_instants(at: AsOf, fmt: Format = Format.table) -> None:
    """Say which instant is which: on stdout beside a table, on stderr beside json or csv (which
    stay machine-readable)."""
    (console if fmt is Format.table else err_console).print(at.line(), highlight=False, soft_wrap=True)


def login_name() -> str:
    """Who runs a command when ``--by`` is not given: the login name (recorded, not checked)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        return "unknown"


def workspace(path: str | None, *, create: bool = True) -> Workspace:
    return open_workspace(path, create=create)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def emit_rows(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format, title: str | None = None
) -> None:
    """Print rows as a rich table, JSON (a list of objects) or CSV, always in the given column order."""
    if fmt is Format.json:
        typer.echo(json.dumps([{c: _jsonable(r.get(c)) for c in columns} for r in rows], indent=2))
        return
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow(["" if r.get(c) is None else str(r.get(c)) for c in columns])
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    console.print(table)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on stderr (quiet when stderr is not a terminal). Yields ``advance(n)``."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance
