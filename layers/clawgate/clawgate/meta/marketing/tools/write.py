"""Writing to the ad account, each with a required `reason` and an audit row: create campaign → ad set → creative →
ad (always PAUSED), pause/resume, ad-set budgets under the guardrails of budgets.py, and creative uploads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from clawgate.core.tools import ToolContext, ToolFailure, tool
from clawgate.db import tenant_tx
from clawgate.meta.marketing import budgets, objects, uploads
from clawgate.meta.marketing.money import to_minor
from clawgate.meta.marketing.tools.support import REASON, actor_of, ads_context, readable_errors

Objective = Literal["OUTCOME_LEADS", "OUTCOME_ENGAGEMENT", "OUTCOME_TRAFFIC", "OUTCOME_SALES", "OUTCOME_AWARENESS"]
Goal = Literal["CONVERSATIONS", "LEAD_GENERATION", "LINK_CLICKS", "OFFSITE_CONVERSIONS", "REACH", "IMPRESSIONS"]
Destination = Literal["WHATSAPP", "MESSENGER", "ON_AD", "WEBSITE"]


class CampaignArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    objective: Objective = "OUTCOME_ENGAGEMENT"
    special_ad_categories: list[str] = Field(default=[], description="e.g. HOUSING, EMPLOYMENT, CREDIT; usually none")
    reason: str = REASON


@tool("ads_create_campaign", "Create a campaign (PAUSED; budgets live on its ad sets).", "ads")
def ads_create_campaign(ctx: ToolContext, args: CampaignArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    params = {"name": args.name, "objective": args.objective, "special_ad_categories": args.special_ad_categories,
              "is_adset_budget_sharing_enabled": False}  # fmt: skip
    with readable_errors():
        return {"campaign_id": objects.create(ads, actor_of(ctx), "campaign", params, args.reason), "status": "PAUSED"}


class Targeting(BaseModel):
    countries: list[str] = Field(default=[], description="ISO country codes, e.g. ['KZ']")
    cities: list[dict[str, Any]] = Field(default=[], description="Graph city objects: [{'key': '…', 'radius': 10}]")
    age_min: int = Field(default=18, ge=13, le=65)
    age_max: int = Field(default=65, ge=13, le=65)
    genders: list[Literal[1, 2]] = Field(default=[], description="1 men, 2 women; empty: all")

    def graph(self) -> dict[str, Any]:
        geo: dict[str, Any] = {"countries": self.countries} if self.countries else {}
        if self.cities:
            geo["cities"] = self.cities
        spec: dict[str, Any] = {"geo_locations": geo, "age_min": self.age_min, "age_max": self.age_max}
        return spec | ({"genders": self.genders} if self.genders else {})


class AdSetArgs(BaseModel):
    campaign_id: str
    name: str = Field(min_length=1, max_length=200)
    daily_budget: Decimal = Field(gt=0, description="per day, in the ad account's currency (major units)")
    optimization_goal: Goal = "CONVERSATIONS"
    destination_type: Destination | None = "WHATSAPP"
    targeting: Targeting
    direction_id: int | None = Field(default=None, description="the business direction this ad set belongs to")
    reason: str = REASON


@tool("ads_create_adset", "Create an ad set (PAUSED) with a daily budget and targeting, optionally in a direction.",
      "ads")  # fmt: skip
def ads_create_adset(ctx: ToolContext, args: AdSetArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    budget = to_minor(args.daily_budget, ads.currency)
    cap = ads.daily_cap_minor
    if cap is not None and budget > cap:
        raise ToolFailure("the daily budget is above the tenant's cap per ad set: create it within the cap, then ask"
                          " for more with ads_set_budget (which needs the operator's confirmation)")  # fmt: skip
    params: dict[str, Any] = {
        "name": args.name, "campaign_id": args.campaign_id, "daily_budget": budget, "billing_event": "IMPRESSIONS",
        "optimization_goal": args.optimization_goal, "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        "targeting": args.targeting.graph(),
    }  # fmt: skip
    if args.destination_type:
        params["destination_type"] = args.destination_type
        if ads.page_id and args.destination_type != "WEBSITE":
            params["promoted_object"] = {"page_id": ads.page_id}
    with readable_errors():
        adset_id = objects.create(ads, actor_of(ctx), "adset", params, args.reason)
    if args.direction_id is not None:
        with tenant_tx(ads.slug) as conn:
            conn.execute(
                "INSERT INTO direction_adsets (direction_id, adset_id, campaign_id) VALUES (%s, %s, %s)"
                " ON CONFLICT (adset_id) DO UPDATE SET direction_id = EXCLUDED.direction_id",
                (args.direction_id, adset_id, args.campaign_id),
            )
    return {"adset_id": adset_id, "status": "PAUSED", "daily_budget_minor_units": budget}


class CreativeArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=2_000, description="the ad's primary text")
    headline: str | None = Field(default=None, max_length=255)
    image_hash: str | None = Field(default=None, description="from ads_upload_creative (images)")
    video_id: str | None = Field(default=None, description="from ads_upload_creative (videos)")
    thumbnail_hash: str | None = Field(default=None, description="an image hash shown before a video plays")
    link: str | None = Field(default=None, description="website URL; omit for Click-to-WhatsApp")
    creative_row_id: int | None = Field(default=None, description="our creatives row, to link it to the Meta creative")
    reason: str = REASON

    @model_validator(mode="after")
    def _one_medium(self) -> CreativeArgs:
        if (self.image_hash is None) == (self.video_id is None):
            raise ValueError("give exactly one of image_hash and video_id")
        return self


def story_spec(args: CreativeArgs, page_id: str) -> dict[str, Any]:
    cta: dict[str, Any] = (
        {"type": "LEARN_MORE", "value": {"link": args.link}}
        if args.link
        else {"type": "WHATSAPP_MESSAGE", "value": {"app_destination": "WHATSAPP"}}
    )
    link = args.link or "https://api.whatsapp.com/send"
    if args.video_id:
        video = {"video_id": args.video_id, "message": args.message, "call_to_action": cta}
        video |= {"title": args.headline} if args.headline else {}
        video |= {"image_hash": args.thumbnail_hash} if args.thumbnail_hash else {}
        return {"page_id": page_id, "video_data": video}
    data = {"image_hash": args.image_hash, "message": args.message, "link": link, "call_to_action": cta}
    return {"page_id": page_id, "link_data": data | ({"name": args.headline} if args.headline else {})}


@tool("ads_create_creative", "Create an ad creative from an uploaded image or video (Click-to-WhatsApp by default).",
      "ads")  # fmt: skip
def ads_create_creative(ctx: ToolContext, args: CreativeArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    if not ads.page_id:
        raise ToolFailure("no Facebook page is configured (fb-onboarding step 3)")
    params = {"name": args.name, "object_story_spec": story_spec(args, ads.page_id)}
    with readable_errors():
        creative_id = objects.create(ads, actor_of(ctx), "adcreative", params, args.reason)
    if args.creative_row_id is not None:
        with tenant_tx(ads.slug) as conn:
            conn.execute("UPDATE creatives SET meta_creative_id = %s, body = %s, title = coalesce(%s, title),"
                         " updated_at = now() WHERE id = %s",
                         (creative_id, args.message, args.headline, args.creative_row_id))  # fmt: skip
    return {"creative_id": creative_id}


class AdArgs(BaseModel):
    adset_id: str
    creative_id: str
    name: str = Field(min_length=1, max_length=200)
    reason: str = REASON


@tool("ads_create_ad", "Create an ad (PAUSED) from a creative in an ad set.", "ads")
def ads_create_ad(ctx: ToolContext, args: AdArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    params = {"name": args.name, "adset_id": args.adset_id, "creative": {"creative_id": args.creative_id}}
    with readable_errors():
        return {"ad_id": objects.create(ads, actor_of(ctx), "ad", params, args.reason), "status": "PAUSED"}


class StatusArgs(BaseModel):
    kind: objects.Kind
    object_id: str
    status: objects.Status = Field(description="PAUSED to pause, ACTIVE to resume")
    reason: str = REASON


@tool("ads_set_status", "Pause or resume a campaign, ad set or ad.", "ads")
def ads_set_status(ctx: ToolContext, args: StatusArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return objects.set_status(ads, actor_of(ctx), args.kind, args.object_id, args.status, args.reason)


class BudgetArgs(BaseModel):
    adset_id: str
    daily_budget: Decimal = Field(gt=0, description="the new budget per day, account currency (major units)")
    reason: str = REASON


@tool(
    "ads_set_budget",
    "Change an ad set's daily budget. Within the tenant's step limit it is applied; beyond it, above the cap, or"
    " from a scheduled run it waits for the operator's explicit confirmation (ads_confirm_budget_change). At most"
    " 4 changes per ad set per hour.",
    "ads",
)
def ads_set_budget(ctx: ToolContext, args: BudgetArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return budgets.change_budget(ads, actor_of(ctx), args.adset_id, args.daily_budget, args.reason)


class ConfirmArgs(BaseModel):
    change_id: int
    approve: bool = Field(default=True, description="false cancels the pending change")
    reason: str = REASON


@tool(
    "ads_confirm_budget_change",
    "Apply (or cancel) a pending budget change, only after the operator explicitly confirmed it in their own message.",
    "ads",
)
def ads_confirm_budget_change(ctx: ToolContext, args: ConfirmArgs) -> str:
    ads = ads_context(ctx)
    with readable_errors():
        return budgets.confirm_change(ads, actor_of(ctx), args.change_id, args.approve, args.reason)


class UploadArgs(BaseModel):
    creative_id: int = Field(description="our creatives row (an uploaded file in the blob store)")
    reason: str = REASON


@tool("ads_upload_creative", "Upload a stored image or video to the ad account; returns its image hash or video id.",
      "ads")  # fmt: skip
def ads_upload_creative(ctx: ToolContext, args: UploadArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        return uploads.upload_creative(ads, actor_of(ctx), args.creative_id, args.reason)
