"""``cosell init`` and ``cosell policy``: create a workspace, write and check the policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cosell.cli.common import WorkspaceOption, console, err_console, workspace
from cosell.errors import PolicyError, UsageError
from cosell.outfiles import write_file
from cosell.policy import PolicyInvalid, load_policy, render_policy_toml

policy_app = typer.Typer(help="Write, check and show the attribution policy file.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(policy_app, name="policy")


def init(workspace_path: WorkspaceOption = None) -> None:
    """Create a workspace (a DuckDB file) with the current schema; an existing one is migrated."""
    ws = workspace(workspace_path)
    console.print(f"workspace [bold]{ws.path}[/] ready (schema version {ws.schema_version})")
    ws.close()


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
    console.print(f"wrote {path} (version {load_policy(path).version})")


@policy_app.command("check")
def policy_check(path: Annotated[Path, typer.Argument(help="The policy file to validate.")]) -> None:
    """Validate a policy file: every problem is listed, naming its key (exit 1); else its version."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        problems = exc.problems if isinstance(exc, PolicyInvalid) else [exc]
        for problem in problems:
            err_console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        err_console.print(f"{len(problems)} problem(s)", markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"{path}: valid, version {policy.version}")
