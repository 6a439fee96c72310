"""What an import sets off, dated like the import: auto-tags first, then influence prompts.

Auto-tags come first so that a deal tagged sourced from its partner lead is declared when the
prompts are issued (a declared deal gets no prompt). ``cosell import canonical`` and ``cosell demo``
both run it after their import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.prompts import refresh_prompts
from cosell.policy import Policy
from cosell.store.workspace import Workspace


@dataclass(frozen=True)
class Intake:
    """How many deals were auto-tagged and how many influence prompts were issued."""

    tagged: int
    prompted: int


def run_intake(ws: Workspace, policy: Policy, at: datetime) -> Intake:
    """Apply the auto-tags and issue the influence prompts the imported data calls for, at ``at``."""
    tagged = len(apply_auto_tags(ws, policy, at).tags)
    return Intake(tagged, len(refresh_prompts(ws, policy, at)))
