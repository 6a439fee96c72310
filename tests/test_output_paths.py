"""Where cosell writes: default file names never leave the working folder, and a path that cannot be
written is a clear error (naming the path and the reason), never a traceback.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import COMMAND_MODULES, app, load_commands
from cosell.cli.common import output_file_path, output_path
from cosell.errors import CosellError
from cosell.outfiles import file_name, output_file, slug, write_file
from cosell.pay.plan_parse import example_plan_text
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).parent / "pay"))
from ledger_support import PayWorld

runner = CliRunner()
TRAVERSAL = "../../escaped/P2"
STATEMENT = file_name("cosell", "statement", TRAVERSAL, "2026-09", ext="pdf")


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


@given(st.text(), st.text())
def test_two_texts_never_share_a_slug(a: str, b: str) -> None:
    """Ids that read alike once cleaned (P/4 and P_4) would name the same file: the second
    statement would silently replace the first."""
    assert (slug(a) == slug(b)) == (a == b)


def post_september(tmp_path: Path, path: str) -> None:
    """Load the example plan into the workspace at ``path`` and post 2026-09, as its users would."""
    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan_text())
    for args in (
        ["plans", "load", "--reason", "new plan year", str(plan)],
        ["payouts", "post", "--reason", "monthly close", "--period", "2026-09"],
    ):
        done = runner.invoke(app, [*args, "--workspace", path])
        assert done.exit_code == 0, done.output


def test_alike_ids_slug_apart() -> None:
    alike = ["P/4", "P_4", "P 4", "-12", "12", "12.", "a" * 81, "a" * 82, "..", "", "x", "x-0123456789ab"]
    assert len({slug(t) for t in alike}) == len(alike)
    assert slug("P012") == "P012" and slug("2026-Q3") == "2026-Q3"


def test_statements_of_partners_whose_ids_read_alike_are_two_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    monkeypatch.setenv("COSELL_USER", "ops")
    path = str(tmp_path / "ws.duckdb")
    w = PayWorld(ws=open_workspace(path))
    parties = {"P/4": ("O1", "10000.00"), "P_4": ("O2", "20000.00")}
    for party, (deal, amount) in parties.items():
        w.partner(party)
        w.deal(deal, amount)
    w.user("U1")
    w.user("ops", "partner_ops")
    w.attribute(
        {
            deal: ("sourced", [(party, "sourcer", "1.000000", amount)])
            for party, (deal, amount) in parties.items()
        }
    )
    w.ws.close()
    post_september(tmp_path, path)
    work = tmp_path / "out"
    work.mkdir()
    monkeypatch.chdir(work)
    for party in parties:
        done = runner.invoke(
            app, ["payouts", "statement", "--partner", party, "--period", "2026-09", "-w", path, "-f", "html"]
        )
        assert done.exit_code == 0, done.output
    written = sorted(work.iterdir())
    assert len(written) == 2
    for party, (deal, _) in parties.items():
        assert [p for p in written if deal in p.read_text()] == [
            work / file_name("cosell", "statement", party, "2026-09", ext="html")
        ]


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
    post_september(tmp_path, path)
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
    assert STATEMENT.startswith("cosell-statement-escaped_P2-") and STATEMENT.endswith("-2026-09.pdf")
    assert f"wrote {STATEMENT}" in done.output
    assert [p.name for p in work.iterdir()] == [STATEMENT]
    assert not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == [STATEMENT]


def run(*args: str) -> tuple[int, str]:
    """Exit code and output of a command that must end in a message, never a traceback."""
    done = runner.invoke(app, list(args))
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert "Traceback" not in done.output
    return done.exit_code, " ".join(done.output.split())  # unwrapped: the message may wrap at 80


@pytest.fixture()
def blocker(tmp_path: Path) -> Path:
    """A plain file where a folder would have to be."""
    path = tmp_path / "blocker"
    path.write_text("not a folder")
    return path


def test_a_workspace_that_is_a_folder_is_bad_usage(tmp_path: Path) -> None:
    for command in (["plans", "list"], ["init"]):
        code, out = run(*command, "-w", str(tmp_path))
        assert code == 2 and f"workspace {tmp_path} is a folder: give a workspace file" in out


@pytest.mark.parametrize("content", [b"", b"hello, this is a CSV\n1,2\n"], ids=["empty", "text"])
def test_a_workspace_that_is_not_a_duckdb_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    for command in (["plans", "list"], ["init"], ["report", "cfo"]):
        code, out = run(*command, "-w", str(path))
        assert (code, out) == (
            1,
            f"error: {path} is not a cosell workspace: it is not a DuckDB database file",
        )
    assert path.read_bytes() == content  # untouched


def test_another_duckdb_database_is_not_taken_for_a_workspace(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    code, out = run("init", "-w", str(path))
    assert code == 1 and "is a DuckDB database but not a cosell workspace" in out


def test_a_sqlite_database_is_refused_without_fetching_an_extension(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "crm.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE deals (id TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    # No extension folder to find the SQLite reader in, and none fetched: DuckDB tried to download
    # one (a network request from an attribution tool) and failed with its own words.
    home = tmp_path / "home"
    for command in (["plans", "list"], ["init"], ["report", "cfo"]):
        done = CliRunner().invoke(app, [*command, "-w", str(path)], env={"HOME": str(home)})
        code, out = done.exit_code, " ".join(done.output.split())
        assert (code, out) == (1, f"error: {path} is not a cosell workspace: it is a SQLite database")
    assert path.read_bytes() == before and not home.exists()


def test_a_workspace_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    code, out = run("init", "-w", str(tmp_path / "nowhere" / "ws.duckdb"))
    assert code == 1 and f"the folder {tmp_path / 'nowhere'} does not exist" in out


def test_statement_out_that_cannot_be_written(pay_path: str, tmp_path: Path, blocker: Path) -> None:
    base = ["payouts", "statement", "--partner", TRAVERSAL, "--period", "2026-09", "-w", pay_path]
    for fmt in ("pdf", "json"):
        code, out = run(*base, "-f", fmt, "--out", str(tmp_path))
        assert (code, out) == (2, f"error: --out {tmp_path} is a folder: give a file name")
        code, out = run(*base, "-f", fmt, "--out", str(blocker / "s.pdf"))
        assert (code, out) == (
            1,
            f"error: cannot write {blocker / 's.pdf'}: {blocker} is a file, not a folder",
        )
    if Path("/dev/full").exists():
        code, out = run(*base, "-f", "pdf", "--out", "/dev/full")
        assert (code, out) == (1, "error: cannot write /dev/full: No space left on device")


def test_report_out_that_is_a_folder(pay_path: str, tmp_path: Path) -> None:
    code, out = run(
        "report", "partners", "--period", "2026-Q3", "-w", pay_path, "-f", "xlsx", "-o", str(tmp_path)
    )
    assert (code, out) == (2, f"error: --out {tmp_path} is a folder: give a file name")


def test_attribute_out_that_is_not_a_writable_folder(tmp_path: Path, blocker: Path) -> None:
    data = Path(__file__).parent / "golden" / "three_partners"
    code, out = run("attribute", "--data", str(data), "--out", str(blocker))
    assert (code, out) == (2, f"error: --out {blocker} is a file, not a folder")
    code, out = run("attribute", "--data", str(data), "--out", str(blocker / "results"))
    assert (code, out) == (1, f"error: cannot write {blocker / 'results'}: {blocker} is a file, not a folder")


def test_rejects_that_cannot_be_written_applies_nothing(tmp_path: Path, blocker: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "data"))
    from import_fixtures import dataset

    folder = dataset(tmp_path / "in")
    ws = tmp_path / "ws.duckdb"
    code, out = run("import", "canonical", str(folder), "--rejects", str(blocker / "r.csv"), "-w", str(ws))
    assert (code, out) == (1, f"error: cannot write {blocker / 'r.csv'}: {blocker} is a file, not a folder")
    assert not ws.exists() or open_workspace(ws).counts()["opportunities"] == 0


def test_demo_and_init_files_that_cannot_be_written(tmp_path: Path, blocker: Path) -> None:
    code, out = run("demo", "--out", str(blocker), "--size", "5")
    assert (code, out) == (2, f"error: --out {blocker} is a file, not a folder")
    code, out = run("demo", "--dir", str(blocker / "company"), "--size", "5")
    assert (code, out) == (1, f"error: cannot write {blocker / 'company'}: {blocker} is a file, not a folder")
    for command, what in ((["plans", "init"], "plan"), (["policy", "init"], "policy")):
        code, out = run(*command, str(tmp_path), "--force")
        assert (code, out) == (2, f"error: the {what} file {tmp_path} is a folder: give a file name")
        code, out = run(*command, str(blocker / "x.toml"))
        assert (code, out) == (
            1,
            f"error: cannot write {blocker / 'x.toml'}: {blocker} is a file, not a folder",
        )


# Options that name one file, whatever the command does with it: each test below gives them a
# place it must refuse.
FILE_OPTIONS = (
    ["crm", "map", "init", "--out", "{}", "salesforce", "."],
    ["policy", "appendix", "--out", "{}", "--format", "html"],
    ["import", "canonical", "--rejects", "{}", "."],
)


@pytest.mark.parametrize("blank", ["", "  "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "args",
    [
        ["blueprint", "--out", "{}", "salesforce"],
        ["demo", "--out", "{}"],
        ["demo", "--dir", "{}"],
        ["report", "cfo", "--out", "{}", "--format", "html"],
        ["attribute", "--out", "{}", "--data", "."],
        ["simulate", "--out", "{}", "policy.toml"],
        ["writeback", "hubspot", "--out", "{}"],
        *FILE_OPTIONS,
    ],
    ids=lambda args: " ".join(a for a in args if a != "{}"),
)
def test_an_empty_output_place_is_bad_usage_and_writes_nothing(
    args: list[str], blank: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out ""` (an unset shell variable) would be the current folder: refused, naming the option."""
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, [blank if a == "{}" else a for a in args])
    assert done.exit_code == 2, done.output
    option = args[args.index("{}") - 1]
    said = " ".join(done.output.replace("│", " ").split())  # typer's box, wrapped at 80 columns
    assert f"Invalid value for '{option}'" in said and "not an empty text" in said, done.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", ["new/", "new/.", "new/sub/..", "new//"])
