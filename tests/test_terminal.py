"""The terminal table renderer: numbers and ids are never split or cut, at any width."""

from __future__ import annotations

import io
import re

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from cosell.terminal import TableColumn, is_number, print_blocks, print_table


def printed(width: int, *args: object, **kwargs: object) -> str:
    out = Console(file=io.StringIO(), width=width, color_system=None)
    print_table(out, *args, **kwargs)  # type: ignore[arg-type]
    return out.file.getvalue()  # type: ignore[attr-defined]


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def whole_on_a_line(value: str, text: str) -> bool:
    """The value appears on one line, not glued to a longer number or word."""
    pattern = rf"(?<![\w.,-]){re.escape(value)}(?![\w.,])"
    return any(re.search(pattern, line) for line in text.splitlines())


LEDGER = [
    {"entry_id": "LE-00000001", "party_id": "005Dm0000000012", "amount": "-63,922.60", "currency": "USD",
     "reason": "attribution changed: version 3 (dispute, dispute:D-000001: the partner's introduction "
               "email predates our first contact)", "note": ""},
    {"entry_id": "LE-00000002", "party_id": "001Pa0000000007", "amount": "1,179,000.00", "currency": "USD",
     "reason": "won 2026-03-21, attribution version 1, plan partners-2026@1", "note": None},
]  # fmt: skip
LEDGER_COLUMNS = ("entry_id", "party_id", "amount", "currency", "reason", "note")


def test_a_table_that_fits_keeps_numbers_and_ids_whole_and_wraps_text_between_words() -> None:
    text = printed(80, LEDGER_COLUMNS, LEDGER, title="Ledger")
    lines = lines_of(text)
    assert lines[0] == "Ledger"
    # Header: the given order, underscores as spaces, the empty note column left out.
    assert re.split(r"\s{2,}", lines[1].strip()) == ["entry id", "party id", "amount", "currency", "reason"]
    for value in ("LE-00000001", "005Dm0000000012", "-63,922.60", "1,179,000.00", "dispute:D-000001:"):
        assert whole_on_a_line(value, text), value
    assert max(len(line) for line in text.splitlines()) <= 80
    # The reason wraps (it is longer than the room left) and amounts are right-justified.
    assert len([line for line in lines if line.startswith(" " * 11)]) >= 2
    amount_ends = {line.index("-63,922.60") + 10 for line in lines if "-63,922.60" in line}
    assert amount_ends == {line.index("1,179,000.00") + 12 for line in lines if "1,179,000.00" in line}


def test_too_narrow_for_the_columns_prints_one_block_per_row() -> None:
    text = printed(40, LEDGER_COLUMNS, LEDGER)
    lines = lines_of(text)
    assert lines[:4] == [
        "entry id: LE-00000001",
        "party id: 005Dm0000000012",
        "amount:   -63,922.60",
        "currency: USD",
    ]
    assert lines[4].startswith("reason:   attribution changed:")
    assert "note:" not in text  # empty values are left out of a block
    assert "" in lines and lines[lines.index("") + 1] == "entry id: LE-00000002"
    assert whole_on_a_line("1,179,000.00", text)
    assert max(len(line) for line in text.splitlines()) <= 40


def test_optional_columns_are_hidden_first_and_named() -> None:
    columns = (
        TableColumn("entry_id"), TableColumn("party_id", optional=True), TableColumn("amount"),
        TableColumn("currency"), TableColumn("reason", optional=True),
    )  # fmt: skip
    text = printed(40, columns, LEDGER)
    lines = lines_of(text)
    assert re.split(r"\s{2,}", lines[0].strip()) == ["entry id", "amount", "currency"]
    assert "not shown at 40 columns: party id, reason" in " ".join(text.split())
    wide = printed(60, columns, LEDGER)
    assert re.split(r"\s{2,}", lines_of(wide)[0].strip()) == ["entry id", "party id", "amount", "currency"]
    assert "not shown at 60 columns: reason" in " ".join(wide.split())


def test_no_rows_says_so() -> None:
    assert lines_of(printed(80, LEDGER_COLUMNS, [], title="Ledger")) == ["Ledger", "(no rows)"]


def test_a_bold_total_row_and_markup_like_text_print_as_given() -> None:
    out = Console(file=io.StringIO(), width=60, color_system="standard", force_terminal=True)
    rows = [{"kind": "[bold]x[/]", "n": "1"}, {"kind": "all", "n": "2"}]
    print_table(out, ("kind", "n"), rows, row_styles=["", "bold"])
    raw = out.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold]x[/]" in raw
    assert "\x1b[1mall" in raw


def test_is_number_knows_what_the_commands_print() -> None:
    assert all(map(is_number, ("0", "-1,234.50", "1,179,000.00 JPY", "15.4%", "0.2312", "49.2 days")))
    assert not any(map(is_number, ("2026-10-01", "PR-000001", "15-25%", "", "USD", "1,2 3")))


numbers = st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(lambda d: f"{d:,.2f}")
ids = st.from_regex(r"[A-Z]{2}-[0-9]{6,15}", fullmatch=True)
words = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
sentences = st.lists(words, min_size=1, max_size=12).map(" ".join)


