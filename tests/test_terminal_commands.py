"""The main commands on an 80- and a 120-column terminal, on one demo company built by `cosell demo`.

For each command, every value of its ``--format json`` output that is a number, an amount, a date,
an instant or an id (text without spaces) must appear whole on one line of its table output, as a
person reads it (grouped digits), unless the table says it left that column out; no line may be
wider than the terminal. The demo itself must show progress on stderr while it works.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cosell.cli import common
from cosell.cli.app import app
from cosell.report_model import display

NOW = "2026-11-02T00:00:00Z"
WIDTHS = (80, 120)
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Demo:
    base: Path
    output: str  # what `cosell demo` printed at 80 columns
    progress: str  # what it drew on a terminal's stderr
    partner: str  # the partner whose statement the demo printed
    rep: str

    @property
    def workspace(self) -> str:
        return str(self.base / "cosell.duckdb")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`cosell demo` once for the module, at 80 columns, its stderr a terminal."""
    base = tmp_path_factory.mktemp("terminal") / "demo"
    stderr = io.StringIO()
    terminal = Console(file=stderr, force_terminal=True, width=80)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "err_console", terminal)
        result = CliRunner().invoke(app, ["demo", "--dir", str(base), "--size", "400"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    partner = re.search(r"statement --partner (\S+) --period", result.output)
    rep = re.search(r"statement --rep (\S+) --period", result.output)
    assert partner and rep, result.output
    yield Demo(base, result.output, stderr.getvalue(), partner[1], rep[1])


def run(demo: Demo, width: int, *args: str) -> str:
    result = CliRunner().invoke(
        app, [*args, "--workspace", demo.workspace], env={"COLUMNS": str(width), "COSELL_NOW": NOW}
    )
    assert result.exit_code == 0, result.output
    return result.stdout  # beside json, the which-instant line goes to stderr


# Each command's json, once per demo: it does not depend on the terminal's width (a table is laid
# out to it; json is not), so both widths' tables are checked against the same rows.
_JSON: dict[tuple[Path, tuple[str, ...]], Any] = {}


def as_json(demo: Demo, *args: str) -> Any:
    """``args`` with ``--format json``, parsed; run once for the demo (at the widest width)."""
    key = (demo.base, args)
    if key not in _JSON:
        _JSON[key] = json.loads(run(demo, WIDTHS[-1], *args, "--format", "json"))
    return _JSON[key]


def whole_on_a_line(value: str, text: str) -> bool:
    """The value on one line, not glued to a longer number or word on either side."""
    pattern = rf"(?<![\w.,-]){re.escape(value)}(?![\w.,])"
    return any(re.search(pattern, line) for line in text.splitlines())


def as_shown(value: Any) -> list[str]:
    """How a json value may be shown in a table: as it is, or with grouped digits."""
    if isinstance(value, bool) or value is None:
        return []
    text = str(value)
    if isinstance(value, int) or PLAIN_NUMBER.fullmatch(text):
        return [text, f"{Decimal(text):,}"]
    return [text]


def hidden_labels(table: str) -> set[str]:
    """The columns a table says it left out ("not shown at 80 columns: a, b (...)")."""
    found: set[str] = set()
    for note in re.findall(r"not shown at \d+ columns: ([^(]*)\(", " ".join(table.split())):
        found |= {label.strip() for label in note.split(",")}
    return found


def assert_fits(table: str, width: int) -> None:
    wide = [line for line in table.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width}: {wide[:3]}"


def assert_rows_whole(rows: list[dict[str, Any]], keys: tuple[str, ...], table: str) -> int:
    """Every number, date and id of these rows appears whole in the table; returns how many."""
    hidden = hidden_labels(table)
    checked = 0
    for row in rows:
        for key in keys:
            value = row[key]
            if key.replace("_", " ") in hidden or " " in str(value) or str(value) in ("", "None"):
                continue
            forms = as_shown(value)
            assert any(whole_on_a_line(form, table) for form in forms), (key, value, table[:3000])
            checked += 1
    return checked


# (command, json rows path, keys a table shows)
LISTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ledger": (("payouts", "ledger"), ("entry_id", "posted_at", "recorded_at", "period", "party_kind",
               "party_id", "opportunity_id", "kind", "rule_id", "plan_version", "attribution_run_id", "amount",
               "currency", "reverses", "payout_run_id", "by_user")),
    "payout runs": (("payouts", "list"), ("run_id", "period", "status", "proposed_at", "proposed_by",
                    "approved_at", "approved_by", "parties_paid", "total", "parties_blocked", "blocked_total")),
    "gate audit": (("gate", "audit"), ("opportunity_id", "owner_id", "stage", "entered_won_at",
                   "partner_source_at_entry", "confirmed_at", "confirmed_by", "partner_source_now", "amount",
                   "currency")),
    "prompts": (("prompts", "--status", "all"), ("prompt_id", "status", "opportunity_id", "partner_id",
                "rep_id", "trigger", "trigger_ref", "created_at", "expires_at", "answer_tier", "answered_by",
                "answered_at")),
    "disputes": (("dispute", "list"), ("dispute_id", "opportunity_id", "opened_by", "opened_at", "claim_tier",
                 "claim_partner_id", "disputed_tier", "disputed_partner_id", "status", "decided_by")),
}  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_listings_keep_every_number_date_and_id_whole(demo: Demo, name: str, width: int) -> None:
    command, keys = LISTINGS[name]
    rows = as_json(demo, *command)
    assert rows, f"the demo has {name}"
    table = run(demo, width, *command)
    assert_fits(table, width)
    assert assert_rows_whole(rows, keys, table) >= len(rows)


