"""As of T (evaluation) and known at K (knowledge): the trap of issue 12 item 3, end to end.

Historical data imported today (``--now 2026-12-01``), then read as of 2025-12-31: the deals that
existed then are attributed as they stood then, reports read that run, and a knowledge instant
before the import is refused with the earliest import instant (exit 1), never an empty run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell import clock
from cosell.asof import AsOf
from cosell.cli.app import app
from cosell.errors import UsageError
from cosell.instants import display_instant, parse_instant
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).parent / "data"))
from import_fixtures import write_dataset

runner = CliRunner()
IMPORTED = "2026-12-01T00:00:00Z"
NOW = "2026-12-03T09:00:00Z"
T = "2025-12-31T00:00:00Z"


def _opp(opp: str, created: str, stage: str, amount: str) -> dict[str, str]:
    return {"opportunity_id": opp, "account_id": "A1", "created_at": created, "amount": amount,
            "currency": "USD", "stage": stage, "owner_id": "U1"}  # fmt: skip


def history_tables() -> dict[str, list[dict[str, str]]]:
    """Three deals of 2025-2026, exported today.

    D-WON   created 2025-10-01, won 2025-12-10; P1's intro touch 2025-09-20 sources it (S3).
    D-OPEN  created 2025-11-01, won 2026-02-15 (after T: open at T); P1 joined on 2026-01-10,
            after T, so at T it has no partner evidence (none); evaluated today it is influenced.
    D-LATE  created 2026-03-01: it did not exist at T.
    """
    return {
        "accounts": [{"account_id": "A1", "name": "Northwind", "segment": "ENT", "owner_id": "U1"}],
        "partners": [{"partner_id": "P1", "name": "Alpha", "partner_type": "referral", "joined_at": ""}],
        "opportunities": [
            _opp("D-WON", "2025-10-01T00:00:00Z", "Closed Won", "10000.00"),
            _opp("D-OPEN", "2025-11-01T00:00:00Z", "Closed Won", "20000.00"),
            _opp("D-LATE", "2026-03-01T00:00:00Z", "Discovery", "30000.00"),
        ],
        "stage_history": [
            {"opportunity_id": "D-WON", "stage": "Discovery", "entered_at": "2025-10-01T00:00:00Z"},
            {"opportunity_id": "D-WON", "stage": "Closed Won", "entered_at": "2025-12-10T00:00:00Z"},
            {"opportunity_id": "D-OPEN", "stage": "Discovery", "entered_at": "2025-11-01T00:00:00Z"},
            {"opportunity_id": "D-OPEN", "stage": "Closed Won", "entered_at": "2026-02-15T00:00:00Z"},
        ],
        "touches": [
            _intro("T1", "2025-09-20T00:00:00Z", "D-WON"),
            _intro("T2", "2026-01-10T00:00:00Z", "D-OPEN"),
        ],
    }


def _intro(touch: str, at: str, opp: str) -> dict[str, str]:
    return {"touch_id": touch, "occurred_at": at, "account_id": "A1", "actor": "partner", "kind": "intro",
            "opportunity_id": opp, "partner_id": "P1"}  # fmt: skip


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture()
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A workspace with the history imported on 2026-12-01 (--now), the clock at 2026-12-03."""
    monkeypatch.setenv("COSELL_NOW", NOW)
    monkeypatch.setenv("COSELL_USER", "controller")
    path = str(tmp_path / "ws.duckdb")
    folder = write_dataset(tmp_path / "export", history_tables())
    out = invoke("import", "canonical", str(folder), "-w", path, "--now", IMPORTED)
    assert f"imported at {IMPORTED}" in out
    return path


def runs(path: str) -> list[tuple[int, str, str, str, str]]:
    w = open_workspace(path)
    try:
        rows = w.con.execute(
            "SELECT run_id, strftime(run_at, '%Y-%m-%dT%H:%M:%SZ'), strftime(as_of, '%Y-%m-%dT%H:%M:%SZ'), "
            "strftime(known_at, '%Y-%m-%dT%H:%M:%SZ'), counts FROM attribution_runs ORDER BY run_id"
        ).fetchall()
    finally:
        w.close()
    return [tuple(r) for r in rows]


