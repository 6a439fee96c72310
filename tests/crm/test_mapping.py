"""The mapping file: validated with every problem at its line; drafted from an export."""

from __future__ import annotations

import os
import random
import tomllib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crm_fixtures import mapping, write_org
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.crm.fields import DECLARED_FIELDS, PARTNER_SOURCE_CHOICES, result_names
from cosell.crm.mapping import MappingInvalid, line_of, load_mapping, parse_mapping
from cosell.crm.mapping_init import Draft, date_format, fields_section
from cosell.crm.values import BadValue, EpochMilliseconds, boolean, instant, lookup
from cosell.instants import format_instant, parse_instant
from cosell.policy import Policy
from cosell.service.crm_import import translate
from cosell.store.schema import TABLES_BY_NAME
from cosell.toml_text import MAX_TOML_FILE_BYTES

runner = CliRunner()

BAD = """\
crm = "salesforce"
encoding = "utf-16"
colour = "blue"

[tiers]
"Partner Sourced" = "sourcedd"

[files.Opportunity.formats]
CloseDate = "MM/DD/YY"

[files.Oportunity]
path = "x.csv"
"""


def test_every_problem_is_named_at_its_line_and_key() -> None:
    with pytest.raises(MappingInvalid) as caught:
        parse_mapping(BAD, "salesforce", "m.toml")
    assert caught.value.problems == [
        'm.toml line 2, encoding: "utf-16" is not one of utf-8, utf-8-sig, cp1252, latin-1',
        "m.toml line 3, colour: unknown key (known: accounts, activities, crm, currencies, encoding, fields, "
        "files, ids, lead_sources, leads, opportunity_types, partner_roles, partners, stages, tiers, timezone, users)",
        'm.toml line 6, tiers."Partner Sourced": "sourcedd" is not one of none, sourced, influenced, accelerated',
        'm.toml line 9, files.Opportunity.formats.CloseDate: "MM/DD/YY" has no % directive (a strptime '
        "format like %m/%d/%Y)",
        "m.toml line 11, files.Oportunity: is not an object cosell reads from salesforce (Opportunity, "
        "OpportunityHistory, OpportunityFieldHistory, OpportunityPartner, Partner, Account, Contact, Lead, "
        "Task, Event, User, CurrencyType, DatedConversionRate)",
    ]


def test_a_mapping_that_is_not_a_regular_file_or_too_large_is_refused_without_reading_it(
    tmp_path: Path,
) -> None:
    """``import salesforce --mapping /dev/zero`` read the device until memory ran out, and a named
    pipe waited for a writer forever: a mapping is read as the policy is (one shared reader)."""
    large = tmp_path / "large.toml"
    large.write_bytes(b'crm = "salesforce"\n' + b"#" * MAX_TOML_FILE_BYTES)
    with pytest.raises(MappingInvalid) as caught:
        load_mapping(large, "salesforce")
    assert caught.value.problems == [
        f"{large}: is larger than {MAX_TOML_FILE_BYTES:,} bytes (a mapping is a short text file)"
    ]
    fifo = tmp_path / "mapping.fifo"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with pytest.raises(MappingInvalid) as caught:
            load_mapping(path, "hubspot")
        assert caught.value.problems == [f"{path}: is not a regular file (a mapping is a TOML text file)"]
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(MappingInvalid, match="is not a text file \\(a mapping is TOML text in UTF-8\\)"):
        load_mapping(binary, "salesforce")


def test_a_mapping_for_the_other_crm_and_bad_toml_are_refused() -> None:
    with pytest.raises(MappingInvalid, match='line 1, crm: this mapping is for "salesforce", not hubspot'):
        parse_mapping('crm = "salesforce"\n', "hubspot", "m.toml")
    with pytest.raises(MappingInvalid, match=r"m.toml: not valid TOML: .*line 2"):
        parse_mapping('crm = "salesforce"\n[tiers\n', "salesforce", "m.toml")
    # Deeper than the interpreter recurses, and an integer too long to convert: reasons, not tracebacks.
    with pytest.raises(MappingInvalid, match=r"m\.toml: not valid TOML: nested too deeply"):
        parse_mapping("x = " + "[" * 5000 + "]" * 5000, "salesforce", "m.toml")
    with pytest.raises(MappingInvalid, match=r"m\.toml: not valid TOML: Exceeds the limit \(4300 digits\)"):
        parse_mapping("x = 1" + "0" * 5000, "salesforce", "m.toml")


