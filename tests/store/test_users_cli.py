"""``cosell users``: list the directory; ``cosell users set`` adds or changes a user, as a new version
recorded with who, when and why; once there are users, only an admin may change them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.cli.demo_cmd import NAMED_USERS
from cosell.instants import parse_instant
from cosell.store.workspace import as_of_views, open_workspace

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from import_fixtures import dataset

runner = CliRunner()
README = Path(__file__).parents[2] / "README.md"


def run(*args: str, now: str = "2026-05-01T00:00:00Z") -> tuple[int, str]:
    done = runner.invoke(app, list(args), env={"COSELL_NOW": now, "COLUMNS": "200", "COSELL_USER": ""})
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    return done.exit_code, " ".join(done.output.split())


@pytest.fixture()
def ws(tmp_path: Path) -> str:
    path = str(tmp_path / "ws.duckdb")
    assert run("init", "-w", path)[0] == 0
    return path


def listed(ws: str) -> list[dict[str, str]]:
    code, out = run("users", "-w", ws, "-f", "json")
    assert code == 0
    return list(json.loads(out))


def test_the_first_user_of_an_empty_directory_then_only_admins(ws: str) -> None:
    assert run("users", "-w", ws) == (0, 'no users: import users.csv with your data, or add one: cosell users set '
                                          'USER_ID --role admin --name "..." --reason "..."')  # fmt: skip
    code, out = run("users", "set", "u-admin", "--role", "admin", "--name", "Ada Admin", "--reason", "first admin",
                    "--by", "setup", "-w", ws)  # fmt: skip
    assert (code, out) == (
        0,
        "user u-admin (Ada Admin): role admin; recorded by setup at 2026-05-01T00:00:00Z",
    )
    code, out = run("users", "set", "u-ops", "--role", "partner_ops", "--reason", "ops", "--by", "u-admin", "-w", ws,
                    now="2026-05-02T00:00:00Z")  # fmt: skip
    assert code == 0
    code, out = run("users", "set", "u-x", "--role", "ae", "--reason", "x", "--by", "u-ops", "-w", ws)
    assert (code, out) == (
        1,
        "error: u-ops has the role partner_ops: only admin users may add or change users",
    )
    code, out = run("users", "set", "u-x", "--role", "ae", "--reason", "x", "--by", "u-nobody", "-w", ws)
    assert (code, out) == (1, "error: --by (or $COSELL_USER): no user u-nobody")
    assert [
        (u["user_id"], u["role"], u["changed_at"], u["changed_by"], u["source"], u["reason"])
        for u in listed(ws)
    ] == [
        ("u-admin", "admin", "2026-05-01T00:00:00Z", "setup", "cosell users set u-admin", "first admin"),
        ("u-ops", "partner_ops", "2026-05-02T00:00:00Z", "u-admin", "cosell users set u-ops", "ops"),
    ]


def test_a_change_keeps_the_other_fields_and_the_old_version(ws: str) -> None:
    run(
        "users",
        "set",
        "u-admin",
        "--role",
        "admin",
        "--name",
        "Ada",
        "--email",
        "ada@x.io",
        "--reason",
        "a",
        "-w",
        ws,
    )
    code, _ = run("users", "set", "u-admin", "--name", "Ada Lovelace", "--reason", "full name", "--by", "u-admin",
                  "-w", ws, now="2026-06-01T00:00:00Z")  # fmt: skip
    assert code == 0
    (user,) = listed(ws)
    assert (user["name"], user["email"], user["role"], user["source"], user["reason"]) == (
        "Ada Lovelace", "ada@x.io", "admin", "cosell users set u-admin", "full name")  # fmt: skip
    w = open_workspace(ws)
    try:
        as_of_views(w.con, parse_instant("2026-05-15T00:00:00Z"))
        assert w.con.execute("SELECT name FROM v_users").fetchall() == [("Ada",)]
        assert w.con.execute("SELECT count(*) FROM users").fetchone() == (2,)
    finally:
        w.close()


def test_bad_values_are_refused_with_the_option_and_a_suggestion(tmp_path: Path) -> None:
    path = str(tmp_path / "ws.duckdb")
    assert (
        run("import", "canonical", str(dataset(tmp_path / "in")), "-w", path)[0] == 0
    )  # users U1, U2 (no admin)
    for args, code, message in (
        (["--role", "boss"], 2, "error: --role 'boss' is not a role: one of ae, sdr, partner_manager, "
                                "partner_ops, finance, admin, partner"),
        (["--role", "finanse"], 2, "error: --role 'finanse' is not a role (did you mean finance?)"),
        (["--role", "partner"], 2, "error: a partner user needs --partner PARTNER_ID"),
        ([], 2, "error: u-new is a new user: give --role"),
    ):  # fmt: skip
        got, out = run("users", "set", "u-new", *args, "--reason", "r", "--by", "U1", "-w", path)
        assert got == code and out.startswith(message), (args, out)
    got, out = run("users", "set", "u-new", "--role", "ae", "--by", "U1", "-w", path)
    assert got == 2 and "--reason" in out


@pytest.mark.parametrize(
    "user_id",
    ["u\nnew", "u\tnew", "u\x00new", "u\x7fnew", "u" * 201],
    ids=["newline", "tab", "nul", "del", "long"],
)
def test_a_user_id_is_one_printable_line_of_at_most_200_characters(ws: str, user_id: str) -> None:
    # The first user may be added by anyone: nothing but the id stands in the way.
    got, out = run("users", "set", user_id, "--role", "admin", "--reason", "first", "--by", "me", "-w", ws)
    assert got == 2 and "is not a user id: at most 200 characters, none of them a line break" in out, out
    assert listed(ws) == []
    got, out = run("users", "set", "u" * 200, "--role", "admin", "--reason", "first", "--by", "me", "-w", ws)
    assert got == 0, out
    assert [u["user_id"] for u in listed(ws)] == ["u" * 200]


def test_the_readmes_users_are_the_ones_the_demo_adds() -> None:
    """Every `--by USER` and `--rep USER` of the README is a user the demo workspace knows by name."""
    named = {u for u, _, _ in NAMED_USERS}
    commands = [
        line.split(" # ")[0] for line in README.read_text().splitlines() if line.startswith("cosell ")
    ]
    used = {m for line in commands for m in re.findall(r"--by (\S+)", line)}
    assert used and used <= named, used - named


def test_a_change_is_dated_by_now_like_every_other_write(ws: str) -> None:
    """``users set --now T`` records the change at T (as ``$COSELL_NOW`` does), and like any import
    it may not be dated before the last one."""
    code, _ = run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "-w", ws,
                  "--now", "2026-06-01T09:00:00Z")  # fmt: skip
    assert code == 0
    assert [u["changed_at"] for u in listed(ws)] == ["2026-06-01T09:00:00Z"]
    code, out = run("users", "set", "u-ops", "--role", "partner_ops", "--reason", "ops", "--by", "u-admin",
                    "-w", ws, "--now", "2026-05-31T00:00:00Z")  # fmt: skip
    assert code == 1 and "before the last import (2026-06-01T09:00:00Z)" in out
    assert [u["user_id"] for u in listed(ws)] == ["u-admin"]


def test_a_by_with_spaces_around_it_names_the_same_user(ws: str) -> None:
    """ " u-admin " is u-admin, recorded as such, by every command that takes --by."""
    assert (
        run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", ws)[0]
        == 0
    )
    code, out = run(
        "users", "set", "u-ops", "--role", "partner_ops", "--reason", "ops", "--by", "  u-admin ", "-w", ws
    )
    assert (code, out) == (
        0,
        "user u-ops (no name): role partner_ops; recorded by u-admin at 2026-05-01T00:00:00Z",
    )
    assert [u["changed_by"] for u in listed(ws)] == ["setup", "u-admin"]


def test_users_list_is_the_listing_and_group_options_go_after_the_subcommand(
    ws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cosell users list` lists as `cosell users` does. An option of the listing given before a
    subcommand (`cosell users -w FILE set ...`) once ran the subcommand on ./cosell.duckdb: it is
    refused, naming the option, and nothing is recorded; the workspace from the environment
    still reaches the subcommand."""
    assert (
        run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "s", "-w", ws)[0] == 0
    )
    assert run("users", "list", "-w", ws, "-f", "json") == run("users", "-w", ws, "-f", "json")
    code, out = run("users", "-w", ws, "set", "u-ae", "--role", "ae", "--reason", "x", "--by", "u-admin")
    assert code == 2
    assert "--workspace given before the subcommand would only apply to the listing" in out
    assert "cosell users set" in out and not (tmp_path / "cosell.duckdb").exists()
    assert [u["user_id"] for u in listed(ws)] == ["u-admin"]
    code, out = run("prompts", "--status", "all", "-w", ws, "answer", "PR-1", "--tier", "influenced")
    assert code == 2 and "--status, --workspace given before the subcommand" in out
    done = runner.invoke(
        app,
        ["users", "set", "u-ae", "--role", "ae", "--reason", "x", "--by", "u-admin"],
        env={"COSELL_NOW": "2026-05-01T00:00:00Z", "COSELL_WORKSPACE": ws, "COSELL_USER": ""},
    )
    assert done.exit_code == 0, done.output
    assert [u["user_id"] for u in listed(ws)] == ["u-admin", "u-ae"]