PARTY_KEYS = ("party_kind", "party_id", "balance", "recovered", "pay", "status")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_payout_run_keeps_every_party_id_and_amount_whole(demo: Demo, width: int) -> None:
    shown = as_json(demo, "payouts", "show", "PR-000001")
    assert shown["parties"], "the demo paid a run"
    output = run(demo, width, "payouts", "show", "PR-000001")
    table = output.split("\n", 1)[1]  # after the run's one-line summary (a message, whole in a pipe)
    assert_fits(table, width)
    assert assert_rows_whole(shown["parties"], PARTY_KEYS, table) >= len(shown["parties"])


FINDING_KEYS = ("finding_id", "kind", "declared_source", "declared_partner_id", "computed_tier",
                "computed_partner_id", "at_stake", "status")  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
def test_reconcile_and_findings_print_no_dash_table_and_keep_amounts_whole(demo: Demo, width: int) -> None:
    period = ("--period", "all", "--known-at", NOW, "--by", "u-ops")  # a user of the demo's directory
    found = as_json(demo, "reconcile", *period)
    table = run(demo, width, "reconcile", *period)
    assert_fits(table, width)
    assert not re.search(r"-{10}", table)  # the old 225-character dash table
    assert_rows_whole(found["findings"], FINDING_KEYS, table)
    for kind in found["by_kind"]:
        assert whole_on_a_line(f"{Decimal(kind['at_stake']):,}", table), kind
    assert whole_on_a_line(f"{Decimal(found['at_stake']):,}", table)
    listed = as_json(demo, "findings", "list")
    table = run(demo, width, "findings", "list")
    assert_fits(table, width)
    assert assert_rows_whole(listed, FINDING_KEYS, table) >= len(listed) * 6
    for finding in listed:
        assert whole_on_a_line(finding["closed_at"][:10], table)


