"""A crash part-way through accepting a batch of fixes leaves all or none of them applied.

A child ``cosell findings accept --all-of-kind ...`` runs with the test hook of
:mod:`cosell.hygiene.decisions` (``COSELL_FIX_PAUSE`` sleeps after the override that
``COSELL_FIX_PAUSE_AT`` numbers, ``COSELL_FIX_TRACE`` counts them in a file) and is killed with
SIGKILL there, mid-batch. The workspace then holds none of the batch; the same command run to the
end applies all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.workspace import open_workspace

from .test_findings import AS_OF, POLICY, Data, build_workspace

DEALS = 30
COSELL = str(Path(sys.executable).with_name("cosell"))
COMMAND = ["findings", "accept", "--all-of-kind", "untagged_partner_involvement", "--by", "U-OPS",
           "--reason", "month-end review"]  # fmt: skip
COUNTS = ("finding_decisions", "attribution_overrides", "attribution_runs", "attribution_changes")


def untagged_data() -> Data:
    """DEALS won deals declared none, each sourced by a partner lead: DEALS untagged findings."""
    d = Data()
    for i in range(DEALS):
        opp, account = f"O-{i:03d}", f"A{i:03d}"
        d.won(opp, account, source="none")
        d.t["leads"].append(
            {"lead_id": f"L{i:03d}", "created_at": "2026-08-20T00:00:00Z", "account_id": account,
             "source": "partner_referral", "partner_id": "P1", "converted_opportunity_id": opp}
        )  # fmt: skip
    return d


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "ws.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
        ws = build_workspace(path, untagged_data())
        result = reconcile(ws, POLICY, period="2026-10", as_of=AS_OF)
        assert [k.findings for k in result.by_kind if k.kind == "untagged_partner_involvement"] == [DEALS]
        ws.close()
    return path


def counts(path: Path) -> dict[str, int]:
    ws = open_workspace(path)
    try:
        out = {}
        for table in COUNTS:
            row = ws.con.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[table] = int(row[0]) if row else -1
        return out
    finally:
        ws.close()


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "COSELL_NOW": "2026-11-03T09:00:00Z", **extra}


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [5, DEALS], ids=["mid-overrides", "before-the-new-version"])
def test_killed_mid_batch_applies_nothing_and_a_full_run_applies_everything(
    reconciled: Path, tmp_path: Path, kill_after: int
) -> None:
    path = tmp_path / "ws.duckdb"
    path.write_bytes(reconciled.read_bytes())
    before = counts(path)
    assert before == {"finding_decisions": 0, "attribution_overrides": 0, "attribution_runs": 1,
                      "attribution_changes": 0}  # fmt: skip
    trace = tmp_path / "trace"
    # The batch runs at full speed to its kill_after-th override and sleeps there (until killed):
    # no fixed pause after every override to wait through.
    child = subprocess.Popen(
        [COSELL, *COMMAND, "-w", str(path)],
        env=env(COSELL_FIX_PAUSE="300", COSELL_FIX_PAUSE_AT=str(kill_after), COSELL_FIX_TRACE=str(trace)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (trace.exists() and len(trace.read_text().splitlines()) >= kill_after):
            assert child.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "the batch never got going"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(trace.read_text().splitlines()) == kill_after  # killed inside the batch, where it paused
    assert counts(path) == before

    done = subprocess.run([COSELL, *COMMAND, "-w", str(path)], env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{DEALS} findings accepted by U-OPS" in done.stdout
    assert counts(path) == {"finding_decisions": DEALS, "attribution_overrides": DEALS, "attribution_runs": 2,
                            "attribution_changes": DEALS}  # fmt: skip
    ws = open_workspace(path)
    versions = ws.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE rules LIKE '%OVR%') FROM attribution_history WHERE run_id = 2"
    ).fetchone()
    ws.close()
    assert versions == (DEALS, DEALS)
