"""Where cosell writes: default file names never leave the working folder, and a path that cannot be
written is a clear error (naming the path and the reason), never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.outfiles import file_name, slug
from cosell.pay.plan_parse import example_plan_text
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).parent / "pay"))
from ledger_support import PayWorld

runner = CliRunner()
TRAVERSAL = "../../escaped/P2"


@given(st.text())
def test_a_slug_is_one_plain_file_name_part(text: str) -> None:
    part = slug(text)
    assert part and part not in (".", "..")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in part)
    assert not part.startswith((".", "-")) and len(part) <= 80


@given(st.lists(st.text(), min_size=1, max_size=4), st.sampled_from(["pdf", "html", "xlsx", "json", "csv"]))
def test_a_default_file_name_stays_in_the_current_folder(parts: list[str], ext: str) -> None:
    name = file_name(*parts, ext=ext)
    assert Path(name).name == name and name.endswith("." + ext)
    assert (Path("/work") / name).resolve().parent == Path("/work")


@pytest.fixture()
def pay_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A partner whose id climbs out of the working folder, with a posted earning."""
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    monkeypatch.setenv("COSELL_USER", "ops")
    path = str(tmp_path / "ws.duckdb")
    w = PayWorld(ws=open_workspace(path))
    w.partner(TRAVERSAL)
    w.user("U1")
    w.user("ops", "partner_ops")
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("sourced", [(TRAVERSAL, "sourcer", "1.000000", "10000.00")])})
    w.ws.close()
    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan_text())
    for args in (["plans", "load", str(plan)], ["payouts", "post", "--period", "2026-09"]):
        done = runner.invoke(app, [*args, "--workspace", path])
        assert done.exit_code == 0, done.output
    return path


def test_a_statements_default_name_is_a_slug_of_the_party(
    pay_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    done = runner.invoke(
        app,
        ["payouts", "statement", "--partner", TRAVERSAL, "--period", "2026-09", "-w", pay_path, "-f", "pdf"],
    )
    assert done.exit_code == 0, done.output
    assert "wrote cosell-statement-escaped_P2-2026-09.pdf" in done.output
    assert [p.name for p in work.iterdir()] == ["cosell-statement-escaped_P2-2026-09.pdf"]
    assert not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == ["cosell-statement-escaped_P2-2026-09.pdf"]
