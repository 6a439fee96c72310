"""The ``cosell`` console command.

Each capability registers its commands from its own module (``cli/<capability>_cmd.py``); this module
lists them (:data:`COMMAND_MODULES`), loads the one a run names, and maps
:class:`~cosell.errors.CosellError` to a message and an exit code (0 ok, 1 failed, 2 bad usage) in
exactly one place.
"""

from __future__ import annotations

import errno
import functools
import importlib
import inspect
import os
import re
from typing import Any, NoReturn, Protocol

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException

from cosell import clock
from cosell.cli.common import err_console, follow_terminal
from cosell.errors import INTERNAL_ERROR_EXIT, SHOWN_CHARS, CosellError


class _Command(Protocol):
    """What the help pass reads of a click command (typer vendors click under a private name)."""

    help: str | None


def unwrap_help(text: str) -> str:
    r"""A help text as paragraphs: the line breaks inside a paragraph (a docstring wrapped at the
    source's width) become spaces, so that rich wraps each paragraph at the terminal's width.
    Paragraphs stay apart, and a paragraph marked with click's ``\b`` keeps its lines.

    >>> unwrap_help("Which partner,\n    what evidence.\n\n    Then more.")
    'Which partner, what evidence.\n\nThen more.'
    """
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs)


def _unwrap_commands(command: _Command) -> None:
    # typer keeps a docstring's line breaks in the command lists and in every paragraph after the
    # first (rich markup mode), which breaks sentences mid-line at any width but the source's.
    if command.help:
        command.help = unwrap_help(command.help)
    for sub in getattr(command, "commands", {}).values():
        _unwrap_commands(sub)


# Every command of ``cosell``: its name, the module that registers it (``register(app)``) and the
# line ``cosell --help`` lists for it (the first paragraph of its help). A run builds only the named
# command's module: the others, and what they import, are never loaded (issue 13: a run over a
# hundred deals is dominated by starting up). tests/cli/test_lazy_cli.py holds each line to the
# command's own help and each module to the names it registers. Commands first, then groups, as
# typer lists them.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "init": (
        "workspace_cmd",
        "Create a workspace (a DuckDB file) with the current schema; an existing one is migrated.",
    ),
    "demo": (
        "demo_cmd",
        "Build a realistic sample company: dataset, workspace, attribution, explanations, reconciliation, "
        "pay and the CFO and QBR reports.",
    ),
    "attribute": (
        "attribute_cmd",
        "Decide every opportunity's tier with evidence, and split credit between partners.",
    ),
    "explain": (
        "attribute_cmd",
        "Explain one opportunity's attribution as sentences a CFO can read (or JSON): which partner, what "
        "evidence with dates, which guard blocked which claim, the cohort and its median. The deal is "
        "decided as of the --as-of instant from the data known at the --known-at instant.",
    ),
    "reconcile": (
        "reconcile_cmd",
        "Cross-check the period's closed-won deals against the computed attribution, partner activity, "
        "registrations and account overlap; list every finding with evidence, declared and computed "
        "values, the money at stake and a suggested fix. New findings are recorded (never twice).",
    ),
    "history": (
        "reconcile_cmd",
        "Every version of a deal's attribution: run, kind, who, when, why, policy, tier, partner, rules, credits.",
    ),
    "simulate": (
        "simulate_cmd",
        "What a proposed policy would change, before anyone signs it: the workspace's history, as known "
        "at --known-at and evaluated as of --as-of, is attributed under the current policy and under "
        "the proposed one (both by the batch engine, at the same instants), and every deal whose tier, "
        "partners or credit would change is listed with the money it would move: pipeline and revenue "
        "by tier, and partner pay under the plan in force. Nothing is stored (docs/simulate.md).",
    ),
    "blueprint": (
        "blueprint_cmd",
        "Write what installs the five partner fields, cosell's fields and the stage gate in a CRM.",
    ),
    "writeback": (
        "writeback_cmd",
        "Write the newest attribution back into cosell's own CRM fields (tier, primary partner, rules, "
        "evidence, explanation, as-of, policy version); never into the five declared fields.",
    ),
    "policy": (
        "workspace_cmd",
        "Write and check the attribution policy file; print its rules as a partner-agreement appendix.",
    ),
    "import": ("import_cmd", "Import data into the workspace."),
    "gate": (
        "gate_cmd",
        "The stage gate: a deal may not enter a won stage unless partner_source is confirmed.",
    ),
    "prompts": (
        "prompts_cmd",
        "Influence prompts: a partner joined a deal; its rep declares influenced or accelerated.",
    ),
    "findings": ("reconcile_cmd", "Reconciliation findings: list, show, accept, reject."),
    "dispute": ("reconcile_cmd", "Disputes of a deal's attribution: open, decide, list."),
    "overrides": ("reconcile_cmd", "Overrides of accepted fixes and disputes: list them, withdraw one."),
    "report": (
        "report_cmd",
        "Reports: the CFO dashboard, the quarterly business review, the partner league table.",
    ),
    "plans": ("plans_cmd", "Write, check, load and list compensation plans."),
    "payouts": (
        "payouts_cmd",
        "Partner payouts and rep commission: post a period, payout runs, the ledger, statements.",
    ),
    "users": ("users_cmd", "The user directory: who may do what (--by is checked against it)."),
    "crm": ("crm_cmd", "Salesforce and HubSpot: the mapping of an export."),
    "referrals": (
        "referrals_cmd",
        "Partner referrals from JSON, email and Slack: submit, list, show, answer what is missing, "
        "accept as a lead, reject.",
    ),
    "registrations": (
        "registrations_cmd",
        "Deal registrations: submit, approve or reject, extend once, expire, list.",
    ),
    "accounts": (
        "accounts_cmd",
        "Account overlap with the partners' own account lists, and the partner to bring into a deal.",
    ),
}


class _Listed(TyperCommand):
    """A command as ``cosell --help`` lists it (name and line) before its module is loaded."""


def load_commands(module: str) -> dict[str, Any]:
    """The click commands (and groups) that ``cosell.cli.<module>`` registers, by name, with their
    help made into paragraphs (:func:`unwrap_help`)."""
    return dict(_built_commands(module))


@functools.cache
def _built_commands(module: str) -> dict[str, Any]:
    """:func:`load_commands`, built once per process. Typer builds a command from its function's
    signature and type hints (1 to 17 ms for a module's commands); a process that runs the app
    more than once (the tests' runner, a service) reuses what it built. A built command keeps no
    state of a run: click keeps that in the run's context."""
    registry = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(f"cosell.cli.{module}").register(registry)
    group = typer.main.get_group(registry)
    _unwrap_commands(group)
    return dict(group.commands)


class CosellGroup(TyperGroup):
    """The root command group: the one place where a CosellError becomes a message and an exit code,
    and where every command's help text is made into paragraphs (:func:`unwrap_help`). A command is
    loaded when it runs (:data:`COMMAND_MODULES`); the group's help lists them all without loading any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _unwrap_commands(self)
        for name, (_, line) in COMMAND_MODULES.items():
            self.commands.setdefault(name, _Listed(name=name, help=line))
        self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if isinstance(self.commands.get(cmd_name), _Listed) and not self._listing:
            self.commands.update(load_commands(COMMAND_MODULES[cmd_name][0]))
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The list of commands needs each one's line only: it is read from the table, not loaded.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Any) -> Any:
        follow_terminal()
        try:
            return super().invoke(ctx)
        except CosellError as exc:
            # The message is text, not markup: "[stages]" in it must print as written.
            err_console.message(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except (TyperException, typer.Exit, typer.Abort):
            raise  # bad usage, an exit asked for, ^C: typer says these itself
        except BrokenPipeError:
            # Whoever read the output stopped reading (`cosell ... | head`): no bug, nothing to say.
            # Typer's main exits 1 quietly on it, as click's commands do.
            raise
        except OSError as exc:
            if exc.errno not in OUTPUT_FAILURES:
                _internal_error(exc)
            _output_failed(exc)
        except Exception as exc:
            _internal_error(exc)
        finally:
            # A --now pin lasts one command, also when parsing stopped after the option was read.
            clock.pin(None)


# Errors of a write that the machine or the name given causes, never cosell: a full disk, a quota,
# a file too large, a device that fails, a file name longer than the file system allows.
OUTPUT_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.ENAMETOOLONG})


def _output_failed(exc: OSError) -> NoReturn:
    """Say what could not be written and why, and exit 1: the output went to a full disk or a
    failing device (`cosell users > /dev/full`), the machine's doing, not a bug in cosell; what was
    recorded is recorded, what was said was not."""
    where = exc.filename or "the command's output"
    err_console.message(f"error: cannot write {where}: {exc.strerror}", highlight=False)
    raise SystemExit(1)


def _internal_error(exc: Exception) -> NoReturn:
    """Say that a bug stopped the command, in one line, and exit INTERNAL_ERROR_EXIT (70).

    A bug, not the user's input: no traceback reaches the user (the workspace's transaction has
    already rolled back what the command was recording); exit 70 (EX_SOFTWARE) tells it apart from
    a refusal. COSELL_DEBUG=1 shows where (called while ``exc`` is handled, it is raised again)."""
    if os.environ.get("COSELL_DEBUG", "") not in ("", "0"):
        raise exc
    err_console.message(
        f"[bold red]error:[/] an internal error stopped the command "
        f"({escape(type(exc).__name__)}: {escape(str(exc)[:SHOWN_CHARS])}). This is a bug in cosell, "
        "not in your input: run the command again with COSELL_DEBUG=1 to see where, and report it.",
        markup=True,
        highlight=False,
    )
    raise typer.Exit(INTERNAL_ERROR_EXIT) from None


app = typer.Typer(
    name="cosell",
    cls=CosellGroup,
    help="Co-sell attribution a CFO can audit: sourced, accelerated, influenced or none, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(given: bool) -> None:
    """``cosell --version``: the installed package's version (the source's when not installed), exit 0."""
    if not given:
        return
    from cosell import __version__
    from cosell.attribution.engine_plan_cache import installed_versions

    installed = installed_versions(("cosell",))["cosell"]
    typer.echo(f"cosell {__version__ if installed == '?' else installed}")
    raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print cosell's version and exit.",
    ),
) -> None:
    # A callback makes typer build the root as a group with no command registered up front.
    pass


def main() -> None:
    """Entry point of the console script (exit 0 ok, 1 failed, 2 bad usage)."""
    try:
        app()
    except OSError as exc:
        # The help, printed while the options are read, is written before any command runs.
        if exc.errno not in OUTPUT_FAILURES:
            raise
        _output_failed(exc)
