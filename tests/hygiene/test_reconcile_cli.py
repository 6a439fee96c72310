"""The reconcile, findings, dispute and history commands through the real typer app."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.cli.common import MAX_REASON_CHARS

from .test_findings import build_workspace, kinds_data

runner = CliRunner()
T = "2026-11-01T00:00:00Z"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    return path


@pytest.fixture()
def ws(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COSELL_NOW", "2026-11-02T08:00:00Z")
    monkeypatch.delenv("COSELL_USER", raising=False)
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(built, copy)
    return str(copy)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_reconcile_formats(ws: str) -> None:
    code, out = invoke("reconcile", "-w", ws, "--as-of", T, "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert list(data) == ["period", "start", "end", "as_of", "known_at", "attribution_run_id", "deals_checked",
                          "unattributed_deals", "currency", "deals_with_findings", "at_stake", "by_kind",
                          "findings"]  # fmt: skip
    assert (data["period"], data["deals_checked"], data["at_stake"]) == ("2026-10", 17, "101087.50")
    first = data["findings"][0]
    assert first["finding_id"] == "UPI-O-UPI" and first["evidence"] == [
        "lead:L1@2026-08-20T00:00:00Z",
        "partner:P1",
    ]
    assert first["detected_at"] == "2026-11-02T08:00:00Z" and first["status"] == "open"
    code, out = invoke("reconcile", "-w", ws, "--as-of", T, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 12 and rows[0]["evidence"] == "lead:L1@2026-08-20T00:00:00Z partner:P1"
    code, out = invoke("reconcile", "-w", ws, "--as-of", T)
    assert code == 0
    words = " ".join(out.split())  # prose and text cells wrap between words at the terminal's width
    assert "Reconciliation of 2026-10 as of 2026-11-01T00:00:00Z: 17 closed-won deals checked" in words
    assert "UPI-O-UPI" in out and "override to sourced with partner P1" in words
    assert "101,087.50" in out  # the total at stake, each deal once
    code, out = invoke("reconcile", "-w", ws, "--as-of", T, "--period", "2026-13")
    assert code == 2 and "--period" in out


def test_findings_list_show_accept_reject(ws: str) -> None:
    assert invoke("reconcile", "-w", ws, "--as-of", T)[0] == 0
    code, out = invoke("findings", "list", "-w", ws, "--kind", "double_sourced", "--format", "json")
    assert [f["finding_id"] for f in json.loads(out)] == ["DBS-O-DBS", "DBS-O-DBS-CLAIMS"]
    code, out = invoke("findings", "show", "OVC-O-OVC", "-w", ws)
    assert code == 0
    assert "declared     sourced/P1" in out and "  direct_touch:T-D6@2026-08-10T12:00:00Z" in out
    code, out = invoke("findings", "accept", "OVC-O-OVC", "-w", ws, "--by", "U-OPS", "--reason", "SDR first")
    assert code == 0, out
    assert "OVC-O-OVC accepted: override OVR-000001 (accelerated/P1), run 2" in out
    assert "1 finding accepted by U-OPS" in out  # one, in the singular: the words a reviewer forwards
    code, out = invoke("findings", "reject", "--all-of-kind", "double_sourced", "-w", ws, "--by", "U-PM",
                       "--reason", "known")  # fmt: skip
    assert code == 0 and "2 findings rejected by U-PM" in out
    code, out = invoke("findings", "list", "-w", ws, "--status", "rejected")
    assert re.search(r"DBS-O-DBS(?![\w-])", out) and "2 findings" in out  # not only -CLAIMS
    code, out = invoke("findings", "show", "OVC-O-OVC", "-w", ws, "--format", "json")
    assert json.loads(out)["status"] == "accepted" and json.loads(out)["decided_by"] == "U-OPS"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["findings", "accept", "OVC-O-OVX", "--by", "U-OPS", "--reason", "x"], 1, "did you mean OVC-O-OVC?"),
        (["findings", "accept", "OVC-O-OVC", "--by", "U-OPS", "--reason", ""], 2, "non-empty --reason"),
        (["findings", "accept", "OVC-O-OVC", "--reason", "x"], 2, "--by USER"),
        (["findings", "accept", "OVC-O-OVC", "--by", "U-AE", "--reason", "x"], 1, "has the role ae"),
        (
            ["findings", "accept", "--all-of-kind", "over_credit", "--by", "U-OPS", "--reason", "x"],
            2,
            "must be one",
        ),
        (
            ["findings", "accept", "OVC-O-OVC", "--partner", "P1", "--by", "U-OPS", "--reason", "x"],
            2,
            "--tier",
        ),
        (["findings", "show", "OVC-O-OV", "--by", "U-OPS"], 2, "No such option"),
        (["findings", "show", "OVC-O-OV"], 1, "no finding OVC-O-OV"),
        (["dispute", "decide", "D-1", "--by", "U-OPS", "--reason", "x"], 2, "--accept or --reject"),
        # found by fuzzing dispute decide: both flags let the last one win silently
        (
            ["dispute", "decide", "D-1", "--accept", "--reject", "--by", "U-OPS", "--reason", "x"],
            2,
            "not both",
        ),
        (
            ["dispute", "decide", "D-1", "--reject", "--tier", "none", "--by", "U-OPS", "--reason", "x"],
            2,
            "--reject takes neither",
        ),
        # found by fuzzing dispute open: a claim of a partner with no tier was stored
        (
            ["dispute", "open", "O-UPI", "--claim", "/P1", "--by", "U-OPS", "--reason", "x"],
            2,
            "names no tier",
        ),
        # found by fuzzing dispute open: a claim of "/" opened a dispute claiming nothing
        (
            ["dispute", "open", "O-UPI", "--claim", "/", "--by", "U-OPS", "--reason", "x"],
            2,
            "names no tier",
        ),
        # found by fuzzing findings list: a misspelt kind listed no finding, exit 0
        (["findings", "list", "--kind", "over_credit"], 2, "--kind must be one of"),
        (["findings", "list", "--kind", "over_credit", "-f", "json"], 2, "--kind must be one of"),
        # found by fuzzing dispute open: an override to none with a partner was recorded as such
        (
            ["dispute", "open", "O-UPI", "--claim", "none/P1", "--by", "U-OPS", "--reason", "x"],
            2,
            "an override to none names no partner, not P1",
        ),
        (
            [
                "findings",
                "accept",
                "OVC-O-OVC",
                "--tier",
                "none",
                "--partner",
                "P1",
                "--by",
                "U-OPS",
                "--reason",
                "x",
            ],
            2,
            "an override to none names no partner",
        ),
    ],
)
def test_errors_and_exit_codes(ws: str, args: list[str], code: int, message: str) -> None:
    assert invoke("reconcile", "-w", ws, "--as-of", T)[0] == 0
    got, out = invoke(*args, "-w", ws)
    assert got == code, out
    assert message in out


def test_dispute_commands(ws: str) -> None:
    code, out = invoke("dispute", "open", "O-UPI", "-w", ws, "--by", "U-P1", "--reason", "ours", "--claim",
                       "sourced/P1")  # fmt: skip
    assert code == 0 and "dispute D-000001 opened on O-UPI (now sourced/P1; claim sourced/P1)" in out
    code, out = invoke("dispute", "open", "O-UPI", "-w", ws, "--by", "U-P3", "--reason", "ours")
    assert code == 1 and "no opportunity O-UPI that P3 is on" in out
    code, out = invoke(
        "dispute", "decide", "D-000001", "--reject", "-w", ws, "--by", "U-OPS", "--reason", "no"
    )
    assert code == 0 and "dispute D-000001 rejected by U-OPS" in out
    code, out = invoke("dispute", "list", "-w", ws, "--format", "json")
    (d,) = json.loads(out)
    assert (d["status"], d["decided_by"], d["decision_reason"], d["claim_partner_id"]) == (
        "rejected",
        "U-OPS",
        "no",
        "P1",
    )


def test_dispute_decided_with_both_flags_changes_nothing(ws: str) -> None:
    """Found by fuzzing: ``--accept --reject`` recorded a rejection (the last flag won)."""
    code, out = invoke("dispute", "open", "O-UPI", "-w", ws, "--by", "U-OPS", "--reason", "ours", "--claim",
                       "sourced/P1")  # fmt: skip
    assert code == 0, out
    for flags in (["--accept", "--reject"], ["--reject", "--accept"]):
        code, out = invoke(
            "dispute", "decide", "D-000001", *flags, "-w", ws, "--by", "U-OPS", "--reason", "x"
        )
        assert code == 2 and "say --accept or --reject, not both" in out
    (d,) = json.loads(invoke("dispute", "list", "-w", ws, "--format", "json")[1])
    assert (d["status"], d["decided_by"], d["override_id"]) == ("open", "", "")


def test_dispute_list_says_when_and_why_a_dispute_was_decided(ws: str) -> None:
    """Found by fuzzing the audit trail: the table named who decided a dispute but not when nor why
    (json had both); a rejection makes no attribution version, so nothing else showed them."""
    code, out = invoke("dispute", "open", "O-UPI", "-w", ws, "--by", "U-P1", "--reason", "ours")
    assert code == 0, out
    code, out = invoke("dispute", "decide", "D-000001", "--reject", "-w", ws, "--by", "U-OPS", "--reason",
                       "the intro came after our demo", "--now", "2026-11-03T09:30:00Z")  # fmt: skip
    assert code == 0, out
    code, out = invoke("dispute", "list", "-w", ws)
    assert code == 0, out
    assert "2026-11-03T09:30:00Z" in out and "the intro came after our demo" in " ".join(out.split())
    keys = list(json.loads(invoke("dispute", "list", "-w", ws, "--format", "json")[1])[0])
    assert keys[-6:] == ["decided_by", "decided_at", "decision_reason", "disputed_run_id", "override_id",
                         "new_run_id"]  # fmt: skip


def test_findings_show_wraps_the_reviewers_reason_at_80_columns(ws: str) -> None:
    """Found by fuzzing the audit trail: a long reason (here 4 KB) was printed as one line of
    thousands of characters, and the suggested fix past 80 columns; both wrap now, words whole.
    A reason is now at most 2,000 characters (cosell.cli.common.MAX_REASON_CHARS): this one is
    1,889, still 24 lines."""
    assert invoke("reconcile", "-w", ws, "--as-of", T)[0] == 0
    reason = " ".join(f"step{i}" for i in range(250))
    assert len(reason) <= MAX_REASON_CHARS
    code, out = invoke("findings", "accept", "OVC-O-OVC", "-w", ws, "--by", "U-OPS", "--reason", reason)
    assert code == 0, out
    code, out = invoke("findings", "show", "OVC-O-OVC", "-w", ws)
    assert code == 0, out
    assert max(len(line) for line in out.splitlines()) <= 80
    status = out[out.index("status       accepted by U-OPS at ") : out.index("evidence")]
    assert status.split()[6:] == reason.split()


def _recorded(path: str) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT 'run', by_user FROM attribution_runs UNION ALL SELECT 'reconciliation', by_user "
            "FROM reconciliations ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return [(str(r[0]), str(r[1])) for r in rows]


@pytest.mark.parametrize("command", [["reconcile", "--as-of", T], ["attribute", "--as-of", T]])
def test_reconcile_and_attribute_refuse_a_by_user_the_directory_does_not_hold(
    ws: str, command: list[str]
) -> None:
    before = _recorded(ws)
    code, out = invoke(*command, "-w", ws, "--by", "U-NOBODY")
    assert code == 1 and "--by (or $COSELL_USER): no user U-NOBODY" in out
    code, out = invoke(*command, "-w", ws, "--by", " ")
    assert code == 2 and "--by USER" in out
    assert _recorded(ws) == before  # refused before anything was recorded
    code, out = invoke(*command, "-w", ws, "--by", "U-OPS")
    assert code == 0, out
    kind = "run" if command[0] == "attribute" else "reconciliation"
    assert sorted(_recorded(ws)) == sorted([*before, (kind, "U-OPS")])  # the named user, recorded