def users_csv(folder: Path, *rows: str) -> Path:
    folder.mkdir()
    (folder / "users.csv").write_text(
        "user_id,name,email,role,partner_id\n" + "".join(r + "\n" for r in rows)
    )
    return folder


def run_as(who: str, *args: str) -> tuple[int, str]:
    done = runner.invoke(app, list(args), env={"COSELL_NOW": "2026-05-03T00:00:00Z", "COSELL_USER": who})
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    return done.exit_code, " ".join(done.output.split())


@pytest.fixture()
def data_ws(tmp_path: Path) -> str:
    """A workspace with the base dataset's deals and partners, and no users."""
    path = str(tmp_path / "data.duckdb")
    assert run("import", "canonical", str(dataset(tmp_path / "in", users=None)), "-w", path)[0] == 0
    return path


def test_an_import_of_users_is_a_change_of_the_directory_only_an_admin_makes(
    data_ws: str, tmp_path: Path
) -> None:
    """users.csv changes the directory as ``users set`` does: once it has an admin, only an admin
    ($COSELL_USER, recorded) adds or changes users, checked against the directory before the import
    (nobody promotes itself), and nothing of a refused import is applied."""
    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", data_ws)
    run("users", "set", "u-fin", "--role", "finance", "--reason", "fin", "--by", "u-admin", "-w", data_ws)
    before = listed(data_ws)
    promote = users_csv(tmp_path / "promote", "u-fin,Fay,fay@x.io,admin,", "u-new,New,new@x.io,finance,")
    for who in ("u-fin", "someone"):
        code, out = run_as(who, "import", "canonical", str(promote), "-w", data_ws)
        assert (code, out) == (
            1,
            f"error: users.csv: {who} adds or changes users but has no role admin: only admin users may add "
            "or change users (say who does it: $COSELL_USER)",
        )
        assert listed(data_ws) == before
    code, out = run_as("u-admin", "import", "canonical", str(promote), "-w", data_ws)
    assert code == 0, out
    assert [(u["user_id"], u["role"], u["changed_by"]) for u in listed(data_ws)] == [
        ("u-admin", "admin", "setup"),
        ("u-fin", "admin", "u-admin"),
        ("u-new", "finance", "u-admin"),
    ]
    # The same file again changes nothing: anyone may import it.
    assert run_as("someone", "import", "canonical", str(promote), "-w", data_ws)[0] == 0


