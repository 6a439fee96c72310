"""Use case: import a folder of canonical tables with its intake (``cosell import canonical DIR``).

The rows, the import log, the auto-tags and the influence prompts they call for are one
transaction: the import's own (:func:`cosell.data.load.import_canonical`, which stages and
validates the files before it and runs the intake inside it), so a failure anywhere leaves none of
them applied. It is not wrapped in another: the staging tables are dropped whether the import
succeeds or not, which a transaction rolled back around them would not allow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cosell.data.import_report import ImportReport
from cosell.data.read import find_table_files, table_file_name
from cosell.errors import UsageError
from cosell.hygiene.intake import Intake, import_with_intake
from cosell.outfiles import not_an_input, writable_file
from cosell.policy import Policy
from cosell.store.workspace import Workspace

__all__ = ["ImportReport", "Intake", "check_rejects_file", "import_folder", "table_count"]


def table_count(directory: Path) -> int:
    """How many table files an import of ``directory`` reads (for a progress bar)."""
    files, _ = find_table_files(directory)
    return len(files)


def check_rejects_file(rejects: Path, directory: Path, policy_path: Path | None = None) -> None:
    """Refuse a ``--rejects`` file that cannot be written, before the import's work, not after it;
    one that is an input of the import (a table file of ``directory``, the ``--policy`` file): the
    rejected rows would replace the export they were read from; and one in ``directory`` named like
    a table's file: the folder's next import would read it as that table."""
    writable_file(rejects, "--rejects")
    inputs: dict[str, Path | None] = {"the --policy file": policy_path}
    if directory.is_dir():
        files, _ = find_table_files(directory)
        inputs.update({f"the {table} table being imported": f.path for table, f in files.items()})
    not_an_input(rejects, "--rejects", inputs)
    # Not yet a table file, but named like one in the folder: the next import of the folder would
    # read the rejected rows as that table.
    named = table_file_name(rejects.name)
    if named is not None and rejects.parent.resolve() == directory.resolve():
        raise UsageError(
            f"--rejects {rejects} is named like the {named[0]} table of {directory}: the next import "
            "of the folder would read the rejected rows as that table; give another file name"
        )


def import_folder(
    ws: Workspace,
    directory: Path,
    policy: Policy,
    *,
    rejects: Path | None = None,
    reason: str = "",
    on_file: Callable[[str], None] | None = None,
) -> tuple[ImportReport, Intake]:
    """Validate ``directory`` and apply it with its auto-tags and influence prompts, all or nothing.

    Dated by the import (:func:`cosell.clock.now`, never before the last import), recorded with
    ``reason``, else what was run (``cosell import canonical DIR [--rejects FILE]``:
    :func:`cosell.reasons.given_or_ran`). With ``rejects``
    the good rows are imported and each bad row is written there with its reasons; without it,
    any problem raises :class:`~cosell.data.load.ImportFailed` and nothing is applied.
    ``on_file(name)`` is told of each file once it is staged.
    """
    return import_with_intake(ws, directory, policy, rejects=rejects, reason=reason, on_file=on_file)
