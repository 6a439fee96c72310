"""``cosell plans init | check | load | list`` through the real typer app."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.store.workspace import open_workspace
from cosell.toml_text import MAX_TOML_FILE_BYTES

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PayWorld

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")
    monkeypatch.delenv("COSELL_POLICY", raising=False)
    monkeypatch.delenv("COSELL_WORKSPACE", raising=False)


def write(path: Path, version: int, start: str, end: str = "", percent: str = "10") -> Path:
    end_line = f"effective_to = {end}\n" if end else ""
    path.write_text(
        f'plan_id = "p"\nversion = {version}\neffective_from = {start}\n{end_line}currency = "USD"\n'
        f'[[rules]]\nid = "cosell-20"\npercent = {percent}\n',
        encoding="utf-8",
    )
    return path


def test_init_writes_the_example_that_checks_clean(tmp_path: Path) -> None:
    target = tmp_path / "plan.toml"
    result = runner.invoke(app, ["plans", "init", str(target)])
    assert result.exit_code == 0, result.output
    assert "referral-sourced" in target.read_text()
    result = runner.invoke(app, ["plans", "check", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{target}: partners-2026@1, in force from 2026-01-01T00:00:00Z until superseded, 7 rules, "
        "rep commission on top: ok\n"
    )
    again = runner.invoke(app, ["plans", "init", str(target)])
    assert again.exit_code == 2
    assert "exists; pass --force" in again.output


def test_check_lists_every_problem_naming_the_rule_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "2026.toml"
    bad.write_text(
        'plan_id = "p"\nversion = 1\neffective_from = 2026-01-01\ncurrency = "USD"\n'
        '[[rules]]\nid = "cosell-20"\npartner_type = "co_sell"\npercent = 120\n'
        '[[rules]]\nid = "a"\ntier = "sourced"\nflat = 1\n'
        '[[rules]]\nid = "b"\nrole = "sourcer"\nflat = 2\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["plans", "check", str(bad)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f'{bad} rule "cosell-20": percent 120 is over 100',
        f'{bad} rules "a" and "b": overlapping rules with no precedence: both match tier sourced, role sourcer '
        "(give one a higher priority, or make one more specific)",
        "2 problems",
    ]


def test_check_a_folder_finds_a_gap_between_versions(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    write(folder / "v1.toml", 1, "2026-01-01", end="2026-07-01")
    write(folder / "v2.toml", 2, "2026-07-02")
    result = runner.invoke(app, ["plans", "check", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{folder / 'v2.toml'}: a gap in effective dates: p@1 ends 2026-07-01T00:00:00Z but p@2 starts "
        "2026-07-02T00:00:00Z"
    )
    write(folder / "v2.toml", 2, "2026-07-01")
    ok = runner.invoke(app, ["plans", "check", str(folder)])
    assert ok.exit_code == 0, ok.output
    assert len(ok.stdout.splitlines()) == 2


def test_check_refuses_a_plan_not_in_the_workspace_currency(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('workspace_currency = "EUR"\n', encoding="utf-8")
    plan = write(tmp_path / "p.toml", 1, "2026-01-01")
    result = runner.invoke(app, ["plans", "check", str(plan), "--policy", str(policy)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == f"{plan}: currency USD is not the workspace currency EUR"


def test_load_and_list(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws.duckdb")
    v1 = write(tmp_path / "v1.toml", 1, "2026-01-01")
    result = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(v1), "-w", ws, "--by", "alice"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"loaded p@1 from {v1} by alice (2026-01-01T00:00:00Z on)\n"
    same = runner.invoke(app, ["plans", "load", "--reason", "new plan year", str(v1), "-w", ws])
    assert same.stdout == "p@1 is already loaded with this text: nothing changed\n"
    v2 = write(tmp_path / "v2.toml", 2, "2026-04-01", percent="12")
    refused = runner.invoke(app, ["plans", "load", "--reason", "new plan year", str(v2), "-w", ws])
    assert refused.exit_code == 1
    assert "pass --reprice to do that on purpose" in refused.stderr
    repriced = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(v2), "-w", ws, "--reprice"]
    )
    assert repriced.exit_code == 0, repriced.output
    listed = runner.invoke(app, ["plans", "list", "-w", ws, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["plan_version"], r["in_force_until"], r["repriced"], r["by_user"]) for r in rows] == [
        ("p@1", "2026-04-01T00:00:00Z", "no", "alice"),
        ("p@2", "", "yes", "tester"),
    ]
    assert rows[0]["loaded_at"] == "2026-05-01T00:00:00Z"


def test_load_a_bad_file_adds_nothing(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws.duckdb")
    assert runner.invoke(app, ["init", "-w", ws]).exit_code == 0
    bad = write(tmp_path / "bad.toml", 1, "2026-01-01", percent="-3")
    result = runner.invoke(app, ["plans", "load", "--reason", "new plan year", str(bad), "-w", ws])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f'{bad} rule "cosell-20": percent -3 is negative'
    listed = runner.invoke(app, ["plans", "list", "-w", ws, "--format", "csv"])
    assert listed.stdout.splitlines() == [
        "plan_version,effective_from,effective_to,in_force_until,rules,repriced,loaded_at,by_user,reason,file,digest"
    ]


def test_where_the_workspace_has_users_only_finance_partner_ops_or_admin_load_plans(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws.duckdb")
    world = PayWorld(ws=open_workspace(ws))
    world.user("U-AE")
    world.user("U-FIN", "finance")
    world.ws.close()
    v1 = write(tmp_path / "v1.toml", 1, "2026-01-01")
    rep = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(v1), "-w", ws, "--by", "U-AE"]
    )
    assert rep.exit_code == 1
    assert (
        "U-AE has the role ae: only finance, partner_ops, partner_manager, admin users may load" in rep.output
    )
    unknown = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(v1), "-w", ws, "--by", "U-FN"]
    )
    assert unknown.exit_code == 1 and "no user U-FN (did you mean U-FIN?)" in unknown.output
    listed = runner.invoke(app, ["plans", "list", "-w", ws, "--format", "json"])
    assert json.loads(listed.stdout) == []  # nothing was added by the refused loads
    ok = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(v1), "-w", ws, "--by", "U-FIN"]
    )
    assert ok.exit_code == 0, ok.output
    assert "loaded p@1" in ok.stdout and "by U-FIN" in ok.stdout


# ---- every number bounded at check time; no traceback for a hostile file ---------------------------


def _invoke_refused(args: list[str]) -> list[str]:
    """Run a command that must refuse cleanly: exit 1, a message, no traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


