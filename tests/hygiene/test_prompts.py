"""Influence prompts: issued when a partner joins a deal, listed, answered, superseded, expired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.attribution.reattribute import reattribute
from cosell.cli.app import app
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.hygiene.prompts import answer_prompt, expired_prompts, list_prompts, refresh_prompts
from cosell.policy import Policy
from cosell.store.attribution_store import save_run
from cosell.store.versions import attribution_views, deal_history
from cosell.store.workspace import Workspace, open_workspace

POLICY = Policy()
Tables = dict[str, list[dict[str, str]]]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def ws(intake_prompted_ws: Workspace) -> Workspace:
    return intake_prompted_ws


def _counts(ws: Workspace) -> tuple[int, ...]:
    return tuple(
        int(ws.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
        for t in ("declarations", "prompts", "prompt_answers", "attribution_runs", "attribution_history")
    )


def test_one_prompt_per_deal_and_partner_for_the_earliest_trigger(ws: Workspace) -> None:
    prompts = list_prompts(ws.con, at("2026-05-01"))
    assert [
        (p.prompt_id, p.opportunity_id, p.partner_id, p.rep_id, p.trigger, p.trigger_ref) for p in prompts
    ] == [
        ("PRM-000001", "O2", "P2", "U1", "opportunity_partner", "O2/P2/influencer"),  # before touch T2
        ("PRM-000002", "O10", "P1", "U1", "opportunity_partner", "O10/P1/influencer"),  # open then
        ("PRM-000003", "O7", "P1", "U2", "touch", "T7"),
    ]
    # Not prompted: O2's reseller, O6's servicer added after its close, O7's partner touch before its
    # creation, O8 (declared influenced).
    first = prompts[0]
    assert (first.created_at, first.recorded_at, first.expires_at, first.status) == (
        at("2026-02-01"), at("2026-05-01"), at("2026-05-15"), "open",
    )  # fmt: skip


def test_refresh_is_idempotent(ws: Workspace) -> None:
    before = _counts(ws)
    assert refresh_prompts(ws, POLICY, at("2026-05-02")) == []
    assert _counts(ws) == before


def test_a_new_partner_on_an_open_deal_gets_a_prompt_expiring_after_the_policy_days(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    intake_tables["opportunity_partners"].append(
        {"opportunity_id": "O7", "partner_id": "P2", "role": "co_seller", "added_at": "2026-05-03T09:00:00Z"}
    )
    intake_import(ws, intake_tables, at("2026-05-04"))
    policy = POLICY.with_values(hygiene__prompt_expiry_days=3)
    (new,) = refresh_prompts(ws, policy, at("2026-05-04"))
    assert (new.prompt_id, new.opportunity_id, new.partner_id, new.rep_id, new.trigger_ref) == (
        "PRM-000004", "O7", "P2", "U2", "O7/P2/co_seller",
    )  # fmt: skip
    assert (new.created_at, new.expires_at) == (datetime(2026, 5, 3, 9, tzinfo=UTC), at("2026-05-07"))


def test_listed_by_rep_and_status(ws: Workspace) -> None:
    assert [p.prompt_id for p in list_prompts(ws.con, at("2026-05-02"), rep="U2")] == ["PRM-000003"]
    assert list_prompts(ws.con, at("2026-05-02"), status="answered") == []
    assert list_prompts(ws.con, at("2026-04-30")) == []  # not issued yet
    with pytest.raises(UsageError):
        list_prompts(ws.con, status="pending")


def test_answering_records_a_declaration_and_a_version_and_the_deal_becomes_influenced(ws: Workspace) -> None:
    run = attribute(ws.con, POLICY, at("2026-05-02"))
    save_run(ws.con, run, "tester", "monthly", run_at=at("2026-05-02"))
    o10 = ws.con.execute(
        "SELECT tier, rules FROM attribution_history WHERE opportunity_id = 'O10'"
    ).fetchone()
    assert o10 == ("none", "NO_ACTIVITY")  # the influencer row has no logged activity (lost deal)

    answer = answer_prompt(
        ws, POLICY, "PRM-000002", tier="influenced", activity="Joint discovery call", now=at("2026-05-03")
    )
    assert (answer.declaration_id, answer.run_id) == ("DEC-000003", 2)  # after the two auto-tags
    assert (answer.prompt.status, answer.prompt.answered_by, answer.prompt.answer_tier) == (
        "answered", "U1", "influenced",
    )  # fmt: skip
    declaration = ws.con.execute(
        "SELECT opportunity_id, partner_source, partner_id, engagement_date::VARCHAR, activity_log, source, "
        "by_user, reason, recorded_at::VARCHAR FROM declarations WHERE declaration_id = 'DEC-000003'"
    ).fetchone()
    assert declaration == (
        "O10", "influenced", "P1", "2026-02-20 00:00:00+00", "Joint discovery call", "prompt", "U1",
        "prompt PRM-000002", "2026-05-03 00:00:00+00",
    )  # fmt: skip
    versions = deal_history(ws.con, "O10")
    assert [(v.kind, v.row.tier, v.run.by_user) for v in versions] == [
        ("batch", "none", "tester"), ("prompt", "influenced", "U1"),
    ]  # fmt: skip
    assert versions[1].row.rules == "INF NO_ACTIVITY"  # INF from the CRM declaration with activity
    assert [(c.partner_id, c.role, c.amount) for c in versions[1].credits] == [
        ("P1", "influencer", "1000.00")
    ]
    attribution_views(ws.con)
    assert ws.con.execute("SELECT tier FROM v_attribution WHERE opportunity_id = 'O10'").fetchone() == (
        "influenced",
    )
    # The engine sees the answer too, and agrees with the reference row for row.
    attribute(ws.con, POLICY, at("2026-05-04"))
    engine = ws.con.execute("SELECT * FROM cosell_attribution WHERE opportunity_id = 'O10'").fetchone()
    rows, _ = reattribute(ws.con, POLICY, ["O10"], at("2026-05-04"))
    assert engine is not None and tuple(engine) == rows[0].values()


def test_an_answer_keeps_the_credit_model_the_deal_was_attributed_with(ws: Workspace) -> None:
    """Attributed with the even model, O2's new version splits its credit evenly too: the row a
    full run with that model makes at the answer (found by fuzzing the re-decisions: the answer
    re-decided it with the policy's model, role_weighted, while every other deal stayed even)."""
    save_run(ws.con, attribute(ws.con, POLICY, at("2026-05-02"), "even"), "tester", run_at=at("2026-05-02"))
    answer = answer_prompt(
        ws, POLICY, "PRM-000001", tier="influenced", activity="Joint call", now=at("2026-05-03")
    )
    (version,) = [v for v in deal_history(ws.con, "O2") if v.run.run_id == answer.run_id]
    assert version.run.model == "even"
    full = attribute(ws.con, POLICY, at("2026-05-03"), "even", known_at=at("2026-05-03"))
    assert version.row == next(r for r in full.rows() if r.opportunity_id == "O2")
    assert list(version.credits) == [c for c in full.credit_rows() if c.opportunity_id == "O2"]
    assert {c.share for c in version.credits} == {"0.500000"}  # P2 and the reseller P3, even


def test_answering_twice_is_refused(ws: Workspace) -> None:
    answer_prompt(ws, POLICY, "PRM-000001", tier="accelerated", activity="Exec call", now=at("2026-05-03"))
    before = _counts(ws)
    with pytest.raises(CosellError, match="PRM-000001 is answered, not open: it was answered by U1"):
        answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="again", now=at("2026-05-04"))
    assert _counts(ws) == before


