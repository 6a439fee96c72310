from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.policy import Policy

runner = CliRunner()


def test_every_command_has_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, name
    for group in app.registered_groups:
        assert runner.invoke(app, [group.name or "", "--help"]).exit_code == 0


def test_init_creates_workspace(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["init", "--workspace", str(path)])
    assert result.exit_code == 0, result.output
    assert path.exists()
    assert "schema version" in result.output


def test_policy_init_writes_a_valid_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    result = runner.invoke(app, ["policy", "init", str(path)])
    assert result.exit_code == 0, result.output
    assert Policy().version in result.output
    again = runner.invoke(app, ["policy", "init", str(path)])
    assert again.exit_code == 2
    check = runner.invoke(app, ["policy", "check", str(path)])
    assert check.exit_code == 0 and "valid" in check.output


def test_unknown_command_is_bad_usage() -> None:
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_a_path_in_a_message_stays_whole_on_its_line_in_a_pipe(tmp_path: Path) -> None:
    """A path longer than the width, with brackets rich would read as markup and an emoji code, is
    printed as it is: not folded at the 80th column (a script reading the output gets the whole
    path), not eaten, no emoji."""
    folder = tmp_path / ("[odd] :smile: " + "a-rather-long-folder-name-" * 3)
    folder.mkdir()
    workspace, policy = folder / "w.duckdb", folder / "policy.toml"
    env = {"COLUMNS": "80"}
    init = runner.invoke(app, ["init", "--workspace", str(workspace)], env=env)
    assert f"workspace {workspace} ready (schema version" in init.output.splitlines()[0]
    written = runner.invoke(app, ["policy", "init", str(policy)], env=env)
    assert f"wrote {policy} (version {Policy().version})" in written.output.splitlines()
    checked = runner.invoke(app, ["policy", "check", str(policy)], env=env)
    assert f"{policy}: valid, version {Policy().version}" in checked.output.splitlines()


def test_a_bug_is_said_in_one_line_with_exit_70_never_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("schema_version")

    monkeypatch.setattr("cosell.service.workspace.init_workspace", broken)
    args = ["init", "--workspace", str(tmp_path / "w.duckdb")]
    result = runner.invoke(app, args, env={"COSELL_DEBUG": ""})
    assert result.exit_code == 70 and isinstance(result.exception, SystemExit)
    said = " ".join(result.stderr.split())
    assert said.startswith("error: an internal error stopped the command (KeyError: 'schema_version').")
    assert "COSELL_DEBUG=1" in said and "Traceback" not in result.output
    # COSELL_DEBUG=1 lets the exception through, for whoever reports it.
    debug = runner.invoke(app, args, env={"COSELL_DEBUG": "1"})
    assert isinstance(debug.exception, KeyError)


@pytest.mark.parametrize("args", [["policy", "appendix"], ["--help"]])
def test_a_reader_that_stops_reading_is_no_bug(args: list[str]) -> None:
    """`cosell ... | head`: the pipe closes before the output is written; the command exits 1
    quietly, as click's commands do, and never says an internal error (it once exited 70 with one)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        done = _cosell_into(write, args)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


def _cosell_into(stdout: Any, args: list[str]) -> subprocess.CompletedProcess[str]:
    """The console script run with its output into ``stdout`` (a file or descriptor), its
    errors captured, as a user runs it (no COSELL_DEBUG)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("cosell")), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COSELL_DEBUG": ""},
        check=False,
    )


@pytest.mark.parametrize("args", [["policy", "appendix"], ["--help"], ["users", "--help"]])
def test_output_to_a_full_disk_is_a_failure_said_not_a_bug(args: list[str]) -> None:
    """`cosell ... > /dev/full`: the output cannot be written. That is the machine's doing: exit 1
    with one line saying what could not be written and why, never exit 70 calling it a bug in
    cosell, nor a traceback for the help (found by fuzzing the CLI's outputs)."""
    with open("/dev/full", "w") as full:
        done = _cosell_into(full, args)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "error: cannot write the command's output: No space left on device\n"