@pytest.mark.parametrize(
    ("head", "rule", "message"),
    [
        (
            "version = 1",
            "flat = 1e20",
            'rule "cosell-20": flat 100000000000000000000 is too large: a plan amount has at most 14 digits '
            "before the decimal point (what the ledger holds)",
        ),
        (
            "version = 9223372036854775807",
            "percent = 10",
            "version 9223372036854775807 must be a whole number from 1 to 2,147,483,647",
        ),
        (
            "version = 1",
            "percent = 10.0000001",
            'rule "cosell-20": percent 10.0000001 has more than 6 decimal places',
        ),
        ("version = 1", "percent = 1" + "0" * 5000, "not valid TOML: Exceeds the limit (4300 digits)"),
    ],
    ids=["flat-1e20", "version-int64", "percent-digits", "5000-digit-int"],
)
def test_check_and_load_refuse_out_of_bounds_numbers(
    tmp_path: Path, head: str, rule: str, message: str
) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text(
        f'plan_id = "p"\n{head}\neffective_from = 2026-01-01\ncurrency = "USD"\n'
        f'[[rules]]\nid = "cosell-20"\n{rule}\n',
        encoding="utf-8",
    )
    for command in (
        ["plans", "check", str(plan)],
        ["plans", "load", "--reason", "new plan year", str(plan), "-w", str(tmp_path / "w.duckdb")],
    ):
        lines = _invoke_refused(command)
        assert lines[0].startswith(f"{plan}{'' if message.startswith('rule') else ':'} {message}"), lines
        assert lines[-1] == "1 problem"
    assert not (tmp_path / "w.duckdb").exists()  # refused before the workspace was opened


def test_a_binary_plan_file_is_refused_with_a_message(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_bytes(bytes(range(256)) * 4)
    expected = [f"{plan}: is not a text file (a plan is TOML text in UTF-8)", "1 problem"]
    assert _invoke_refused(["plans", "check", str(plan)]) == expected
    assert (
        _invoke_refused(
            ["plans", "load", "--reason", "new plan year", str(plan), "-w", str(tmp_path / "w.duckdb")]
        )
        == expected
    )


def test_a_plan_that_is_not_a_regular_file_or_too_large_is_refused_without_reading_it(tmp_path: Path) -> None:
    """``plans check /dev/zero`` read the device until memory ran out, and a named pipe waited for a
    writer forever: a plan is read as the policy is (one shared reader), only from a regular file
    of at most MAX_TOML_FILE_BYTES, else refused by name (exit 1, nothing loaded)."""
    large = tmp_path / "large.toml"
    large.write_bytes(b"#" * (MAX_TOML_FILE_BYTES + 1))
    expected = [f"{large}: is larger than {MAX_TOML_FILE_BYTES:,} bytes (a plan is a short text file)"]
    assert _invoke_refused(["plans", "check", str(large)]) == [*expected, "1 problem"]
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "plan.toml"
    link.symlink_to("/dev/zero")
    for path in (Path("/dev/zero"), link, fifo):
        expected = [f"{path}: is not a regular file (a plan is a TOML text file)", "1 problem"]
        assert _invoke_refused(["plans", "check", str(path)]) == expected
        assert (
            _invoke_refused(
                ["plans", "load", "--reason", "new plan year", str(path), "-w", str(tmp_path / "w.duckdb")]
            )
            == expected
        )
    assert not (tmp_path / "w.duckdb").exists()


def test_the_largest_flat_fee_a_plan_accepts_posts_to_the_ledger(tmp_path: Path) -> None:
    # The bound is what the ledger holds: the largest accepted fee is posted, not a DECIMAL error.
    from ledger_support import at

    from cosell.pay.plan_parse import parse_plan
    from cosell.pay.plan_versions import add_plan_version, load_plan_set
    from cosell.pay.posting import post_period
    from cosell.pay.pricers import PlanSetPricer
    from cosell.store.ledger import read_entries

    largest = "99999999999999.99"
    plan = (
        write(tmp_path / "p.toml", 1, "2026-01-01").read_text().replace("percent = 10", f"flat = {largest}")
    )
    assert runner.invoke(app, ["plans", "check", str(tmp_path / "p.toml")]).exit_code == 0
    world = PayWorld()
    world.partner("P1", "co_sell")
    world.user("U1")
    add_plan_version(
        world.ws.con,
        parse_plan(plan, "p.toml"),
        "fin",
        now=at("2025-12-01T00:00:00Z"),
        workspace_currency="USD",
    )
    world.deal("O1", "1000.00")
    world.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "1000.00")])})
    post_period(
        world.ws,
        world.policy,
        PlanSetPricer(load_plan_set(world.ws.con)),
        "2026-09",
        "fin",
        at("2026-10-01T09:00:00Z"),
    )
    assert [(e.party_id, e.amount) for e in read_entries(world.ws.con)] == [("P1", Decimal(largest))]


