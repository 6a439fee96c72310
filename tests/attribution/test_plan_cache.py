"""The compiled-plan cache on disk: where it lives, and that no file in it can give a stale or wrong
plan (a damaged, truncated, foreign or tampered file is compiled again and rewritten), and the
knowledge instant written into a cached plan at run time (the overrides read at K)."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cosell.attribution import engine_build, engine_params, engine_plan, engine_plan_cache
from cosell.attribution.engine import attribute
from cosell.attribution.engine_params import shape_of
from cosell.attribution.engine_plan_cache import PLANS, PlanCache
from cosell.cache_folder import CACHE_ENV
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.attribution_store import record_override
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from engine_support import workspace_with
from plan_support import suite_plan
from test_engine_plan import TABLES

AS_OF = parse_instant("2026-09-01")


@pytest.fixture
def ws() -> Any:
    workspace = workspace_with(TABLES)
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def good_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The default plan's file (name and text), written by a run into a folder of its own: the
    damaged-file cases start from it."""
    folder = tmp_path_factory.mktemp("good-plan")
    workspace = workspace_with(TABLES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        patch.setattr(engine_build, "build_plan", suite_plan)
        PLANS.clear()
        try:
            attribute(workspace.con, as_of=AS_OF)
        finally:
            PLANS.clear()
            workspace.close()
    path = _plan_file(folder)
    return path.name, path.read_text(encoding="utf-8")


def tiers(ws: Workspace, **kwargs: Any) -> dict[str, str]:
    return {r.opportunity_id: r.tier for r in attribute(ws.con, **kwargs).rows()}


def test_the_folder_is_the_environments_else_the_users_cache_never_the_working_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = PlanCache()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache.folder() == tmp_path / "mine" / "engine-plans"
    for off in ("off", "OFF", "none", "0"):
        monkeypatch.setenv(CACHE_ENV, off)
        assert cache.folder() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.folder() == tmp_path / "xdg" / "cosell" / "engine-plans"
    # A relative XDG_CACHE_HOME is ignored (the XDG rule): the home folder's cache, not ./
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.folder() == tmp_path / "home" / ".cache" / "cosell" / "engine-plans"
    monkeypatch.setenv(CACHE_ENV, "")  # set but empty: the default
    assert cache.folder() == tmp_path / "home" / ".cache" / "cosell" / "engine-plans"


def test_the_tests_keep_their_plans_out_of_the_home_folder() -> None:
    chosen = Path(os.environ[CACHE_ENV]).resolve()
    assert not chosen.is_relative_to(Path.home().resolve())


def _plan_file(tmp_path: Path) -> Path:
    files = list((tmp_path / "engine-plans").glob("*.json"))
    assert len(files) == 1
    return files[0]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: "[1, 2]", id="not-an-object"),
        pytest.param(lambda text: json.dumps({"format": engine_plan.PLAN_FORMAT}), id="no-ops"),
        pytest.param(lambda text: text.replace("SELECT", "SELECT 1 AS x,", 1), id="tampered-sql"),
        pytest.param(
            lambda text: text.replace(
                f'"format": {engine_plan.PLAN_FORMAT}', f'"format": {engine_plan.PLAN_FORMAT - 1}', 1
            ),
            id="old-format",
        ),
        pytest.param(lambda text: "\udcff", id="not-utf8"),
    ],
)
def test_a_damaged_plan_file_is_compiled_again_and_rewritten(
    ws: Workspace, builds: list[str], tmp_path: Path, damage: Any, good_plan: tuple[str, str]
) -> None:
    name, good = good_plan
    path = tmp_path / "engine-plans" / name
    path.parent.mkdir()
    path.write_text(good, encoding="utf-8")
    first = attribute(ws.con, as_of=AS_OF).rows()
    assert builds == []  # the good file was read, not compiled
    bad = damage(good)
    path.write_bytes(bad.encode("utf-8", "surrogateescape"))
    PLANS.clear()  # a new process
    assert attribute(ws.con, as_of=AS_OF).rows() == first
    assert len(builds) == 1
    assert path.read_text(encoding="utf-8") == good  # replaced by the plan compiled again