def report_values(report: dict[str, Any], hidden: set[str]) -> list[str]:
    """Every figure value and table cell of a report's json as the table format shows it."""
    currency = report["currency"]
    shown: list[str] = []

    def typed(value: Any, unit: str) -> Any:
        return Decimal(value) if isinstance(value, str) and unit not in ("text", "id") else value

    def figures(found: dict[str, Any]) -> None:
        for figure in found.values():
            if figure["value"] is not None:
                shown.append(display(typed(figure["value"], figure["unit"]), figure["unit"], currency))
            figures(figure["beside"])

    for section in report["sections"].values():
        figures(section["figures"])
        table = section["table"] or {"columns": [], "rows": []}
        for column in table["columns"]:
            if column["label"] in hidden:
                continue
            for row in table["rows"]:
                value = row[column["key"]]
                if value is not None and value != "":
                    shown.append(display(typed(value, column["unit"]), column["unit"], currency, bare=True))
    return [v for v in shown if " " not in v or re.fullmatch(r"\S+ (\w{3}|days)", v)]


REPORTS = {
    "cfo": ("report", "cfo"),
    "qbr": ("report", "qbr"),
    "partners": ("report", "partners"),
    "partner statement": ("payouts", "statement", "--period", "2026-10", "--partner"),
    "rep statement": ("payouts", "statement", "--period", "2026-10", "--rep"),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_reports_and_statements_keep_every_figure_and_cell_whole(demo: Demo, name: str, width: int) -> None:
    command = REPORTS[name]
    if name == "partner statement":
        command = (*command, demo.partner)
    elif name == "rep statement":
        command = (*command, demo.rep)
    report = as_json(demo, *command)
    table = run(demo, width, *command)
    assert_fits(table, width)
    values = report_values(report, hidden_labels(table))
    assert len(values) >= 5, values
    missing = [v for v in values if not whole_on_a_line(v, table)]
    assert not missing, (missing[:5], table[:3000])


PROPOSED = Path(__file__).resolve().parents[1] / "docs" / "examples" / "proposed-policy.toml"


@pytest.mark.parametrize("width", WIDTHS)
def test_simulate_keeps_every_amount_and_id_whole(demo: Demo, width: int) -> None:
    what_if = as_json(demo, "simulate", "--policy", str(PROPOSED))
    assert what_if["deals"] and what_if["partner_pay"], "the proposal moves deals and pay in the demo"
    table = run(demo, width, "simulate", "--policy", str(PROPOSED))
    assert_fits(table, width)
    deals = assert_rows_whole(what_if["deals"], ("opportunity_id", "money_moved"), table)
    assert deals == 2 * len(what_if["deals"])
    pay = assert_rows_whole(what_if["partner_pay"], ("partner_id", "current", "proposed", "change"), table)
    assert pay == 4 * len(what_if["partner_pay"])
    moved = [{"tier": t, "pipeline": a} for t, a in what_if["pipeline_moved"].items()]
    assert assert_rows_whole(moved, ("tier", "pipeline"), table) == 8


def test_empty_benchmark_verdict_and_note_columns_are_not_printed(demo: Demo) -> None:
    table = run(demo, 120, "report", "partners")
    section = table.split("Partners by credited closed-won revenue")[1]
    header = section.strip().splitlines()[0]
    assert header.split() == ["Figure", "Value"], header
    cfo = run(demo, 120, "report", "cfo").split("The four numbers")[1]
    assert {"Benchmark", "Verdict", "Note"} <= set(cfo.splitlines()[1].split())


def test_the_partner_league_hides_detail_columns_before_it_falls_back_to_blocks(demo: Demo) -> None:
    wide = run(demo, 200, "report", "partners")
    assert "Partner id" in wide and "not shown at" not in wide
    at_120 = run(demo, 120, "report", "partners")
    hidden = hidden_labels(at_120)
    assert "Program tier" in hidden and hidden <= {"Partner id", "Type", "Program tier"}, hidden
    assert re.search(r"^ *# +Partner ", at_120, re.MULTILINE)  # still a table
    at_80 = run(demo, 80, "report", "partners")
    assert re.search(r"^Partner id: +001Pa", at_80, re.MULTILINE)  # one block per partner, every column


def test_the_demo_fits_80_columns_and_shows_progress_on_its_long_steps(demo: Demo) -> None:
    # Lines naming a file stay whole (soft-wrapped) so the path can be copied.
    wide = [line for line in demo.output.splitlines() if len(line) > 80 and str(demo.base) not in line]
    assert not wide, wide[:3]
    for step in (
        "reconciling every closed-won deal",
        "paying: post a period, pay it, accept the fixes and a dispute, post the next",
        "writing the CFO dashboard and the QBR (html, pdf, json)",
    ):
        assert step in demo.progress, demo.progress[-2000:]
    # What the steps print is all on stdout, in order.
    order = [demo.output.index(t) for t in ("Reconciliation all:", "Payout run PR-000001", "CFO dashboard,")]
    assert order == sorted(order)


def test_import_counts_are_a_table_at_80_columns_with_grouped_counts(demo: Demo, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["import", "canonical", str(demo.base / "data"), "--workspace", str(tmp_path / "ws.duckdb")],
        env={"COLUMNS": "80", "COSELL_NOW": NOW},
    )
    assert result.exit_code == 0, result.output
    assert_fits(result.output.split("warning:")[0], 80)  # the table (warnings are prose, left as they are)
    touches = sum(1 for _ in (demo.base / "data" / "touches.csv").open()) - 1
    assert touches >= 1000
    row = next(line for line in result.output.splitlines() if line.startswith("touches "))
    assert row.split() == ["touches", f"{touches:,}", f"{touches:,}", "0", "0", "0", "0"]
    assert hidden_labels(result.output) == {"file"}


def test_explain_wraps_its_sentences_between_words_on_a_terminal_and_keeps_them_whole_in_a_pipe(
    demo: Demo,
) -> None:
    from cosell.cli import attribute_cmd
    from cosell.cli.common import TextConsole

    rows = (demo.base / "data" / "opportunities.csv").read_text(encoding="utf-8").splitlines()[1:]
    deals = [row.split(",", 1)[0] for row in rows]
    longest = ("", "")
    for deal in deals[:60]:
        piped = run(demo, 80, "explain", deal)
        widest = max(piped.splitlines(), key=len)
        if len(widest) > len(longest[1]):
            longest = (deal, widest)
    deal, widest = longest
    assert len(widest) > 120, "a sentence longer than a terminal's line, whole on one line in a pipe"
    screen = io.StringIO()
    terminal = TextConsole(file=screen, force_terminal=True, width=80, color_system=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attribute_cmd, "console", terminal)
        shown = run(demo, 80, "explain", deal)
    assert shown == "", "on a terminal every sentence goes through the console"
    text = screen.getvalue()
    assert_fits(text, 80)
    # The same words in the same order, each whole on one line: wrapped between words, never inside one.
    assert text.split() == run(demo, 80, "explain", deal).split()
    for word in widest.split():
        assert whole_on_a_line(word, text), word


@pytest.mark.parametrize("report", ["cfo", "qbr", "partners"])
def test_a_quarter_written_with_a_small_q_is_that_quarter(demo: Demo, report: str) -> None:
    # Periods are written 2026-Q3 in the data and the output; a person types 2026-q3 as often.
    quarter = re.search(r"\b(\d{4}-Q[1-4])\b", run(demo, 80, "report", "cfo"))
    assert quarter, "the CFO dashboard names its quarter"
    label, option = quarter[1], "--quarter" if report == "qbr" else "--period"
    assert run(demo, 80, "report", report, option, label.lower()) == run(
        demo, 80, "report", report, option, label
    )
    blank = CliRunner().invoke(app, ["report", report, option, " ", "--workspace", demo.workspace])
    assert blank.exit_code == 2 and "give a period, not an empty text" in " ".join(blank.output.split())