@given(
    rows=st.lists(st.fixed_dictionaries({"id": ids, "amount": numbers, "share": numbers, "why": sentences}),
                  min_size=1, max_size=6),
    width=st.integers(min_value=40, max_value=200),
    blocks=st.booleans(),
)  # fmt: skip
def test_every_number_and_id_is_whole_on_one_line_and_no_line_is_wider_than_the_console(
    rows: list[dict[str, str]], width: int, blocks: bool
) -> None:
    out = Console(file=io.StringIO(), width=width, color_system=None)
    columns = ("id", "amount", "why", "share")
    if blocks:
        print_blocks(out, columns, rows)
    else:
        print_table(out, columns, rows)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert max(len(line) for line in text.splitlines()) <= width
    for row in rows:
        for key in ("id", "amount", "share"):
            assert whole_on_a_line(row[key], text), (key, row[key], text)
        for word in row["why"].split():
            assert whole_on_a_line(word, text), (word, text)


def test_indented_text_cells_keep_their_indentation_and_styles() -> None:
    rows = [{"figure": Text("Pipeline", style="bold"), "value": "1.00"},
            {"figure": Text("    Share of all pipeline created"), "value": "6.5%"}]  # fmt: skip
    text = printed(30, ("figure", "value"), rows)
    assert any(line.startswith("    Share") for line in lines_of(text))


def test_a_long_header_wraps_after_a_hyphen_instead_of_widening_a_column_of_numbers() -> None:
    columns = [TableColumn(f"c{i}", "Partner-sourced pipeline (USD)") for i in range(6)]
    rows = [{f"c{i}": "1,234.56" for i in range(6)}]
    text = printed(60, columns, rows)  # 6 columns of 8 + 5 gaps of 2 = 58: fits only at 8 wide
    lines = lines_of(text)
    assert lines[0].split() == ["Partner-"] * 6
    assert lines[1].split() == ["sourced"] * 6
    assert lines[-1].split() == ["1,234.56"] * 6


def test_the_commands_console_ends_no_line_with_spaces_in_a_file_or_a_pipe() -> None:
    # rich pads a table's last column to its width; a forwarded report should not carry the padding.
    from cosell.cli.common import TextConsole

    rows = [{"kind": "over_credited", "for example": "006Dm0000000261, 006Dm0000000334, ..."},
            {"kind": "double_sourced", "for example": "006Dm0000000112"}]  # fmt: skip
    columns = (TableColumn("kind"), TableColumn("for example"))
    piped = TextConsole(file=io.StringIO(), width=60, color_system=None)
    print_table(piped, columns, rows)
    piped.message("a message with a trailing space ")
    text = piped.file.getvalue()  # type: ignore[attr-defined]
    assert "006Dm0000000112" in text and text.count("\n") >= 4
    assert not [line for line in text.splitlines() if line.endswith(" ")]
    # The same table from rich's own console keeps its padding: what the line above removes.
    plain = printed(60, columns, rows)
    assert [line for line in plain.splitlines() if line.endswith(" ")]


def test_a_header_keeps_a_period_or_a_date_whole() -> None:
    # The QBR's revenue table headed a column "Deals won 2026-Q2" and, in a workspace currency of
    # three decimals (KWD, wider amounts), printed it as "2026-" over "Q2": the header broke after
    # the period's hyphen like after a word's. A period or a date is now one piece of a header
    # (found by fuzzing the QBR in KWD).
    columns = [TableColumn(f"c{i}", label) for i, label in
               enumerate(("Deals won 2026-Q2", "Revenue 2026-08", "Since 2026-07-01", "Partner-sourced"))]  # fmt: skip
    rows = [{f"c{i}": "12" for i in range(4)}]
    for width in (40, 44):
        text = printed(width, columns, rows)
        for piece in ("2026-Q2", "2026-08", "2026-07-01"):
            assert whole_on_a_line(piece, text), text
        assert any(line.split()[-1:] == ["Partner-"] for line in lines_of(text)), text  # words still break


def test_a_number_too_wide_beside_the_labels_of_a_block_goes_whole_under_its_label() -> None:
    # At 40 columns the QBR's by-tier table is printed as blocks, and its label "Pipeline 2026-Q2
    # (USD):" left 16 columns beside it: the largest amount an import accepts folded into
    # "99,999,999,999,9" over "99.99". Such a number now goes under its label, whole (found by
    # fuzzing the QBR at 40 columns).
    columns = [TableColumn("tier", "Tier"), TableColumn("amount", "Pipeline 2026-Q2 (USD)")]
    rows = [{"tier": "Sourced", "amount": "99,999,999,999,999.99"}, {"tier": "None", "amount": "-1.00"}]
    out = Console(file=io.StringIO(), width=40, color_system=None)
    print_blocks(out, columns, rows)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert whole_on_a_line("99,999,999,999,999.99", text), text
    assert whole_on_a_line("-1.00", text) and whole_on_a_line("Sourced", text), text
    assert max(len(line) for line in lines_of(text)) <= 40
    # Beside the labels when it fits: the blocks keep their aligned label: value lines.
    narrow = Console(file=io.StringIO(), width=60, color_system=None)
    print_blocks(narrow, columns, rows)
    assert "Pipeline 2026-Q2 (USD): 99,999,999,999,999.99" in narrow.file.getvalue()  # type: ignore[attr-defined]