@pytest.mark.parametrize(
    ("tier", "activity", "by_user", "error", "message"),
    [
        ("sourced", "call", None, UsageError, "influenced or accelerated"),
        ("none", "call", None, UsageError, "influenced or accelerated"),
        ("influenced", "   ", None, UsageError, "activity"),
        # an activity of a novel's length was stored and printed: read like a reason, as long as one
        ("influenced", "x" * 2_001, None, UsageError, "at most 2,000 characters, this one has 2,001"),
        ("influenced", "call", "U2", NotAllowed, "U2 may not answer PRM-000001"),  # another rep
        ("influenced", "call", "U8", NotAllowed, "U8 may not answer"),  # finance
        ("influenced", "call", "U77", NotFound, "no user U77"),
        # found by fuzzing prompts answer --by "": recorded as answered by the prompt's rep
        ("influenced", "call", "", UsageError, "say who answers"),
        ("influenced", "call", "   ", UsageError, "say who answers"),
    ],
)
def test_bad_answers_change_nothing(
    ws: Workspace, tier: str, activity: str, by_user: str | None, error: type[Exception], message: str
) -> None:
    before = _counts(ws)
    with pytest.raises(error, match=message):
        answer_prompt(
            ws, POLICY, "PRM-000001", tier=tier, activity=activity, by_user=by_user, now=at("2026-05-03")
        )
    assert _counts(ws) == before
    assert list_prompts(ws.con, at("2026-05-03"), status="open")[0].prompt_id == "PRM-000001"