def test_attribute_as_of_a_past_instant_attributes_the_deals_that_existed_then(ws: str) -> None:
    out = invoke("attribute", "-w", ws, "--as-of", "2025-12-31")
    # The line wraps at the terminal's width like prose: compare it with the spaces made one.
    assert f"Evaluated as of {T} (--as-of), with the data known at {NOW} (--known-at)." in " ".join(
        out.split()
    )
    # D-WON sourced by P1's intro; D-OPEN was open at T with no partner evidence yet; D-LATE absent.
    assert runs(ws) == [
        (1, NOW, T, NOW, json.dumps({"accelerated": 0, "influenced": 0, "none": 1, "sourced": 1}))
    ]
    w = open_workspace(ws)
    rows = w.con.execute(
        "SELECT opportunity_id, tier, cycle_days FROM attribution_history ORDER BY 1"
    ).fetchall()
    w.close()
    # D-OPEN's cycle is T - C (60 days), not its close on 2026-02-15 (106 days).
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        ("D-OPEN", "none", "60.000000"),
        ("D-WON", "sourced", "70.000000"),
    ]


def test_attribute_today_sees_every_deal_and_the_later_evidence(ws: str) -> None:
    invoke("attribute", "-w", ws)
    w = open_workspace(ws)
    tiers = w.con.execute("SELECT opportunity_id, tier FROM attribution_history ORDER BY 1").fetchall()
    w.close()
    assert tiers == [("D-LATE", "none"), ("D-OPEN", "influenced"), ("D-WON", "sourced")]
    assert runs(ws)[0][1:4] == (NOW, NOW, NOW)


def test_nothing_known_at_the_instant_asked_is_refused_with_the_earliest_import(ws: str) -> None:
    result = runner.invoke(app, ["attribute", "-w", ws, "--as-of", T, "--known-at", "2026-11-30"])
    assert result.exit_code == 1
    assert (
        "nothing was known at 2026-11-30T00:00:00Z: the earliest import was recorded at "
        f"{IMPORTED} (give --known-at {IMPORTED} or later)"
    ) in result.output
    assert runs(ws) == []  # no empty run stored
    result = runner.invoke(app, ["explain", "D-WON", "-w", ws, "--known-at", "2026-11-30"])
    assert result.exit_code == 1 and f"the earliest import was recorded at {IMPORTED}" in result.output


@pytest.mark.parametrize("command", [["gate", "audit"], ["prompts"]])
def test_gate_audit_and_prompts_before_the_first_import_are_refused_not_empty(
    ws: str, command: list[str]
) -> None:
    """Both read the data known at K: before the first import nothing was known, which is no "0
    violations" or "0 prompts" (exit 0) (found by fuzzing as-of, branch asof37)."""
    result = runner.invoke(app, [*command, "-w", ws, "--known-at", "2026-11-30T23:59:59.999999Z"])
    assert result.exit_code == 1, result.output
    assert (
        "nothing was known at 2026-11-30T23:59:59.999999Z: the earliest import was recorded at "
        f"{IMPORTED} (give --known-at {IMPORTED} or later)"
    ) in result.output
    assert runner.invoke(app, [*command, "-w", ws, "--known-at", IMPORTED]).exit_code == 0


def test_no_deal_existed_at_the_as_of_instant_is_refused_not_stored(ws: str) -> None:
    result = runner.invoke(app, ["attribute", "-w", ws, "--as-of", "2025-06-30"])
    assert result.exit_code == 1
    assert (
        "no opportunity known at 2026-12-03T09:00:00Z existed at 2025-06-30T00:00:00Z (the as-of instant): "
        "the earliest was created at 2025-10-01T00:00:00Z"
    ) in result.output
    assert runs(ws) == []


def test_a_knowledge_instant_after_now_is_bad_usage(ws: str) -> None:
    result = runner.invoke(app, ["attribute", "-w", ws, "--known-at", "2027-01-01"])
    assert result.exit_code == 2
    assert "--known-at 2027-01-01T00:00:00Z is after now (2026-12-03T09:00:00Z)" in result.output


