"""The reasons and change lines a partner user reads (SPEC section 9): a reason written by partner_ops
on its own registration or referral, without another partner's name or ids; no import's file path."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosell.data.load import import_canonical
from cosell.policy import Policy
from cosell.referrals.others import OtherPartners
from cosell.referrals.parsed import ParsedReferral
from cosell.service import registrations
from cosell.service.referrals import referral, reject, submit_parsed
from cosell.store.workspace import Workspace

from .test_partner_view import read
from .world import at, write_tables

# Other partners beside the world's P2 Beta (its registration R1), and one of their registrations.
MORE = {
    "partners": [
        {"partner_id": "P7", "name": "Apex Partners", "domain": "apex.example", "partner_type": "referral"},
        {"partner_id": "P10", "name": "O'Brien Group", "domain": "obrien.example", "partner_type": "referral"},
    ],
    "deal_registrations": [
        {"registration_id": "R-17", "partner_id": "P7", "account_id": "A1", "registered_at": "2026-05-20",
         "status": "pending"},
    ],
}  # fmt: skip
OTHER_NAMES = ("Beta", "Apex Partners", "O'Brien Group")
OTHER_IDS = ("P2", "P7", "P10", "R1", "R-17")
EXPORT = "/home/ops/exports/sf-2026-11.csv"
_REFS = itertools.count(1)  # a new source_ref each example: a new referral, not the one stored


def _more(
    ws: Workspace, tmp: Path, source: str | None = None, tables: dict[str, list[dict[str, str]]] | None = None
) -> None:
    """Import more rows into the world (``source``: the import's source line, as a CRM import writes it)."""
    folder = write_tables(tmp, tables or MORE)
    import_canonical(ws, folder, policy=Policy(), by_user="ops", partial=True, source=source)


def _alpha(ref: str) -> ParsedReferral:
    """A referral from P1 (Alpha Partners: its contact ann@alpha-partners.com)."""
    return ParsedReferral("api", ref, datetime(2026, 6, 1, tzinfo=UTC), ("ann@alpha-partners.com",),
                          prospect_company="Contoso", prospect_name="Dana", prospect_email="dana@contoso.com")  # fmt: skip


def _shows_no_other_partner(out: str) -> None:
    """Neither another partner's name (any case, any spacing) nor its ids are in ``out``."""
    flat = " ".join(out.split())
    for name in OTHER_NAMES:
        assert name.casefold() not in flat.casefold(), (name, out)
    for other in OTHER_IDS:
        assert re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", flat) is None, (other, out)


REASON = (
    "conflict with APEX partners' registration R-17 (P7) and beta's R1 (P2); Alpha Partners (P1) keeps A2"
)


def test_a_partner_user_reads_why_its_registration_was_rejected_without_other_partners(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    """partner_ops' reason names other partners (by name, in another case, and by id): the partner
    user reads the reason with "another partner" and "another registration" in their place, its own
    partner's name and id as written; partner_ops reads it whole."""
    with at("2026-06-01T12:00:00Z"):
        _more(ref_ws, tmp_path / "more")
    with at("2026-06-02T09:00:00Z"):
        rid = registrations.submit(
            ref_ws, Policy(), partner_id="P1", account_id="A2", by="u-ops"
        ).row.registration_id
        registrations.reject(ref_ws, Policy(), rid, by="u-ops", reason=REASON)
    path = Path(ref_ws.path)
    ref_ws.close()
    hidden = (
        "conflict with another partner's registration another registration (another partner) and another "
        "partner's another registration (another partner); Alpha Partners (P1) keeps A2"
    )
    for args in (("show", rid), ("show", rid, "--format", "json"), ("list", "--format", "json")):
        code, out = read(path, "registrations", *args, "--by", "u-p1")
        assert code == 0 and rid in out, out
        _shows_no_other_partner(out)
        assert "Alpha Partners (P1) keeps A2" in " ".join(out.split())
    shown = json.loads(read(path, "registrations", "show", rid, "--format", "json", "--by", "u-p1")[1])
    assert shown["change"] == f"cosell registrations reject {rid}: {hidden}"
    assert shown["events"][-1]["reason"] == hidden
    ops = json.loads(read(path, "registrations", "show", rid, "--format", "json", "--by", "u-ops")[1])
    assert ops["change"] == f"cosell registrations reject {rid}: {REASON}"
    assert ops["events"][-1]["reason"] == REASON


def test_a_partner_user_reads_why_its_referral_was_rejected_without_other_partners(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    """The same for a referral's history (and its current reason): the partner user's, not partner_ops'."""
    with at("2026-06-01T12:00:00Z"):
        _more(ref_ws, tmp_path / "more")
    with at("2026-06-02T09:00:00Z"):
        rid = submit_parsed(ref_ws, _alpha("alpha-9"), "u-ops").referral.current.referral_id
        reject(ref_ws, rid, by="u-ops", reason=REASON)
    path = Path(ref_ws.path)
    ref_ws.close()
    for args in (("show", rid), ("show", rid, "--format", "json"), ("list", "--format", "json")):
        code, out = read(path, "referrals", *args, "--by", "u-p1")
        assert code == 0 and rid in out, out
        _shows_no_other_partner(out)
        assert "Alpha Partners (P1) keeps A2" in " ".join(out.split())
    code, out = read(path, "referrals", "show", rid, "--format", "json", "--by", "u-ops")
    assert code == 0 and json.loads(out)["history"][-1]["reason"] == REASON


def test_a_partner_user_is_not_shown_an_imports_file_path(ref_ws: Workspace, tmp_path: Path) -> None:
    """A registration whose current version came from a CRM import: its change line names the
    export's path to partner_ops, and says only that it came from the CRM import to the partner."""
    own = {"deal_registrations": [{"registration_id": "R-9", "partner_id": "P1", "account_id": "A2",
                                   "registered_at": "2026-05-20", "status": "pending"}]}  # fmt: skip
    with at("2026-06-01T12:00:00Z"):
        _more(ref_ws, tmp_path / "own", source=f"salesforce {EXPORT}", tables=own)
    path = Path(ref_ws.path)
    ref_ws.close()
    for args in (("show", "R-9"), ("show", "R-9", "--format", "json"), ("list", "--format", "json")):
        code, out = read(path, "registrations", *args, "--by", "u-p1")
        assert code == 0 and "R-9" in out, out
        assert EXPORT not in out and "salesforce" not in out and "/home/ops" not in out
    shown = json.loads(read(path, "registrations", "show", "R-9", "--format", "json", "--by", "u-p1")[1])
    assert shown["change"] == "from the CRM import"
    code, out = read(path, "registrations", "show", "R-9", "--format", "json", "--by", "u-ops")
    assert code == 0 and json.loads(out)["change"] == f"salesforce {EXPORT}"


@st.composite
def _reasons(draw: st.DrawFn) -> str:
    """Reason text: other partners' names (each letter in either case, any spacing) and ids, the
    reader's own, and filler words, joined by what a person writes between words."""
    fillers = ("conflict", "with", "duplicate", "of", "registration", "already", "won", "by", "42", "Alpha",
               "Partners", "P1", "Group", "Apex", "another", "R-1", "P", "the")  # fmt: skip
    words = st.one_of(
        st.sampled_from(OTHER_NAMES).flatmap(
            lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
                lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True))
            )
        ),
        st.sampled_from(OTHER_IDS),
        st.sampled_from(fillers),
    )
    parts = draw(st.lists(words, min_size=1, max_size=12))
    gaps = draw(st.lists(st.sampled_from((" ", ", ", ": ", " (", ") ", "'s ", "/", " - ", "  ")),
                         min_size=len(parts), max_size=len(parts)))  # fmt: skip
    return "".join(p + g for p, g in zip(parts, gaps, strict=True)).strip() or "x"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(reason=_reasons())
