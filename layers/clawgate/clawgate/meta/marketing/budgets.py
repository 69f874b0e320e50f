"""Ad-set budget changes under guardrails enforced here, not in prompts:

1. A change beyond the tenant's step limit (`ads.budget_step_limit`, default ±30% of the current daily budget), a
   budget above its cap (`ads.daily_budget_cap`, per ad set), an ad set without a daily budget yet, or a change asked
   for by a scheduled run is not applied: it becomes a pending `budget_changes` row, and only
   `confirm_change` in a later turn of an operator (not the turn that asked, not a scheduled one) applies it.
2. At most MAX_CHANGES_PER_HOUR applied changes per ad set in any rolling hour (Meta's own limit); the next one is
   refused. Counted from `audit_log` under an advisory lock, so parallel tool calls cannot both slip through.
3. Every request, application, refusal and cancellation is an `audit_log` row with who asked and why."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.calls import GraphError, graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.money import display, to_major, to_minor
from clawgate.meta.marketing.objects import WriteRefused, read_object

MAX_CHANGES_PER_HOUR = 4
APPLIED = "adset.budget"


def confirmation_needs(
    old_minor: int, new_minor: int, step_limit: Decimal, cap_minor: int | None, scheduled: bool
) -> list[str]:
    """Why a change must wait for an operator's confirmation; empty when it may be applied now."""
    needs = []
    if old_minor <= 0:
        needs.append("the ad set has no daily budget yet")
    else:
        change = (Decimal(new_minor) - old_minor) / old_minor
        if abs(change) > step_limit:
            needs.append(f"a {change:+.0%} change is beyond the ±{step_limit:.0%} step limit")
    if cap_minor is not None and new_minor > cap_minor:
        needs.append("the new budget is above the tenant's daily cap per ad set")
    if scheduled:
        needs.append("a scheduled run may propose budget changes but not apply them")
    return needs


def change_budget(ctx: AdsContext, actor: Actor, adset_id: str, new_budget: Decimal, reason: str) -> str:
    """Set an ad set's daily budget (major units of the account currency), or hold it for confirmation."""
    adset = read_object(ctx, "adset", adset_id, ["id", "name", "daily_budget", "lifetime_budget"])
    if adset.get("lifetime_budget") not in (None, "", "0") and not adset.get("daily_budget"):
        raise WriteRefused(f"ad set {adset_id} has a lifetime budget; only daily budgets are managed here")
    old, new = int(adset.get("daily_budget") or 0), to_minor(new_budget, ctx.currency)
    if new <= 0:
        raise WriteRefused("a daily budget must be positive; pause the ad set instead")
    if new == old:
        return f"ad set {adset_id} already has a daily budget of {display(new_budget, ctx.currency)}"
    needs = confirmation_needs(old, new, ctx.step_limit, ctx.daily_cap_minor, actor.scheduled)
    if not needs:
        return _apply(ctx, actor, adset_id, old, new, reason, change_id=None)
    with tenant_tx(ctx.slug) as conn:
        row = conn.execute(
            "INSERT INTO budget_changes (adset_id, adset_name, old_budget, new_budget, currency, needs, reason,"
            " requested_by, requested_turn_id) VALUES (%s, %s, %s, %s, %s, to_jsonb(%s::text[]), %s, %s, %s)"
            " RETURNING id",
            (adset_id, adset.get("name"), old, new, ctx.currency, needs, reason, actor.label, actor.turn_id),
        ).fetchone()
        assert row is not None
        record(conn, actor, "adset.budget.requested", adset_id, reason, _amounts(ctx, old, new, int(row[0]), needs))
    return (
        f"needs confirmation: {'; '.join(needs)}. Pending change {row[0]}: ad set {adset.get('name') or adset_id}"
        f" from {display(to_major(old, ctx.currency), ctx.currency)} to"
        f" {display(to_major(new, ctx.currency), ctx.currency)} a day. Ask the operator; only after they explicitly"
        f" confirm in a later message, call ads_confirm_budget_change with change_id {row[0]}."
    )


