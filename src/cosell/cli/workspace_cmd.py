"""``cosell init`` and ``cosell policy``: create a workspace, write and check the policy file, and
write the rules in force as an appendix to a partner agreement."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cosell.cli.common import (
    PolicyOption,
    WorkspaceOption,
    console,
    err_console,
    output_option,
    parse_as_of,
    say,
    say_waiting,
)
from cosell.errors import PolicyError, UsageError
from cosell.outfiles import write_file
from cosell.policy import PolicyInvalid, load_policy, render_policy_toml
from cosell.report_model import counted

policy_app = typer.Typer(
    help="Write and check the attribution policy file; print its rules as a partner-agreement appendix.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(policy_app, name="policy")


def init(workspace_path: WorkspaceOption = None) -> None:
    """Create a workspace (a DuckDB file) with the current schema; an existing one is migrated."""
    from cosell.service.workspace import init_workspace

    ready = init_workspace(workspace_path, on_wait=say_waiting)
    console.message(
        f"workspace [bold]{escape(str(ready.path))}[/] ready (schema version {ready.schema_version})",
        markup=True,
    )


@policy_app.command("init")
def policy_init(
    path: Annotated[Path, typer.Argument(help="Where to write the policy file.")] = Path(
        "cosell-policy.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the policy as a commented TOML file with every default."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    write_file(path, render_policy_toml().encode("utf-8"), "the policy file")
    console.message(f"wrote {path} (version {load_policy(path).version})", markup=False, highlight=False)


@policy_app.command("check")
def policy_check(path: Annotated[Path, typer.Argument(help="The policy file to validate.")]) -> None:
    """Validate a policy file: every problem is listed, naming its key (exit 1); else its version."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        problems = exc.problems if isinstance(exc, PolicyInvalid) else [exc]
        for problem in problems:
            err_console.message(str(problem), markup=False, highlight=False)
        err_console.print(counted(len(problems), "problem"), markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.message(f"{path}: valid, version {policy.version}", markup=False, highlight=False)


class AppendixFormat(StrEnum):
    """Formats of ``cosell policy appendix``."""

    md = "md"
    html = "html"
    pdf = "pdf"


@policy_app.command("appendix")
def policy_appendix(
    fmt: Annotated[
        AppendixFormat,
        typer.Option("--format", "-f", help="md (printed, or written with --out), html or pdf."),
    ] = AppendixFormat.md,
    policy_path: PolicyOption = None,
    out: Annotated[
        Path | None,
        output_option(
            "--out",
            "-o",
            help_text="Write to this file (default: md to stdout; html and pdf to "
            "./cosell-rules-<label>-<date>.<ext>).",
            file=True,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The date the appendix carries (ISO 8601; an instant gives its UTC date). Default: "
            "today on cosell's clock ($COSELL_NOW pins it).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The attribution rules in force under the policy (tiers and their evidence, windows,
    tie-breaks, the acceleration test, the credit model and weights, rounding, the policy
    version) as numbered sentences to attach to a partner agreement. Every number is the
    policy's; the appendix is dated by --as-of, else by today's date on cosell's clock."""
    from cosell.outfiles import not_an_input, write_file
    from cosell.service.policy import appendix_file_name, policy_appendix, render_policy_appendix

    appendix = policy_appendix(load_policy(policy_path), parse_as_of(as_of))
    data = render_policy_appendix(appendix, fmt.value)
    if out is None and fmt is AppendixFormat.md:
        say(data.decode("utf-8"), nl=False)
        return
    path = out or Path(appendix_file_name(appendix, fmt.value))
    not_an_input(path, "--out", {"the --policy file": policy_path})
    write_file(path, data)
    console.message(f"wrote {path} (policy {appendix.version})", highlight=False)