def test_the_last_admin_is_not_demoted_by_users_set_or_an_import(data_ws: str, tmp_path: Path) -> None:
    """Without an admin nobody could change the directory again: the change that would leave none
    is refused, by ``users set`` or by users.csv, and nothing of it is applied."""
    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", data_ws)
    run("users", "set", "u-ops", "--role", "partner_ops", "--reason", "ops", "--by", "u-admin", "-w", data_ws)
    before = listed(data_ws)
    code, out = run(
        "users", "set", "u-admin", "--role", "finance", "--reason", "r", "--by", "u-admin", "-w", data_ws
    )
    assert (code, out) == (
        1,
        "error: the change leaves no user with role admin (who works for no partner): nobody could add or "
        "change users again; make another user admin first",
    )
    demote = users_csv(tmp_path / "demote", "u-admin,Ada,ada@x.io,ae,", "u-ops,Olu,olu@x.io,partner_ops,")
    code, out = run_as("u-admin", "import", "canonical", str(demote), "-w", data_ws)
    assert (code, out) == (
        1,
        "error: users.csv: the change leaves no user with role admin (who works for no partner): nobody "
        "could add or change users again; make another user admin first",
    )
    assert listed(data_ws) == before
    # With another admin first, the first may step down.
    assert (
        run("users", "set", "u-ops", "--role", "admin", "--reason", "r", "--by", "u-admin", "-w", data_ws)[0]
        == 0
    )
    assert (
        run("users", "set", "u-admin", "--role", "ae", "--reason", "r", "--by", "u-admin", "-w", data_ws)[0]
        == 0
    )


