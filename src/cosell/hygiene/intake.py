"""What an import sets off, dated like the import: auto-tags first, then influence prompts.

Auto-tags come first so that a deal tagged sourced from its partner lead is declared when the
prompts are issued (a declared deal gets no prompt). ``cosell import canonical`` and ``cosell demo``
both import with :func:`import_with_intake`: the rows, the auto-tags and the prompts are one
transaction, so a crash part-way leaves none of them (never deals without their tags and prompts).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cosell.data.import_report import ImportReport
from cosell.data.load import import_canonical
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.prompts import refresh_prompts
from cosell.policy import Policy
from cosell.store.intake import ensure_intake_schema
from cosell.store.workspace import Workspace

# Test hook for the kill test: a file to which "intake" is appended when the intake starts, and
# seconds to sleep then, so a test can kill the process between the imported rows and the intake.
PAUSE_ENV = "COSELL_INTAKE_PAUSE"
TRACE_ENV = "COSELL_INTAKE_TRACE"


@dataclass(frozen=True)
class Intake:
    """How many deals were auto-tagged and how many influence prompts were issued."""

    tagged: int
    prompted: int


def _test_hook() -> None:
    trace = os.environ.get(TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write("intake\n")
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))


def run_intake(ws: Workspace, policy: Policy, at: datetime) -> Intake:
    """Apply the auto-tags and issue the influence prompts the imported data calls for, at ``at``."""
    _test_hook()
    tagged = len(apply_auto_tags(ws, policy, at).tags)
    return Intake(tagged, len(refresh_prompts(ws, policy, at)))


def import_with_intake(
    ws: Workspace, directory: str | os.PathLike[str] | Path, policy: Policy, **options: Any
) -> tuple[ImportReport, Intake]:
    """Import ``directory`` and run its intake at the import instant, all in one transaction.

    ``options`` are those of :func:`cosell.data.load.import_canonical` (``rejects``, ``now``,
    ``on_file``, ``by_user``). Raises what the import raises; then nothing at all is applied.
    """
    if not ws.con.in_transaction:
        # The intake's tables, made if missing and known to exist before the import's transaction
        # starts: inside it, each of its entry points' checks would ask the catalog (8-12 ms).
        ensure_intake_schema(ws.con)
    done: list[Intake] = []
    report = import_canonical(
        ws, directory, policy=policy, within=lambda at: done.append(run_intake(ws, policy, at)), **options
    )
    return report, done[0]
