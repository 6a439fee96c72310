"""Commands of the demo capability (registered by cli/app.py).

``cosell demo --out DIR`` writes the demo dataset in the canonical format and prints what it holds;
without ``--out`` the dataset goes to ``./cosell-demo/data``. Writing the dataset
(:func:`write_demo_dataset`) is kept apart from printing it (:func:`print_demo_summary`) so the
no-``--out`` path can go on to import, attribute and report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cosell.cli.common import console, progress
from cosell.data.demo import DemoManifest, generate_dataset
from cosell.instants import format_instant

DEFAULT_DEMO_DIR = Path("cosell-demo") / "data"


def write_demo_dataset(out_dir: Path, size: int = 3000, seed: int = 7) -> DemoManifest:
    """Generate the demo dataset into ``out_dir`` with a progress bar on stderr."""
    with progress(f"Writing {size:,} demo opportunities", total=size) as advance:
        return generate_dataset(out_dir, size=size, seed=seed, progress=advance)


def print_demo_summary(manifest: DemoManifest) -> None:
    """Rows per table, planted data-hygiene failures by kind, the time span and where the files are."""
    counts = Table(title="Demo dataset", header_style="bold")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for table, rows in manifest.counts.items():
        counts.add_row(table, f"{rows:,}")
    console.print(counts)
    planted = Table(title="Planted data-hygiene failures", header_style="bold")
    planted.add_column("kind")
    planted.add_column("deals", justify="right")
    planted.add_column("for example")
    for kind, ids in manifest.planted.items():
        planted.add_row(kind, f"{len(ids):,}", ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else ""))
    console.print(planted)
    console.print(
        f"Deals created {format_instant(manifest.span_start)[:10]} to {format_instant(manifest.span_end)[:10]}"
        f" (exclusive); run reports as of [bold]{format_instant(manifest.as_of)}[/]."
    )
    console.print(
        f"Files in [bold]{manifest.out_dir}[/] (size {manifest.size:,}, seed {manifest.seed});"
        " demo_truth.csv holds each deal's designed origin, demo_manifest.json this summary.",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("demo")
    def demo(
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Folder to write the dataset to (default ./cosell-demo/data).",
                show_default=False,
            ),
        ] = None,
        size: Annotated[int, typer.Option("--size", min=1, help="Number of opportunities.")] = 3000,
        seed: Annotated[
            int,
            typer.Option("--seed", min=0, help="Random seed; the same size and seed give identical files."),
        ] = 7,
    ) -> None:
        """Write a realistic demo dataset (canonical CSV files) and say what it holds."""
        manifest = write_demo_dataset(out if out is not None else DEFAULT_DEMO_DIR, size, seed)
        print_demo_summary(manifest)
