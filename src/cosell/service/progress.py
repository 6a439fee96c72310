"""How a long use case reports its progress, without knowing who shows it.

A use case that takes a while (an import, an attribution run, the demo) is given a
:class:`Progress`: called with a step's description and, when known, its number of units, it
gives a context manager that yields ``advance(n=1)``. The command line passes a progress bar on
stderr; the HTTP service and the tests pass :func:`quiet`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[..., None]  # advance(n: int = 1)


class Progress(Protocol):
    """``with progress("importing", total=7) as advance: ... advance(1)``."""

    def __call__(self, description: str, total: int | None = None) -> AbstractContextManager[Advance]: ...


def _nothing(n: int = 1) -> None:
    del n


@contextmanager
def quiet(description: str, total: int | None = None) -> Iterator[Advance]:
    """A :class:`Progress` that shows nothing."""
    del description, total
    yield _nothing
