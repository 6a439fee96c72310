"""Commands of the plans capability (registered by cli/app.py)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (placeholder until the capability lands)."""
