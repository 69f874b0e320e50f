"""Pausing and resuming. Pausing is applied at once (it only stops spending). Resuming is spending: it is held for
an operator's decision like a large budget change (pending.py), needs the account-wide cap, and a scheduled run
may never ask for it."""

from __future__ import annotations

from clawgate.meta.marketing.audit import Actor
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.data.budget_changes import HeldChange
from clawgate.meta.marketing.objects import Kind, Status, WriteRefused, read_object, update_status
from clawgate.meta.marketing.pending import hold
from clawgate.meta.marketing.spend import check_account_cap

RESUME_NEEDS = "resuming starts spending, which an operator approves"


def spend_of_resume(ctx: AdsContext, kind: Kind, object_id: str) -> int:
    """Minor units a day that resuming the object may start spending (what the account cap must still take)."""
    from facebook_business.adobjects.campaign import Campaign

    from clawgate.meta.marketing.calls import graph_call, marketing_api

    if kind == "ad":
        return 0  # an ad spends its ad set's budget, counted when the ad set runs
    fields = ["id", "daily_budget", "campaign_id"] if kind == "adset" else ["id", "daily_budget"]
    item = read_object(ctx, kind, object_id, fields)
    if int(item.get("daily_budget") or 0):
        return int(item["daily_budget"])
    if kind == "adset":
        return 0  # its campaign holds the budget
    api = marketing_api(ctx)
    with graph_call(api):
        adsets = Campaign(object_id, api=api).get_ad_sets(fields=["daily_budget", "status"], params={"limit": 200})
        return sum(int(a.get("daily_budget") or 0) for a in adsets if a.get("status") == "ACTIVE")


def set_status(ctx: AdsContext, actor: Actor, kind: Kind, object_id: str, status: Status, reason: str) -> str:
    if status == "PAUSED":
        return update_status(ctx, actor, kind, object_id, status, reason)
    if actor.scheduled:
        raise WriteRefused("a scheduled run may pause but never resume spending; ask the operator to resume it")
    check_account_cap(ctx, 0, f"resuming {kind} {object_id}")  # refuses at once when the tenant has no cap
    item = read_object(ctx, kind, object_id, ["id", "name"])
    spend = spend_of_resume(ctx, kind, object_id)
    return hold(ctx, actor, HeldChange("status", kind, object_id, item.get("name"), 0, spend, [RESUME_NEEDS]), reason)
