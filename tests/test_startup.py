"""A command loads only what it uses (issue 13, item 6: a run over 100 deals well under a second as a
whole process). Starting the command line loads no engine, no Arrow and no capability; a run on a
workspace whose plan is cached loads neither Ibis (the plan is compiled only on a cache miss) nor
Arrow, nor the duckdb package's Python layer (the engine runs on the compiled module it re-exports,
``_duckdb``: importing the package costs a tenth of such a run). Each check runs ``cosell`` in a fresh process: a module imported by another test of this
session would otherwise hide a top-level import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
from import_fixtures import base_tables, write_dataset

# Runs ``cosell ARGS`` and writes, at exit, the modules the process had loaded to the file given
# first (stdout stays the command's own).
DRIVER = """
import atexit, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["cosell", *sys.argv[2:]]
from cosell.cli.app import main
main()
"""

HEAVY = ("duckdb", "_duckdb", "pyarrow", "numpy", "pandas", "ibis", "sqlglot")
CAPABILITIES = ("attribution", "data", "engine", "hygiene", "metrics", "pay", "reports", "store")
NOW = "2026-12-01T00:00:00Z"


def run(tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    """Run ``cosell *args`` in a new process (exit 0 expected): its stdout and the modules it loaded."""
    loaded = tmp_path / "modules.json"
    env = {
        **os.environ,
        "COSELL_NOW": NOW,
        "COSELL_USER": "U1",  # a user of the fixture's directory: an unknown --by is refused
        "COSELL_CACHE_DIR": str(tmp_path / "plans"),
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(loaded), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, set(json.loads(loaded.read_text()))


def table(out: str) -> str:
    """The tiers table at the top of an attribute run's output, through its ``total`` row."""
    head, rest = out.split("total", 1)
    return head + "total" + rest.split("\n", 1)[0]


def packages(modules: set[str]) -> set[str]:
    """The top-level third-party packages among ``modules`` that are heavy to import."""
    return {m.split(".")[0] for m in modules} & set(HEAVY)


def test_the_command_line_starts_without_the_engine_arrow_or_any_capability(tmp_path: Path) -> None:
    out, modules = run(tmp_path, "--help")
    assert "attribute" in out and "explain" in out  # every command is registered
    assert packages(modules) == set()
    capabilities = sorted(
        m for m in modules if m.split(".")[:2][-1] in CAPABILITIES and m.startswith("cosell.")
    )
    assert capabilities == []


@pytest.fixture
def workspace(tmp_path: Path) -> str:
    path = str(tmp_path / "ws.duckdb")
    run(tmp_path, "import", "canonical", str(write_dataset(tmp_path / "export", base_tables())), "-w", path)
    return path


def test_a_run_whose_plan_is_cached_loads_neither_ibis_nor_arrow(tmp_path: Path, workspace: str) -> None:
    first, cold = run(tmp_path, "attribute", "-w", workspace)
    assert "ibis" in packages(cold)  # the plan cache was empty: the plan was compiled with Ibis
    second, warm = run(tmp_path, "attribute", "-w", workspace)
    assert packages(warm) == {"_duckdb"}
    # The same decisions, from the plan read back from the cache (the run number differs).
    assert first.split("run ")[0] == second.split("run ")[0]
    assert "run 1 stored" in first and "run 2 stored" in second
    # A dataset folder attributed into files: the same plan (the same inputs), read from the cache.
    export, out = str(tmp_path / "export"), str(tmp_path / "out")
    files, modules = run(tmp_path, "attribute", "--data", export, "--out", out, "--as-of", NOW)
    assert packages(modules) == {"_duckdb"}
    assert table(first) == table(files)  # the same deals by tier


def test_explain_loads_neither_ibis_nor_arrow(tmp_path: Path, workspace: str) -> None:
    out, modules = run(tmp_path, "explain", "O1", "-w", workspace)
    assert "O1" in out
    assert packages(modules) == {"_duckdb"}


def test_the_pay_readers_load_no_arrow(tmp_path: Path) -> None:
    """Listing payout runs and reading the ledger price nothing: posting's Arrow table (and NumPy
    with it, half a second of a process) is imported where posting makes it."""
    tables = base_tables()
    tables["users"] = [
        *tables["users"],
        {"user_id": "F1", "name": "Fin", "role": "finance", "partner_id": ""},
    ]
    path = str(tmp_path / "ws.duckdb")
    run(tmp_path, "import", "canonical", str(write_dataset(tmp_path / "export", tables)), "-w", path)
    for args in (("payouts", "list"), ("payouts", "ledger")):
        out, modules = run(tmp_path, *args, "-w", path, "--by", "F1")
        assert packages(modules) == {"_duckdb"}, (args, out)