def test_partner_ops_may_answer_for_a_rep_and_unknown_prompts_are_not_found(ws: Workspace) -> None:
    answer = answer_prompt(
        ws, POLICY, "PRM-000002", tier="influenced", activity="Intro", by_user="U9", now=at("2026-05-03")
    )
    assert answer.prompt.answered_by == "U9"
    assert answer.run_id is None  # no attribution stored in this workspace yet
    with pytest.raises(NotFound):
        answer_prompt(ws, POLICY, "PRM-999999", tier="influenced", activity="x", now=at("2026-05-03"))


def test_a_rep_now_a_partner_user_no_longer_answers_its_prompts(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    """PRM-000001 is addressed to rep U1; once U1 is a partner user (of P1: a rep who joined a
    partner), it may not declare the deal's partner attribution (found by fuzzing users)."""
    for user in intake_tables["users"]:
        if user["user_id"] == "U1":
            user.update(role="partner", partner_id="P1")
    intake_import(ws, intake_tables, at("2026-05-02"))
    before = _counts(ws)
    with pytest.raises(NotAllowed, match=r"U1 \(a partner user of P1\) may not answer PRM-000001"):
        answer_prompt(
            ws, POLICY, "PRM-000001", tier="influenced", activity="x", by_user="U1", now=at("2026-05-03")
        )
    assert _counts(ws) == before


def test_without_a_users_table_anyone_may_answer(
    intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    del intake_tables["users"]
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, at("2026-05-01"))
    refresh_prompts(workspace, POLICY, at("2026-05-01"))
    answer = answer_prompt(
        workspace,
        POLICY,
        "PRM-000001",
        tier="influenced",
        activity="call",
        by_user="someone",
        now=at("2026-05-02"),
    )
    assert answer.prompt.answered_by == "someone"


def test_an_answer_dated_before_what_is_recorded_is_refused(ws: Workspace) -> None:
    """Answering with an instant before the last recorded one (another answer here) would change an
    earlier reading, and would let an expired prompt be answered by dating the answer back."""
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="call", now=at("2026-05-10"))
    before = _counts(ws)
    with pytest.raises(
        CosellError, match=r"before the last recorded change, a prompt answer at 2026-05-10T00:00:00Z:"
    ):
        answer_prompt(ws, POLICY, "PRM-000002", tier="influenced", activity="late", now=at("2026-05-03"))
    assert _counts(ws) == before


def test_unanswered_prompts_expire(ws: Workspace) -> None:
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="call", now=at("2026-05-03"))
    assert expired_prompts(ws.con, POLICY, at("2026-05-14")) == []
    expired = expired_prompts(ws.con, POLICY, at("2026-05-15"))
    assert [p.prompt_id for p in expired] == ["PRM-000002", "PRM-000003"]  # not the answered one
    with pytest.raises(
        CosellError, match="PRM-000003 is expired, not open: it expired at 2026-05-15T00:00:00Z"
    ):
        answer_prompt(ws, POLICY, "PRM-000003", tier="influenced", activity="late", now=at("2026-05-16"))


