"""Daily budgets of ad sets and of campaigns with a campaign budget (CBO), under guardrails enforced here, not in
prompts:

1. The step limit (`ads.budget_step_limit`, default ±30%) is measured against the budget the object had when the
   tenant's day began (`budget_day_start`), not against the last change: +20% three times is +73%, which needs a
   confirmation. A change beyond it, above the cap per ad set (`ads.daily_budget_cap`), on an object without a
   daily budget yet, or asked for by a scheduled run is held (pending.py) for an operator's decision.
2. An increase on something running must fit under the account-wide daily cap (`ads.account_daily_cap`), which is
   required: without it increases are refused, and no confirmation goes past it (spend.py).
3. At most MAX_CHANGES_PER_HOUR applied changes per object in any rolling hour (Meta's own limit; its error 17
   blocks for an hour); the next one is refused. Counted from `audit_log` under an advisory lock.
4. Every request, application, refusal and cancellation is an `audit_log` row with who asked and why."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any, Literal

from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.calls import USER_LIMIT, GraphError, GraphRateLimited, graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.data import audit_log, budget_days
from clawgate.meta.marketing.data.budget_changes import HeldChange
from clawgate.meta.marketing.money import display, to_major, to_minor
from clawgate.meta.marketing.objects import WriteRefused, read_object
from clawgate.meta.marketing.pending import decide_row, hold, still_pending
from clawgate.meta.marketing.spend import check_account_cap

MAX_CHANGES_PER_HOUR = 4
BudgetKind = Literal["adset", "campaign"]
FIELDS = ["id", "name", "daily_budget", "lifetime_budget", "status", "effective_status"]


def confirmation_needs(
    start_minor: int, new_minor: int, step_limit: Decimal, cap_minor: int | None, scheduled: bool
) -> list[str]:
    """Why a change must wait for an operator's decision; empty when it may be applied now. `start_minor` is the
    budget at the start of the tenant's day."""
    needs = []
    if start_minor <= 0:
        needs.append("the object has no daily budget yet")
    else:
        change = (Decimal(new_minor) - start_minor) / start_minor
        if abs(change) > step_limit:
            needs.append(
                f"a {change:+.0%} change from today's starting budget is beyond the ±{step_limit:.0%} step limit"
            )
    if cap_minor is not None and new_minor > cap_minor:
        needs.append("the new budget is above the tenant's daily cap per ad set")
    if scheduled:
        needs.append("a scheduled run may propose budget changes but not apply them")
    return needs


def running(item: dict[str, Any]) -> bool:
    return str(item.get("effective_status") or item.get("status") or "") == "ACTIVE"


def budget_holder(ctx: AdsContext, kind: BudgetKind, object_id: str) -> dict[str, Any]:
    """The object whose daily budget is to change; an ad set of a campaign with a campaign budget is refused."""
    fields = [*FIELDS, "campaign_id"] if kind == "adset" else FIELDS
    item = read_object(ctx, kind, object_id, fields)
    if item.get("lifetime_budget") not in (None, "", "0") and not item.get("daily_budget"):
        raise WriteRefused(f"{kind} {object_id} has a lifetime budget; only daily budgets are managed here")
    if kind == "adset" and item.get("campaign_id"):
        campaign = read_object(ctx, "campaign", str(item["campaign_id"]), ["id", "daily_budget", "lifetime_budget"])
        if campaign.get("daily_budget") or campaign.get("lifetime_budget"):
            raise WriteRefused(f"campaign {campaign['id']} holds the budget (campaign budget): change it with"
                               f" ads_set_budget campaign_id {campaign['id']}")  # fmt: skip
    return item


def change_budget(ctx: AdsContext, actor: Actor, kind: BudgetKind, object_id: str, amount: Decimal, reason: str) -> str:
    """Set a daily budget (major units of the account currency), or hold it for an operator's decision."""
    item = budget_holder(ctx, kind, object_id)
    old, new = int(item.get("daily_budget") or 0), to_minor(amount, ctx.currency)
    if new <= 0:
        raise WriteRefused("a daily budget must be positive; pause instead")
    if new == old:
        return f"{kind} {object_id} already has a daily budget of {display(amount, ctx.currency)}"
    if new > old:
        check_account_cap(ctx, new - old if running(item) else 0, f"raising {kind} {object_id}'s budget")
    with tenant_tx(ctx.slug) as conn:
        start = budget_days.day_start(conn, object_id, ctx.today(), old)
    cap = ctx.daily_cap_minor if kind == "adset" else None
    needs = confirmation_needs(start, new, ctx.step_limit, cap, actor.scheduled)
    if needs:
        return hold(ctx, actor, HeldChange("budget", kind, object_id, item.get("name"), old, new, needs), reason)
    return apply_budget(ctx, actor, kind, object_id, old, new, reason, change_id=None, name=item.get("name"))


def apply_budget(
    ctx: AdsContext, actor: Actor, kind: BudgetKind, object_id: str, old: int, new: int, reason: str,
    change_id: int | None, name: str | None = None,
) -> str:  # fmt: skip
    from facebook_business.adobjects.adset import AdSet
    from facebook_business.adobjects.campaign import Campaign

    api, applied = marketing_api(ctx), f"{kind}.budget"
    details: dict[str, Any] = {"old_budget": old, "new_budget": new, "currency": ctx.currency}
    details |= {"change_id": change_id} if change_id is not None else {}
    refusal, failure = None, None
    with tenant_tx(ctx.slug) as conn:
        budget_days.lock_object(conn, f"budget:{ctx.slug}:{object_id}")
        recent = audit_log.recent_writes(conn, applied, object_id)
        if change_id is not None and not still_pending(conn, change_id):
            refusal = f"change {change_id} was decided meanwhile"
        elif recent.blocked_until is not None:
            refusal = (f"refused: Meta blocked budget changes of {kind} {object_id} (error 17) until about"
                       f" {recent.blocked_until.astimezone(UTC):%H:%M} UTC")  # fmt: skip
        elif recent.applied >= MAX_CHANGES_PER_HOUR and recent.next_allowed_at is not None:
            refusal = (f"refused: {kind} {object_id} already had {recent.applied} budget changes in the last hour"
                       f" (Meta allows {MAX_CHANGES_PER_HOUR}); the next is possible after"
                       f" {recent.next_allowed_at.astimezone(UTC):%H:%M} UTC")  # fmt: skip
            record(conn, actor, f"{applied}.refused", object_id, reason, {**details, "refusal": refusal})
        else:
            try:
                with graph_call(api):
                    (AdSet if kind == "adset" else Campaign)(object_id, api=api).api_update(
                        params={"daily_budget": new}
                    )
            except GraphError as error:
                failure = error
            else:
                record(conn, actor, applied, object_id, reason, details)
                if change_id is not None:
                    decide_row(conn, change_id, "applied", actor)
    if failure is not None:
        blocked = isinstance(failure, GraphRateLimited) and failure.code == USER_LIMIT
        with tenant_tx(ctx.slug) as conn:  # `.blocked` keeps this object's budget changes off for Meta's hour
            record(conn, actor, f"{applied}.{'blocked' if blocked else 'failed'}", object_id, reason,
                   {**details, "error": str(failure)})  # fmt: skip
        raise failure
    if refusal:
        raise WriteRefused(refusal)
    money = lambda minor: display(to_major(minor, ctx.currency), ctx.currency)  # noqa: E731
    label = f"{name} ({object_id})" if name else object_id
    return f"{kind.replace('adset', 'ad set')} {label}: daily budget {money(old)} → {money(new)}"