def confirm_change(ctx: AdsContext, actor: Actor, change_id: int, approve: bool, reason: str) -> str:
    with tenant_tx(ctx.slug) as conn:
        row = conn.execute(
            "SELECT adset_id, old_budget, new_budget, status, requested_turn_id, expires_at < now()"
            " FROM budget_changes WHERE id = %s FOR UPDATE",
            (change_id,),
        ).fetchone()
        if row is None:
            raise WriteRefused(f"there is no budget change {change_id}")
        adset_id, old, new, status, requested_turn, expired = row
        if not approve and status == "pending" and not expired:
            _decide(conn, change_id, "cancelled", actor)
            record(conn, actor, "adset.budget.cancelled", adset_id, reason, {"change_id": change_id})
            return f"budget change {change_id} cancelled"
        problem = _confirmation_problem(actor, status, requested_turn, expired)
        if expired and status == "pending":
            _decide(conn, change_id, "expired", actor)
    if problem:
        raise WriteRefused(problem)
    current = int(read_object(ctx, "adset", adset_id, ["id", "daily_budget"]).get("daily_budget") or 0)
    if current != old:
        with tenant_tx(ctx.slug) as conn:
            _decide(conn, change_id, "stale", actor)
            record(conn, actor, "adset.budget.stale", adset_id, reason, {"change_id": change_id, "current": current})
        raise WriteRefused(f"the ad set's budget changed since change {change_id} was asked for; ask again")
    return _apply(ctx, actor, adset_id, old, new, reason, change_id=change_id)


def _confirmation_problem(actor: Actor, status: str, requested_turn: int | None, expired: bool) -> str | None:
    if status != "pending":
        return f"this change is already {status}"
    if expired:
        return "this change expired (24 hours); ask for it again"
    if actor.scheduled:
        return "a scheduled run cannot confirm a budget change; an operator must"
    if actor.turn_id is not None and actor.turn_id == requested_turn:
        return "a change cannot be confirmed in the turn that asked for it: ask the operator and wait for the answer"
    return None


def _status(conn: Any, change_id: int) -> str | None:
    row = conn.execute("SELECT status FROM budget_changes WHERE id = %s FOR UPDATE", (change_id,)).fetchone()
    return str(row[0]) if row else None


def _decide(conn: Any, change_id: int, status: str, actor: Actor) -> None:
    conn.execute(
        "UPDATE budget_changes SET status = %s, decided_turn_id = %s, decided_at = now() WHERE id = %s",
        (status, actor.turn_id, change_id),
    )


def _amounts(
    ctx: AdsContext, old: int, new: int, change_id: int | None, needs: list[str] | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {"old_budget": old, "new_budget": new, "currency": ctx.currency}
    if change_id is not None:
        details["change_id"] = change_id
    if needs:
        details["needs"] = needs
    return details


def _apply(ctx: AdsContext, actor: Actor, adset_id: str, old: int, new: int, reason: str, change_id: int | None) -> str:
    from facebook_business.adobjects.adset import AdSet

    api = marketing_api(ctx)
    refusal: str | None = None
    failure: GraphError | None = None
    with tenant_tx(ctx.slug) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"budget:{ctx.slug}:{adset_id}",))
        recent = conn.execute(
            "SELECT count(*), min(created_at) + interval '1 hour' FROM audit_log"
            " WHERE action = %s AND target = %s AND created_at > now() - interval '1 hour'",
            (APPLIED, adset_id),
        ).fetchone()
        assert recent is not None
        details = _amounts(ctx, old, new, change_id)
        if change_id is not None and _status(conn, change_id) != "pending":
            refusal = f"budget change {change_id} was decided meanwhile"
        elif recent[0] >= MAX_CHANGES_PER_HOUR:
            refusal = (
                f"refused: ad set {adset_id} already had {recent[0]} budget changes in the last hour (Meta allows"
                f" {MAX_CHANGES_PER_HOUR}); the next is possible after {recent[1].astimezone(UTC):%H:%M} UTC"
            )
            record(conn, actor, "adset.budget.refused", adset_id, reason, {**details, "refusal": refusal})
        else:
            try:
                with graph_call(api):
                    AdSet(adset_id, api=api).api_update(params={"daily_budget": new})
            except GraphError as error:
                failure = error
            else:
                record(conn, actor, APPLIED, adset_id, reason, details)
                if change_id is not None:
                    _decide(conn, change_id, "applied", actor)
    if failure is not None:
        with tenant_tx(ctx.slug) as conn:
            record(conn, actor, "adset.budget.failed", adset_id, reason, {**_amounts(ctx, old, new, change_id),
                                                                          "error": str(failure)})  # fmt: skip
        raise failure
    if refusal:
        raise WriteRefused(refusal)
    return (
        f"ad set {adset_id}: daily budget {display(to_major(old, ctx.currency), ctx.currency)} →"
        f" {display(to_major(new, ctx.currency), ctx.currency)}"
    )
