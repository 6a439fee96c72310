"""Options and output shared by every command."""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.segment import Segment

from cosell import clock
from cosell.asof import AsOf
from cosell.cells import write_csv
from cosell.errors import UsageError
from cosell.instants import parse_supported_instant
from cosell.service.progress import quiet
from cosell.shown import visible
from cosell.terminal import TableColumn, print_table, without_trailing_spaces

if TYPE_CHECKING:
    from cosell.service.workspace import Holder, Workspace

T = TypeVar("T")

# Only what every command's options need is imported here: the workspace (DuckDB, Arrow) and every
# capability load inside the command that uses them, so `cosell --help`, a usage error or a command
# that needs neither starts in a fraction of the time (tests/test_startup.py holds this).


class TextConsole(Console):
    """rich's console, with :meth:`message` for a line that says what happened (as opposed to a
    table or a document, which are laid out to the console's width wherever they go). Text is
    printed as written: ``:smile:`` in a deal's or a partner's name stays those seven characters
    (rich's default turns emoji codes into emoji, and loads their table to do it), and ``[/x]`` in
    a path, an id, a stage or a name stays those four (rich's default reads it as markup, and stops
    with a traceback on a closing tag that matches nothing). A line styled on purpose passes
    ``markup=True`` and escapes what it interpolates (:func:`rich.markup.escape`)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"emoji": False, "markup": False, **options})

    def message(self, *objects: Any, **options: Any) -> None:
        """Print a message: wrapped between words on a terminal (the terminal itself would cut a
        number or a name in two at its edge), whole on one line in a pipe or a file, for whoever
        reads or searches it there. Text from data is made visible first (:func:`visible`): rich
        would drop a bell and read a carriage return as a line break before :meth:`_render_buffer`
        saw them."""
        shown = (visible(o) if isinstance(o, str) else o for o in objects)
        self.print(*shown, soft_wrap=not self.is_terminal, **options)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # Text from data is shown, never obeyed (cosell.shown.visible); rich's own control
        # segments (a cursor move) are left as they are.
        shown = (s if s.control else Segment(visible(s.text), s.style) for s in buffer)
        text = super()._render_buffer(shown)
        return text if self.is_terminal else without_trailing_spaces(text)


def labelled(label: str, text: str, margin: int = 13) -> list[str]:
    """``label`` in a ``margin``-character margin, ``text`` wrapped at 80 columns beside it."""
    # A word wider than the line (a long URL in a reason) folds; a shorter one (an id) never splits.
    lines = textwrap.wrap(text, width=80 - margin, break_long_words=True, break_on_hyphens=False) or [""]
    return [f"{label:<{margin}}{lines[0]}", *(" " * margin + line for line in lines[1:])]


def say(text: str, *, nl: bool = True) -> None:
    """Print a line or lines of text for people (not JSON or CSV, which are data): what came from
    data is shown, never obeyed by the terminal (:func:`cosell.shown.visible`)."""
    typer.echo(visible(text), nl=nl)


console = TextConsole()
err_console = TextConsole(stderr=True)


def follow_terminal() -> None:
    """Size both consoles from the terminal (or ``$COLUMNS``) as it is now: rich reads the width
    when a console is made, at import, and one process (a test runner) may run commands at
    several widths."""
    for c in (console, err_console):
        c.width = Console(stderr=c.stderr).width


class Format(StrEnum):
    """Output formats of tabular commands."""

    table = "table"
    json = "json"
    csv = "csv"


def _refuse_blank(value: str | None, what: str, hint: str = "") -> None:
    """Refuse a value given empty or blank as bad usage: "give ``what``, not an empty text" and the
    ``hint``. The shell passes an unset variable (``--by "$USER_ID"``) as an empty text, which
    options and arguments would otherwise read as no value, the current folder or every party."""
    if value is not None and not value.strip():
        raise typer.BadParameter(f"give {what}, not an empty text{f' ({hint})' if hint else ''}")


# A reason is a sentence or two a controller reads in the history; a longer account belongs in a
# document the reason can name (docs/hygiene-review.md, "Reasons").
MAX_REASON_CHARS = 2_000


def _a_reason(value: str | None) -> str | None:
    """A ``--reason``: the blanks around it dropped, so a blank one is no reason (none is stored;
    a command that needs one refuses it as it refuses none), and at most MAX_REASON_CHARS long."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_REASON_CHARS:
        raise typer.BadParameter(
            f"a reason is at most {MAX_REASON_CHARS:,} characters, this one has {len(text):,} "
            "(say why in a sentence or two; name a document for the rest)"
        )
    return text


