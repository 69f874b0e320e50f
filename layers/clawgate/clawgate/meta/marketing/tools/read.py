"""Reading the ad account: insights with the dashboard numbers, campaigns/ad sets/ads with status and budgets, and
the account itself (the token works, its currency and timezone)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from pydantic import BaseModel, Field, model_validator

from clawgate.core.tools import ToolContext, tool
from clawgate.db import tenant_tx
from clawgate.meta.marketing.calls import graph_call, marketing_api
from clawgate.meta.marketing.context import remember_account_currency
from clawgate.meta.marketing.insights import InsightRow, Level, fetch_insights, ratios
from clawgate.meta.marketing.money import to_usd
from clawgate.meta.marketing.objects import Kind, list_objects
from clawgate.meta.marketing.tools.support import ads_context, readable_errors

ROW_CAP = 60
MAX_RANGE_DAYS = 92


class InsightsArgs(BaseModel):
    level: Level = Field(default="account", description="account, campaign, adset or ad")
    since: date = Field(description="first day, YYYY-MM-DD (the ad account's timezone)")
    until: date = Field(description="last day, YYYY-MM-DD")
    object_id: str | None = Field(default=None, description="a campaign/ad set/ad id to look inside; default: account")
    daily: bool = Field(default=False, description="one row per day instead of one per object")

    @model_validator(mode="after")
    def _range(self) -> InsightsArgs:
        if self.since > self.until or (self.until - self.since).days >= MAX_RANGE_DAYS:
            raise ValueError(f"since must be on or before until, at most {MAX_RANGE_DAYS} days")
        return self


def _row(row: InsightRow, daily: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {"id": row.object_id, "name": row.name}
    if daily:
        summary["date"] = row.date_start.isoformat()
    summary |= {
        "impressions": row.impressions,
        "clicks": row.clicks,
        "spend": float(row.spend),
        "leads": row.leads,
        "conversations": row.conversations,
        "result": row.result_action,
        "results": row.results,
        "frequency": float(row.frequency) if row.frequency is not None else None,
    }
    return summary | ratios(row.impressions, row.clicks, row.spend, row.leads)


@tool(
    "ads_insights",
    "Meta's ads numbers for a date range (unified attribution): impressions, clicks, spend, CTR, CPM, frequency, form"
    " leads, conversations started, and each ad set's result (what its goal optimises for), per account, campaign,"
    " ad set or ad (optionally per day). Money is in the ad account's currency. Our own qualified leads are in"
    " db_query (leads, wa_dialogs) and the reports.",
    "ads",
)
def ads_insights(ctx: ToolContext, args: InsightsArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        api = marketing_api(ads)
        node = args.object_id or ads.ad_account_id
        rows = list(islice(fetch_insights(api, node, args.level, args.since, args.until, args.daily), ROW_CAP + 1))
    shown = rows[:ROW_CAP]
    spend = sum((r.spend for r in rows), Decimal(0))
    impressions, clicks, leads, conversations = (
        sum(getattr(r, k) for r in rows) for k in ("impressions", "clicks", "leads", "conversations"))  # fmt: skip
    with tenant_tx(ads.slug, "ro") as conn:
        spend_usd = to_usd(conn, spend, ads.currency, args.until)
    totals = {"impressions": impressions, "clicks": clicks, "spend": float(spend), "leads": leads,
              "conversations": conversations,
              **ratios(impressions, clicks, spend, leads),
              "spend_usd": float(spend_usd) if spend_usd else None}  # fmt: skip
    return {"currency": ads.currency, "since": args.since.isoformat(), "until": args.until.isoformat(),
            "rows": [_row(r, args.daily) for r in shown], "truncated": len(rows) > ROW_CAP,
            "totals": totals}  # fmt: skip


class ListArgs(BaseModel):
    kind: Kind = Field(description="campaign, adset or ad")
    parent_id: str | None = Field(default=None, description="only the ad sets/ads of this campaign or ad set")


@tool(
    "ads_list",
    "List the ad account's campaigns, ad sets or ads with status, effective status and budgets (account currency).",
    "ads",
)
def ads_list(ctx: ToolContext, args: ListArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        return list_objects(ads, args.kind, args.parent_id)


class AccountArgs(BaseModel):
    ad_account_id: str | None = Field(default=None, description="act_…; default: the configured ad account")


@tool(
    "ads_account_info",
    "Check that the tenant's Meta token can read an ad account, and show its name, currency, timezone and status.",
    "ads",
)
def ads_account_info(ctx: ToolContext, args: AccountArgs) -> dict[str, Any]:
    from facebook_business.adobjects.adaccount import AdAccount

    ads = ads_context(ctx)
    account_id = args.ad_account_id or ads.ad_account_id
    with readable_errors():
        api = marketing_api(ads)
        with graph_call(api):
            fields = ["id", "name", "currency", "timezone_name", "account_status", "amount_spent"]
            info: dict[str, Any] = AdAccount(account_id, api=api).api_get(fields=fields).export_all_data()
    if info.get("currency"):
        remember_account_currency(ads.slug, account_id, str(info["currency"]))
    configured = {"ad_account_id": ads.ad_account_id, "account_currency": ads.stored_currency,
                  "display_currency": ads.display_currency, "page_id": ads.page_id,
                  "dataset_id": ads.dataset_id, "target_cpl": str(ads.target_cpl) if ads.target_cpl else None,
                  "report_chat_id": ads.report_chat_id}  # fmt: skip
    return {"account": info, "configured": configured}