def test_posting_before_any_plan_is_loaded_is_refused_not_bad_usage(tmp_path: Path) -> None:
    path = str(tmp_path / "ws.duckdb")
    assert runner.invoke(app, ["init", "-w", path]).exit_code == 0
    result = runner.invoke(
        app,
        ["payouts", "post", "--reason", "monthly close", "--period", "2026-04", "-w", path, "--by", "fin"],
    )
    assert result.exit_code == 1, result.output
    assert "no compensation plan is loaded: cosell plans load FILE" in result.output


@pytest.mark.parametrize("why", [[], ["--reason", ""], ["--reason", " \t"]])
def test_a_plan_load_records_why_or_is_refused(tmp_path: Path, why: list[str]) -> None:
    """Found by fuzzing ``plans load`` without ``--reason``: a plan version (what every payout is
    priced from) was recorded with who and when but no why (SPEC section 9). A missing or blank
    ``--reason`` is now bad usage (exit 2, naming the option) and nothing is loaded; given, it is
    stored with the version and shown by ``plans list``."""
    path = str(tmp_path / "w.duckdb")
    assert runner.invoke(app, ["init", "-w", path]).exit_code == 0
    plan = write(tmp_path / "p.toml", 1, "2026-06-01")
    refused = runner.invoke(app, ["plans", "load", str(plan), "-w", path, *why])
    assert refused.exit_code == 2 and "--reason" in refused.output, refused.output
    assert json.loads(runner.invoke(app, ["plans", "list", "-w", path, "-f", "json"]).output) == []
    done = runner.invoke(app, ["plans", "load", str(plan), "-w", path, "--reason", "FY27 plan signed off"])
    assert done.exit_code == 0, done.output
    listed = json.loads(runner.invoke(app, ["plans", "list", "-w", path, "-f", "json"]).output)
    assert [(r["by_user"], r["reason"]) for r in listed] == [("tester", "FY27 plan signed off")]


def test_a_workspace_from_before_plan_reasons_is_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema step 17 adds plan_versions.reason to an existing workspace: a version loaded before
    it reads back with no reason, and a new one is loaded with its reason."""
    from cosell.store import workspace as ws_module

    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as old:
        old.setattr(ws_module, "MIGRATIONS", ws_module.MIGRATIONS[:16])
        old.setattr(ws_module, "SCHEMA_VERSION", 16)
        ws = open_workspace(path)
        columns = {r[0] for r in ws.con.execute("DESCRIBE plan_versions").fetchall()}
        assert "reason" not in columns and ws.schema_version == 16
        first = write(tmp_path / "p1.toml", 1, "2026-06-01").read_text()
        ws.con.execute(
            "INSERT INTO plan_versions VALUES (1, 'p', 1, '2026-06-01', NULL, 'USD', ?, ?, 'p1.toml', "
            "'2026-04-01', 'old-user', false)",
            [first, __import__("hashlib").sha256(first.encode()).hexdigest()],
        )
        ws.close()
    plan = write(tmp_path / "p2.toml", 2, "2026-09-01")
    done = runner.invoke(app, ["plans", "load", str(plan), "-w", str(path), "--reason", "Q3 uplift"])
    assert done.exit_code == 0, done.output
    listed = json.loads(runner.invoke(app, ["plans", "list", "-w", str(path), "-f", "json"]).output)
    assert [(r["by_user"], r["reason"]) for r in listed] == [("old-user", ""), ("tester", "Q3 uplift")]
    upgraded = open_workspace(path)
    assert upgraded.schema_version == ws_module.SCHEMA_VERSION >= 17
    upgraded.close()