def reason_option(help_text: str) -> Any:
    """The ``--reason`` option of a command that records why (read through :func:`_a_reason`)."""
    return typer.Option("--reason", callback=_a_reason, help=help_text, show_default=False)


# The --reason of a command that refuses to act without one (a decision, a rejection, a posting).
RequiredReasonOption = Annotated[str, reason_option("Why (recorded; may not be empty).")]
# The --reason of a change, recorded with it.
ChangeReasonOption = Annotated[str, reason_option("Why (recorded with the change).")]


def _a_workspace(value: str | None) -> str | None:
    """The workspace file, refused when given empty or blank (``-w "$WS"`` with the variable unset):
    as a path it is the current folder, which cosell would name in a confusing refusal."""
    _refuse_blank(value, "a workspace file", "leave -w out for ./cosell.duckdb")
    return value


WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="COSELL_WORKSPACE",
        callback=_a_workspace,
        help="Workspace file (DuckDB), or :memory:. Default ./cosell.duckdb.",
        show_default=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


class ShowFormat(StrEnum):
    """Output formats of a command that prints lines to read rather than rows (a referral, a
    finding, a deal's explanation or history, a gate decision): table or json, no csv."""

    table = "table"
    json = "json"


ShowFormatOption = Annotated[ShowFormat, typer.Option("--format", "-f", help="Output format.")]
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


def given_on_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether the parameter ``name`` (its Python name) was typed on the command line, not taken
    from its default or the environment."""
    # Typer vendors click: its ParameterSource is told by name rather than imported from there.
    return getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"


def options_before_subcommand(ctx: typer.Context) -> None:
    """Refuse a listing group's own options given before one of its subcommands (``cosell users
    -w FILE set ...``): the group reads them only when it lists, so the subcommand would run
    without them (on ./cosell.duckdb), unseen. Values from the environment are not refused."""
    if ctx.invoked_subcommand is None:
        return
    given = sorted(n for n in ctx.params if given_on_command_line(ctx, n))
    if given:
        flags = {p.name: max(p.opts, key=len) for p in ctx.command.params}
        options = ", ".join(flags.get(name) or name for name in given)
        raise typer.BadParameter(
            f"{options} given before the subcommand would only apply to the listing: give the "
            f"options after `cosell {ctx.info_name} {ctx.invoked_subcommand}`"
        )


def stripped(value: str | None) -> str | None:
    """A ``--by`` user id without the spaces around it (as the directory holds ids), so that
    every command names and records the same user for " u-ops " as for "u-ops"."""
    return None if value is None else value.strip()


def by_option(help_text: str) -> Any:
    """The ``--by USER`` option (``$COSELL_USER``) of a command that records, checks or scopes by
    who runs it, the id read through :func:`stripped`; ``help_text`` says what that user does."""
    return typer.Option("--by", envvar="COSELL_USER", callback=stripped, help=help_text, show_default=False)


# The --by of a batch run (an attribution, a reconciliation): recorded with the run.
RunByOption = Annotated[str | None, by_option("Who runs it (recorded).")]


def _a_reader(value: str | None) -> str | None:
    """A reader's user id (:func:`reader_option`): refused when given empty or blank. The shell
    passes ``--by "$PARTNER_USER"`` with the variable unset as an empty text, which would read as no
    reader, the local operator who sees every partner's: a partner's view must not widen that way."""
    _refuse_blank(value, "the reader's user id", "leave --by out to read it all")
    return stripped(value)


def reader_option(help_text: str) -> Any:
    """The ``--by USER`` option (``$COSELL_USER``) of a read scoped to who reads it (SPEC section 9:
    a partner user sees only its own partner's), the id read through :func:`_a_reader`;
    ``help_text`` says what that reader sees."""
    return typer.Option("--by", envvar="COSELL_USER", callback=_a_reader, help=help_text, show_default=False)


# The reader of a read scoped by who reads it (cosell.service.readers: SPEC section 9), by what it
# shows: a partner's referrals and registrations, deals, or every partner's (refused to the limited).
ViewerOption = Annotated[
    str | None,
    reader_option("Who reads (a user id): a partner user sees only its own partner's."),
]
DealReaderOption = Annotated[
    str | None,
    reader_option(
        "Who reads (a user id): a partner user sees only the deals its partner is on, a rep its own."
    ),
]
ProgramReaderOption = Annotated[
    str | None,
    reader_option(
        "Who reads (a user id): it covers every partner's deals, so a partner user or a rep is refused."
    ),
]


def _an_id(value: str) -> str:
    """An id argument: refused when empty or blank (it would name no record; said as bad usage)."""
    _refuse_blank(value, "an id")
    return value


def a_value(value: str | None) -> str | None:
    """A filter or id option's value (``--partner``, ``--rep``, ``--deal``, ``--kind``,
    ``--account``), refused when given empty or blank: ``--partner "$P"`` with the variable unset
    would otherwise filter nothing and list every party's entries, unsaid."""
    _refuse_blank(value, "a value")
    return value