def test_a_change_that_changes_nothing_records_nothing_and_says_who_did(ws: str) -> None:
    """Found by fuzzing users: setting a user's fields to what they are printed "recorded by <the
    caller> at <someone else's earlier instant>", although nothing was stored. Now it says it is
    unchanged and names the change that made it so; no import or version is added."""
    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", ws)
    run("users", "set", "u-ae", "--role", "ae", "--name", "Al", "--reason", "hire", "--by", "u-admin", "-w", ws,
        now="2026-05-02T00:00:00Z")  # fmt: skip
    con = open_workspace(ws)
    try:
        before = con.con.execute("SELECT count(*) FROM imports").fetchone()
    finally:
        con.close()
    code, out = run("users", "set", "u-ae", "--name", "Al", "--reason", "again", "--by", "u-admin", "-w", ws,
                    now="2026-05-03T00:00:00Z")  # fmt: skip
    assert (code, out) == (
        0,
        "user u-ae (Al): role ae; unchanged, nothing recorded; last changed by u-admin at 2026-05-02T00:00:00Z",
    )
    con = open_workspace(ws)
    try:
        assert con.con.execute("SELECT count(*) FROM imports").fetchone() == before
    finally:
        con.close()
    code, out = run("users", "set", "u-ae", "--name", "Alan", "--reason", "typo", "--by", "u-admin", "-w", ws,
                    now="2026-05-04T00:00:00Z")  # fmt: skip
    assert out == "user u-ae (Alan): role ae; recorded by u-admin at 2026-05-04T00:00:00Z", out


@pytest.mark.parametrize(
    "command",
    [
        ("findings", "accept", "F-1", "--reason", "x"),
        ("overrides", "withdraw", "OVR-000001", "--reason", "x"),
        ("payouts", "run", "--reason", "monthly close", "--period", "2026-03"),
        ("payouts", "ledger"),
        ("referrals", "list"),
    ],
)
def test_an_unknown_user_names_the_option_to_fix(ws: str, command: tuple[str, ...]) -> None:
    """Found by fuzzing --by: an unknown user was refused as "no user u-admn", not saying it is
    --by (or $COSELL_USER) that names it. Every command that checks who runs it says so, with the
    did-you-mean, in the one place that looks the user up (cosell.store.users.find_user)."""
    run(
        "users",
        "set",
        "u-admin",
        "--role",
        "admin",
        "--name",
        "A",
        "--reason",
        "first",
        "--by",
        "setup",
        "-w",
        ws,
    )
    code, out = run(*command, "--by", "u-admn", "-w", ws)
    assert (code, out) == (1, "error: --by (or $COSELL_USER): no user u-admn (did you mean u-admin?)")


def test_an_unknown_partner_is_named_with_a_suggestion_only_to_an_admin(data_ws: str) -> None:
    """Which partners exist, and their ids, are not for a user who may not change the directory: a
    partner user probing ``--partner`` is refused for its role, never told the closest partner id."""
    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", data_ws)
    run("users", "set", "u-p", "--role", "partner", "--partner", "P2", "--reason", "p", "--by", "u-admin",
        "-w", data_ws)  # fmt: skip
    before = listed(data_ws)
    for partner in ("P11", "P1", "P404"):
        code, out = run("users", "set", "u-new", "--role", "partner", "--partner", partner, "--reason", "r",
                        "--by", "u-p", "-w", data_ws)  # fmt: skip
        assert (code, out) == (1, "error: u-p has the role partner: only admin users may add or change users")
    code, out = run("users", "set", "u-new", "--role", "partner", "--partner", "P11", "--reason", "r",
                    "--by", "u-admin", "-w", data_ws)  # fmt: skip
    assert (code, out) == (1, "error: --partner: no partner P11 (did you mean P1?)")
    assert listed(data_ws) == before