def test_a_declaration_made_in_the_crm_supersedes_the_prompt(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    for row in intake_tables["opportunities"]:
        if row["opportunity_id"] == "O7":
            row.update(partner_source="none")
    intake_import(ws, intake_tables, at("2026-05-05"))
    assert [p.status for p in list_prompts(ws.con, at("2026-05-04"), rep="U2")] == ["open"]
    assert [p.status for p in list_prompts(ws.con, at("2026-05-05"), rep="U2")] == ["superseded"]
    assert [p.prompt_id for p in expired_prompts(ws.con, POLICY, at("2026-06-01"))] == [
        "PRM-000001",
        "PRM-000002",
    ]
    with pytest.raises(CosellError, match="superseded"):
        answer_prompt(ws, POLICY, "PRM-000003", tier="influenced", activity="x", now=at("2026-05-06"))


def test_prompt_commands(
    tmp_path: Path, intake_tables: Tables, intake_write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    path = str(tmp_path / "ws.duckdb")
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.delenv("COSELL_USER", raising=False)
    assert (
        runner.invoke(app, ["import", "canonical", str(intake_write(intake_tables)), "-w", path]).exit_code
        == 0
    )
    listed = runner.invoke(app, ["prompts", "--rep", "U2", "-w", path, "-f", "csv"])
    assert listed.exit_code == 0, listed.output
    assert "with the data known at 2026-05-01T00:00:00Z (--known-at)" in " ".join(listed.stderr.split())
    assert listed.stdout.splitlines() == [
        "prompt_id,status,opportunity_id,partner_id,rep_id,trigger,trigger_ref,created_at,expires_at,"
        "answer_tier,answered_by,answered_at",
        "PRM-000003,open,O7,P1,U2,touch,T7,2026-03-01T00:00:00Z,2026-05-15T00:00:00Z,,,",
    ]
    monkeypatch.setenv("COSELL_NOW", "2026-05-02T00:00:00Z")
    bad = runner.invoke(
        app, ["prompts", "answer", "PRM-000003", "--tier", "sourced", "--activity", "x", "-w", path]
    )
    assert bad.exit_code == 2
    empty = runner.invoke(
        app, ["prompts", "answer", "PRM-000003", "--tier", "influenced", "--activity", "", "-w", path]
    )
    assert empty.exit_code == 2
    ok = runner.invoke(
        app,
        ["prompts", "answer", "PRM-000003", "--tier", "accelerated", "--activity", "Exec call", "-w", path],
    )
    assert ok.exit_code == 0, ok.output
    assert "PRM-000003 answered by U2: O7 accelerated with partner P1 (declaration DEC-000003)" in " ".join(
        ok.output.split()
    )
    again = runner.invoke(
        app, ["prompts", "answer", "PRM-000003", "--tier", "accelerated", "--activity", "x", "-w", path]
    )
    assert again.exit_code == 1
    listed = runner.invoke(app, ["prompts", "--status", "all", "-w", path, "-f", "csv"])
    assert [line.split(",")[:2] for line in listed.stdout.splitlines()[1:]] == [
        ["PRM-000001", "open"], ["PRM-000002", "open"], ["PRM-000003", "answered"],
    ]  # fmt: skip


def test_a_partner_user_learns_nothing_of_a_prompt_from_its_refusal(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    """A partner user answers no prompt; its refusal is the same for an answered prompt, an open
    one and one that does not exist: no rep, no status, no one who answered (found by fuzzing
    prompts answer as a partner user)."""
    for user in intake_tables["users"]:
        if user["user_id"] == "U2":
            user.update(role="partner", partner_id="P1")
    intake_import(ws, intake_tables, at("2026-05-02"))
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="call", now=at("2026-05-03"))
    before = _counts(ws)
    said = []
    for prompt_id in ("PRM-000001", "PRM-000002", "PRM-999999"):
        with pytest.raises(NotAllowed) as refused:
            answer_prompt(
                ws, POLICY, prompt_id, tier="influenced", activity="x", by_user="U2", now=at("2026-05-04")
            )
        said.append(str(refused.value).replace(prompt_id, "PRM-?"))
    assert said == [said[0]] * 3
    assert said[0].startswith(
        "U2 (a partner user of P1) may not answer PRM-?: a partner user answers no prompt"
    )
    assert _counts(ws) == before