def test_explain_as_of_a_past_instant_explains_an_existing_deal(ws: str) -> None:
    text = invoke("explain", "D-WON", "-w", ws, "--as-of", "2025-12-31")
    assert "is partner-sourced by Alpha (P1)" in text
    assert f"Decided as of {T}" in text
    assert f"Read from the data known at {NOW}" in text
    data = json.loads(invoke("explain", "D-OPEN", "-w", ws, "--as-of", T, "--format", "json"))
    assert (data["status"], data["tier"], data["as_of"], data["known_at"]) == ("open", "none", T, NOW)
    result = runner.invoke(app, ["explain", "D-LATE", "-w", ws, "--as-of", T])
    assert result.exit_code == 1
    assert (
        "opportunity D-LATE was created at 2026-03-01T00:00:00Z, after the as-of instant "
        f"{T}: it did not exist yet"
    ) in result.output


def test_reports_right_after_attribute_read_that_run(ws: str) -> None:
    invoke("attribute", "-w", ws, "--as-of", T)
    report = json.loads(invoke("report", "cfo", "-w", ws, "--as-of", T, "--period", "2025-Q4", "-f", "json"))
    facts = {f["label"]: f["value"] for f in report["facts"]}
    # Facts are printed for people (UTC to the second); the json's as_of key is ISO 8601.
    assert facts["As of"] == display_instant(parse_instant(T)) and report["as_of"] == T
    assert facts["Data known at"] == display_instant(parse_instant(NOW))
    assert "the run evaluated as of the as-of instant" in facts["Attribution"]
    # Without --as-of the newest version known now is read: the same run, evaluated at T.
    invoke("report", "cfo", "-w", ws, "--period", "2025-Q4", "-f", "json")
    rec = json.loads(invoke("reconcile", "-w", ws, "--as-of", T, "--period", "2025-12", "-f", "json"))
    assert (rec["as_of"], rec["known_at"], rec["deals_checked"]) == (T, NOW, 1)


def test_a_report_as_of_an_instant_no_run_was_evaluated_at_says_how_to_make_one(ws: str) -> None:
    invoke("attribute", "-w", ws)  # evaluated now
    result = runner.invoke(app, ["report", "cfo", "-w", ws, "--as-of", T, "--period", "2025-Q4"])
    assert result.exit_code == 1
    assert (
        f"no attribution evaluated as of {T} is known at {NOW} (the newest full run known then, run 1, "
        f"was evaluated as of {NOW}): run `cosell attribute --as-of {T}` first"
    ) in result.output


def _fresh(tmp_path: Path, name: str) -> str:
    path = str(tmp_path / f"{name}.duckdb")
    folder = write_dataset(tmp_path / f"{name}-export", history_tables())
    invoke("import", "canonical", str(folder), "-w", path, "--now", IMPORTED)
    return path


def test_cosell_now_and_now_pin_attribute_and_explain_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSELL_USER", "controller")
    outputs = []
    for name, env, option in (("a", NOW, []), ("b", NOW, []), ("c", None, ["--now", NOW])):
        if env is None:
            monkeypatch.delenv("COSELL_NOW", raising=False)
        else:
            monkeypatch.setenv("COSELL_NOW", env)
        path = _fresh(tmp_path, name)
        outputs.append(
            (
                invoke("attribute", "-w", path, *option),
                invoke(
                    "explain", "D-OPEN", "-w", path, "-f", "json", *(["--known-at", NOW] if option else [])
                ),
                runs(path),
            )
        )
    assert outputs[0] == outputs[1] == outputs[2]
    attributed, explained, stored = outputs[0]
    assert f"run 1 stored (as of {NOW}," in attributed
    assert json.loads(explained)["as_of"] == NOW
    assert stored[0][1:4] == (NOW, NOW, NOW)


def test_now_lasts_one_command() -> None:
    result = runner.invoke(app, ["attribute", "--now", "2026-01-01", "-w", "/nonexistent/ws.duckdb"])
    assert result.exit_code == 1
    assert clock.now() != parse_instant("2026-01-01")


def test_as_of_defaults_to_known_at_which_defaults_to_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", NOW)
    now = parse_instant(NOW)
    assert AsOf.resolve() == AsOf(now, now, False)
    k = parse_instant("2026-06-30")
    assert AsOf.resolve(known_at=k) == AsOf(k, k, False)
    t = parse_instant(T)
    assert AsOf.resolve(as_of=t) == AsOf(t, now, True)
    assert AsOf.resolve(as_of=t).evaluated_at == t and AsOf.resolve(known_at=k).evaluated_at is None
    with pytest.raises(UsageError):
        AsOf.resolve(known_at=parse_instant("2026-12-03T09:00:01Z"))