def test_a_plan_file_of_another_key_is_not_read(ws: Workspace, builds: list[str], tmp_path: Path) -> None:
    """A plan copied (or renamed) under another plan's key is refused: the file holds its key."""
    attribute(ws.con, as_of=AS_OF, model="even")
    even = _plan_file(tmp_path)
    PLANS.clear()
    attribute(ws.con, as_of=AS_OF)
    files = sorted((tmp_path / "engine-plans").glob("*.json"))
    role_weighted = next(f for f in files if f != even)
    role_weighted.write_text(even.read_text(encoding="utf-8"), encoding="utf-8")
    PLANS.clear()
    rows = attribute(ws.con, as_of=AS_OF).rows()
    assert {r.model for r in rows} == {"role_weighted"}
    assert len(builds) == 3


def test_plans_are_written_whole_and_an_unwritable_folder_is_no_error(
    ws: Workspace, builds: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attribute(ws.con, as_of=AS_OF)
    folder = tmp_path / "engine-plans"
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".json")] == []  # no temp file
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocked))
    PLANS.clear()
    assert tiers(ws, as_of=AS_OF) == {"O1": "influenced", "O2": "influenced"}
    assert len(builds) == 2


def test_one_plan_reads_the_overrides_at_the_knowledge_instant(ws: Workspace, builds: list[str]) -> None:
    """The overrides step is compiled with a placeholder for K, written in at run time."""
    record_override(
        ws.con, "O2", "none", None, "ops", "not a partner deal", recorded_at=AS_OF + timedelta(days=1)
    )
    assert tiers(ws, as_of=AS_OF)["O2"] == "influenced"  # K = T: not yet recorded
    assert tiers(ws, as_of=AS_OF, known_at=AS_OF + timedelta(days=2))["O2"] == "none"  # recorded at K
    assert tiers(ws, as_of=AS_OF, known_at=AS_OF + timedelta(hours=23))["O2"] == "influenced"
    assert tiers(ws, as_of=AS_OF + timedelta(days=3))["O2"] == "none"
    assert len(builds) == 1


def test_the_key_covers_the_source_the_dialect_and_the_engine_version() -> None:
    names = {
        p.relative_to(Path(engine_plan.__file__).parents[1]).as_posix()
        for p in engine_plan_cache.code_files()
    }
    assert {"attribution/engine_build.py", "attribution/credit.py", "results.py", "engine/base.py"} <= names
    assert all(p.is_file() for p in engine_plan_cache.code_files())
    shape = shape_of(engine_params.Params.from_policy(Policy(), 1))
    columns = (("v_touches", "touch_id", "VARCHAR"),)
    key = engine_plan_cache.plan_key(shape, "even", columns, "duckdb", "2.0.0")
    assert key != engine_plan_cache.plan_key(shape, "even", columns, "postgres", "2.0.0")
    assert key != engine_plan_cache.plan_key(shape, "even", columns, "duckdb", "2.0.1")
    assert key != engine_plan_cache.plan_key(shape, "even", (("v_touches", "touch_id", "BIGINT"),))


def test_the_compilers_versions_are_the_installed_ones() -> None:
    from importlib import metadata

    names = ("cosell", "ibis-framework", "sqlglot", "duckdb", "Typer", "typing_extensions")
    assert engine_plan_cache.installed_versions(names) == {n: metadata.version(n) for n in names}
    assert engine_plan_cache.installed_versions(("no-such-distribution",)) == {"no-such-distribution": "?"}


def test_a_version_is_the_first_dist_info_on_the_path_its_name_normalised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Fancy.Pkg-1.2.3.dist-info").mkdir(parents=True)
    (second / "fancy_pkg-9.0.dist-info").mkdir(parents=True)
    (second / "other_pkg-2.0.dist-info").mkdir(parents=True)
    (first / "other_pkg-2.0.egg-info").mkdir()  # not a dist-info folder
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(first), str(second)])
    found = engine_plan_cache.installed_versions(("fancy-pkg", "Other.Pkg"))
    assert found == {"fancy-pkg": "1.2.3", "Other.Pkg": "2.0"}
