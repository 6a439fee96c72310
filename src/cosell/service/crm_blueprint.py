"""Use case of ``cosell blueprint salesforce|hubspot --out DIR``: write the files that install the five
declared fields, cosell's result fields and the stage gate into a CRM. Reads only the policy (its won
stages); touches no workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cosell.crm.blueprint import build_blueprint
from cosell.crm.fields import check_crm
from cosell.errors import UsageError
from cosell.outfiles import output_folder, writable_file, write_file
from cosell.policy import Policy

__all__ = ["WrittenBlueprint", "write_blueprint"]


@dataclass(frozen=True)
class WrittenBlueprint:
    """Where the blueprint went: its folder and the files written, relative to it, sorted."""

    crm: str
    folder: Path
    files: tuple[str, ...]
    won_stages: tuple[str, ...]


def write_blueprint(crm: str, policy: Policy, out: Path) -> WrittenBlueprint:
    """Write the blueprint of ``crm`` into the folder ``out`` (created; files of the same name are
    replaced, others left alone). The files are built, and every place checked (a folder or a file
    in the way), before the first is written: a refused blueprint leaves no file of it behind."""
    files = build_blueprint(check_crm(crm), policy)
    folder = output_folder(out)
    for f in files:
        path = folder / f.path
        if path.is_dir():
            raise UsageError(f"--out {folder}: {path} is a folder, where the blueprint writes its {f.path}")
        writable_file(path, "--out")  # a file where a folder must be is named; the folders are made
    for f in files:
        write_file(folder / f.path, f.content)
    return WrittenBlueprint(crm, folder, tuple(f.path for f in files), tuple(sorted(policy.won_stages)))