@pytest.mark.parametrize(
    "args",
    [
        ["report", "cfo", "--out", "{}", "--format", "pdf"],
        ["payouts", "statement", "--partner", "P1", "--period", "2026-09", "-f", "html", "--out", "{}"],
        ["simulate", "--out", "{}", "--policy", "policy.toml"],
        *FILE_OPTIONS,
    ],
    ids=lambda args: " ".join(a for a in args if a != "{}"),
)
def test_a_file_option_that_names_a_folder_is_bad_usage_and_writes_nothing(
    args: list[str], folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out reports/` means a folder, but as a path it is `reports`: a PDF named `reports` was
    written there (exit 0). A file option whose last part is no file name is refused, naming it."""
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, [folder if a == "{}" else a for a in args])
    assert done.exit_code == 2, done.output
    option = args[args.index("{}") - 1]
    said = " ".join(done.output.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in said and f"{folder} names a folder: give a file name" in said, (
        said
    )
    assert list(tmp_path.iterdir()) == []


# Writing whole, and never through a symbolic link (cosell.outfiles).


@pytest.fixture()
def planted(tmp_path: Path) -> Path:
    """A file outside the output folder that a planted link points at (someone's ``.bashrc``)."""
    target = tmp_path / "home" / ".bashrc"
    target.parent.mkdir()
    target.write_bytes(b"export PATH=/usr/bin\n")
    return target


def plant(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def assert_refused(link: Path, target: Path, code: int, out: str) -> None:
    assert (code, out) == (
        1,
        f"error: cannot write {link}: it is a symbolic link, and cosell does not write through links",
    )
    assert link.is_symlink() and link.readlink() == target  # the link and its target untouched
    assert target.read_bytes() == b"export PATH=/usr/bin\n"


def test_write_file_refuses_a_symbolic_link(tmp_path: Path, planted: Path) -> None:
    link = tmp_path / "out" / "report.pdf"
    plant(link, planted)
    with pytest.raises(CosellError) as raised:
        write_file(link, b"%PDF-1.4 report")
    assert (
        str(raised.value)
        == f"cannot write {link}: it is a symbolic link, and cosell does not write through links"
    )
    assert link.readlink() == planted and planted.read_bytes() == b"export PATH=/usr/bin\n"
    dangling = tmp_path / "out" / "dangling.pdf"
    plant(dangling, tmp_path / "nowhere" / "x")
    with pytest.raises(CosellError, match="symbolic link"):
        write_file(dangling, b"%PDF")
    assert not (tmp_path / "nowhere").exists()


def test_write_file_gives_the_same_bytes_and_replaces_the_file(tmp_path: Path, planted: Path) -> None:
    """The file is replaced, not rewritten in place: a hard link planted at the name (another name
    of someone's file) is replaced too, its other name keeps its bytes; no temporary file is left."""
    path = tmp_path / "out" / "report.pdf"
    path.parent.mkdir()
    path.hardlink_to(planted)
    write_file(path, b"%PDF-1.4 \x00\xff whole")
    assert path.read_bytes() == b"%PDF-1.4 \x00\xff whole"
    assert planted.read_bytes() == b"export PATH=/usr/bin\n"
    write_file(path, b"again")
    assert path.read_bytes() == b"again"
    assert [p.name for p in path.parent.iterdir()] == ["report.pdf"]


@given(st.integers(min_value=1, max_value=250), st.sampled_from(["r", "é", "名"]))
def test_a_long_file_name_the_system_takes_is_written(length: int, char: str) -> None:
    """Any name that fits a file name (255 bytes) is written, whatever room the temporary name
    needs: a 250-character --out name was refused with "File name too long"."""
    with tempfile.TemporaryDirectory() as folder:
        name = (char * length)[: 250 // len(char.encode())] + ".pdf"
        path = Path(folder) / name
        write_file(path, b"whole")
        with output_file(path) as temporary, temporary.open("xb") as f:
            f.write(b"again")
        assert [p.name for p in Path(folder).iterdir()] == [name]
        assert path.read_bytes() == b"again"


@pytest.mark.parametrize("before", [None, b"the old report"], ids=["new", "replaced"])
def test_a_failed_write_leaves_no_partial_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: bytes | None
) -> None:
    """A disk that fills up once the file is written: the old file (or none) stays, nothing else."""
    path = tmp_path / "report.pdf"
    if before is not None:
        path.write_bytes(before)

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(CosellError) as raised:
        write_file(path, b"a new report that does not fit")
    assert str(raised.value) == f"cannot write {path}: No space left on device"
    assert [p.name for p in tmp_path.iterdir()] == ([] if before is None else ["report.pdf"])
    assert before is None or path.read_bytes() == before


def test_a_failed_streamed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    """A writer that fails part-way (an error while rows are written) places nothing."""
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), output_file(path) as temporary, temporary.open("x") as f:
        f.write("header\n")
        raise RuntimeError("a row that cannot be written")
    assert list(tmp_path.iterdir()) == []


def test_report_out_that_is_a_symbolic_link_is_refused(pay_path: str, tmp_path: Path, planted: Path) -> None:
    link = tmp_path / "shared" / "cfo.html"
    plant(link, planted)
    code, out = run("report", "cfo", "--period", "2026-Q3", "-w", pay_path, "-f", "html", "-o", str(link))
    assert_refused(link, planted, code, out)


def test_a_statement_named_from_data_is_not_written_through_a_link(
    pay_path: str, tmp_path: Path, planted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    link = shared / STATEMENT
    plant(link, planted)
    monkeypatch.chdir(shared)
    code, out = run(
        "payouts", "statement", "--partner", TRAVERSAL, "--period", "2026-09", "-w", pay_path, "-f", "pdf"
    )
    assert_refused(Path(link.name), planted, code, out.replace(f"{shared}/", ""))
    assert [p.name for p in shared.iterdir()] == [link.name]


def test_a_writeback_into_a_folder_is_not_written_through_a_link(
    pay_path: str, tmp_path: Path, planted: Path
) -> None:
    shared = tmp_path / "shared"
    link = shared / "cosell-writeback-salesforce-opportunity.csv"
    plant(link, planted)
    code, out = run("writeback", "salesforce", "--out", str(shared), "-w", pay_path)
    assert_refused(link, planted, code, out)
    assert [p.name for p in shared.iterdir()] == [link.name]


def test_attribute_results_are_not_written_through_a_link(tmp_path: Path, planted: Path) -> None:
    shared = tmp_path / "results"
    link = shared / "attribution.csv"
    plant(link, planted)
    data = Path(__file__).parent / "golden" / "three_partners"
    code, out = run("attribute", "--data", str(data), "--out", str(shared))
    assert_refused(link, planted, code, out)
    assert [p.name for p in shared.iterdir()] == [link.name]


def test_a_demo_table_writer_that_fails_places_nothing(tmp_path: Path, planted: Path) -> None:
    from cosell.data.demo.csvout import TableWriter

    with pytest.raises(RuntimeError), TableWriter(tmp_path, "users") as writer:
        raise RuntimeError("a chunk that cannot be made")
    TableWriter(tmp_path, "partners").discard()
    assert list(tmp_path.iterdir()) == [planted.parent]
    plant(tmp_path / "accounts.csv", planted)
    with pytest.raises(CosellError, match="symbolic link"):
        TableWriter(tmp_path, "accounts")
    with TableWriter(tmp_path, "users") as writer:
        assert writer.rows == 0
    assert (tmp_path / "users.csv").read_text().startswith("user_id,")
    assert planted.read_bytes() == b"export PATH=/usr/bin\n"


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "statement.pdf"
    path.write_bytes(b"old")
    path.chmod(0o600)
    write_file(path, b"new")
    assert (path.read_bytes(), path.stat().st_mode & 0o777) == (b"new", 0o600)


@pytest.mark.parametrize(
    "command",
    [
        ["report", "partners", "--period", "2026-Q3", "-f", "xlsx", "-w", "{ws}"],
        ["payouts", "statement", "--partner", TRAVERSAL, "--period", "2026-09", "-f", "pdf", "-w", "{ws}"],
        ["policy", "appendix"],  # reads no workspace: still replaces none
    ],
    ids=["report", "statement", "appendix"],
)
def test_an_output_never_replaces_a_workspace(pay_path: str, tmp_path: Path, command: list[str]) -> None:
    """`--out cosell.duckdb` (a slip of the keyboard, another spelling of the workspace's path, or
    another workspace) replaced the workspace, every import, run and ledger entry in it, by the
    report: refused as bad usage, the workspace byte for byte as it was."""
    other = tmp_path / "other.duckdb"
    open_workspace(str(other)).close()
    for target in (pay_path, str(Path(pay_path).parent / "." / Path(pay_path).name), str(other)):
        before = Path(target).read_bytes()
        code, out = run(*(a.format(ws=pay_path) for a in command), "-o", target)
        assert code == 2 and "is a cosell workspace (a DuckDB database)" in out, out
        assert Path(target).read_bytes() == before
    assert run("payouts", "ledger", "-w", pay_path)[0] == 0


def _output_options() -> list[tuple[list[str], str]]:
    """Every (command path, option name) whose option names a place cosell writes: found in the
    app itself, so a command added later is checked too."""
    found: list[tuple[list[str], str]] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in sorted(command.commands.items()):
                walk(sub, [*path, name])
            return
        for param in command.params:
            if getattr(param.type, "func", None) in (output_path, output_file_path):
                found.append((path, max(param.opts, key=len)))

    for name, (module, _) in sorted(COMMAND_MODULES.items()):
        walk(load_commands(module)[name], [name])
    return found


OUTPUT_OPTIONS = _output_options()


def test_every_output_option_is_found() -> None:
    assert len(OUTPUT_OPTIONS) >= 11  # the eleven of the tests above, and any added since
    assert (["report", "cfo"], "--out") in OUTPUT_OPTIONS and (
        ["import", "canonical"],
        "--rejects",
    ) in OUTPUT_OPTIONS


@pytest.mark.parametrize(
    ("path", "option"), OUTPUT_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_a_dash_is_not_a_file_named_dash(
    path: list[str], option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out -` (standard output, by custom) wrote a file named `-` in the current folder and said
    so only as "wrote -": refused as bad usage naming the option, nothing written; ./- still names
    such a file on purpose."""
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, [*path, option, "-"])
    assert done.exit_code == 2, done.output
    said = " ".join(done.output.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in said and "not standard output" in said, said
    assert list(tmp_path.iterdir()) == []
    assert output_path("./-") == Path("-")
