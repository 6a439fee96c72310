"""One exception tree for cosell, mapped to exit codes and HTTP statuses at the edge only.

::

    CosellError                      anything cosell refuses to do (exit 1)
    ├── InputError                   bad input data: file, row, column, value, reason
    │   └── ImportFailed             an import with one or more InputErrors; nothing applied
    ├── PolicyError                  the policy file is invalid: names the key
    ├── UsageError                   a bad command-line or API request (exit 2)
    ├── NotFound                     an id that does not exist
    ├── NotAllowed                   the user's role may not do this (HTTP 403 at the service)
    └── WorkspaceBusy                another process holds the workspace: names it (HTTP 503)

cosell.engine.EngineIOError is a CosellError too (exit 1): a file the engine cannot read or write
(a workspace cut short, a full disk) is met by users, unlike the engine's other errors (bugs).
Any other exception is a bug: the CLI says so in one line and exits INTERNAL_ERROR_EXIT (70).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cosell.report_model import counted

INTERNAL_ERROR_EXIT = 70  # sysexits' EX_SOFTWARE: a bug in cosell, not a refusal


class CosellError(Exception):
    """Root of every error cosell raises on purpose."""

    exit_code = 1


# A value longer than this is shown cut to its first SHOWN_CHARS characters, with its length: a
# megabyte pasted into a cell is a megabyte of terminal otherwise, per problem.
LONGEST_SHOWN = 100
SHOWN_CHARS = 80


def quoted(value: str) -> str:
    """``value`` in double quotes as a message shows it; a long one cut, with its length.

    >>> quoted("12,5OO")
    '"12,5OO"'
    >>> quoted("abc" + "x" * 1_048_573)[:6], quoted("x" * 1_048_576)[-25:]
    ('"abcxx', '…" (1,048,576 characters)')
    """
    if len(value) <= LONGEST_SHOWN:
        return f'"{value}"'
    return f'"{value[:SHOWN_CHARS]}…" ({len(value):,} characters)'


def did_you_mean(value: str, choices: Iterable[str], *, cutoff: float = 0.6, quote: bool = False) -> str:
    """The hint an error gives after an unknown ``value``: the closest of ``choices``
    (:func:`difflib.get_close_matches`, ``cutoff`` as there) as " (did you mean X?)", ``repr``'d when
    ``quote``; empty when none is close. One wording for every command.

    >>> did_you_mean("O-10", ["O-1", "P-7"]), did_you_mean("zzz", ["O-1"])
    (' (did you mean O-1?)', '')
    >>> did_you_mean("Closed Wn", ["Closed Won"], quote=True)
    " (did you mean 'Closed Won'?)"
    """
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=cutoff)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"


@dataclass(frozen=True)
class Problem:
    """One bad cell (or row, or file) of an input file.

    ``row`` is the spreadsheet row number for CSV files (the header is row 1, so the first data
    row is row 2) and the 1-based record number for Parquet files; ``None`` for whole-file problems.
    ``value`` is kept whole; its message shows a long one cut (:func:`quoted`).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", {self.column}"
        if self.value is not None:
            return f"{where}: {quoted(self.value)} {self.reason}"
        return f"{where}: {self.reason}"


class InputError(CosellError):
    """A single problem with input data, with its exact location."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class ImportFailed(CosellError):
    """An import found problems; nothing from it was applied."""

    def __init__(
        self, problems: Sequence[Problem], total: int | None = None, limit_hit: bool = False
    ) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        self.limit_hit = limit_hit
        lines = [str(p) for p in self.problems]
        more = self.total - len(self.problems)
        if more > 0:
            lines.append(f"... and {counted(more, 'more problem')}")
        lines.append("nothing from this import was applied")
        super().__init__("\n".join(lines))


class PolicyError(CosellError):
    """The policy file is invalid. ``key`` is the dotted path of the offending key; ``line`` the
    line of the file that sets it, when known."""

    def __init__(self, key: str, reason: str, file: str | None = None, line: int | None = None) -> None:
        self.key = key
        self.reason = reason
        self.file = file
        self.line = line
        where = " ".join(part for part in (file, f"line {line}" if line else None) if part)
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}policy key {key}: {reason}")


class UsageError(CosellError):
    """The request itself is malformed (an unknown option value, a missing argument)."""

    exit_code = 2


class NotFound(CosellError):
    """A referenced id does not exist in the workspace."""


class NotAllowed(CosellError):
    """The user may not do this: a role without the right, or a partner user on another partner's data."""


class WorkspaceBusy(CosellError):
    """Another process holds the workspace in a conflicting mode and did not let go in time."""
