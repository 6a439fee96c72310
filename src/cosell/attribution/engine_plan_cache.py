"""The batch engine's plans, cached by their key: what is baked into their SQL.

A plan depends only on its key: the policy's shape (how many amount bands, which roles), the
credit model, the backend and its version, the columns and types of the relations the rules read,
and the engine's own source code. Plans are kept in the process and on disk (``$COSELL_CACHE_DIR``,
else ``$XDG_CACHE_HOME/cosell``, else ``~/.cache/cosell``; never the working folder;
``COSELL_CACHE_DIR=off`` keeps them in the process only). A plan file is written whole under
another name and renamed, and holds its key and the digest of its operations: a file that is
truncated, corrupted, from another format or another key is ignored and compiled again (then
rewritten); one that cannot be written is not an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from cosell.attribution.engine_params import Shape
from cosell.attribution.engine_plan import INPUTS, PLAN_FORMAT, Plan
from cosell.cache_folder import cache_folder, source_digest, write_then_rename
from cosell.engine import Engine


def input_columns(con: Engine) -> tuple[tuple[str, str, str], ...]:
    """(relation, column, type) of every input relation, in order: the inputs' part of a plan's key.

    Types are the engine's names for them in the reference dialect (``TIMESTAMP WITH TIME ZONE``,
    ``DECIMAL(18,4)``, ...): :meth:`cosell.engine.Engine.columns`."""
    return tuple(con.columns(INPUTS))


def plan_key(
    shape: Shape,
    model: str,
    columns: tuple[tuple[str, str, str], ...],
    dialect: str = "duckdb",
    engine_version: str = "",
) -> str:
    """The digest of everything a plan's SQL depends on (the run's values are placeholders,
    :mod:`cosell.attribution.engine_params`): the policy's shape (how many band edges, which
    roles), the model, the input relations' columns and types, the dialect and engine version,
    Ibis's and sqlglot's versions, and cosell's version and source."""
    parts = {
        "format": PLAN_FORMAT,
        "code": _code_digest(),
        "dialect": dialect,
        "versions": {**_versions(), "engine": engine_version},
        "shape": _jsonable(asdict(shape)),
        "model": model,
        "inputs": columns,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Decimal):
        return "Decimal:" + str(value)
    return value


def code_files() -> list[Path]:
    """The source the plan's SQL is built from: the engine's steps, the values and rules they
    format and share, and the engine boundary's dialects."""
    here = Path(__file__).parent
    package = here.parent
    files = [*sorted(here.glob("engine*.py")), here / "credit.py"]
    files += [package / name for name in ("results.py", "money.py", "instants.py", "policy.py")]
    files += sorted((package / "engine").glob("*.py"))
    return files


@functools.cache
def _code_digest() -> str:
    """The engine's source code: a changed rule is a new plan, also for a cached one on disk."""
    return source_digest(code_files())


_COMPILED_BY = ("cosell", "ibis-framework", "sqlglot")


@functools.cache
def _versions() -> dict[str, str]:
    """The versions of what compiles a plan, once per process (:func:`installed_versions`)."""
    return installed_versions(_COMPILED_BY)


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each distribution in ``names``, "?" for one not installed.

    Read from the names of the ``NAME-VERSION.dist-info`` folders on ``sys.path`` (the layout
    every wheel installs, editable ones included), first found first, as the import system would:
    importing :mod:`importlib.metadata` and parsing three ``METADATA`` files took about 15 ms of
    every run (a tenth of a run over a hundred deals). A distribution not found that way (an egg,
    an unusual install) is asked of :mod:`importlib.metadata`.
    """
    wanted = {_normalized(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            children = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for child in children:
            name, dash, version = child.removesuffix(".dist-info").partition("-")
            key = _normalized(name)
            if child.endswith(".dist-info") and dash and key in wanted and key not in found:
                found[key] = version
    out: dict[str, str] = {}
    for key, name in wanted.items():
        out[name] = found.get(key) or _metadata_version(name)
    return out


def _normalized(name: str) -> str:
    """A distribution's name as its dist-info folder spells it (PEP 503, then ``-`` as ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


class PlanCache:
    """Plans by key: in this process, and as files in a folder (when there is one)."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}
        self._lock = threading.Lock()

    def folder(self) -> Path | None:
        """Where plan files go: ``engine-plans`` in the user's cache folder
        (:func:`cosell.cache_folder.cache_folder`); None when there is none."""
        return cache_folder("engine-plans")

    def get(self, key: str, build: Callable[[], Plan]) -> Plan:
        """The plan of ``key``: from memory, else from its file, else ``build()`` (and kept)."""
        with self._lock:
            plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = self._read(key)
        if plan is None:
            plan = build()
            self._write(key, plan)
        with self._lock:
            self._plans[key] = plan
        return plan

    def clear(self) -> None:
        """Forget the plans held in this process (files stay)."""
        with self._lock:
            self._plans.clear()

    def _path(self, key: str) -> Path | None:
        folder = self.folder()
        return folder / f"{key}.json" if folder is not None else None

    def _read(self, key: str) -> Plan | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return Plan.from_json(path.read_text(encoding="utf-8"), key)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, unreadable, damaged or from another format: compile again

    def _write(self, key: str, plan: Plan) -> None:
        path = self._path(key)
        if path is None:
            return

        def write(temporary: Path) -> None:
            with open(temporary, "x", encoding="utf-8") as f:
                f.write(plan.to_json(key))
                f.flush()
                os.fsync(f.fileno())

        # A read-only or full cache folder is no error: the plan is still kept in this process.
        write_then_rename(path, write)


PLANS = PlanCache()