def a_period(value: str | None) -> str | None:
    """A ``--period`` as the data writes periods: a fiscal quarter's Q in capitals (``2026-q3`` is
    2026-Q3, as ``all`` is read in any case); anything else as given, for the period parser to
    accept or refuse with its reason. Blank is refused, as :func:`a_value` refuses it."""
    _refuse_blank(value, "a period")
    if value is not None and _LOWER_QUARTER.fullmatch(value.strip()):
        return value.strip().upper()
    return value


_LOWER_QUARTER = re.compile(r"[0-9]{4}-q[1-4]")


def id_argument(help_text: str) -> Any:
    """The id argument of a command that acts on one record (a deal, a finding, a dispute, a
    prompt, a payout run, a referral, a registration; ``help_text`` says which): an empty id is
    bad usage naming the argument, not a refusal saying "no finding" of nothing."""
    return typer.Argument(help=help_text, show_default=False, callback=_an_id)


def opportunity_argument(help_text: str) -> Any:
    """The OPPORTUNITY_ID argument of a command that acts on one deal (``help_text`` says which)."""
    return id_argument(help_text)


def output_path(value: str | Path) -> Path:
    """The folder or file an output option names, refused when empty or blank: the shell passes
    ``--out ""`` (an unset variable) as an empty text, which as a path is the current folder, where
    cosell would then write unasked (the blueprint its README.md). ``.`` names that folder on purpose.

    ``-`` is refused too: by custom it means standard output, yet as a path it is a file or folder
    named ``-`` in the current folder, which cosell would write without a word to the terminal.
    A command prints to standard output when the option is left out (json and csv reports, the
    simulation, the appendix); ``./-`` names such a file on purpose."""
    _refuse_blank(str(value), "a folder or file name", ". is the current folder")
    if str(value) == "-":
        raise typer.BadParameter(
            "- would name a file or folder '-', not standard output: leave the option out where the "
            "command prints (json and csv reports do), or give ./- for that name"
        )
    return Path(value)


def output_file_path(value: str | Path) -> Path:
    """The file an output option names (:func:`output_path`), refused when its last part is no
    file name (it ends with a path separator, ``.`` or ``..``): ``--out reports/`` means a folder,
    and as a path it is ``reports``, where a file would be written instead (a PDF named ``reports``)."""
    text = str(value)
    if text.strip() and os.path.basename(text) in ("", ".", ".."):
        raise typer.BadParameter(f"{text} names a folder: give a file name")
    return output_path(value)


def output_option(*names: str, help_text: str, file: bool = False, **options: Any) -> Any:
    """An option naming a folder or a file a command writes (``--out``, ``--dir``, ``--rejects``),
    read through :func:`output_path` (``file``: a file, :func:`output_file_path`); where it is
    checked further (a folder where a file must be, a file in the way) is :mod:`cosell.outfiles`."""
    parser = output_file_path if file else output_path
    return typer.Option(
        *names, parser=parser, metavar="<path>", help=help_text, **{"show_default": False, **options}
    )


