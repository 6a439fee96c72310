"""Use cases of influence prompts (SPEC section 4): list them, after issuing any the data calls
for, and answer one (``cosell prompts`` and ``cosell prompts answer``)."""

from __future__ import annotations

from cosell.asof import AsOf
from cosell.hygiene.prompts import Answer, Prompt, answer_prompt, list_prompts, refresh_prompts
from cosell.policy import Policy
from cosell.store.known import require_import
from cosell.store.workspace import Workspace

__all__ = ["Answer", "Prompt", "answer", "prompts"]


def prompts(
    ws: Workspace,
    policy: Policy,
    at: AsOf,
    *,
    issue: bool,
    rep: str | None = None,
    status: str | None = "open",
    viewer: str | None = None,
) -> list[Prompt]:
    """The prompts (of one ``rep``, of one ``status``; None: every status) as of the earlier of the
    two instants (prompts, answers and expiries are events, recorded when they happen).

    With ``issue`` (the present view: the workspace open for writing) the prompts the data calls
    for by now are issued first, in one transaction (idempotent: one prompt per deal and partner).

    ``viewer`` is who reads (SPEC section 9): a rep reads its own prompts (asking for another
    rep's gives none, as for a rep who has none); a partner user is refused, before anything is
    issued: the prompts are the reps' inbox, about every partner's deals.
    """
    from cosell.service.readers import reader, refuse_limited

    who = reader(ws.con, viewer)
    if who.partner_id is not None:
        refuse_limited(who, "the reps' prompt inbox")
    if who.rep_id is not None:
        if rep not in (None, who.rep_id):
            return []
        rep = who.rep_id
    if issue:
        with ws.transaction():
            refresh_prompts(ws, policy)
    else:
        # Prompts are issued by imports: before the first one nothing was known, not "no prompt".
        require_import(ws.con, at.known_at)
    return list_prompts(ws.con, min(at.as_of, at.known_at), rep=rep, status=status)


def answer(
    ws: Workspace, policy: Policy, prompt_id: str, *, tier: str, activity: str, by_user: str | None = None
) -> Answer:
    """Answer an open prompt (influenced or accelerated, with the partner's activity) as ``by_user``
    (default: the prompt's rep; else partner ops or an admin): the rep's declaration, a new
    attribution version of the deal when the workspace holds attribution, and the answer, all in one
    transaction. Refused, with nothing changed, when the prompt is not open or the user may not."""
    with ws.transaction():
        return answer_prompt(ws, policy, prompt_id, tier=tier, activity=activity, by_user=by_user)