def test_line_of_finds_quoted_keys_in_their_table() -> None:
    text = '[a]\nx = 1\n[b.c]\n"Closed Won" = "won"\nx = 2\n'
    assert line_of(text, ["b", "c", "Closed Won"]) == 4
    assert line_of(text, ["b", "c", "x"]) == 5
    assert line_of(text, ["a", "x"]) == 2
    assert line_of(text, ["b", "c"]) == 3
    assert line_of(text, ["a", "missing"]) is None


def test_values_are_read_strictly() -> None:
    assert lookup("000000000000000AAA") == "" and lookup(" 000000000000000 ") == ""
    assert lookup("001A00000000001") == "001A00000000001"
    assert [boolean(v) for v in ("1", "", "TRUE", "false", "0")] == [True, False, True, False, False]
    with pytest.raises(BadValue):
        boolean("maybe")
    assert instant("2024-01-22T16:14:25.000+0000", None, None) == "2024-01-22T16:14:25.000+0000"
    assert instant("02/23/26 08:55 PM", "%m/%d/%y %I:%M %p", None) == "2026-02-23T20:55:00Z"
    assert instant("02/03/24", "%m/%d/%y", None) == "2024-02-03"
    with pytest.raises(BadValue, match="is not an ISO 8601"):
        instant("02/23/26 08:55 PM", None, None)
    with pytest.raises(BadValue, match="does not match the mapping's format %d/%m/%y"):
        instant("02/23/26", "%d/%m/%y", None)


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        ("%m/%d", "does not read a whole date"),  # every date would be in 1900
        ("%d.%m.", "does not read a whole date"),
        ("%Y-%m", "does not read a whole date"),  # every date the 1st of its month
        ("%m/%d/%Y %I:%M", "does not read back the hour and minute"),  # 8 PM read as 8 AM
        ("%m/%d/%Y %H", "does not read back the hour and minute"),
    ],
)
def test_a_date_format_that_loses_part_of_a_date_is_refused_at_its_line(fmt: str, reason: str) -> None:
    # Found by fuzzing the import: CloseDate = "%m/%d" was accepted and every close date was read
    # as a day of 1900, silently.
    text = f'crm = "salesforce"\n[files.Opportunity.formats]\nCloseDate = "{fmt}"\n'
    with pytest.raises(MappingInvalid) as caught:
        parse_mapping(text, "salesforce", "m.toml")
    [problem] = caught.value.problems
    assert problem.startswith(f'm.toml line 3, files.Opportunity.formats.CloseDate: "{fmt}" {reason}')


@given(
    date_part=st.sampled_from(["%m/%d/%Y", "%d/%m/%y", "%Y-%m-%d", "%d %b %Y", "%b %d, %Y", "%Y%m%d"]),
    time_part=st.sampled_from(["", " %H:%M", " %I:%M %p", " %H:%M:%S", "T%H:%M:%S.%f"]),
    day=st.dates(min_value=date(1970, 1, 1), max_value=date(2068, 12, 31)),
)
def test_a_whole_date_format_is_accepted_and_reads_its_dates_back(
    date_part: str, time_part: str, day: date
) -> None:
    fmt = date_part + time_part
    parse_mapping(f'crm = "salesforce"\n[files.Opportunity.formats]\nCloseDate = "{fmt}"\n', "salesforce")
    at = datetime(day.year, day.month, day.day, 20, 55, 7, tzinfo=UTC)
    read = instant(at.strftime(fmt), fmt, None)
    assert read.startswith(day.isoformat())
    if time_part:
        assert parse_instant(read).replace(second=0, microsecond=0) == at.replace(second=0)