def test_a_user_who_works_for_a_partner_does_nothing_that_acts_on_every_partner(data_ws: str) -> None:
    """A user with a partner_id reads only its partner's, whatever its role (a CRM's partner user
    mapped to partner_manager, say); so it may not decide, approve, pay or manage users either: the
    answer would name other partners' ids and amounts. Without a partner_id the role decides."""
    from cosell.errors import NotAllowed
    from cosell.hygiene.decisions import DECIDER_ROLES
    from cosell.pay.ledger import PAY_OPERATOR_ROLES
    from cosell.service.channel import SUBMIT_ROLES
    from cosell.store.schema import USER_ROLES
    from cosell.store.users import USER_ADMIN_ROLES, check_role

    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", data_ws)
    users = []  # (user_id, role, works for a partner)
    for role in USER_ROLES:
        for partner in ("", "P1"):
            if role == "partner" and not partner:
                continue
            user_id = f"u-{role}-{partner or 'ours'}"
            code, out = run("users", "set", user_id, "--role", role, "--partner", partner, "--reason", "r",
                            "--by", "u-admin", "-w", data_ws)  # fmt: skip
            assert code == 0, out
            users.append((user_id, role, bool(partner)))
    w = open_workspace(data_ws)
    try:
        for roles in (DECIDER_ROLES, PAY_OPERATOR_ROLES, USER_ADMIN_ROLES, ("finance",), SUBMIT_ROLES):
            for user_id, role, for_partner in users:
                may = role in roles and (not for_partner or "partner" in roles)
                try:
                    check_role(w.con, user_id, roles, "act")
                    allowed = True
                except NotAllowed as e:
                    allowed = False
                    if role in roles:
                        assert str(e).startswith(
                            f"{user_id} works for partner P1: a partner user may not act"
                        )
                assert allowed == may, (roles, user_id)
    finally:
        w.close()
    before = listed(data_ws)
    code, out = run(
        "users", "set", "u-x", "--role", "ae", "--reason", "x", "--by", "u-admin-P1", "-w", data_ws
    )
    assert (code, out) == (
        1,
        "error: u-admin-P1 works for partner P1: a partner user may not add or change users, whatever its "
        "role (admin); only admin users who work for no partner may",
    )
    assert listed(data_ws) == before


def test_an_admin_who_works_for_a_partner_changes_no_users_by_an_import(data_ws: str, tmp_path: Path) -> None:
    """users.csv is refused from an admin with a partner_id as ``users set`` is (a partner user
    whatever its role), and the last admin who works for no partner is not given a partner."""
    run("users", "set", "u-admin", "--role", "admin", "--reason", "first", "--by", "setup", "-w", data_ws)
    code, out = run("users", "set", "u-padmin", "--role", "admin", "--partner", "P1", "--reason", "r", "--by",
                    "u-admin", "-w", data_ws)  # fmt: skip
    assert code == 0, out
    before = listed(data_ws)
    add = users_csv(tmp_path / "add", "u-new,New,new@x.io,finance,")
    code, out = run_as("u-padmin", "import", "canonical", str(add), "-w", data_ws)
    assert (code, out) == (
        1,
        "error: users.csv: u-padmin works for partner P1: a partner user may not add or change users, "
        "whatever its role; only admin users who work for no partner may",
    )
    code, out = run(
        "users", "set", "u-admin", "--partner", "P1", "--reason", "r", "--by", "u-admin", "-w", data_ws
    )
    assert code == 1 and "leaves no user with role admin (who works for no partner)" in out
    assert listed(data_ws) == before
    assert run_as("u-admin", "import", "canonical", str(add), "-w", data_ws)[0] == 0