def _pin_now(ctx: typer.Context, value: str | None) -> str | None:
    """``--now``: pin :func:`cosell.clock.now` for this command, released when the command ends."""
    if value is None:
        return None
    try:
        instant = parse_supported_instant(value)
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
    """An instant option's text (ISO 8601) to an instant; None stays None. An instant outside the
    supported years 1900 to 2999 (UTC) is a usage error naming the option."""
    if text is None:
        return None
    try:
        return parse_supported_instant(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of`` text (ISO 8601) to an instant; None stays None."""
    return parse_instant_option(text, "--as-of")


def reading(as_of: str | None, known_at: str | None) -> AsOf:
    """The instants of a command from ``--as-of`` and ``--known-at`` (see :class:`cosell.asof.AsOf`)."""
    return AsOf.resolve(parse_as_of(as_of), parse_instant_option(known_at, "--known-at"))


def print_instants(at: AsOf, fmt: Format = Format.table, *, known_only: bool = False) -> None:
    """Say which instant is which (``known_only``: the knowledge instant of a command without
    ``--as-of``): on stdout beside a table, on stderr beside json or csv (which stay
    machine-readable)."""
    line = at.known_line() if known_only else at.line()
    (console if fmt is Format.table else err_console).print(line, highlight=False)


def login_name() -> str:
    """Who runs a command when ``--by`` is not given: the login name (recorded, not checked)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        return "unknown"


def say_waiting(holder: Holder, seconds: float) -> None:
    """Say on stderr which process holds the workspace and how long this command waits for it."""
    from cosell.service.workspace import LOCK_TIMEOUT_ENV

    err_console.message(
        f"the workspace is busy: {holder} has it open for {'writing' if holder.writing else 'reading'}; "
        f"waiting up to {seconds:g} s ({LOCK_TIMEOUT_ENV})",
        highlight=False,
    )


def workspace(path: str | None, *, create: bool = True, read_only: bool = False) -> Workspace:
    """Open the workspace for a command. Readers (reports, explain, history, lists, show, statements,
    the ledger) pass ``read_only=True``: they run side by side and never block one another; a
    writer has the workspace to itself. Either waits for a conflicting process, saying so on stderr,
    for ``$COSELL_LOCK_TIMEOUT`` seconds at most, then stops naming it (exit 1)."""
    from cosell.service.workspace import open_workspace

    return open_workspace(path, create=create, read_only=read_only, on_wait=say_waiting)


def in_workspace(path: str | None, use: Callable[[Workspace], T], *, read_only: bool = False) -> T:
    """``use`` the command's workspace (opened as :func:`workspace` opens an existing one), closed
    after whatever happens."""
    ws = workspace(path, create=False, read_only=read_only)
    try:
        return use(ws)
    finally:
        ws.close()


def print_json(data: Any) -> None:
    """Print ``data`` as ``--format json`` prints it: indented by two, ASCII, on stdout (``payouts
    show`` alone writes its text as it is)."""
    typer.echo(json.dumps(data, indent=2))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def emit_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    title: str | None = None,
    optional: Collection[str] = (),
) -> None:
    """Print rows as a table that fits the terminal (:func:`cosell.terminal.print_table`), JSON (a
    list of objects) or CSV, always in the given column order. The ``optional`` columns are the
    first a terminal too narrow for the table leaves out (json and csv always have every column).

    Give numbers as numbers (``Decimal``, ``int``), not preformatted text: the table groups their
    digits, and CSV escapes every text cell that starts like a formula (:mod:`cosell.cells`), so a
    negative amount must stay a number.
    """
    if fmt is Format.table:
        table_columns = [TableColumn(c, optional=c in optional) for c in columns]
        print_table(
            console, table_columns, [{k: _cell(k, v) for k, v in r.items()} for r in rows], title=title
        )
        return
    keys = list(columns)
    if fmt is Format.json:
        print_json([{c: _jsonable(r.get(c)) for c in keys} for r in rows])
        return
    if fmt is Format.csv:
        # Typed cells: numbers stay numbers, text is escaped against formula injection (SPEC 9).
        typer.echo(write_csv([keys, *([r.get(c) for c in keys] for r in rows)]), nl=False)


def _cell(key: str, value: Any) -> str:
    """A value as a table shows it: a count or an amount with thousands separators (an id as it is)."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int) and not key.endswith("_id"):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on stderr (quiet when stderr is not a terminal). Yields ``advance(n)``;
    without a ``total``, a spinner and the time elapsed (``advance`` then counts nothing)."""
    if not err_console.is_terminal:
        # Nothing to show: rich's progress module (4 ms to import) is not loaded.
        with quiet(description, total) as advance_nothing:
            yield advance_nothing
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    counted = (BarColumn(), TextColumn("{task.completed}/{task.total}")) if total is not None else ()
    with Progress(
        *(() if total is not None else (SpinnerColumn(),)),
        TextColumn("[progress.description]{task.description}"),
        *counted,
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        # Whatever a step prints goes to stdout as it is: sent through the bar's console, it would
        # land on stderr when only stdout is redirected (cosell demo > demo.txt).
        redirect_stdout=False,
        redirect_stderr=False,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance
