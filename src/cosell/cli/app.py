"""The ``cosell`` console command.

Each capability registers its commands from its own module (``cli/<capability>_cmd.py``); this module
only assembles them and maps :class:`~cosell.errors.CosellError` to a message and an exit code
(0 ok, 1 failed, 2 bad usage) in exactly one place.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Protocol

import typer
from rich.markup import escape
from typer.core import TyperGroup

from cosell import clock
from cosell.cli import (
    accounts_cmd,
    attribute_cmd,
    blueprint_cmd,
    crm_cmd,
    demo_cmd,
    gate_cmd,
    import_cmd,
    payouts_cmd,
    plans_cmd,
    prompts_cmd,
    reconcile_cmd,
    referrals_cmd,
    registrations_cmd,
    report_cmd,
    simulate_cmd,
    users_cmd,
    workspace_cmd,
    writeback_cmd,
)
from cosell.cli.common import err_console, follow_terminal
from cosell.errors import CosellError


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


class CosellGroup(TyperGroup):
    """The root command group: the one place where a CosellError becomes a message and an exit code,
    and where every command's help text is made into paragraphs (:func:`unwrap_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _unwrap_commands(self)

    def invoke(self, ctx: Any) -> Any:
        follow_terminal()
        try:
            return super().invoke(ctx)
        except CosellError as exc:
            # The message is text, not markup: "[stages]" in it must print as written.
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        finally:
            # A --now pin lasts one command, also when parsing stopped after the option was read.
            clock.pin(None)


app = typer.Typer(
    name="cosell",
    cls=CosellGroup,
    help="Co-sell attribution a CFO can audit: sourced, accelerated, influenced or none, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for module in (
    workspace_cmd,
    import_cmd,
    demo_cmd,
    attribute_cmd,
    gate_cmd,
    prompts_cmd,
    reconcile_cmd,
    report_cmd,
    plans_cmd,
    payouts_cmd,
    simulate_cmd,
    users_cmd,
    blueprint_cmd,
    writeback_cmd,
    crm_cmd,
    referrals_cmd,
    registrations_cmd,
    accounts_cmd,
):
    module.register(app)


def main() -> None:
    """Entry point of the console script (exit 0 ok, 1 failed, 2 bad usage)."""
    app()
