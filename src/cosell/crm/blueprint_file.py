"""One file of a CRM blueprint (:mod:`cosell.crm.blueprint`): what each CRM's blueprint builder
returns, kept apart so that the builders and the module that picks one do not import each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlueprintFile:
    """One file of a blueprint: its path inside the output folder (``/``-separated) and its bytes."""

    path: str
    content: bytes
