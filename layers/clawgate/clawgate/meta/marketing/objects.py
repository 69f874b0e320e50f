"""Campaigns, ad sets, ads and creatives: listing with status and budgets, creation (always PAUSED, so nothing
spends until an operator resumes it), and pause/resume. Every write is audited with its outcome."""

from __future__ import annotations

from typing import Any, Literal

from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.calls import GraphError, graph_call, marketing_api
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.money import to_major

Kind = Literal["campaign", "adset", "ad"]
Status = Literal["ACTIVE", "PAUSED"]
LIST_FIELDS: dict[Kind, list[str]] = {
    "campaign": ["id", "name", "status", "effective_status", "objective", "daily_budget", "lifetime_budget"],
    "adset": ["id", "name", "status", "effective_status", "campaign_id", "daily_budget", "lifetime_budget",
              "optimization_goal"],
    "ad": ["id", "name", "status", "effective_status", "campaign_id", "adset_id", "creative"],
}  # fmt: skip
LIST_CAP = 200


class WriteRefused(Exception):
    """A write the guardrails do not allow; the message tells the model what to do instead."""


def _sdk_class(kind: Kind) -> Any:
    from facebook_business.adobjects.ad import Ad
    from facebook_business.adobjects.adset import AdSet
    from facebook_business.adobjects.campaign import Campaign

    return {"campaign": Campaign, "adset": AdSet, "ad": Ad}[kind]


def _with_budgets(item: dict[str, Any], currency: str) -> dict[str, Any]:
    for key in ("daily_budget", "lifetime_budget"):
        if item.get(key) not in (None, "", "0"):
            item[key] = str(to_major(item[key], currency))
    if isinstance(item.get("creative"), dict):
        item["creative"] = item["creative"].get("id")
    return item


def list_objects(ctx: AdsContext, kind: Kind, parent_id: str | None = None) -> dict[str, Any]:
    """Objects of the ad account (ad sets/ads optionally of one campaign or ad set); budgets in major units."""
    from facebook_business.adobjects.adaccount import AdAccount

    api = marketing_api(ctx)
    account = AdAccount(ctx.ad_account_id, api=api)
    edge = {"campaign": account.get_campaigns, "adset": account.get_ad_sets, "ad": account.get_ads}[kind]
    items: list[dict[str, Any]] = []
    with graph_call(api):
        for obj in edge(fields=LIST_FIELDS[kind], params={"limit": 100}):
            item = obj.export_all_data()
            if parent_id and parent_id not in (item.get("campaign_id"), item.get("adset_id")):
                continue
            items.append(_with_budgets(item, ctx.currency))
            if len(items) >= LIST_CAP:
                break
    return {"currency": ctx.currency, "count": len(items), kind + "s": items}


def read_object(ctx: AdsContext, kind: Kind, object_id: str, fields: list[str]) -> dict[str, Any]:
    api = marketing_api(ctx)
    with graph_call(api):
        data: dict[str, Any] = _sdk_class(kind)(object_id, api=api).api_get(fields=fields).export_all_data()
    return data


def create(ctx: AdsContext, actor: Actor, kind: str, params: dict[str, Any], reason: str) -> str:
    """POST /act_…/{campaigns|adsets|adcreatives|ads}; objects that can run are created PAUSED."""
    from facebook_business.adobjects.adaccount import AdAccount

    api = marketing_api(ctx)
    account = AdAccount(ctx.ad_account_id, api=api)
    creators = {"campaign": account.create_campaign, "adset": account.create_ad_set,
                "adcreative": account.create_ad_creative, "ad": account.create_ad}  # fmt: skip
    if kind != "adcreative":
        params = {**params, "status": "PAUSED"}
    try:
        with graph_call(api):
            created = creators[kind](params=params)
    except GraphError as error:
        _audit(ctx, actor, f"{kind}.create", None, reason, {"params": params, "ok": False, "error": str(error)})
        raise
    object_id = str(created["id"])
    _audit(ctx, actor, f"{kind}.create", object_id, reason, {"params": params, "ok": True})
    return object_id


def create_lead_form(ctx: AdsContext, actor: Actor, params: dict[str, Any], reason: str) -> str:
    """POST /{page_id}/leadgen_forms with the Page's own token (Meta requires a Page token for forms)."""
    from facebook_business.adobjects.page import Page

    from clawgate.meta.graph import api as api_for

    api = marketing_api(ctx)
    try:
        with graph_call(api):
            page_token = Page(ctx.page_id, api=api).api_get(fields=["access_token"]).get("access_token")
        if not page_token:
            raise GraphError(f"the Meta token cannot act for page {ctx.page_id} (pages_manage_ads is needed)")
        page_api = api_for(str(page_token))
        with graph_call(page_api):
            created = Page(ctx.page_id, api=page_api).create_lead_gen_form(params=params)
    except GraphError as error:
        _audit(ctx, actor, "leadform.create", ctx.page_id, reason, {"params": params, "ok": False,
                                                                   "error": str(error)})  # fmt: skip
        raise
    form_id = str(created["id"])
    _audit(ctx, actor, "leadform.create", form_id, reason, {"params": params, "ok": True})
    return form_id


def update_status(
    ctx: AdsContext, actor: Actor, kind: Kind, object_id: str, status: Status, reason: str,
    change_id: int | None = None, name: str | None = None,
) -> str:  # fmt: skip
    """POST the status to Graph and audit it; a held change (`change_id`) is marked applied in the same step."""
    from clawgate.meta.marketing.pending import decide_row, still_pending

    api = marketing_api(ctx)
    if change_id is not None:
        with tenant_tx(ctx.slug) as conn:
            if not still_pending(conn, change_id):
                raise WriteRefused(f"change {change_id} was decided meanwhile")
    try:
        with graph_call(api):
            _sdk_class(kind)(object_id, api=api).api_update(params={"status": status})
    except GraphError as error:
        _audit(ctx, actor, f"{kind}.status", object_id, reason, {"status": status, "ok": False, "error": str(error)})
        raise
    with tenant_tx(ctx.slug) as conn:
        record(conn, actor, f"{kind}.status", object_id, reason, {"status": status, "ok": True, "change_id": change_id})
        if change_id is not None:
            decide_row(conn, change_id, "applied", actor)
    label = f"{name} ({object_id})" if name else object_id
    return f"{kind.replace('adset', 'ad set')} {label} is now {status}"


def _audit(
    ctx: AdsContext, actor: Actor, action: str, target: str | None, reason: str, details: dict[str, Any]
) -> None:
    with tenant_tx(ctx.slug) as conn:
        record(conn, actor, action, target, reason, details)