# ---- the supported years 1900 to 2999: the ends of the calendar are refused, the edges work ---------

FIRST = "1900-01-01T00:00:00Z"
LAST = "2999-12-31T23:59:59.999999Z"
UNSUPPORTED = "is outside the years 1900 to 2999 (in UTC) that cosell supports"


def refused(args: list[str], shown: str) -> None:
    """Exit 2 with the option's or variable's name, the value and the range; no traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    said = " ".join(result.output.replace("│", " ").split())  # a usage error's box wraps its text
    assert f"{shown} {UNSUPPORTED}" in said


@pytest.mark.parametrize("instant", ["0001-01-01", "9999-12-01", "1899-12-31T23:59:59.999999Z", "3000-01-01"])
def test_reconcile_and_reports_refuse_an_as_of_outside_the_supported_years(ws: str, instant: str) -> None:
    refused(["reconcile", "-w", ws, "--as-of", instant], f"--as-of: '{instant}'")
    refused(["report", "cfo", "-w", ws, "--as-of", instant], f"--as-of: '{instant}'")
    refused(["report", "cfo", "-w", ws, "--known-at", instant], f"--known-at: '{instant}'")


@pytest.mark.parametrize(
    "command", [["report", "cfo"], ["report", "qbr"], ["report", "partners"], ["reconcile"]]
)
@pytest.mark.parametrize("instant", ["0001-03-01", "9999-12-01"])
def test_cosell_now_outside_the_supported_years_is_refused(
    ws: str, monkeypatch: pytest.MonkeyPatch, command: list[str], instant: str
) -> None:
    monkeypatch.setenv("COSELL_NOW", instant)
    refused([*command, "-w", ws], f"COSELL_NOW: '{instant}'")


def test_a_registration_outside_the_supported_years_is_refused(
    ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit = ["registrations", "submit", "--account", "A1", "--partner", "P1", "-w", ws]
    refused([*submit, "--registered-at", "0001-01-01"], "--registered-at: '0001-01-01'")
    refused([*submit, "--now", "9999-12-01"], "Invalid value for '--now': '9999-12-01'")
    monkeypatch.setenv("COSELL_NOW", "9999-12-01")
    refused(submit, "COSELL_NOW: '9999-12-01'")


@pytest.mark.parametrize("period", ["0001-Q1", "9999-Q4", "9999-12", "1899-12", "3000-01"])
def test_a_period_outside_the_supported_years_is_refused(ws: str, period: str) -> None:
    invoke("attribute", "-w", ws)
    refused(["report", "cfo", "-w", ws, "--period", period], f"--period: '{period}'")
    refused(["reconcile", "-w", ws, "--period", period], f"--period: '{period}'")


def test_the_first_and_last_supported_instants_run_reconcile_and_the_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deal created at the first supported instant, evaluated there; the clock at the last one."""
    monkeypatch.setenv("COSELL_USER", "controller")
    tables = history_tables()
    tables["opportunities"].append(_opp("D-1900", FIRST, "Discovery", "1000.00"))
    path = str(tmp_path / "edges.duckdb")
    invoke("import", "canonical", str(write_dataset(tmp_path / "export", tables)), "-w", path, "--now", NOW)
    monkeypatch.setenv("COSELL_NOW", LAST)
    for as_of in (FIRST, LAST):
        assert f"(as of {as_of}," in invoke("attribute", "-w", path, "--as-of", as_of)
        invoke("explain", "D-1900", "-w", path, "--as-of", as_of)
        invoke("reconcile", "-w", path, "--as-of", as_of)
        invoke("reconcile", "-w", path, "--as-of", as_of, "--period", "all")
        for report in ("cfo", "qbr", "partners"):
            invoke("report", report, "-w", path, "--as-of", as_of)
    for period in ("1900-01", "1900-Q1", "2999-12", "2999-Q4"):
        invoke("report", "cfo", "-w", path, "--period", period)
        invoke("reconcile", "-w", path, "--period", period)
    invoke("reconcile", "-w", path)  # the clock at the last instant: last month 2999-11
    for at in (FIRST, LAST):
        submitted = invoke(
            "registrations", "submit", "--account", "A1", "--partner", "P1", "-w", path, "--registered-at", at
        )
        assert "submitted" in submitted
