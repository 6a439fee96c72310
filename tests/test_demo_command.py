"""`cosell demo` end to end at a small size: dataset, workspace, attribution, explanations,
reconciliation, pay (a paid period, the fixes, the next period's adjustments, a statement) and the
CFO and QBR files; the same size and seed give the same output and the same files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import cosell.store.size as size_module
from cosell.cli.app import app

if TYPE_CHECKING:
    from conftest import BuiltDemo

runner = CliRunner()


def test_demo_builds_the_sample_company_reproducibly(
    small_demo_built: BuiltDemo, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first build is the session's small demo (tests/conftest.py: this command, through the
    same app, what it printed kept), read in place; the second is this test's own, in a folder
    whose path is as long as the first's (the output centres its titles, paths in them). The first
    ran its small workspace on one thread (cosell.store.size); the second runs it as a large one,
    on every thread, its imports with the optimizer: the same bytes."""
    one, first_output = small_demo_built.folder, small_demo_built.output
    base = tmp_path_factory.getbasetemp()
    room = len(str(one)) - len(str(base)) - 1
    assert room >= 4, (one, base)
    two = base / ("demo-again" + "x" * room)[:room]
    assert len(str(two)) == len(str(one)) and not two.exists()
    for expected in (
        "Pipeline created by tier",
        "Partner-sourced pipeline",
        "cosell explain",
        "Where everything is",
        "auto-tagged",
        "influence prompts",
        "added users u-admin, u-ops, u-manager, u-finance, u-partner",
        "Reconciliation all: findings by kind",
        "of revenue at stake",
        "Payout run PR-000001 for 2026-09",
        "Reconciliation fixes accepted:",
        "Disputes decided: 1.",
        "Adjustments posted into 2026-10",
        "cosell payouts statement --partner",
        "cosell payouts statement --rep",
        "Clawbacks of paid earnings",
        "CFO dashboard, 2026-Q3",
    ):
        assert expected in first_output
    for tier in ("sourced", "influenced", "none"):
        assert f"{tier} deal: cosell explain" in first_output
    reports = one / "reports"
    header = (reports / "attribution.csv").read_text().splitlines()[0]
    assert header.startswith("opportunity_id,tier,primary_partner_id,engagement_at,cycle_days,baseline_days")
    assert (one / "cosell.duckdb").exists()
    monkeypatch.setattr(size_module, "SMALL_WORKSPACE_ROWS", -1)
    second = runner.invoke(
        app,
        ["demo", "--dir", str(two), "--size", str(small_demo_built.size)],
        env=small_demo_built.env,
    )
    assert second.exit_code == 0, second.output
    # The clawback of the disputed deal's rep commission is among the adjustments.
    assert "clawback" in first_output.split("Adjustments posted into 2026-10")[1]
    written = [
        "attribution.csv", "credits.csv",
        *(f"{key}-2026-Q3.{fmt}" for key in ("cfo", "qbr") for fmt in ("html", "pdf", "json")),
    ]  # fmt: skip
    for name in written:
        assert f"report:     {reports / name}" in first_output
    assert (reports / "cfo-2026-Q3.pdf").read_bytes().startswith(b"%PDF")
    assert "<svg" in (reports / "qbr-2026-Q3.html").read_text()
    for name in written:
        assert (reports / name).read_bytes() == (two / "reports" / name).read_bytes(), name
    assert first_output.replace(str(one), "DIR") == second.output.replace(str(two), "DIR")


def test_dir_and_out_together_are_bad_usage_and_make_nothing(tmp_path: Path) -> None:
    """`--out` writes the dataset alone: a `--dir` given beside it was silently left unmade; now
    the two together are bad usage, and neither folder is made."""
    out, base = tmp_path / "data", tmp_path / "company"
    result = runner.invoke(app, ["demo", "--out", str(out), "--dir", str(base), "--size", "10"])
    assert result.exit_code == 2, result.output
    assert "--dir and --out: give one" in result.output
    assert not out.exists() and not base.exists()
    # --out alone still writes the dataset (the default --dir is no --dir given).
    assert runner.invoke(app, ["demo", "--out", str(out), "--size", "10"]).exit_code == 0
    assert (out / "opportunities.csv").is_file() and not base.exists()


