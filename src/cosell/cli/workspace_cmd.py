"""``cosell init`` and ``cosell policy``: create a workspace, write and check the policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cosell.cli.common import WorkspaceOption, console, workspace
from cosell.errors import UsageError
from cosell.outfiles import write_file
from cosell.policy import load_policy, render_policy_toml

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
    """Validate a policy file and print its version."""
    console.print(f"{path}: valid, version {load_policy(path).version}")
