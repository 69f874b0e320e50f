"""Creating campaigns from presets Meta accepts (presets.py): campaign → ad set → creative → ad, all PAUSED, each
checked against its preset before any write; plus the instant form of lead-form ads and the location search that
gives city keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from clawgate.core.tools import ToolContext, ToolFailure, tool
from clawgate.db import tenant_tx
from clawgate.meta.data import creatives
from clawgate.meta.marketing import objects, uploads
from clawgate.meta.marketing.calls import graph_call, marketing_api
from clawgate.meta.marketing.data import directions
from clawgate.meta.marketing.destinations import destinations_for
from clawgate.meta.marketing.money import to_minor
from clawgate.meta.marketing.presets import (
    PRESETS,
    ConversionEvent,
    Preset,
    SpecialCategory,
    Targeting,
    WelcomeMessage,
    adset_params,
    campaign_params,
    story_spec,
)
from clawgate.meta.marketing.tools.support import REASON, actor_of, ads_context, readable_errors

PRESET_HELP = (
    "ctwa (Click-to-WhatsApp), messenger, instagram_direct, lead_form (instant form), website_leads"
    " (pixel + Lead event), whatsapp_conversions (WhatsApp chats optimised on our Conversions API events)"
)


class CampaignArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    preset: Preset = Field(default="ctwa", description=PRESET_HELP)
    special_ad_categories: list[SpecialCategory] = Field(
        default=[], description="only for housing, employment, financial products/services or politics; usually []"
    )
    special_ad_category_country: list[str] = Field(default=[], description="ISO codes; required with a category")
    daily_budget: Decimal | None = Field(
        default=None, gt=0, description="a campaign budget (Advantage+ campaign budget) instead of ad-set budgets"
    )
    reason: str = REASON


@tool("ads_create_campaign", "Create a campaign (PAUSED) for a preset; budgets live on its ad sets unless a"
      " campaign daily_budget is given.", "ads")  # fmt: skip
def ads_create_campaign(ctx: ToolContext, args: CampaignArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    budget = to_minor(args.daily_budget, ads.currency) if args.daily_budget is not None else None
    with readable_errors():
        if budget is not None and ads.account_cap_minor is not None and budget > ads.account_cap_minor:
            raise ToolFailure("the campaign budget is above the tenant's account-wide daily cap")
        params = campaign_params(args.name, args.preset, args.special_ad_categories,
                                 args.special_ad_category_country, budget)  # fmt: skip
        campaign_id = objects.create(ads, actor_of(ctx), "campaign", params, args.reason)
    return {"campaign_id": campaign_id, "status": "PAUSED", "objective": params["objective"],
            "campaign_budget": budget is not None}  # fmt: skip


class AdSetArgs(BaseModel):
    campaign_id: str = Field(pattern=r"^\d+$")
    name: str = Field(min_length=1, max_length=200)
    daily_budget: Decimal | None = Field(
        default=None, gt=0, description="per day, account currency (major units); omit under a campaign budget"
    )
    preset: Preset = Field(default="ctwa", description=PRESET_HELP)
    targeting: Targeting
    direction_id: int | None = Field(default=None, description="the business direction this ad set belongs to")
    phone_number_id: str | None = Field(default=None, description="which WhatsApp number (default: the first)")
    conversion_event: ConversionEvent = Field(default="PURCHASE", description="whatsapp_conversions: the event")
    reason: str = REASON


@tool("ads_create_adset", "Create an ad set (PAUSED) of a preset with targeting (countries or cities, ages, genders,"
      " Advantage+ audience) and a daily budget, optionally in a direction.", "ads")  # fmt: skip
def ads_create_adset(ctx: ToolContext, args: AdSetArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        campaign = objects.read_object(ads, "campaign", args.campaign_id, ["id", "objective", "daily_budget",
                                                                           "lifetime_budget"])  # fmt: skip
        params: dict[str, Any] = {"name": args.name, "campaign_id": args.campaign_id,
                                  "targeting": args.targeting.graph()}  # fmt: skip
        params |= adset_params(args.preset, destinations_for(ads, args.preset, args.phone_number_id), campaign,
                               args.conversion_event)  # fmt: skip
        params |= _adset_budget(ads, args.daily_budget, campaign)
        adset_id = objects.create(ads, actor_of(ctx), "adset", params, args.reason)
    if args.direction_id is not None:
        with tenant_tx(ads.slug) as conn:
            directions.attach_adset(conn, args.direction_id, adset_id, args.campaign_id)
    return {"adset_id": adset_id, "status": "PAUSED", "optimization_goal": params["optimization_goal"],
            "result": PRESETS[args.preset].result_action, "daily_budget_minor_units": params.get("daily_budget"),
            "advantage_audience": args.targeting.automation()}  # fmt: skip


def _adset_budget(ads: Any, daily_budget: Decimal | None, campaign: dict[str, Any]) -> dict[str, Any]:
    if campaign.get("daily_budget") or campaign.get("lifetime_budget"):
        if daily_budget is not None:
            raise ToolFailure("this campaign has a campaign budget: its ad sets take none (change the campaign's)")
        return {}
    if daily_budget is None:
        raise ToolFailure("give the ad set a daily_budget (its campaign has no campaign budget)")
    budget = to_minor(daily_budget, ads.currency)
    if ads.daily_cap_minor is not None and budget > ads.daily_cap_minor:
        raise ToolFailure("the daily budget is above the tenant's cap per ad set: create it within the cap, then ask"
                          " for more with ads_set_budget (which needs the operator's confirmation)")  # fmt: skip
    return {"daily_budget": budget, "bid_strategy": "LOWEST_COST_WITHOUT_CAP"}


class CreativeArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    preset: Preset = Field(default="ctwa", description=PRESET_HELP)
    message: str = Field(min_length=1, max_length=2_000, description="the ad's primary text")
    headline: str | None = Field(default=None, max_length=255)
    image_hash: str | None = Field(default=None, description="from ads_upload_creative (images)")
    video_id: str | None = Field(default=None, description="from ads_upload_creative (videos)")
    thumbnail_hash: str | None = Field(default=None, description="a video's cover image; default: Meta's preferred")
    link: str | None = Field(default=None, pattern=r"^https://", description="website_leads: the landing page")
    lead_form_id: str | None = Field(default=None, description="lead_form: from ads_create_lead_form")
    welcome_message: WelcomeMessage | None = Field(default=None, description="chat presets: greeting + ice breakers")
    creative_row_id: int | None = Field(default=None, description="our creatives row, to link it to the Meta creative")
    reason: str = REASON

    @model_validator(mode="after")
    def _one_medium(self) -> CreativeArgs:
        if (self.image_hash is None) == (self.video_id is None):
            raise ValueError("give exactly one of image_hash and video_id")
        return self


@tool("ads_create_creative", "Create an ad creative of a preset from an uploaded image or video (a video must have"
      " finished processing; its thumbnail is added).", "ads")  # fmt: skip
def ads_create_creative(ctx: ToolContext, args: CreativeArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    with readable_errors():
        medium: dict[str, Any] = {"image_hash": args.image_hash}
        if args.video_id:
            thumbnail = {"image_hash": args.thumbnail_hash} if args.thumbnail_hash else None
            medium = {"video_id": args.video_id, "thumbnail": thumbnail or uploads.video_thumbnail(ads, args.video_id)}
        destinations = destinations_for(ads, "messenger")  # the page and Instagram account; no number needed
        story = story_spec(args.preset, destinations, medium, args.message, args.headline, args.link,
                           args.lead_form_id, args.welcome_message)  # fmt: skip
        creative_id = objects.create(ads, actor_of(ctx), "adcreative", {"name": args.name, "object_story_spec": story},
                                     args.reason)  # fmt: skip
    if args.creative_row_id is not None:
        with tenant_tx(ads.slug) as conn:
            creatives.link_meta_creative(conn, args.creative_row_id, creative_id, args.message, args.headline)
    return {"creative_id": creative_id}


class AdArgs(BaseModel):
    adset_id: str = Field(pattern=r"^\d+$")
    creative_id: str = Field(pattern=r"^\d+$")
    name: str = Field(min_length=1, max_length=200)
    reason: str = REASON


@tool("ads_create_ad", "Create an ad (PAUSED) from a creative in an ad set.", "ads")
def ads_create_ad(ctx: ToolContext, args: AdArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    params = {"name": args.name, "adset_id": args.adset_id, "creative": {"creative_id": args.creative_id}}
    with readable_errors():
        return {"ad_id": objects.create(ads, actor_of(ctx), "ad", params, args.reason), "status": "PAUSED"}


Question = Literal["FULL_NAME", "PHONE", "EMAIL", "CITY", "DATE_TIME"]


class LeadFormArgs(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    questions: list[Question] = Field(default=["FULL_NAME", "PHONE"], min_length=1, max_length=5)
    privacy_policy_url: str = Field(pattern=r"^https://", description="the advertiser's privacy policy (required)")
    privacy_link_text: str = Field(default="Privacy policy", max_length=70)
    thank_you_title: str = Field(default="Thank you!", max_length=60)
    thank_you_body: str = Field(default="We will contact you shortly.", max_length=160)
    website_url: str | None = Field(default=None, pattern=r"^https://", description="the thank-you page's button")
    locale: str = Field(default="en_US", pattern=r"^[a-z]{2}_[A-Z]{2}$")
    reason: str = REASON


@tool("ads_create_lead_form", "Create an instant form (lead form) on the tenant's Page for the lead_form preset.",
      "ads")  # fmt: skip
def ads_create_lead_form(ctx: ToolContext, args: LeadFormArgs) -> dict[str, Any]:
    ads = ads_context(ctx)
    if not ads.page_id:
        raise ToolFailure("no Facebook page is configured (fb-onboarding)")
    thank_you: dict[str, Any] = {"title": args.thank_you_title, "body": args.thank_you_body}
    thank_you |= ({"button_type": "VIEW_WEBSITE", "button_text": "Visit website", "website_url": args.website_url}
                  if args.website_url else {"button_type": "NONE"})  # fmt: skip
    params = {"name": args.name, "questions": [{"type": q} for q in args.questions], "locale": args.locale.upper(),
              "privacy_policy": {"url": args.privacy_policy_url, "link_text": args.privacy_link_text},
              "thank_you_page": thank_you, "block_display_for_non_targeted_viewer": True}  # fmt: skip
    with readable_errors():
        form_id = objects.create_lead_form(ads, actor_of(ctx), params, args.reason)
    return {"lead_form_id": form_id, "questions": args.questions}


class LocationArgs(BaseModel):
    query: str = Field(min_length=2, max_length=100, description="a city name, e.g. 'Almaty'")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="limit to one country")


@tool("ads_search_locations", "Find city keys for ad-set targeting (cities: [{key, radius}]).", "ads")
def ads_search_locations(ctx: ToolContext, args: LocationArgs) -> dict[str, Any]:
    from facebook_business.adobjects.targetingsearch import TargetingSearch

    ads = ads_context(ctx)
    params: dict[str, Any] = {"type": "adgeolocation", "q": args.query, "location_types": ["city"], "limit": 10}
    if args.country:
        params["country_code"] = args.country
    with readable_errors():
        api = marketing_api(ads)
        with graph_call(api):
            found = TargetingSearch.search(params=params, api=api)
    fields = ("key", "name", "type", "region", "country_code", "supports_city")
    return {"cities": [{k: item.get(k) for k in fields if item.get(k) is not None} for item in found]}
