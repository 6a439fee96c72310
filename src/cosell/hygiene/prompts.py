"""Influence prompts: when a partner joins an existing deal, the owning rep is asked to declare.

SPEC section 4: the rep chooses influenced or accelerated and logs the activity; prompts are
listed, answered and expire: ``hygiene.prompt_expiry_days`` after the prompt was issued or after
the partner joined, whichever is later (a rep is never blamed for a prompt it could not have seen:
a first import of old history issues prompts that are open, not born expired).

Issued by :func:`refresh_prompts` (idempotent; run after every import and before every listing),
one prompt per (deal, partner), for the earliest of these triggers on a deal whose declared
partner_source is empty:

- ``opportunity_partner``: an opportunity_partners row with role co_seller, influencer or
  servicer whose added_at is after the deal's creation and before its close (a sourcer claims the
  origin, not influence; a reseller's routing is no evidence of any tier);
- ``touch``: a partner-engagement touch on the deal (its opportunity_id), after the deal's
  creation and before its close.

A prompt's status as of T is derived, never stored: ``answered`` (an answer recorded by T), else
``superseded`` (the deal's partner_source was declared by T some other way: the CRM, another
prompt's answer), else ``expired`` (expires_at at or before T), else ``open``. Only open prompts
can be answered; :func:`expired_prompts` feeds reconciliation's ``prompt_expired`` findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cosell import clock
from cosell.engine import Engine
from cosell.engine.sql import quoted
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.hygiene.declared import declared_sql
from cosell.hygiene.sql import equal_filters
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.store.intake import ensure_intake_schema, format_id, next_number, version_filter
from cosell.store.review import check_not_backdated
from cosell.store.users import find_user, partner_scope_of
from cosell.store.workspace import Workspace

ANSWER_TIERS = ("influenced", "accelerated")
STATUSES = ("open", "answered", "superseded", "expired")
TRIGGER_ROLES = ("co_seller", "influencer", "servicer")
# Users who may answer any rep's prompt (users.role); the owning rep may always answer its own.
ANSWER_ROLES = ("partner_manager", "partner_ops", "admin")
_WORK = "_cosell_new_prompts"

# The logged activity is read like a reason (a sentence or two, docs/hygiene-review.md "Reasons"):
# as long as a reason may be.
MAX_ACTIVITY_CHARS = 2_000


@dataclass(frozen=True)
class Prompt:
    """A prompt with its status as of some instant, and its answer when it has one."""

    prompt_id: str
    opportunity_id: str
    partner_id: str
    rep_id: str
    trigger: str
    trigger_ref: str
    created_at: datetime
    expires_at: datetime
    recorded_at: datetime
    status: str
    answer_tier: str = ""
    answer_activity: str = ""
    answered_by: str = ""
    answered_at: datetime | None = None
    declaration_id: str = ""
    run_id: int | None = None


def _triggers_sql(policy: Policy, now: datetime) -> str:
    current = version_filter(None)
    won_or_lost = policy.won_stages | policy.lost_stages
    engagement = policy.engagement_kinds  # a partner actor's engagement either way
    t = format_instant(now)
    return f"""
        WITH o AS (
            SELECT opportunity_id, created_at, owner_id, stage, close_date
            FROM opportunities WHERE {current}),
        sh AS (SELECT opportunity_id, stage, entered_at FROM stage_history WHERE {current}),
        lo AS (
            SELECT opportunity_id, max(entered_at) AS t FROM sh
            WHERE stage NOT IN ({quoted(won_or_lost)}) GROUP BY opportunity_id),
        x AS (
            SELECT o.opportunity_id, min(sh.entered_at) AS t
            FROM o JOIN sh ON sh.opportunity_id = o.opportunity_id AND sh.stage = o.stage
            LEFT JOIN lo ON lo.opportunity_id = o.opportunity_id
            WHERE o.stage IN ({quoted(won_or_lost)}) AND (lo.t IS NULL OR sh.entered_at >= lo.t)
            GROUP BY o.opportunity_id),
        deal AS (
            SELECT o.opportunity_id, o.created_at, o.owner_id,
                CASE WHEN o.stage IN ({quoted(won_or_lost)}) THEN coalesce(x.t, o.close_date) END
                    AS closed_at
            FROM o LEFT JOIN x ON x.opportunity_id = o.opportunity_id),
        c AS (SELECT contact_id, partner_id FROM partner_contacts WHERE {current}),
        trig AS (
            SELECT opportunity_id, trim(partner_id) AS partner_id, 'opportunity_partner' AS trigger,
                opportunity_id || '/' || partner_id || '/' || role AS trigger_ref, added_at AS ts, 0 AS pref
            FROM opportunity_partners
            WHERE {current} AND role IN ({quoted(TRIGGER_ROLES)}) AND added_at IS NOT NULL
            UNION ALL
            SELECT t.opportunity_id,
                coalesce(nullif(trim(t.partner_id), ''), nullif(trim(c.partner_id), '')) AS partner_id,
                'touch' AS trigger, t.touch_id AS trigger_ref, t.occurred_at AS ts, 1 AS pref
            FROM touches t LEFT JOIN c ON c.contact_id = t.partner_contact_id
            WHERE {version_filter(None, "t")} AND t.actor = 'partner'
              AND t.kind IN ({quoted(engagement)}) AND nullif(trim(t.opportunity_id), '') IS NOT NULL),
        cand AS (
            SELECT trig.*, deal.owner_id FROM trig JOIN deal ON deal.opportunity_id = trig.opportunity_id
            WHERE trig.partner_id IS NOT NULL AND trig.ts > deal.created_at
              AND (deal.closed_at IS NULL OR trig.ts < deal.closed_at)
              AND trig.ts <= TIMESTAMPTZ '{t}'
            QUALIFY row_number() OVER (
                PARTITION BY trig.opportunity_id, trig.partner_id ORDER BY ts, pref, trigger_ref) = 1)
        SELECT cand.opportunity_id, cand.partner_id, cand.owner_id, cand.trigger, cand.trigger_ref, cand.ts
        FROM cand JOIN ({declared_sql(None)}) d ON d.opportunity_id = cand.opportunity_id
        WHERE d.partner_source IS NULL
          AND NOT EXISTS (
              SELECT 1 FROM prompts p
              WHERE p.opportunity_id = cand.opportunity_id AND p.partner_id = cand.partner_id)"""


def refresh_prompts(ws: Workspace, policy: Policy, now: datetime | None = None) -> list[Prompt]:
    """Issue the prompts the current data calls for and that do not exist yet; return the new ones.

    Idempotent: one prompt per (deal, partner), ever. ``now`` (default :func:`cosell.clock.now`) is
    the recorded issue time; a prompt's ``created_at`` is when the partner joined, and it expires
    ``hygiene.prompt_expiry_days`` after the later of the two. Opens no transaction: its caller's
    use case runs it in one (an import's intake, a listing: :mod:`cosell.service.prompts`).
    """
    ensure_intake_schema(ws.con)
    at = clock.now(now)
    con = ws.con
    first = next_number(con, "prompts", "prompt_id", "PRM")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_WORK} AS SELECT *, {first - 1} + row_number() OVER "
        f"(ORDER BY ts, opportunity_id, partner_id) AS n FROM ({_triggers_sql(policy, at)})"
    )
    try:
        con.execute(
            "INSERT INTO prompts (prompt_id, opportunity_id, partner_id, rep_id, trigger, trigger_ref, "
            "created_at, expires_at, recorded_at) "
            f"SELECT printf('PRM-%06d', n), opportunity_id, partner_id, owner_id, trigger, trigger_ref, "
            f"ts, greatest(ts, ?) + INTERVAL {policy.prompt_expiry_days} DAY, ? FROM {_WORK}",
            [at, at],
        )
        ids = [
            format_id("PRM", int(r[0])) for r in con.execute(f"SELECT n FROM {_WORK} ORDER BY n").fetchall()
        ]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_WORK}")
    wanted = set(ids)
    return [p for p in list_prompts(con, at) if p.prompt_id in wanted] if wanted else []


def _status_sql(at: datetime) -> str:
    t = format_instant(at)
    return f"""
        SELECT p.prompt_id, p.opportunity_id, p.partner_id, p.rep_id, p.trigger, p.trigger_ref,
            p.created_at, p.expires_at, p.recorded_at,
            CASE WHEN a.prompt_id IS NOT NULL THEN 'answered'
                WHEN d.partner_source IS NOT NULL THEN 'superseded'
                WHEN p.expires_at <= TIMESTAMPTZ '{t}' THEN 'expired'
                ELSE 'open' END AS status,
            a.tier, a.activity_log, a.by_user, a.answered_at, a.declaration_id, a.run_id
        FROM prompts p
        LEFT JOIN prompt_answers a ON a.prompt_id = p.prompt_id AND a.answered_at <= TIMESTAMPTZ '{t}'
        LEFT JOIN ({declared_sql(at)}) d ON d.opportunity_id = p.opportunity_id
        WHERE p.recorded_at <= TIMESTAMPTZ '{t}'"""


def _prompt(r: tuple[object, ...]) -> Prompt:
    def instant(v: object) -> datetime:
        assert isinstance(v, datetime)
        return v.astimezone(UTC)

    return Prompt(
        prompt_id=str(r[0]),
        opportunity_id=str(r[1]),
        partner_id=str(r[2]),
        rep_id="" if r[3] is None else str(r[3]),
        trigger=str(r[4]),
        trigger_ref=str(r[5]),
        created_at=instant(r[6]),
        expires_at=instant(r[7]),
        recorded_at=instant(r[8]),
        status=str(r[9]),
        answer_tier="" if r[10] is None else str(r[10]),
        answer_activity="" if r[11] is None else str(r[11]),
        answered_by="" if r[12] is None else str(r[12]),
        answered_at=None if r[13] is None else instant(r[13]),
        declaration_id="" if r[14] is None else str(r[14]),
        run_id=None if r[15] is None else int(str(r[15])),
    )


def list_prompts(
    con: Engine,
    as_of: datetime | None = None,
    *,
    rep: str | None = None,
    status: str | None = None,
) -> list[Prompt]:
    """Prompts known at ``as_of`` (default now) with their status then, by prompt_id.

    ``rep`` keeps one rep's prompts; ``status`` one of :data:`STATUSES` (None: all).
    """
    if status is not None and status not in STATUSES:
        raise UsageError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    ensure_intake_schema(con)
    at = clock.now(as_of)
    where, params = equal_filters(("rep_id", rep), ("status", status))
    rows = con.execute(
        f"SELECT * FROM ({_status_sql(at)}) WHERE {where} ORDER BY length(prompt_id), prompt_id",
        params,
    ).fetchall()
    return [_prompt(r) for r in rows]


def get_prompt(con: Engine, prompt_id: str, as_of: datetime | None = None) -> Prompt:
    """One prompt with its status as of ``as_of`` (raises :class:`NotFound`)."""
    ensure_intake_schema(con)
    at = clock.now(as_of)
    rows = con.execute(f"SELECT * FROM ({_status_sql(at)}) WHERE prompt_id = ?", [prompt_id]).fetchall()
    if not rows:
        raise NotFound(f"no prompt {prompt_id}")
    return _prompt(rows[0])


def expired_prompts(con: Engine, policy: Policy, as_of: datetime | None = None) -> list[Prompt]:
    """Prompts past their expires_at without an answer (nor another declaration) as of ``as_of``.

    Ordered by expiry, then prompt_id. Each prompt's expiry was fixed when it was issued (by the
    policy of that time), so ``policy`` does not move it; it is taken for symmetry with the other
    reconciliation inputs.
    """
    del policy  # expiry is stored with each prompt
    found = list_prompts(con, as_of, status="expired")
    return sorted(found, key=lambda p: (p.expires_at, len(p.prompt_id), p.prompt_id))


def _refuse_partner_user(con: Engine, prompt_id: str, by_user: str) -> None:
    """A partner user answers no prompt (:func:`_check_user`): refused before the prompt is read, so
    the refusal tells it nothing of the prompt (whether it exists, its rep, its status, who answered
    it): SPEC section 9, existence must not leak."""
    user = find_user(con, by_user)
    partner = partner_scope_of(user)
    if partner is not None:
        raise NotAllowed(
            f"{by_user} (a partner user of {partner}) may not answer {prompt_id}: a partner user answers "
            f"no prompt; only the owning rep or a user with role {', '.join(ANSWER_ROLES)} may"
        )


def _check_user(con: Engine, prompt: Prompt, by_user: str) -> None:
    """The owning rep, or partner ops / admin, may answer (none of them a partner user); without a
    users table anyone may. An unknown user is NotFound, another user NotAllowed (HTTP 404 and 403 at the service)."""
    user = find_user(con, by_user)
    if user is None:
        return
    partner = partner_scope_of(user)
    # A partner user never declares a deal's partner attribution, even one whose rep it was.
    if partner is None and (by_user == prompt.rep_id or user.role in ANSWER_ROLES):
        return
    said = f" (a partner user of {partner})" if partner is not None else ""
    raise NotAllowed(
        f"{by_user}{said} may not answer {prompt.prompt_id}: it is addressed to {prompt.rep_id or 'no rep'}; "
        f"only the owning rep or a user with role {', '.join(ANSWER_ROLES)} may answer it"
    )


@dataclass(frozen=True)
class Answer:
    """What answering a prompt recorded."""

    prompt: Prompt  # as of the answer, status answered
    declaration_id: str
    run_id: int | None


def answer_prompt(
    ws: Workspace,
    policy: Policy,
    prompt_id: str,
    *,
    tier: str,
    activity: str,
    by_user: str | None = None,
    now: datetime | None = None,
) -> Answer:
    """Answer an open prompt: a declaration by the rep and a new attribution version.

    Opens no transaction: the use case (:func:`cosell.service.prompts.answer`) runs it in one, so the
    declaration, the new version and the answer are all or nothing.

    ``tier`` is influenced or accelerated; ``activity`` the logged activity (not empty). ``by_user``
    defaults to the prompt's rep. Refused, with nothing changed: an unknown prompt, a prompt that is
    not open (answered, superseded, expired), a bad tier, empty activity, a user who may not answer.
    The declaration (source ``prompt``) carries the tier, the prompt's partner, the activity and
    the instant the partner joined as engagement date; it overlays the deal's CRM fields in every
    later run (:func:`cosell.store.workspace.as_of_views`). When the workspace holds attribution,
    the deal is re-decided into a partial run of kind ``prompt``.
    """
    from cosell.attribution.reattribute import store_new_versions
    from cosell.hygiene.autotag import has_attribution

    if tier not in ANSWER_TIERS:
        raise UsageError(f"the tier must be influenced or accelerated, not {tier!r}")
    text = activity.strip()
    if not text:
        raise UsageError("the activity must say what the partner did (it is the logged activity)")
    if len(text) > MAX_ACTIVITY_CHARS:
        raise UsageError(
            f"the activity is at most {MAX_ACTIVITY_CHARS:,} characters, this one has {len(text):,} "
            "(say what the partner did in a sentence or two; name a document for the rest)"
        )
    if by_user is not None and not by_user.strip():
        # An empty --by (an unset shell variable) used to record the answer as the prompt's rep's.
        raise UsageError("say who answers: --by USER, not an empty text (without --by: the prompt's rep)")
    ensure_intake_schema(ws.con)
    at = clock.now(now)
    con = ws.con
    if by_user is not None:
        _refuse_partner_user(con, prompt_id, by_user)  # before it learns whether the prompt exists
    check_not_backdated(con, at, "the answer")
    prompt = get_prompt(con, prompt_id, at)
    if prompt.status != "open":
        detail = {
            "answered": f"it was answered by {prompt.answered_by} at "
            + (format_instant(prompt.answered_at) if prompt.answered_at else "?"),
            "superseded": "the deal's partner_source has been declared since",
            "expired": f"it expired at {format_instant(prompt.expires_at)}",
        }[prompt.status]
        raise CosellError(f"prompt {prompt_id} is {prompt.status}, not open: {detail}")
    who = (by_user or prompt.rep_id).strip()
    if not who:
        raise UsageError(f"prompt {prompt_id} has no rep: say who answers with --by")
    _check_user(con, prompt, who)
    declaration_id = format_id("DEC", next_number(con, "declarations", "declaration_id", "DEC"))
    con.execute(
        "INSERT INTO declarations (declaration_id, opportunity_id, partner_source, partner_id, "
        "engagement_date, activity_log, source, by_user, reason, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'prompt', ?, ?, ?)",
        [declaration_id, prompt.opportunity_id, tier, prompt.partner_id, prompt.created_at, text, who,
         f"prompt {prompt_id}", at],
    )  # fmt: skip
    run_id = None
    if has_attribution(ws):
        ((record, _),) = store_new_versions(
            con, policy, [prompt.opportunity_id], at, kind="prompt", by_user=who,
            reason=f"prompt {prompt_id} answered: {tier} with partner {prompt.partner_id}",
        )  # fmt: skip
        run_id = record.run_id
    con.execute(
        "INSERT INTO prompt_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [prompt_id, tier, text, who, at, declaration_id, run_id],
    )
    answered = get_prompt(con, prompt_id, at)
    return Answer(answered, declaration_id, run_id)
