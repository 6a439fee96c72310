"""The ``cosell`` console command.

Each capability registers its commands from its own module (``cli/<capability>_cmd.py``); this module
only assembles them and maps :class:`~cosell.errors.CosellError` to a message and an exit code
(0 ok, 1 failed, 2 bad usage) in exactly one place.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from cosell import clock
from cosell.cli import (
    attribute_cmd,
    crm_cmd,
    demo_cmd,
    gate_cmd,
    import_cmd,
    payouts_cmd,
    plans_cmd,
    prompts_cmd,
    reconcile_cmd,
    report_cmd,
    simulate_cmd,
    users_cmd,
    workspace_cmd,
)
from cosell.cli.common import err_console, follow_terminal
from cosell.errors import CosellError


class CosellGroup(TyperGroup):
    """The root command group: the one place where a CosellError becomes a message and an exit code."""

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
    crm_cmd,
):
    module.register(app)


def main() -> None:
    """Entry point of the console script (exit 0 ok, 1 failed, 2 bad usage)."""
    app()
