"""``cosell accounts match`` (account overlap with the partners' own lists) and ``cosell accounts
recommend OPP`` (the partners to bring into an open deal)."""

from __future__ import annotations

import textwrap
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cosell.cli.common import (
    Format,
    FormatOption,
    KnownAtOption,
    PolicyOption,
    ProgramReaderOption,
    WorkspaceOption,
    console,
    emit_rows,
    in_workspace,
    opportunity_argument,
    print_instants,
    print_json,
    reader_option,
    reading,
)
from cosell.errors import UsageError
from cosell.instants import format_instant, format_optional

if TYPE_CHECKING:
    from cosell.accounts.recommend import Recommendation
    from cosell.service.accounts import RecommendResult

accounts_app = typer.Typer(
    help="Account overlap with the partners' own account lists, and the partner to bring into a deal.",
    no_args_is_help=True,
)

SHOWN = 20  # rows of each list a table shows; json and csv have them all


class Listing(StrEnum):
    """The list ``--format csv`` writes."""

    matches = "matches"
    review = "review"
    matrix = "matrix"
    open = "open"
    unattributed = "unattributed"


MATCH_COLUMNS = ("partner_id", "partner_name", "partner_domain", "status", "account_id", "account_name",
                 "account_domain", "method", "score", "name_score", "reason")  # fmt: skip
OPEN_COLUMNS = ("opportunity_id", "account_id", "account_name", "partner_id", "partner_status", "stage",
                "amount", "currency", "created_at")  # fmt: skip
WIN_COLUMNS = ("opportunity_id", "account_id", "account_name", "amount", "currency", "closed_at",
               "overlap_partners", "touch_partners", "touches", "last_touch_at", "evidence")  # fmt: skip
STATUSES = ("customer", "open_opportunity", "prospect")
# The table is read by partner ops, not parsed: the methods and statuses in words, as the column
# headers already are ("open opportunity"); json and csv keep the ids.
METHOD_WORDS = {"domain": "domain", "name": "normalised name", "fuzzy_name": "fuzzy name"}


def register(app: typer.Typer) -> None:
    """Add ``cosell accounts match`` and ``cosell accounts recommend``."""
    app.add_typer(accounts_app, name="accounts")


def _match_rows(found: Any) -> list[dict[str, Any]]:
    from cosell.accounts.overlap import match_json

    return [match_json(m) for m in found]


def _matrix_rows(report: Any) -> list[dict[str, Any]]:
    rows = []
    for ours in STATUSES:
        row: dict[str, Any] = {"ours": ours}
        row.update({theirs: report.matrix.get((ours, theirs), 0) for theirs in STATUSES})
        row["total"] = sum(report.matrix.get((ours, t), 0) for t in STATUSES)
        rows.append(row)
    total: dict[str, Any] = {"ours": "total"}
    total.update({t: sum(r[t] for r in rows) for t in STATUSES})
    total["total"] = sum(report.matrix.values())
    return [*rows, total]


def _open_rows(report: Any) -> list[dict[str, Any]]:
    return [
        {**{c: getattr(d, c) for c in OPEN_COLUMNS}, "created_at": format_instant(d.created_at)}
        for d in report.open_at_customers
    ]


def _win_rows(report: Any) -> list[dict[str, Any]]:
    return [
        {
            **{c: getattr(w, c) for c in WIN_COLUMNS},
            "closed_at": format_optional(w.closed_at),
            "overlap_partners": " ".join(w.overlap_partners),
            "touch_partners": " ".join(w.touch_partners),
            "last_touch_at": format_instant(w.last_touch_at),
        }
        for w in report.unattributed_wins
    ]


def _shown(rows: list[dict[str, Any]], what: str, listing: str) -> tuple[list[dict[str, Any]], str]:
    if len(rows) <= SHOWN:
        return rows, f"{what} ({len(rows):,})"
    return rows[:SHOWN], f"{what} (first {SHOWN} of {len(rows):,}; all: --format csv --list {listing})"


