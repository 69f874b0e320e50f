"""Deciding a held change (pending.py), the same way from three places: the `ads_confirm_budget_change` tool in an
operator's later turn, the Approve/Deny buttons of the Telegram notice (handled in code, no model), and the control
UI. Approving re-checks everything at that moment: the object still has the budget the change was asked against,
the account-wide cap still holds, Meta's 4 changes an hour."""

from __future__ import annotations

from typing import Any

from clawgate.core.actions import action
from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.budgets import apply_budget, budget_holder, running
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.data import budget_changes
from clawgate.meta.marketing.objects import WriteRefused, update_status
from clawgate.meta.marketing.pending import CALLBACK_PREFIX, decide_row
from clawgate.meta.marketing.spend import check_account_cap
from clawgate.meta.marketing.status import spend_of_resume


def _problem(actor: Actor, status: str, requested_turn: int | None, expired: bool) -> str | None:
    if status != "pending":
        return f"this change is already {status}"
    if expired:
        return "this change expired (24 hours); ask for it again"
    if actor.scheduled:
        return "a scheduled run cannot confirm a change; an operator must"
    if actor.turn_id is not None and actor.turn_id == requested_turn:
        return "a change cannot be confirmed in the turn that asked for it: ask the operator and wait for the answer"
    return None


def decide(ctx: AdsContext, actor: Actor, change_id: int, approve: bool, reason: str) -> str:
    with tenant_tx(ctx.slug) as conn:
        change = budget_changes.lock(conn, change_id)
        if change is None:
            raise WriteRefused(f"there is no change {change_id}")
        object_kind, object_id, old, new = change.object_kind, change.object_id, change.old_budget, change.new_budget
        if not approve and change.status == "pending" and not change.expired:
            decide_row(conn, change_id, "cancelled", actor)
            record(conn, actor, f"{object_kind}.{change.kind}.cancelled", object_id, reason, {"change_id": change_id})
            return f"change {change_id} cancelled"
        problem = _problem(actor, change.status, change.requested_turn_id, change.expired)
        if change.expired and change.status == "pending":
            decide_row(conn, change_id, "expired", actor)
    if problem:
        raise WriteRefused(problem)
    if change.kind == "status":
        check_account_cap(ctx, spend_of_resume(ctx, object_kind, object_id), f"resuming {object_kind} {object_id}")
        return update_status(ctx, actor, object_kind, object_id, "ACTIVE", reason, change_id, change.name)
    if object_kind == "ad":
        raise WriteRefused(f"change {change_id} is a budget change of an ad; ads have no budget")
    item = budget_holder(ctx, object_kind, object_id)
    if int(item.get("daily_budget") or 0) != old:
        _stale(ctx, actor, change_id, object_kind, object_id, reason)
    if new > old:
        check_account_cap(ctx, new - old if running(item) else 0, f"raising {object_kind} {object_id}'s budget")
    return apply_budget(ctx, actor, object_kind, object_id, old, new, reason, change_id, item.get("name"))


def _stale(ctx: AdsContext, actor: Actor, change_id: int, kind: str, object_id: str, reason: str) -> None:
    with tenant_tx(ctx.slug) as conn:
        decide_row(conn, change_id, "stale", actor)
        record(conn, actor, f"{kind}.budget.stale", object_id, reason, {"change_id": change_id})
    raise WriteRefused(f"the budget changed since change {change_id} was asked for; ask again")


@action(CALLBACK_PREFIX)
def decide_from_button(tenant: str, operator: str, data: str) -> str:
    """`cg:change:<id>:approve|deny` pressed by an operator (already admitted by the channel's policy)."""
    try:
        _, _, change, verdict = data.split(":")
        change_id = int(change)
    except ValueError:
        return "That button is not valid any more."
    if verdict not in ("approve", "deny"):
        return "That button is not valid any more."
    actor = Actor(channel="telegram", peer_id=operator, operator=f"telegram:{operator}")
    return answer(tenant, actor, change_id, verdict == "approve", f"operator pressed {verdict}")


def answer(tenant: str, actor: Actor, change_id: int, approve: bool, reason: str) -> str:
    """A human-readable outcome; refusals and Graph errors become the text, never an exception."""
    from clawgate.meta.marketing.calls import GraphError

    try:
        return decide(load_context(tenant), actor, change_id, approve, reason)
    except (WriteRefused, GraphError) as error:
        return f"Change {change_id} not applied: {error}"


def button_data(change_id: int, approve: bool) -> str:
    return f"{CALLBACK_PREFIX}:{change_id}:{'approve' if approve else 'deny'}"


def pending_summary(tenant: str) -> list[dict[str, Any]]:
    from clawgate.meta.marketing.pending import pending_changes

    return pending_changes(tenant)
