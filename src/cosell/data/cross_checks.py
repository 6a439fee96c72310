"""Cross-file checks of an import: each row's references against what the workspace already has
plus what this import brings, and a closed deal's close time (a stage_history entry into its
stage, or a close_date). Each writes the failing rows to the problems table
(:data:`cosell.data.validate.PROBLEMS`), never row by row in Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cosell.data.read import Staged
from cosell.data.validate import PROBLEMS, accepted_now
from cosell.engine import Engine, count_of
from cosell.engine.sql import in_list, lit
from cosell.policy import Policy
from cosell.store.schema import TABLE_NAMES, Column

_PRESENT = "_cosell_import_present"


def check_cross(
    con: Engine,
    staged: Mapping[str, tuple[Staged, str]],
    policy: Policy,
    *,
    cascade: bool,
    changed: set[str] | None = None,
) -> set[str]:
    """References and closed deals, against the workspace's current rows plus this import's rows.

    With ``cascade`` (the rejects mode) the targets are only this import's accepted rows, and a
    row that refers to a rejected row is rejected too; call again with the tables returned (those
    that gained problems) until it returns an empty set. Without it every staged row counts as
    present, so a bad row is reported once, not again by every row that refers to it.
    """
    before = _problem_counts(con)
    users_present = "users" in staged or count_of(con, "SELECT count(*) FROM cur_users") > 0
    # Without cascade, the keys present of each referenced column are the same for every file
    # that refers to it: a table of them is made once (at its first use), not planned again in
    # each reference (a staged file's view is costly to plan).
    made: dict[str, str] | None = None if cascade else {}
    try:
        _check_files(
            con, staged, policy, cascade=cascade, changed=changed, users_present=users_present, made=made
        )
    finally:
        for table in (made or {}).values():
            con.execute(f"DROP TABLE IF EXISTS {table}")
    after = _problem_counts(con)
    return {t for t, n in after.items() if n != before.get(t, 0)}


def _check_files(
    con: Engine,
    staged: Mapping[str, tuple[Staged, str]],
    policy: Policy,
    *,
    cascade: bool,
    changed: set[str] | None,
    users_present: bool,
    made: dict[str, str] | None,
) -> None:
    """The checks of :func:`check_cross`, file by file; ``made``: the tables of present keys
    (:func:`_present_keys`), without cascade."""
    for name in TABLE_NAMES:
        if name not in staged:
            continue
        source, view = staged[name]
        references: list[tuple[int, Column, str, str]] = []
        for order, column in enumerate(source.table.columns):
            if not column.references or source.column(column.name) is None:
                continue
            target, target_column = column.references.split(".")
            if target == "users" and not users_present:
                continue
            if changed is not None and target not in changed:
                continue
            references.append((order, column, target, target_column))
        if made is not None and len(references) > 1:
            _check_references(con, source, view, references, staged, made)
        else:
            for order, column, target, target_column in references:
                _check_reference(
                    con, source, view, order, column, target, target_column, staged, cascade, made
                )
        if name == "opportunities" and (changed is None or "stage_history" in changed):
            _check_closed(con, source, view, policy, staged, cascade)


def _present_keys(
    con: Engine,
    target: str,
    target_column: str,
    staged: Mapping[str, tuple[Staged, str]],
    made: dict[str, str],
) -> str:
    """The temporary table of the keys ``target.target_column`` that are present, the workspace's
    current rows' and every staged row's (without NULL: it never equals a key), made at the
    first call for them."""
    key = f"{target}.{target_column}"
    if key not in made:
        table = f"{_PRESENT}_{len(made)}"
        present = [f"SELECT {target_column} AS k FROM cur_{target}"]
        if target in staged:
            present.append(f"SELECT n_{target_column} FROM {staged[target][1]}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT k FROM ({' UNION '.join(present)}) WHERE k IS NOT NULL"
        )
        made[key] = table
    return made[key]


def _problem_counts(con: Engine) -> dict[str, int]:
    return {
        str(t): int(n)
        for t, n in con.execute(f"SELECT tbl, count(*) FROM {PROBLEMS} GROUP BY tbl").fetchall()
    }


def _check_reference(
    con: Engine,
    source: Staged,
    view: str,
    order: int,
    column: Column,
    target: str,
    target_column: str,
    staged: Mapping[str, tuple[Staged, str]],
    cascade: bool,
    made: dict[str, str] | None = None,
) -> None:
    present = [f"SELECT {target_column} AS k FROM cur_{target}"]
    rejected = "SELECT NULL::VARCHAR AS k, NULL::BIGINT AS row WHERE false"
    if made is not None:  # without cascade: the keys present, as a table
        present = [f"SELECT k FROM {_present_keys(con, target, target_column, staged, made)}"]
    elif target in staged:
        _, target_view = staged[target]
        rows = accepted_now(con, target_view, target) if cascade else target_view
        present.append(f"SELECT n_{target_column} FROM {rows}")
        if cascade:
            rejected = (
                f"SELECT n_{target_column} AS k, min(_row) AS row FROM {target_view} WHERE _row IN "
                f"(SELECT row FROM {PROBLEMS} WHERE tbl = {lit(target)}) GROUP BY 1"
            )
    target_file = staged[target][0].file.name if target in staged else target
    rows = accepted_now(con, view, source.table.name) if cascade else view
    n = f"n_{column.name}"
    con.execute(
        f"""INSERT INTO {PROBLEMS}
        WITH present AS ({" UNION ".join(present)}), rejected AS ({rejected})
        SELECT {lit(source.table.name)}, {lit(source.file.name)}, s._row, {order}, {lit(column.name)},
            s.{source.column(column.name)},
            CASE WHEN rejected.row IS NULL THEN {lit(f"is not in {target}.{target_column}")}
                 ELSE {lit(f"refers to a rejected row ({target_file} row ")} || rejected.row || ')' END
        FROM (SELECT * FROM {rows} WHERE {n} IS NOT NULL) s
        ANTI JOIN present ON s.{n} = present.k
        LEFT JOIN rejected ON s.{n} = rejected.k"""
    )


def _check_references(
    con: Engine,
    source: Staged,
    view: str,
    references: Sequence[tuple[int, Column, str, str]],
    staged: Mapping[str, tuple[Staged, str]],
    made: dict[str, str],
) -> None:
    """Several references of one file in one scan (without cascade: every staged row is present).

    Gives the same problems as :func:`_check_reference` column by column, which would read a file
    of twenty million touches five times.
    """
    ctes: list[str] = []
    marks: list[str] = []
    entries: list[str] = []
    for i, (order, column, target, target_column) in enumerate(references):
        # NOT IN is never true against a NULL: the keys only.
        ctes.append(f"p{i} AS (SELECT k FROM {_present_keys(con, target, target_column, staged, made)})")
        n = f"n_{column.name}"
        marks.append(
            f"s.{source.column(column.name)} AS v{i}, ({n} IS NOT NULL AND {n} NOT IN (SELECT k FROM p{i})) AS m{i}"
        )
        reason = lit(f"is not in {target}.{target_column}")
        entries.append(
            f"{{'o': {order}, 'c': {lit(column.name)}, 'v': v{i}, 'r': CASE WHEN m{i} THEN {reason} END}}"
        )
    missing = " OR ".join(f"m{i}" for i in range(len(references)))
    con.execute(
        f"""INSERT INTO {PROBLEMS}
        WITH {", ".join(ctes)}
        SELECT {lit(source.table.name)}, {lit(source.file.name)}, _row, p.o, p.c, p.v, p.r
        FROM (SELECT _row, unnest([{", ".join(entries)}]) AS p
              FROM (SELECT * FROM (SELECT s._row, {", ".join(marks)} FROM {view} s) WHERE {missing}))
        WHERE p.r IS NOT NULL"""
    )


def _check_closed(
    con: Engine,
    source: Staged,
    view: str,
    policy: Policy,
    staged: Mapping[str, tuple[Staged, str]],
    cascade: bool,
) -> None:
    closed = sorted(policy.won_stages | policy.lost_stages)
    if not closed:
        return
    history = ["SELECT opportunity_id AS o, stage AS s FROM cur_stage_history"]
    if "stage_history" in staged:
        _, hview = staged["stage_history"]
        rows = accepted_now(con, hview, "stage_history") if cascade else hview
        history.append(f"SELECT n_opportunity_id, n_stage FROM {rows}")
    rows = accepted_now(con, view, "opportunities") if cascade else view
    order = source.table.column_names.index("close_date")
    con.execute(
        f"""INSERT INTO {PROBLEMS}
        WITH h AS ({" UNION ".join(history)})
        SELECT 'opportunities', {lit(source.file.name)}, s._row, {order}, 'close_date', NULL,
            'the deal is closed (stage "' || s.n_stage || '") but has neither a close_date nor a '
            || 'stage_history entry into that stage'
        FROM (SELECT * FROM {rows} WHERE n_stage IN {in_list(closed)} AND n_close_date IS NULL) s
        ANTI JOIN h ON s.n_opportunity_id = h.o AND s.n_stage = h.s"""
    )


def opportunity_accounts(con: Engine, staged: Mapping[str, tuple[Staged, str]]) -> str:
    """Each deal's account (``o``, ``a``) as the workspace will hold them once this import is
    applied: this import's accepted deals, and the workspace's current deals it leaves as they are."""
    current = "SELECT opportunity_id AS o, account_id AS a FROM cur_opportunities"
    if "opportunities" not in staged:
        return current
    view = accepted_now(con, staged["opportunities"][1], "opportunities")
    return (
        f"SELECT n_opportunity_id AS o, n_account_id AS a FROM {view} UNION ALL "
        f"SELECT o, a FROM ({current}) "
        f"WHERE o NOT IN (SELECT n_opportunity_id FROM {view} WHERE n_opportunity_id IS NOT NULL)"
    )