def _say(text: str) -> None:
    console.print(text, highlight=False)  # wrapped at the terminal width, between words


def print_summary(report: Any) -> None:
    """What matched how, the threshold, and the overlap matrix (``cosell accounts match``, and the
    demo's overlap step)."""
    m = report.match
    methods = ", ".join(f"{METHOD_WORDS.get(k, k)} {v:,}" for k, v in m.by_method.items())
    _say(
        f"{m.partner_rows:,} partner account rows: {len(m.matches):,} matched to {report.overlap_accounts:,} "
        f"of our accounts ({methods}); {len(m.review):,} for review; {m.unmatched:,} not ours."
    )
    _say(
        f"A fuzzy name counts at a score of {m.threshold:g} or more with the same words up to a typo; "
        f"candidates from {m.floor:g} are listed for review, never counted."
    )
    emit_rows(
        [{**row, "ours": row["ours"].replace("_", " ")} for row in _matrix_rows(report)],
        ("ours", *STATUSES, "total"),
        Format.table,
        title="Overlap: our status (rows) x the partner's (columns), partner-account pairs",
    )


def _print_tables(report: Any) -> None:
    print_summary(report)
    rows, title = _shown(_match_rows(report.match.review), "Review candidates", "review")
    if rows:
        columns = ("partner_id", "partner_name", "account_id", "account_name", "score", "reason")
        emit_rows(rows, columns, Format.table, title=title, optional=("account_id",))
    rows, title = _shown(_open_rows(report), "Our open deals at their customers", "open")
    columns = ("opportunity_id", "account_name", "partner_id", "stage", "amount", "currency")
    emit_rows(rows, columns, Format.table, title=title, optional=("stage",))
    if report.run_id is None:
        _say(
            "No attribution run yet: the won deals with partner touches but no partner attribution "
            "need one (cosell attribute)."
        )
        return
    rows, title = _shown(
        _win_rows(report),
        f"Won at overlap accounts, partner touches, no partner attribution (run {report.run_id})",
        "unattributed",
    )
    columns = ("opportunity_id", "account_name", "amount", "currency", "touch_partners", "touches")
    emit_rows(rows, columns, Format.table, title=title, optional=("touch_partners",))


@accounts_app.command("match")
def match_command(
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Name score (0-100) from which a fuzzy match counts. Default 80.",
            show_default=False,
        ),
    ] = None,
    floor: Annotated[
        float | None,
        typer.Option(
            "--floor",
            help="Name score from which a candidate is listed for review. Default 70 (or --threshold, if lower).",
            show_default=False,
        ),
    ] = None,
    listing: Annotated[
        Listing | None,
        typer.Option(
            "--list", help="With --format csv: the list to write (default matches).", show_default=False
        ),
    ] = None,
    known_at: KnownAtOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    fmt: FormatOption = Format.table,
    by: ProgramReaderOption = None,
) -> None:
    """Match the partners' own account lists (partner_accounts) to our accounts: by registrable
    domain, then normalised name (legal forms, case, punctuation, accents, "The"), then fuzzy name
    (typos), each match with its method and score; near misses are listed for review, never
    counted.

    Prints the overlap matrix (our status: customer with a won deal, open_opportunity with an open
    one, else prospect; x the partner's status), our open deals at the partners' customers, and our
    won deals at overlap accounts with partner touches but no partner attribution in the newest
    attribution run (evidence for reconciliation). docs/accounts.md has the details and the json keys.
    """
    from cosell.policy import load_policy
    from cosell.service.accounts import FUZZY_THRESHOLD, REVIEW_FLOOR, match_accounts_of

    if listing is not None and fmt is not Format.csv:
        raise UsageError("--list needs --format csv (a table and json show every list)")
    policy = load_policy(policy_path)
    threshold = FUZZY_THRESHOLD if threshold is None else threshold
    # Not given: 70, or a lower --threshold (--threshold 60 alone is no floor above it).
    floor = min(REVIEW_FLOOR, threshold) if floor is None else floor
    at = reading(None, known_at)
    report = in_workspace(
        workspace_path,
        lambda ws: match_accounts_of(
            ws,
            policy,
            known_at=at.known_at,
            threshold=threshold,
            floor=floor,
            viewer=by,
        ),
        read_only=True,
    )
    if fmt is Format.json:
        print_json(report.to_json())
    elif fmt is Format.csv:
        listed = {
            Listing.matches: (_match_rows(report.match.matches), MATCH_COLUMNS),
            Listing.review: (_match_rows(report.match.review), MATCH_COLUMNS),
            Listing.matrix: (_matrix_rows(report), ("ours", *STATUSES, "total")),
            Listing.open: (_open_rows(report), OPEN_COLUMNS),
            Listing.unattributed: (_win_rows(report), WIN_COLUMNS),
        }
        rows, columns = listed[listing or Listing.matches]
        emit_rows(rows, columns, fmt)
    elif report.match.partner_rows == 0:
        _say("No partner account lists: import partner_accounts.csv (partner_id, name, domain, status).")
    else:
        _print_tables(report)
    print_instants(at, fmt, known_only=True)


