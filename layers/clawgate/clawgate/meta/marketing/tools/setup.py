"""Onboarding and set-up: the tenant's ads settings (config table), business directions with their target CPL, creative
tests, and the WhatsApp Cloud API number checks of wa-onboarding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from clawgate.core.tools import ToolContext, ToolFailure, tool
from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import record
from clawgate.meta.marketing.context import CONFIG_KEYS, write_config
from clawgate.meta.marketing.data import creative_tests, directions
from clawgate.meta.marketing.destinations import e164, graph_request, whatsapp_account
from clawgate.meta.marketing.objects import read_object
from clawgate.meta.marketing.presets import PresetRefused
from clawgate.meta.marketing.tools.support import REASON, actor_of, ads_context, readable_errors
from clawgate.tenancy.channel_accounts import WhatsAppAccount
from clawgate.tenancy.tenants import cached_tenant


class ConfigureArgs(BaseModel):
    key: str = Field(description=f"one of {', '.join(CONFIG_KEYS)}")
    value: str = Field(min_length=1, max_length=100)
    reason: str = REASON


@tool("ads_configure", f"Save one ads setting of this tenant ({', '.join(CONFIG_KEYS)}).", "ads")
def ads_configure(ctx: ToolContext, args: ConfigureArgs) -> str:
    with tenant_tx(ctx.tenant) as conn:
        try:
            stored = write_config(conn, args.key, args.value)
        except ValueError as error:
            raise ToolFailure(f"{args.key}: {error}") from None
        record(conn, actor_of(ctx), "config.set", args.key, args.reason, {"value": stored})
    return f"{args.key} = {stored}"


class DirectionArgs(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="a business line, e.g. 'Implants'")
    target_cpl: Decimal | None = Field(default=None, gt=0, description="target cost per lead, account currency")
    daily_budget: Decimal | None = Field(default=None, gt=0, description="planned daily budget, account currency")
    description: str | None = Field(default=None, max_length=1_000)
    adset_ids: list[str] = Field(default=[], description="existing ad sets that belong to this direction")
    reason: str = REASON


@tool("ads_save_direction", "Create or update a business direction (target CPL, budget) and attach ad sets to it.",
      "ads")  # fmt: skip
def ads_save_direction(ctx: ToolContext, args: DirectionArgs) -> dict[str, Any]:
    with tenant_tx(ctx.tenant) as conn:
        direction_id = directions.save(conn, args.name, args.description, args.target_cpl, args.daily_budget)
        for adset_id in args.adset_ids:
            directions.attach_adset(conn, direction_id, adset_id)
        details = {"name": args.name, "target_cpl": str(args.target_cpl), "adset_ids": args.adset_ids}
        record(conn, actor_of(ctx), "direction.save", str(direction_id), args.reason, details)
    return {"direction_id": direction_id, "name": args.name, "adsets": len(args.adset_ids)}


class CreativeTestArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    adset_ids: list[str] = Field(
        min_length=2, max_length=6, description="one ad set per variant (same audience, equal daily budgets)"
    )
    direction_id: int | None = None
    max_days: int = Field(default=14, ge=3, le=30, description="the time limit: then a verdict or 'inconclusive'")
    reason: str = REASON


EQUAL_BUDGETS = Decimal("0.01")  # budgets within 1% of one another count as equal


def _variants(ctx: ToolContext, adset_ids: list[str]) -> list[dict[str, Any]]:
    """The variants' ad sets, checked: each has its own daily budget (a campaign budget would move the money to
    one variant), and the budgets are equal (delivery must not decide the test)."""
    ads = ads_context(ctx)
    if len(set(adset_ids)) != len(adset_ids):
        raise ToolFailure("each variant needs its own ad set")
    with readable_errors():
        found = [read_object(ads, "adset", adset_id, ["id", "name", "daily_budget", "campaign_id"])
                 for adset_id in adset_ids]  # fmt: skip
    budgets = [Decimal(str(item.get("daily_budget") or 0)) for item in found]
    if not all(budgets):
        raise ToolFailure("every variant's ad set needs its own daily budget (not a campaign budget)")
    if (max(budgets) - min(budgets)) / max(budgets) > EQUAL_BUDGETS:
        raise ToolFailure("the variants' daily budgets differ; make them equal first (ads_set_budget)")
    return [{"label": chr(ord("A") + i), "adset_id": str(item["id"]), "name": item.get("name")}
            for i, item in enumerate(found)]  # fmt: skip


@tool(
    "ads_start_creative_test",
    "Start a creative test: one ad set per variant (the same audience, equal daily budgets, one creative each). The"
    " daily creative-test job gives a verdict once every variant has spent $20 and had 1,000 impressions and one is"
    " clearly better (by cost per qualified lead, else per lead); at the time limit it ends as inconclusive.",
    "ads",
)
def ads_start_creative_test(ctx: ToolContext, args: CreativeTestArgs) -> dict[str, Any]:
    variants = _variants(ctx, args.adset_ids)
    with tenant_tx(ctx.tenant) as conn:
        test = creative_tests.start(conn, args.name, args.direction_id, variants, args.max_days)
        record(conn, actor_of(ctx), "creative_test.start", str(test.id), args.reason, {"variants": variants})
    return {"test_id": test.id, "variants": variants, "usd_per_variant": float(test.budget_per_variant),
            "impressions_per_variant": test.min_impressions, "ends_at": test.ends_at.isoformat()}  # fmt: skip


class NumberArgs(BaseModel):
    phone_number_id: str | None = Field(default=None, description="default: the tenant's first WhatsApp number")


def _whatsapp_account(ctx: ToolContext, phone_number_id: str | None) -> WhatsAppAccount:
    try:
        return whatsapp_account(cached_tenant(ctx.tenant), phone_number_id)
    except PresetRefused as error:
        raise ToolFailure(str(error)) from None


def _graph(method: str, path: str, token_ref: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    with readable_errors():
        return graph_request(method, path, token_ref, params)


@tool("wa_check_number", "Check a WhatsApp Cloud API number: display number, verified name, quality rating.", "ads")
def wa_check_number(ctx: ToolContext, args: NumberArgs) -> dict[str, Any]:
    account = _whatsapp_account(ctx, args.phone_number_id)
    fields = "display_phone_number,verified_name,quality_rating,code_verification_status"
    info = _graph("GET", account.phone_number_id, account.access_token, {"fields": fields})
    return {"phone_number_id": account.phone_number_id, "waba_id": account.waba_id, **info}


class SubscribeArgs(BaseModel):
    phone_number_id: str | None = None
    reason: str = REASON


@tool("wa_subscribe_app", "Subscribe the agency's Meta app to the number's WhatsApp Business Account webhooks.", "ads")
def wa_subscribe_app(ctx: ToolContext, args: SubscribeArgs) -> str:
    account = _whatsapp_account(ctx, args.phone_number_id)
    answer = _graph("POST", f"{account.waba_id}/subscribed_apps", account.access_token)
    with tenant_tx(ctx.tenant) as conn:
        record(conn, actor_of(ctx), "whatsapp.subscribe", account.waba_id, args.reason, {"answer": answer})
    return f"WABA {account.waba_id} subscribed: {answer}"


@tool(
    "wa_check_page_number",
    "Check that the Facebook Page's WhatsApp number is the tenant's Cloud API number (otherwise Click-to-WhatsApp"
    " chats can reach another number or the WhatsApp Business app, with no referral, attribution or CAPI).",
    "ads",
)
def wa_check_page_number(ctx: ToolContext, args: NumberArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    account = _whatsapp_account(ctx, args.phone_number_id)
    if not ads.page_id:
        raise ToolFailure("no Facebook page is configured (ads_configure page_id)")
    number = _graph("GET", account.phone_number_id, account.access_token, {"fields": "display_phone_number"})
    page = _graph("GET", ads.page_id, ads.tenant.meta.access_token if ads.tenant.meta else account.access_token,
                  {"fields": "whatsapp_number,has_whatsapp_business_number"})  # fmt: skip
    cloud = e164(str(number.get("display_phone_number") or "0" * 8))
    linked = page.get("whatsapp_number")
    same = bool(linked) and e164(str(linked)) == cloud
    advice = ("the Page's WhatsApp number is the Cloud API number: Click-to-WhatsApp ads will reach the agent" if same
              else "the Page shows another WhatsApp number (or none): link the Cloud API number to the Page in"
              " Meta Business Suite (Page settings → WhatsApp) before running Click-to-WhatsApp ads")  # fmt: skip
    return {"cloud_api_number": cloud, "page_whatsapp_number": linked, "matches": same, "advice": advice}
