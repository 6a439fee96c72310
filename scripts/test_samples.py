"""``make test-samples``: every CRM importer over the real exports in the shared samples folder.

Real files written by other people (their origin and licences in the folder's SOURCES.md) are
never copied into this repository; this target reads them where they are. For each export (a
folder holding CSV files under ``<samples>/salesforce`` or ``<samples>/hubspot``) it does what a
new user does: ``cosell crm map init`` drafts a mapping, ``cosell import`` reads the export with it
into a throwaway workspace. An export passes when the import succeeds, or fails with exit code 1
and every error line names a file (and, where there is one, its row and column) and a reason.
A traceback, another exit code or an error line that names no file fails the target.

Usage: python scripts/test_samples.py [SAMPLES]   (default $COSELL_SAMPLES, else ../shared/samples)
"""

from __future__ import annotations

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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