@given(
    at=st.datetimes(min_value=datetime(1973, 3, 4), max_value=datetime(2286, 11, 20), timezones=st.just(UTC)),
    fmt=st.sampled_from([None, "%m/%d/%Y", "%Y-%m-%d %H:%M"]),
)
def test_a_date_given_as_epoch_milliseconds_is_refused_as_such(at: datetime, fmt: str | None) -> None:
    """HubSpot's API and some exports write dates as epoch milliseconds; the refusal said only
    "is not an ISO 8601 date" and suggested a format in the mapping, which no format can read:
    it now says the cell looks like epoch milliseconds, the instant it would be, and what to do."""
    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    millis = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    with pytest.raises(EpochMilliseconds) as caught:
        instant(f" {millis} ", fmt, None)
    reason = str(caught.value)
    assert reason.startswith(f"looks like epoch milliseconds ({format_instant(at)}), ")
    assert "convert it to ISO 8601" in reason


def test_a_naive_report_time_is_read_in_the_mappings_zone_and_a_date_is_never_shifted(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    text = mapping("report").replace(
        'encoding = "cp1252"', 'encoding = "cp1252"\ntimezone = "America/New_York"'
    )
    t = translate("salesforce", folder, parse_mapping(text, "salesforce"), Policy())
    won = dict(
        zip(
            ("opportunity_id", "account_id", "created_at"),
            next(iter(t.rows("opportunities")))[:3],
            strict=True,
        )
    )
    assert won["created_at"] == "2026-01-20T15:00:00Z"  # 10:00 AM EST
    touch = next(iter(t.rows("touches")))
    assert touch[1] == "2026-02-03"


def test_date_format_drafting_marks_ambiguity() -> None:
    assert date_format(["02/23/26 08:55 PM", "12/01/25 11:05 AM"]) == ("%m/%d/%y %I:%M %p", [])
    assert date_format(["01/02/26", "03/04/26"]) == ("%m/%d/%y", ["%d/%m/%y"])
    assert date_format(["2026-01-02", ""]) == (None, [])


def test_map_init_drafts_a_mapping_that_imports_the_export(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    target = tmp_path / "m.toml"
    result = runner.invoke(app, ["crm", "map", "init", "salesforce", str(folder), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert '"Closed Won" = "won"  # its deals\' IsClosed/IsWon say won' in text
    # The blueprint's name is taken as it is; another name is detected from its words and marked CHECK.
    assert '"partner_source" = "Partner_Source__c"  # the blueprint\'s Partner Source field' in text
    assert '"partner_id" = "Partner_Account__c"  # CHECK: a partner column of Opportunity' in text
    assert 'CHECK [tiers] "Partner Sourced" = "sourced"' in result.output
    assert 'encoding = "utf-8-sig"' in text
    ws = str(tmp_path / "ws.duckdb")
    done = runner.invoke(
        app,
        ["import", "salesforce", str(folder), "--mapping", str(target), "-w", ws, "--format", "json"],
        env={"COSELL_NOW": "2026-05-01T00:00:00Z"},
    )
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["crm", "map", "init", "salesforce", str(folder), "--out", str(target)])
    assert again.exit_code == 2 and "exists" in again.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, 'Opportunity.csv row 1: is separated by ";", not by commas'),
        (b"", "Opportunity.csv: is empty (no header row)"),
        (b"Id,Name\n006A,x,y\n", "Opportunity.csv row 2: has 3 values, the header has 2"),
    ],
)
def test_map_init_says_why_an_export_file_it_cannot_read_was_not_drafted(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    # Found by fuzzing map init: an Opportunity.csv saved with ";" was reported as
    # "no Opportunity.csv in the export: name its file under [files.Opportunity] path".
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "Opportunity.csv"
    if content is None:
        content = path.read_bytes().replace(b",", b";")
    path.write_bytes(content)
    target = tmp_path / "m.toml"
    result = runner.invoke(app, ["crm", "map", "init", "salesforce", str(folder), "--out", str(target)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "Opportunity.csv" in line]
    assert len(notes) == 1 and notes[0].startswith(f"CHECK {reason}"), result.output
    assert notes[0].endswith("fix the file, then draft the mapping again")


def test_map_init_writes_the_excel_formats_it_can_read_and_flags_the_ambiguous(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    target = tmp_path / "m.toml"
    result = runner.invoke(app, ["crm", "map", "init", "salesforce", str(folder), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert 'encoding = "cp1252"' in text
    assert '"CreatedDate" = "%m/%d/%y %I:%M %p"  # every value fits, e.g. "01/20/26 10:00 AM"' in text
    assert '"CloseDate" = "%m/%d/%y"  # every value fits' in text
    # 02/03/26, 02/10/26 and 02/11/26 read as well day first: a person must say which.
    assert (
        'CHECK [files.Task.formats] ActivityDate = "%m/%d/%y": "02/03/26" also fits %d/%m/%y: which does the '
        "export write?" in result.output
    )


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_map_init_over_a_blueprint_orgs_export_drafts_a_mapping_that_imports_it_as_is(
    tmp_path: Path, crm: str
) -> None:
    # The demo export is what an org that installed `cosell blueprint` exports: the drafted mapping
    # names the blueprint's fields and picklist values without a CHECK, and reads the deals exactly
    # as the demo's own mapping does.
    export = tmp_path / "x"
    assert runner.invoke(app, ["demo", "--out", str(export), "--size", "40", "--crm", crm]).exit_code == 0
    target = tmp_path / "m.toml"
    result = runner.invoke(app, ["crm", "map", "init", crm, str(export), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    for f in DECLARED_FIELDS:
        assert f'"{f.key}" = "{f.name_in(crm)}"  # the blueprint\'s {f.label} field' in text
    for c in PARTNER_SOURCE_CHOICES:
        assert f'"{c.value}" = "{c.value}"  # the blueprint\'s picklist value' in text
    assert "CHECK [fields]" not in result.output and "CHECK [tiers]" not in result.output
    drafted = translate(crm, export, parse_mapping(text, crm), Policy())
    demo = translate(
        crm, export, parse_mapping((export / f"{crm}-mapping.toml").read_text("utf-8"), crm), Policy()
    )
    assert drafted.rows("opportunities") == demo.rows("opportunities")
    assert any(row for row in demo.rows("opportunities") if "sourced" in row)


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_map_init_over_the_demo_export_reads_its_touches_as_the_demos_own_mapping_does(
    tmp_path: Path, crm: str
) -> None:
    # Found by checking docs/crm-import.md ("`cosell crm map init` over it drafts a mapping that
    # imports it as is"): the draft read "Event Speaking" as no kind, "Inbound Call" as
    # outbound_call and "Marketing Email Sent" as direct engagement, and left the activities' partner
    # column commented out, so every partner touch became a direct one (the demo's 482 sourced deals
    # became 66). A value naming a kind of the policy word for word is that kind, and a partner
    # column of the activity files is proposed (marked CHECK).
    export = tmp_path / "x"
    assert runner.invoke(app, ["demo", "--out", str(export), "--size", "60", "--crm", crm]).exit_code == 0
    target = tmp_path / "m.toml"
    result = runner.invoke(app, ["crm", "map", "init", crm, str(export), "--out", str(target)])
    assert result.exit_code == 0, result.output
    drafted = translate(crm, export, parse_mapping(target.read_text("utf-8"), crm), Policy())
    demo = translate(
        crm, export, parse_mapping((export / f"{crm}-mapping.toml").read_text("utf-8"), crm), Policy()
    )
    kind = TABLES_BY_NAME["touches"].column_names.index("kind")
    policy = Policy()

    def read(rows: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
        # A kind the policy does not name is ignored by the rules like internal_note: compare what
        # the rules see (the demo's own mapping keeps such a value under its own name).
        return [
            (*r[:kind], r[kind] if r[kind] in policy.known_kinds else "internal_note", *r[kind + 1 :])
            for r in rows
        ]

    touches = read(demo.rows("touches"))
    assert any("partner" in row for row in touches) and any("direct" in row for row in touches)
    assert read(drafted.rows("touches")) == touches
    assert "CHECK [activities] partner_column" in result.output
    # The accounts' segments too (without them every account is the empty segment, and a cohort
    # compares deals across segments): the segment column is proposed, marked CHECK.
    names = TABLES_BY_NAME["accounts"].column_names
    account, segment = names.index("account_id"), names.index("segment")
    ours = {row[account]: row[segment] for row in demo.rows("accounts")}
    drafted_segments = {row[account]: row[segment] for row in drafted.rows("accounts")}
    assert len(set(ours.values())) > 1 and {a: drafted_segments.get(a) for a in ours} == ours
    assert "CHECK [accounts] segment_column" in result.output


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_map_init_drafts_the_same_bytes_whatever_the_order_of_the_rows(tmp_path: Path, crm: str) -> None:
    export = tmp_path / "x"
    assert runner.invoke(app, ["demo", "--out", str(export), "--size", "60", "--crm", crm]).exit_code == 0
    shuffled = tmp_path / "y"
    shuffled.mkdir()
    for i, source in enumerate(sorted(export.glob("*.csv"))):
        head, *rows = source.read_bytes().splitlines(keepends=True)
        rows = [r if r.endswith(b"\n") else r + b"\r\n" for r in rows]
        random.Random(i).shuffle(rows)
        (shuffled / source.name).write_bytes(head + b"".join(rows))
    drafts = []
    for folder in (export, shuffled):
        target = tmp_path / f"{folder.name}.toml"
        done = runner.invoke(app, ["crm", "map", "init", crm, str(folder), "--out", str(target)])
        assert done.exit_code == 0, done.output
        drafts.append((target.read_bytes(), done.stderr))
    assert drafts[0] == drafts[1]


@pytest.mark.parametrize(
    ("crm", "needed"), [("salesforce", ["Opportunity"]), ("hubspot", ["deals", "companies"])]
)
def test_map_init_says_which_file_the_import_needs_and_the_export_lacks(
    tmp_path: Path, crm: str, needed: list[str]
) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "deal_data.csv").write_text("deal_id,deal_name\n1,x\n", encoding="utf-8")
    done = runner.invoke(
        app, ["crm", "map", "init", crm, str(tmp_path / "export"), "--out", str(tmp_path / "m.toml")]
    )
    assert done.exit_code == 0, done.output
    for obj in needed:
        assert f"CHECK no {obj}.csv in the export: name its file under [files.{obj}] path" in " ".join(
            done.stdout.split()
        )


@pytest.mark.parametrize(("crm", "obj"), [("salesforce", "Opportunity"), ("hubspot", "deals")])
def test_two_files_of_one_object_in_two_folders_are_named_not_called_missing(
    tmp_path: Path, crm: str, obj: str
) -> None:
    export = tmp_path / "x"
    assert runner.invoke(app, ["demo", "--out", str(export), "--size", "20", "--crm", crm]).exit_code == 0
    for folder in ("eu", "us"):
        (export / folder).mkdir()
        (export / folder / f"{obj}.csv").write_bytes((export / f"{obj}.csv").read_bytes())
    (export / f"{obj}.csv").unlink()
    both = f"2 files are called {obj}.csv (eu/{obj}.csv, us/{obj}.csv): name the one to read under [files.{obj}] path"
    done = runner.invoke(app, ["crm", "map", "init", crm, str(export), "--out", str(tmp_path / "m.toml")])
    assert done.exit_code == 0 and f"CHECK {both}" in " ".join(done.stdout.split())
    mapping = str(export / f"{crm}-mapping.toml")
    failed = runner.invoke(
        app, ["import", crm, str(export), "--mapping", mapping, "-w", str(tmp_path / "w.duckdb")]
    )
    assert failed.exit_code == 1 and f"{obj}.csv: missing: {both}" in " ".join(failed.stderr.split())


def test_a_drafted_value_with_control_characters_stays_one_toml_line_and_reads_back_as_it_is() -> None:
    draft = Draft()
    draft.add("[lead_sources]")
    odd = ['Web\n[users.roles]\n"x" = "admin', "Partner\x7fReferral", 'Trade "Show" \\ x\x01\t']
    for value in odd:
        draft.entry(value, "inbound", f'read from the words of "{value}"', check=True, section="lead_sources")
    text = draft.text()
    assert len(text.splitlines()) == 1 + len(odd)
    assert tomllib.loads(text) == {"lead_sources": dict.fromkeys(odd, "inbound")}


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_map_init_never_proposes_cosells_own_fields_and_shows_the_blueprints_name(crm: str) -> None:
    # After a write-back the export carries cosell's result fields; "...Primary_Partner..." has the
    # words of a partner lookup, but it is what cosell writes, not what a rep declared.
    own = list(result_names(crm))
    draft = Draft()
    chosen = fields_section(draft, crm, "deals", ["Id", *own], [h for h in own if "partner" in h.lower()])
    assert chosen == {}
    assert f'# "partner_id" = "{DECLARED_FIELDS[1].name_in(crm)}"  # the blueprint\'s name' in draft.text()
    other = fields_section(Draft(), crm, "deals", [*own, "Partner_Account__c"], [*own, "Partner_Account__c"])
    assert other == {"partner_id": "Partner_Account__c"}


def test_an_import_without_a_mapping_that_fails_says_how_to_draft_one(tmp_path: Path) -> None:
    export = tmp_path / "x"
    assert (
        runner.invoke(app, ["demo", "--out", str(export), "--size", "40", "--crm", "salesforce"]).exit_code
        == 0
    )
    done = runner.invoke(app, ["import", "salesforce", str(export), "-w", str(tmp_path / "ws.duckdb")])
    assert done.exit_code == 1
    out = " ".join(done.output.split())
    assert (
        'Type: "New Customer" is not in [opportunity_types] of the default mapping (no --mapping given)'
        in out
    )
    assert "((default mapping))" not in out
    assert (
        "--mapping: none given, so only cosell's own values are read; draft a mapping with `cosell crm map "
        f"init salesforce {export} --out salesforce-mapping.toml`, read it, and import with --mapping "
        "salesforce-mapping.toml nothing from this import was applied" in out
    )


@given(
    zone=st.sampled_from(["America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
    # the 2026 clock changes of these zones, and a day without any
    day=st.sampled_from(
        [
            date(2026, 3, 8),
            date(2026, 11, 1),
            date(2026, 3, 29),
            date(2026, 10, 25),
            date(2026, 4, 5),
            date(2026, 10, 4),
            date(2026, 6, 15),
        ]
    ),
    hour=st.integers(0, 4),
    minute=st.integers(0, 59),
)
def test_a_wall_time_the_zones_clocks_skipped_is_refused_and_any_other_is_read_in_the_zone(
    zone: str, day: date, hour: int, minute: int
) -> None:
    """A naive report time is read in the mapping's zone; one that does not exist there (02:30 on
    a spring-forward night) was read an hour off, silently: it is now refused, naming the zone."""
    wall = datetime(day.year, day.month, day.day, hour, minute)
    tz = ZoneInfo(zone)
    fmt = "%m/%d/%Y %H:%M"
    local = wall.replace(tzinfo=tz)
    # PEP 495: in a gap the earlier offset (fold 0) is less than the later one (fold 1); in an
    # overlap (a fall-back hour, which exists twice) it is greater.
    before, after = local.utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    assert before is not None and after is not None
    if before >= after:
        assert parse_instant(instant(wall.strftime(fmt), fmt, tz)) == local.astimezone(UTC)
    else:
        with pytest.raises(BadValue, match=f"is not a time that exists in {zone}"):
            instant(wall.strftime(fmt), fmt, tz)


def test_the_skipped_hour_of_a_spring_forward_night_is_refused() -> None:
    tz = ZoneInfo("America/New_York")
    with pytest.raises(BadValue) as refused:
        instant("03/08/26 02:30 AM", "%m/%d/%y %I:%M %p", tz)
    assert str(refused.value) == (
        "is not a time that exists in America/New_York (its clocks skipped it): check the mapping's "
        "timezone against the export's"
    )
    assert instant("03/08/26 03:30 AM", "%m/%d/%y %I:%M %p", tz) == "2026-03-08T07:30:00Z"