@pytest.mark.parametrize(
    "args",
    [
        ["explain", ""],
        ["history", " "],
        ["gate", "check", "", "--to", "Closed Won"],
        ["accounts", "recommend", ""],
        ["dispute", "open", "", "--by", "U1", "--reason", "r"],
        # Every other command on one record, too (found by fuzzing the CLI: they said "no finding"
        # or "no payout run : see ..." of nothing, naming no argument, with exit 1).
        ["findings", "show", ""],
        ["dispute", "decide", " ", "--accept", "--by", "U1", "--reason", "r"],
        ["prompts", "answer", "", "--tier", "influenced", "--activity", "joint call"],
        ["payouts", "show", ""],
        ["payouts", "approve", "--reason", "monthly close", "", "--by", "U1"],
        ["referrals", "show", ""],
        ["referrals", "accept", "", "--by", "U1", "--reason", "r"],
        ["registrations", "show", " "],
        ["registrations", "approve", "", "--by", "U1", "--reason", "r"],
    ],
)
def test_an_empty_opportunity_id_is_bad_usage_before_the_workspace_is_read(
    tmp_path: Path, args: list[str]
) -> None:
    result = runner.invoke(app, [*args, "--workspace", str(tmp_path / "none.duckdb")], env={"COLUMNS": "80"})
    assert result.exit_code == 2, result.output
    assert "give an id, not an empty text" in result.output
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize("command", [["attribute"], ["payouts", "ledger"], ["report", "cfo"], ["init"]])
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_workspace_option_is_bad_usage(
    command: list[str], empty: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-w "$WS"`` with the variable unset: bad usage naming the option, not a refusal of a
    "workspace  is a folder" (the current folder) nor a workspace made there."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*command, "-w", empty], env={"COLUMNS": "80"})
    assert result.exit_code == 2, result.output
    assert "--workspace" in result.output and "not an empty text" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["payouts", "ledger", "--partner", ""], "--partner"),
        (["payouts", "ledger", "--rep", " "], "--rep"),
        (["payouts", "ledger", "--deal", ""], "--deal"),
        (["prompts", "--rep", ""], "--rep"),
        (["findings", "list", "--kind", ""], "--kind"),
        (["registrations", "submit", "--account", "", "--by", "U1", "--reason", "r"], "--account"),
    ],
)
def test_an_empty_filter_or_id_option_is_bad_usage_naming_it(
    tmp_path: Path, args: list[str], option: str
) -> None:
    """`--partner "$P"` with the variable unset: bad usage naming the option, before the workspace
    is read. It used to filter nothing (every party's ledger entries, every rep's prompts), or say
    "no account" of nothing (found by fuzzing the CLI's options)."""
    workspace = tmp_path / "none.duckdb"
    result = runner.invoke(app, [*args, "--workspace", str(workspace)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': give a value, not an empty text" in result.output
    assert not workspace.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["policy", "appendix", "--format", "html", "--out"],
        ["policy", "init"],
        ["demo", "--size", "5", "--out"],
    ],
)
def test_a_file_name_too_long_is_a_failure_naming_it_not_a_bug(tmp_path: Path, args: list[str]) -> None:
    """An output name longer than the file system allows (255 bytes): exit 1 naming the file and
    the reason, never exit 70 calling it a bug in cosell (found by fuzzing the CLI's options)."""
    name = tmp_path / ("a" * 300 + ".csv")
    result = runner.invoke(app, [*args, str(name)], env={"COSELL_DEBUG": ""})
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "internal error" not in said and "File name too long" in said and "aaaa" in said


def test_version_prints_the_installed_packages_version() -> None:
    """``cosell --version`` did not exist (exit 2, "No such option"): it prints the installed
    distribution's version, exit 0, before any command or workspace is looked at."""
    from importlib import metadata

    done = _cosell_into(subprocess.PIPE, ["--version"])
    assert (done.returncode, done.stdout, done.stderr) == (0, f"cosell {metadata.version('cosell')}\n", "")
    assert runner.invoke(app, ["--version", "no-such-command"]).output == done.stdout