@pytest.mark.parametrize("size", [10**10, 10**23])
def test_a_size_beyond_the_ids_is_bad_usage_naming_the_option(tmp_path: Path, size: int) -> None:
    """Opportunity ids carry ten digits: a larger --size is refused as bad usage (exit 2) before
    anything is written, not an internal error (found by fuzzing the CLI's options)."""
    out = tmp_path / "data"
    result = runner.invoke(app, ["demo", "--out", str(out), "--size", str(size)])
    assert result.exit_code == 2, result.output
    assert f"--size {size:,}" in result.output and "internal error" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_a_size_that_does_not_fit_in_memory_is_refused_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory running out while the deals are planned is the size's doing: exit 1 naming --size,
    not exit 70 (an allocation of tens of GiB fails the same way at --size 4294967296)."""
    from cosell.data.demo import generate

    def out_of_memory(*args: object) -> None:
        raise MemoryError("Unable to allocate 35.2 GiB")

    monkeypatch.setattr(generate, "build_plan", out_of_memory)
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "data"), "--size", "4294967296"])
    assert result.exit_code == 1, result.output
    assert "--size 4,294,967,296: not enough memory" in result.output
    assert "internal error" not in result.output


def test_a_demo_that_fails_part_way_leaves_nothing_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo that failed after its dataset and workspace were written left them half-built (a
    workspace with an import and no attribution): what it made is removed and said, and what was
    there before it started is left and named."""
    from cosell.errors import CosellError
    from cosell.service import demo

    def fails(*args: object) -> None:
        raise CosellError("the disk is full")

    monkeypatch.setattr(demo, "add_named_users", fails)
    base = tmp_path / "company"
    result = runner.invoke(app, ["demo", "--dir", str(base), "--size", "30"])
    assert result.exit_code == 1, result.output
    assert f"removed what it had made ({base})" in result.stderr
    assert "the disk is full" in result.stderr and not base.exists()
    # A folder that was there keeps what it held; only what the demo made goes.
    base.mkdir()
    (base / "notes.txt").write_text("mine", encoding="utf-8")
    (base / "reports").mkdir()
    result = runner.invoke(app, ["demo", "--dir", str(base), "--size", "30"])
    assert result.exit_code == 1, result.output
    assert f"removed what it had made ({base / 'data'}, {base / 'cosell.duckdb'})" in result.stderr
    assert f"left {base / 'reports'} (there before it started" in result.stderr
    assert sorted(p.name for p in base.iterdir()) == ["notes.txt", "reports"]


@pytest.mark.parametrize("folder", ["data", "reports"])
def test_a_file_where_a_demo_folder_goes_is_refused_first_naming_dir(tmp_path: Path, folder: str) -> None:
    """A file named ``reports`` in the --dir stopped the demo after its dataset, import and run,
    saying "--out .../reports is a file" (an option the user never gave): it is refused before
    anything is written, naming --dir, and the file is left as it was."""
    base = tmp_path / "company"
    base.mkdir()
    (base / folder).write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["demo", "--dir", str(base), "--size", "30"])
    assert result.exit_code == 2, result.output
    assert f"--dir {base / folder} is a file, not a folder" in result.output
    assert "--out" not in result.output
    assert sorted(p.name for p in base.iterdir()) == [folder]
    assert (base / folder).read_text(encoding="utf-8") == "mine"


def test_a_real_workspace_in_the_dir_is_refused_and_kept(small_demo: Path, tmp_path: Path) -> None:
    """`cosell demo --dir .` beside the team's ./cosell.duckdb deleted it (its imports, runs and
    ledger) and put the sample company in its place, silently: it is refused first, and kept."""
    base = tmp_path / "work"
    base.mkdir()
    workspace = base / "cosell.duckdb"
    done = runner.invoke(
        app,
        ["import", "canonical", str(small_demo.parent / "data"), "-w", str(workspace)],
        env={"COSELL_USER": "005Dm0000000001"},
    )
    assert done.exit_code == 0, done.output
    before = workspace.read_bytes()
    result = runner.invoke(app, ["demo", "--dir", str(base), "--size", "30"])
    assert result.exit_code == 2, result.output
    assert f"--dir {base} holds {workspace}, which cosell demo did not make" in result.output
    assert sorted(p.name for p in base.iterdir()) == ["cosell.duckdb"]
    assert workspace.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"my notes"], ids=["empty", "not-a-database"])
def test_any_other_file_at_the_demos_workspace_name_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "cosell.duckdb").write_bytes(content)
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--size", "30"])
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cosell.duckdb"]
    assert (tmp_path / "cosell.duckdb").read_bytes() == content


def test_a_real_dataset_is_not_replaced_by_the_demos(tmp_path: Path) -> None:
    for command in (["--dir", str(tmp_path)], ["--out", str(tmp_path / "data")]):
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / "data" / "partners.csv").write_text("partner_id,name\nP1,Ours\n", encoding="utf-8")
        result = runner.invoke(app, ["demo", *command, "--size", "30"])
        assert result.exit_code == 2, result.output
        assert "cosell demo did not" in result.output
        assert [p.name for p in (tmp_path / "data").iterdir()] == ["partners.csv"]
        assert (tmp_path / "data" / "partners.csv").read_text(
            encoding="utf-8"
        ) == "partner_id,name\nP1,Ours\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_folder_the_demo_made_is_its_own_to_replace(small_demo: Path) -> None:
    """Running the demo again over its own folder replaces its own workspace and dataset, as before."""
    from cosell.service.demo import not_a_demo_dataset, not_the_demos

    assert not_the_demos(small_demo.parent) == []
    assert not not_a_demo_dataset(small_demo.parent / "data")
