"""Insights as the dashboards use them: impressions, clicks, spend, CTR, CPM, frequency, and Meta's counts per
account, campaign, ad set or ad, per day or for a whole range, under the ad account's unified attribution setting
(`use_unified_attribution_setting`: the windows Ads Manager shows; the 7- and 28-day view windows are gone since
January 2026). Graph sends every number as a string.

What counts is kept apart: `leads` are Meta's `lead` actions (forms and pixel leads), `conversations` are messaging
conversations started, and `results` is the action the ad set optimises for (presets.result_action: a
Click-to-WhatsApp ad set's result is a conversation, not a lead). Ranges longer than ASYNC_AFTER_DAYS run as an
async report job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from clawgate.meta.marketing.calls import GraphError, gate_of, graph_call
from clawgate.meta.marketing.presets import CONVERSATION_ACTION, result_action

if TYPE_CHECKING:
    from facebook_business.api import FacebookAdsApi

Level = Literal["account", "campaign", "adset", "ad"]
LEAD_ACTIONS = ("lead",)  # form leads and pixel leads, already summed by Meta under `lead`
FIELDS = [
    "account_id", "account_currency", "campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name",
    "impressions", "reach", "clicks", "spend", "ctr", "cpm", "frequency", "actions", "optimization_goal",
]  # fmt: skip
PAGE_SIZE = 500
ASYNC_AFTER_DAYS = 7
ASYNC_POLL_S = 1.0
ASYNC_TIMEOUT_S = 600.0


class InsightRow(BaseModel):
    level: Level
    object_id: str
    name: str | None = None
    date_start: date
    date_stop: date
    campaign_id: str | None = None
    adset_id: str | None = None
    ad_id: str | None = None
    impressions: int = 0
    reach: int | None = None
    clicks: int = 0
    spend: Decimal = Decimal(0)
    ctr: Decimal | None = None
    cpm: Decimal | None = None
    frequency: Decimal | None = None
    leads: int = 0
    conversations: int = 0
    optimization_goal: str | None = None
    result_action: str | None = None
    results: int = 0
    actions: dict[str, Decimal] = {}

    @property
    def cost_per_lead(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(Decimal("0.0001")) if self.leads else None


def ratios(impressions: int, clicks: int, spend: Decimal, leads: int) -> dict[str, Any]:
    """CTR (%), CPM and cost per lead from sums (the only correct way to combine rows)."""
    return {
        "ctr": round(float(clicks) * 100 / impressions, 2) if impressions else None,
        "cpm": round(float(spend) * 1000 / impressions, 2) if impressions else None,
        "cpl": round(float(spend) / leads, 2) if leads else None,
    }


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def parse_row(raw: dict[str, Any], level: Level, destination: str | None = None) -> InsightRow:
    """One Graph insights row (strings) as numbers; `actions` folded into a type → value map and `leads`."""
    actions = {
        str(a.get("action_type")): _decimal(a.get("value")) or Decimal(0)
        for a in raw.get("actions") or []
        if isinstance(a, dict)
    }
    leads = int(sum(actions.get(kind, Decimal(0)) for kind in LEAD_ACTIONS))
    goal = raw.get("optimization_goal")
    result = result_action(goal, destination) if goal else None
    object_id = str(raw.get(f"{level}_id") or raw.get("account_id") or "")
    if level == "account" and object_id and not object_id.startswith("act_"):
        object_id = f"act_{object_id}"
    reach = _decimal(raw.get("reach"))
    return InsightRow(
        level=level,
        object_id=object_id,
        name=raw.get(f"{level}_name"),
        date_start=raw["date_start"],
        date_stop=raw.get("date_stop") or raw["date_start"],
        campaign_id=raw.get("campaign_id"),
        adset_id=raw.get("adset_id"),
        ad_id=raw.get("ad_id"),
        impressions=int(_decimal(raw.get("impressions")) or 0),
        reach=int(reach) if reach is not None else None,
        clicks=int(_decimal(raw.get("clicks")) or 0),
        spend=_decimal(raw.get("spend")) or Decimal(0),
        ctr=_decimal(raw.get("ctr")),
        cpm=_decimal(raw.get("cpm")),
        frequency=_decimal(raw.get("frequency")),
        leads=leads,
        conversations=int(actions.get(CONVERSATION_ACTION, Decimal(0))),
        optimization_goal=goal,
        result_action=result,
        results=int(actions.get(result, Decimal(0))) if result else 0,
        actions=actions,
    )


def _node(api: FacebookAdsApi, node_id: str, level: Level) -> Any:
    from facebook_business.adobjects.ad import Ad
    from facebook_business.adobjects.adaccount import AdAccount
    from facebook_business.adobjects.adset import AdSet
    from facebook_business.adobjects.campaign import Campaign

    if node_id.startswith("act_"):
        return AdAccount(node_id, api=api)
    kinds: dict[str, Any] = {"campaign": Campaign, "adset": AdSet, "ad": Ad, "account": Campaign}
    return kinds[level](node_id, api=api)


def fetch_insights(
    api: FacebookAdsApi, node_id: str, level: Level, since: date, until: date, daily: bool = True
) -> Iterator[InsightRow]:
    """Rows of `level` under `node_id` (an ad account `act_…`, or a campaign/ad set/ad id) for since..until."""
    params: dict[str, Any] = {
        "level": level,
        "time_range": {"since": since.isoformat(), "until": until.isoformat()},
        "time_increment": 1 if daily else "all_days",
        "use_unified_attribution_setting": True,
        "limit": PAGE_SIZE,
    }
    node = _node(api, node_id, level)
    long_range = (until - since).days + 1 > ASYNC_AFTER_DAYS
    with graph_call(api):
        if long_range and node_id.startswith("act_"):
            cursor = _async_report(api, node, params)
        else:
            cursor = node.get_insights(fields=FIELDS, params=params)
        for index, raw in enumerate(cursor):
            if index and index % PAGE_SIZE == 0:
                gate_of(api).before_call()  # the next page is a new request
            yield parse_row(raw.export_all_data(), level)


def _async_report(api: FacebookAdsApi, account: Any, params: dict[str, Any]) -> Any:
    run = account.get_insights(fields=FIELDS, params=params, is_async=True)
    deadline = time.monotonic() + ASYNC_TIMEOUT_S
    while True:
        run = run.api_get()
        status = run.get("async_status")
        if status == "Job Completed":
            return run.get_insights(params={"limit": PAGE_SIZE})
        if status in ("Job Failed", "Job Skipped") or time.monotonic() > deadline:
            raise GraphError(f"insights report {run.get('id')} ended as {status!r}")
        gate_of(api).before_call()
        time.sleep(ASYNC_POLL_S)