def test_no_other_partner_in_any_reason_a_partner_user_reads(ref_ws: Workspace, reason: str) -> None:
    """Whatever partner_ops writes of other partners in a reason on the partner's own referral, the
    partner user's reading of it names none of them (ids exactly, names in any case)."""
    # The workspace lives across the examples: the other partners are imported by the first.
    if not ref_ws.con.execute("SELECT count(*) FROM cur_partners WHERE partner_id = 'P7'").fetchone()[0]:
        with at("2026-06-01T12:00:00Z"):
            _more(ref_ws, Path(ref_ws.path).parent / "more")
    with at("2026-06-02T09:00:00Z"):
        rid = submit_parsed(
            ref_ws, _alpha(f"alpha-{next(_REFS)}"), "u-ops", reason
        ).referral.current.referral_id
    seen = referral(ref_ws, rid, viewer="u-p1")
    _shows_no_other_partner(json.dumps(seen.to_json(), ensure_ascii=False))
    assert referral(ref_ws, rid, viewer="u-ops").history[-1].reason == " ".join(reason.split())


def test_a_name_inside_the_readers_own_is_the_readers_own() -> None:
    """Another partner named "Alpha" does not take the word from the reader's own "Alpha Partners";
    a name shared in any case with the reader's partner is its own; ids are matched exactly, whole."""
    others = OtherPartners.of(
        "P1",
        [("P1", "Alpha Partners"), ("P2", "Alpha"), ("P3", "ALPHA PARTNERS")],
        [("R1", "P2"), ("R10", "P1")],
    )
    assert others.hide("alpha  partners, not Alpha (P2, R1); R10 P1 p2 P21") == (
        "alpha  partners, not another partner (another partner, another registration); R10 P1 p2 P21"
    )


def test_a_hidden_name_and_its_id_read_as_one_other_partner() -> None:
    """cosell writes a partner as "Name (id)": hidden, that is one other partner, not "another
    partner (another partner)" (a partner user's explanation read so)."""
    others = OtherPartners.of("P1", [("P1", "Alpha Partners"), ("P2", "Beta Labs")], [])
    assert others.hide("Beta Labs (P2): touch T9 qualifies; Alpha Partners (P1) sourced it.") == (
        "another partner: touch T9 qualifies; Alpha Partners (P1) sourced it."
    )