@accounts_app.command("recommend")
def recommend_command(
    opportunity_id: Annotated[str, opportunity_argument("The open deal.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many partners to show.")] = 5,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Rank as of this instant (ISO 8601): the deal open then, the touches and wins "
            "before it. Default: the --known-at instant.",
            show_default=False,
        ),
    ] = None,
    known_at: KnownAtOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    fmt: FormatOption = Format.table,
    by: Annotated[
        str | None,
        reader_option(
            "Who reads (a user id): a rep ranks for its own deals only; a partner user is refused."
        ),
    ] = None,
) -> None:
    """Rank the partners to bring into an open deal, each with the reasons a rep can act on: an open
    registration of the account, its engagement touches on the account in the lookback, its
    status at the account on its own list, and its record in the deal's segment (won of closed
    attributed deals, win rate, median cycle). docs/accounts.md says how the order is decided.
    """
    from cosell.policy import load_policy
    from cosell.service.accounts import recommend_partners

    policy = load_policy(policy_path)
    at = reading(as_of, known_at)
    result = in_workspace(
        workspace_path,
        lambda ws: recommend_partners(
            ws, policy, opportunity_id, as_of=at.as_of, known_at=at.known_at, viewer=by
        ),
        read_only=True,
    )
    shown = result.recommendations[:top]
    if fmt is Format.json:
        data = result.to_json()
        data["partners"] = data["partners"][:top]
        print_json(data)
    elif fmt is Format.csv:
        rows = [
            {
                "rank": r.rank,
                "partner_id": r.partner_id,
                "partner_name": r.partner_name,
                "reasons": "; ".join(r.reasons),
            }
            for r in shown
        ]
        emit_rows(rows, ("rank", "partner_id", "partner_name", "reasons"), fmt)
    else:
        _print_ranking(result, shown)
    print_instants(at, fmt)


def _print_ranking(result: RecommendResult, shown: tuple[Recommendation, ...]) -> None:
    segment = result.segment or "(no segment)"
    _say(
        f"Partners for {result.opportunity_id} at {result.account_name or result.account_id} "
        f"(segment {segment}), as of {format_instant(result.as_of)}:"
    )
    if not shown:
        _say("No partner has registered, touched or listed this account, or won in its segment.")
    for r in shown:
        _say(f"{r.rank}. {r.partner_name or r.partner_id} ({r.partner_id})")
        for reason in r.reasons:
            # Wrapped between words under its dash (a number or an instant is never split).
            text = textwrap.fill(
                reason,
                width=max(40, console.width),
                initial_indent="   - ",
                subsequent_indent="     ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            console.message(text, highlight=False)
    if result.run_id is None:
        _say("No attribution run yet: the partners' records in the segment need one (cosell attribute).")
