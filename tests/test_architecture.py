"""The dependencies point the way the design says (README, Architecture).

Imports are read from the source (every ``import`` statement, also inside functions), not by
importing the modules, so a lazy import counts like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "cosell"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The modules ``name`` imports: cosell modules by their full name, others by their top package."""
    path = MODULES[name]
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # "from cosell.x import y" imports the module cosell.x.y when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            found.add(target if target.startswith("cosell") else target.split(".")[0])
    return {t for t in found if t != name}


def closure(names: Iterable[str]) -> dict[str, str]:
    """Every module reached from ``names`` by imports, each with the module that imports it first."""
    reached: dict[str, str] = {}
    todo = list(names)
    while todo:
        current = todo.pop()
        for target in sorted(imports_of(current)) if current in MODULES else []:
            if target not in reached:
                reached[target] = current
                todo.append(target)
    return reached


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_module_list_is_read() -> None:
    assert "cosell.engine.duckdb_engine" in MODULES and "cosell.attribution.reference" in MODULES
    assert {"duckdb", "_duckdb"} <= imports_of("cosell.engine.duckdb_engine")


# The duckdb package and the compiled engine it re-exports (which the engine module runs on).
DUCKDB_MODULES = {"duckdb", "_duckdb"}


def test_only_the_engine_imports_duckdb() -> None:
    outside = sorted(n for n in MODULES if not _inside(n, "cosell.engine") and DUCKDB_MODULES & imports_of(n))
    assert outside == []


# The pure core: the rules (the reference implementation, cohorts, credit models), money, instants,
# periods, the policy, and pay's plans, pricing and ledger arithmetic. They do no I/O.
PURE_CORE = (
    "cosell.errors",
    "cosell.money",
    "cosell.instants",
    "cosell.periods",
    "cosell.policy",
    "cosell.attribution.facts",
    "cosell.attribution.timeline",
    "cosell.attribution.cohort",
    "cosell.attribution.credit",
    "cosell.attribution.reference",
    "cosell.attribution.whatif",
    "cosell.results",
    "cosell.pay.model",
    "cosell.pay.plans",
    "cosell.pay.plan_check",
    "cosell.pay.plan_parse",
    "cosell.pay.pricing",
    "cosell.pay.pricers",
    "cosell.pay.ledger",
)
# What a pure module may never reach, even through another module.
IO = ("cosell.store", "cosell.engine", "cosell.cli", "duckdb", "_duckdb", "ibis", "pyarrow", "typer", "rich")


def test_the_rules_reach_neither_the_store_nor_the_engine() -> None:
    assert all(name in MODULES for name in PURE_CORE)
    reached = closure(PURE_CORE)
    bad = {t: via for t, via in reached.items() if any(_inside(t, io) for io in IO)}
    assert bad == {}, "pure modules reach I/O (target: first importer)"


def test_only_the_command_line_imports_the_command_line() -> None:
    outside = sorted(
        n
        for n in MODULES
        if not _inside(n, "cosell.cli") and any(_inside(t, "cosell.cli") for t in imports_of(n))
    )
    assert outside == []


# What the store may import: the engine and the core values it stores (never a capability).
STORE_MAY_IMPORT = (
    "cosell.store",
    "cosell.engine",
    "cosell.errors",
    "cosell.money",
    "cosell.instants",
    "cosell.clock",
    "cosell.results",
    "cosell.entries",
    "cosell.cache_folder",
)


def test_the_store_imports_no_capability() -> None:
    bad = {
        n: sorted(
            t
            for t in imports_of(n)
            if t.startswith("cosell") and not any(_inside(t, ok) for ok in STORE_MAY_IMPORT)
        )
        for n in MODULES
        if _inside(n, "cosell.store")
    }
    assert {n: found for n, found in bad.items() if found} == {}


def test_the_engine_imports_nothing_of_cosell_but_errors_and_values() -> None:
    allowed = ("cosell.engine", "cosell.errors", "cosell.instants")
    bad = {
        n: sorted(
            t for t in imports_of(n) if t.startswith("cosell") and not any(_inside(t, ok) for ok in allowed)
        )
        for n in MODULES
        if _inside(n, "cosell.engine")
    }
    assert {n: found for n, found in bad.items() if found} == {}


# The capabilities form layers: a room may import those before it, never one after it. Reports render
# what metrics compute; metrics count what hygiene and pay never need to ask them for (money
# conversion is shared, in cosell.fx; the shape of a report is shared, in cosell.report_model).
LAYERS = (
    "cosell.data",
    "cosell.attribution",
    "cosell.hygiene",
    "cosell.pay",
    "cosell.metrics",
    "cosell.reports",
    "cosell.crm",
    "cosell.accounts",
    "cosell.referrals",
)
# Demo scripts stage a whole story (they import later rooms to show them); they are use cases, not rules.
LAYER_EXEMPT = ("cosell.pay.demo", "cosell.reports.demo")


def test_the_capabilities_import_only_earlier_layers() -> None:
    def layer(name: str) -> int | None:
        return next((i for i, room in enumerate(LAYERS) if _inside(name, room)), None)

    bad = sorted(
        (n, t)
        for n in MODULES
        if layer(n) is not None and n not in LAYER_EXEMPT
        for t in imports_of(n)
        if (lt := layer(t)) is not None and lt > (layer(n) or 0)
    )
    assert bad == []


# The command line parses, calls a use case (cosell.service) and renders: it reaches the data only
# through the service layer, never the store, the engine or duckdb itself.
CLI_MAY_NOT_IMPORT = ("cosell.store", "cosell.engine", "duckdb", "_duckdb")


def test_the_command_line_reaches_the_data_only_through_the_service_layer() -> None:
    assert any(_inside(n, "cosell.cli") for n in MODULES)
    bad = {
        n: sorted(t for t in imports_of(n) if any(_inside(t, no) for no in CLI_MAY_NOT_IMPORT))
        for n in MODULES
        if _inside(n, "cosell.cli")
    }
    assert {n: found for n, found in bad.items() if found} == {}


# The HTTP service will call the same use cases: they know no terminal and no command line.
SERVICE_MAY_NOT_IMPORT = ("cosell.cli", "cosell.terminal", "typer", "rich", "click")


def test_the_service_layer_knows_no_command_line_and_no_terminal() -> None:
    assert "cosell.service.users" in MODULES
    bad = {
        n: sorted(t for t in imports_of(n) if any(_inside(t, no) for no in SERVICE_MAY_NOT_IMPORT))
        for n in MODULES
        if _inside(n, "cosell.service")
    }
    assert {n: found for n, found in bad.items() if found} == {}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another in a loop (the strongly connected components
    of more than one module, each sorted), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def test_circles_are_found() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    """Not even inside one room, nor lazily: a shared name lives in a module both sides import (a
    command group registered by name, ``importlib.import_module``, is not an import statement)."""
    edges = {n: {t for t in imports_of(n) if t in MODULES} for n in MODULES}
    assert circles(edges) == []
