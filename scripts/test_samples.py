"""``make test-samples``: every CRM importer and referral reader over the real files in the shared
samples folder.

Real files written by other people (their origin and licences in the folder's SOURCES.md) are
never copied into this repository; this target reads them where they are. For each export (a
folder holding CSV files under ``<samples>/salesforce`` or ``<samples>/hubspot``) it does what a
new user does: ``cosell crm map init`` drafts a mapping, ``cosell import`` reads the export with it
into a throwaway workspace. An export passes when the import succeeds, or fails with exit code 1
and every error line names a file (and, where there is one, its row and column) and a reason.
A traceback, another exit code or an error line that names no file fails the target.

Every email (``<samples>/eml/**/*.eml``) and Slack export (a folder holding ``users.json`` or
``channels.json``, or a ``.zip``, under ``<samples>/slack``) is submitted with ``cosell referrals
email|slack`` to a small demo workspace: it passes when each referral read names its partner and
prospect, or is needs_info with the list of what is missing (the partners of other people's mail
are not the demo's), or the command refuses with a located error. A Slack export with no referral
in it passes when it is read without error.

Usage: python scripts/test_samples.py [SAMPLES]   (default $COSELL_SAMPLES, else ../shared/samples)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COSELL = str(Path(sys.executable).with_name("cosell"))
# "file.csv row 12, Column: reason", "file.csv: reason", "file.toml line 3, key: reason"
LOCATED = re.compile(r"^\S[^:]*\.(csv|toml|zip)( (row|line) \d+)?(, [^:]+)?: \S")
CRMS = ("salesforce", "hubspot")


def samples_folder(argv: list[str]) -> Path:
    given = (
        argv[1]
        if len(argv) > 1
        else os.environ.get("COSELL_SAMPLES") or str(ROOT.parent / "shared" / "samples")
    )
    folder = Path(given)
    if not folder.is_dir():
        sys.exit(
            f"test-samples: the samples folder {folder} does not exist; set COSELL_SAMPLES (or SAMPLES=...) "
            "to the folder holding salesforce/ and hubspot/ exports"
        )
    return folder


def exports(folder: Path, crm: str) -> list[Path]:
    """Each folder under ``folder/crm`` that directly holds CSV files."""
    found = {p.parent for p in (folder / crm).rglob("*.csv")}
    return sorted(found)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COSELL, *args], capture_output=True, text=True, env=env, timeout=600)


def check(crm: str, export: Path, work: Path, env: dict[str, str]) -> tuple[bool, str]:
    """(passed, one-line outcome) for one export."""
    mapping, ws = work / "mapping.toml", work / "ws.duckdb"
    drafted = run(["crm", "map", "init", crm, str(export), "--out", str(mapping)], env)
    if drafted.returncode != 0 or "Traceback" in drafted.stderr:
        return False, f"map init failed (exit {drafted.returncode}): {drafted.stderr.strip()[:300]}"
    done = run(
        ["import", crm, str(export), "--mapping", str(mapping), "-w", str(ws), "--format", "json"], env
    )
    if "Traceback" in done.stderr or done.returncode not in (0, 1):
        return False, f"exit {done.returncode}: {done.stderr.strip()[:500]}"
    if done.returncode == 0:
        return True, "imported"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    lines = [
        line.removeprefix("error: ") for line in lines if not line.startswith("nothing from this import")
    ]
    lines = [line for line in lines if not line.startswith("... and ")]
    unlocated = [line for line in lines if not LOCATED.match(line)]
    if not lines or unlocated:
        return False, f"an error without its place: {(unlocated or ['(no message)'])[0][:300]}"
    return True, f"refused, {len(lines)} located error(s); first: {lines[0]}"


def demo_workspace(work: Path, env: dict[str, str]) -> Path:
    """A small demo workspace to submit the sample referrals to."""
    done = run(["demo", "--dir", str(work / "demo"), "--size", "200"], env)
    if done.returncode != 0:
        sys.exit(f"test-samples: cosell demo failed: {done.stderr[-500:]}")
    return work / "demo" / "cosell.duckdb"


def referral_inputs(folder: Path) -> list[tuple[str, Path]]:
    """(channel, path) of every email and Slack export under ``folder``."""
    emails = [("email", p) for p in sorted((folder / "eml").rglob("*.eml"))]
    slack = folder / "slack"
    exports = sorted(
        {p.parent for name in ("users.json", "channels.json") for p in slack.rglob(name)}
        | set(slack.rglob("*.zip"))
    )
    return emails + [("slack", p) for p in exports]


def check_referrals(channel: str, path: Path, ws: Path, env: dict[str, str]) -> tuple[bool, str]:
    """(passed, one-line outcome) for one email or Slack export."""
    done = run(["referrals", channel, str(path), "-w", str(ws), "--by", "u-ops", "--format", "json"], env)
    if "Traceback" in done.stderr or done.returncode not in (0, 1):
        return False, f"exit {done.returncode}: {done.stderr.strip()[:500]}"
    if done.returncode == 1:
        first = done.stderr.strip().splitlines()[0].removeprefix("error: ") if done.stderr.strip() else ""
        return first.startswith(path.name), f"refused: {first[:300]}"
    found = json.loads(done.stdout)
    if not found:
        return channel == "slack", "read, no referral in it"
    said = []
    for r in found:
        whole = r["partner_id"] and r["prospect"]["company"] and not r["missing"]
        if not whole and (r["status"] != "needs_info" or not r["missing"]):
            return False, f"{r['referral_id']}: {r['status']} without the list of what is missing"
        said.append(
            f"{r['status']} (partner {r['partner_id'] or '?'}, prospect {r['prospect']['company'] or '?'})"
            if whole
            else f"needs_info, missing {', '.join(m.removeprefix('prospect_') for m in r['missing'])}"
        )
    return True, "; ".join(said)


def main(argv: list[str]) -> int:
    folder = samples_folder(argv)
    env = {**os.environ, "COSELL_NOW": "2026-12-01T00:00:00Z", "COLUMNS": "80", "NO_COLOR": "1"}
    failed = 0
    total = 0
    for crm in CRMS:
        for export in exports(folder, crm):
            total += 1
            with tempfile.TemporaryDirectory(prefix="cosell-samples-") as work:
                passed, outcome = check(crm, export, Path(work), env)
            failed += not passed
            name = export.relative_to(folder)
            print(f"{'ok  ' if passed else 'FAIL'} {crm} {name}\n     {outcome}")
    if total == 0:
        print(f"test-samples: no CSV exports under {folder}/salesforce or {folder}/hubspot")
        return 1
    print(f"{total - failed} of {total} exports passed (imported, or refused with located errors)")
    inputs = referral_inputs(folder)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="cosell-samples-") as work:
        ws = demo_workspace(Path(work), env)
        for channel, path in inputs:
            passed, outcome = check_referrals(channel, path, ws, env)
            bad += not passed
            print(f"{'ok  ' if passed else 'FAIL'} {channel} {path.relative_to(folder)}\n     {outcome}")
    if not inputs:
        print(f"test-samples: no .eml under {folder}/eml and no Slack export under {folder}/slack")
        return 1
    print(f"{len(inputs) - bad} of {len(inputs)} emails and Slack exports passed")
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
