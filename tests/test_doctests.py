"""The examples in the modules' docstrings run, and give what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cosell

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(cosell.__path__, "cosell.") if not m.name.startswith("cosell.cli.")
)


def _examples(name: str) -> int:
    finder = doctest.DocTestFinder()
    return sum(len(t.examples) for t in finder.find(importlib.import_module(name)))


WITH_EXAMPLES = [name for name in MODULES if _examples(name)]


def test_the_modules_carry_examples() -> None:
    # A handful of core modules document themselves by example; losing them all is a regression.
    assert {"cosell.money", "cosell.instants", "cosell.attribution.credit"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
