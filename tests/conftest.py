"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from build_once import build_once

# CI runs more examples than a developer's quick loop, the same ones at every run (derandomized);
# a developer's run draws new ones each time, so it can find a case CI never draws (session 48's
# fix of the simulate-against-runs property was found so), and replays the failures it saved.
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The engine keeps its compiled plans on disk (cosell.attribution.engine_plan); the tests keep
# theirs in a folder of their own, not in the user's cache. Plans are keyed by the engine's source,
# so a plan compiled by another version of the code is never read.
# Where tests/attribution/golden.py keeps the golden cases' workspaces built once per session.
BUILT_CASES_ENV = "COSELL_TEST_BUILT_CASES"

os.environ.setdefault("COSELL_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"cosell-tests-{os.getuid()}"))
# A bug must fail a test as the exception it is (and a command run as a process must show its
# traceback), not as the one line a user is shown (cosell.cli.app: exit 70). The test of that line
# clears the variable for itself.
os.environ["COSELL_DEBUG"] = "1"
# This machine (and so CI on it) sets PYTHONDONTWRITEBYTECODE=1: every `cosell` process a test
# starts (the lazy-command and start-up checks, the readers, the locks, the kills, the pdf
# listings) would compile the package's modules from source again. The processes this session
# starts write their bytecode beside the sources once (`__pycache__`, ignored by git), and read it
# after; what a process does and prints is the same either way.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder made by ``build(folder)`` once per test session, whichever xdist worker asks first;
    the others wait for it (an exclusive ``flock``) and are handed the same folder. Treat it as
    read-only: a test that writes, or opens a workspace in it for writing (DuckDB locks the file
    against every other process), copies it first (:func:`copy_of_built`).

    The folder is under the session's common temp folder (the workers' basetemp's parent), so a
    new session builds it again; a build that failed leaves nothing behind and is tried again."""
    root = _built_once_root(tmp_path_factory)
    folder = root / name

    def made() -> None:
        # Built where it stays (a workspace records the folder it imported from); a failed build
        # is removed and made again.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        build(folder)

    build_once(root, name, made)
    return folder


def _built_once_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder of things built once (under the workers' common temp folder)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "built-once"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session", autouse=True)
def _share_built_golden_cases(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The golden cases' imported workspaces (tests/attribution/golden.py) are built once per
    session in this folder, whichever worker asks first, like :func:`built_once`'s."""
    os.environ[BUILT_CASES_ENV] = str(_built_once_root(tmp_path_factory) / "golden-cases")


def copy_of_built(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """This process's own copy of the folder :func:`built_once` makes (a few files: milliseconds,
    where building it costs seconds)."""
    copy = tmp_path_factory.mktemp(name) / name
    shutil.copytree(built_once(tmp_path_factory, name, build), copy)
    return copy


# The session's small demo: its size, and the file in its folder that keeps what the command printed.
SMALL_DEMO_SIZE = 200
SMALL_DEMO_OUTPUT = "demo-output.txt"
SMALL_DEMO_ENV = {"COLUMNS": "400"}


def _build_small_demo(folder: Path) -> None:
    from typer.testing import CliRunner

    from cosell.cli.app import app

    # Wide enough for every path it prints in full (a test compares it with a build elsewhere).
    done = CliRunner().invoke(
        app, ["demo", "--dir", str(folder), "--size", str(SMALL_DEMO_SIZE)], env=SMALL_DEMO_ENV
    )
    assert done.exit_code == 0, done.output
    (folder / SMALL_DEMO_OUTPUT).write_text(done.output, encoding="utf-8")


@dataclass(frozen=True)
class BuiltDemo:
    """A demo company built by `cosell demo --dir <folder> --size <size>`, and what it printed."""

    folder: Path
    size: int
    env: dict[str, str]  # what the command's environment had, beside this process's
    output: str


@pytest.fixture(scope="session")
def small_demo_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    """The session's small demo as built (shared by the workers): its folder is read-only (never
    write to it nor open its workspace; :func:`small_demo` gives a copy of the workspace)."""
    folder = built_once(tmp_path_factory, "small-demo", _build_small_demo)
    return BuiltDemo(
        folder, SMALL_DEMO_SIZE, SMALL_DEMO_ENV, (folder / SMALL_DEMO_OUTPUT).read_text(encoding="utf-8")
    )


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cosell demo --size 200` built once per test session (shared by the workers), for tests that
    only read it (the readers beside another reader, simulate over the demo): its workspace file,
    this process's own copy (a command opening it for writing would lock out the other worker's).
    Never write to it."""
    return copy_of_built(tmp_path_factory, "small-demo", _build_small_demo) / "cosell.duckdb"
