"""The account-wide daily cap (`ads.account_daily_cap` in the tenant file): the sum of the daily budgets of what
runs in the ad account — campaign budgets of running campaigns, and ad-set budgets of running ad sets whose campaign
has none — may never exceed it. Checked before a budget increase on something running and before anything is
resumed; no chat and no confirmation can go past it. Without a cap, new spend is refused."""

from __future__ import annotations

from typing import Any

from clawgate.meta.marketing.calls import graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.money import display, to_major
from clawgate.meta.marketing.objects import WriteRefused

RUNNING = "ACTIVE"


def _running(item: dict[str, Any]) -> bool:
    return str(item.get("effective_status") or item.get("status") or "") == RUNNING


def running_daily_total(ctx: AdsContext) -> int:
    """Minor units a day the account may spend now (running campaign budgets + running ad-set budgets)."""
    from facebook_business.adobjects.adaccount import AdAccount

    api = marketing_api(ctx)
    account = AdAccount(ctx.ad_account_id, api=api)
    fields = ["id", "status", "effective_status", "daily_budget"]
    with graph_call(api):
        campaigns = [c.export_all_data() for c in account.get_campaigns(fields=fields, params={"limit": 200})]
        found = account.get_ad_sets(fields=[*fields, "campaign_id"], params={"limit": 500})
        adsets = [a.export_all_data() for a in found]
    with_budget = {c["id"] for c in campaigns if int(c.get("daily_budget") or 0)}
    total = sum(int(c.get("daily_budget") or 0) for c in campaigns if _running(c))
    running_campaigns = {c["id"] for c in campaigns if _running(c)}
    for adset in adsets:
        if adset.get("campaign_id") in with_budget or not _running(adset):
            continue
        if adset.get("campaign_id") in running_campaigns or adset.get("campaign_id") is None:
            total += int(adset.get("daily_budget") or 0)
    return total


def check_account_cap(ctx: AdsContext, added_minor: int, what: str) -> None:
    """Refuse `what` when it would lift the account's running daily budgets above the cap (or there is no cap)."""
    cap = ctx.account_cap_minor
    if cap is None:
        raise WriteRefused(f"refused: {what} needs the account-wide daily cap (ads.account_daily_cap in the tenant"
                           " file), which the agency has not set")  # fmt: skip
    if added_minor <= 0:
        return
    running = running_daily_total(ctx)
    if running + added_minor > cap:
        money = lambda minor: display(to_major(minor, ctx.currency), ctx.currency)  # noqa: E731
        raise WriteRefused(
            f"refused: {what} would take the account's running daily budgets from {money(running)} to"
            f" {money(running + added_minor)}, above the account-wide cap of {money(cap)} a day set by the agency"
        )
