"""Campaign presets that Meta accepts, checked here before any write (Marketing API v26):

preset                objective           destination       goal                 promoted_object (+ page_id)
ctwa                  OUTCOME_ENGAGEMENT  WHATSAPP          CONVERSATIONS        whatsapp_phone_number
messenger             OUTCOME_ENGAGEMENT  MESSENGER         CONVERSATIONS        -
instagram_direct      OUTCOME_ENGAGEMENT  INSTAGRAM_DIRECT  CONVERSATIONS        - (instagram_user_id on the creative)
lead_form             OUTCOME_LEADS       ON_AD             LEAD_GENERATION      - (lead_gen_form_id on the CTA)
website_leads         OUTCOME_LEADS       WEBSITE           OFFSITE_CONVERSIONS  pixel_id, custom_event_type LEAD
                                                                                 (no page_id)
whatsapp_conversions  OUTCOME_SALES       WHATSAPP          OFFSITE_CONVERSIONS  whatsapp_phone_number, pixel_id =
                                                                                 the tenant's dataset, custom_event_type

Chat presets carry the CTA WHATSAPP_MESSAGE / MESSAGE_PAGE / INSTAGRAM_MESSAGE with its app_destination and may
carry a `page_welcome_message` (greeting and ice breakers).

Each preset also names the insights action that counts as its *result* (a conversation is not a lead). Lead
generation inside Messenger (destination MESSENGER with LEAD_GENERATION), which Meta refuses since v24, is not a
preset and cannot be composed.

Targeting always says `targeting_automation.advantage_audience` (0 or 1; an ad set without it is refused with
error 100 since v23). With Advantage+ audience on, age_min may be at most 25 (Meta keeps it as a hard floor) and the
chosen ages travel as the `age_range` suggestion; with it off, ages and genders are hard limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

Preset = Literal["ctwa", "messenger", "instagram_direct", "lead_form", "website_leads", "whatsapp_conversions"]
SpecialCategory = Literal["HOUSING", "EMPLOYMENT", "FINANCIAL_PRODUCTS_SERVICES", "ISSUES_ELECTIONS_POLITICS"]
ConversionEvent = Literal["LEAD", "PURCHASE"]
CONVERSATION_ACTION = "onsite_conversion.messaging_conversation_started_7d"
ADVANTAGE_MAX_AGE_MIN = 25


@dataclass(frozen=True)
class PresetSpec:
    objective: str
    destination_type: str
    optimization_goal: str
    cta: str
    app_destination: str | None
    result_action: str
    messaging: bool

    def describe(self) -> str:
        return f"{self.objective} / {self.destination_type} / {self.optimization_goal}"


PRESETS: dict[str, PresetSpec] = {
    "ctwa": PresetSpec("OUTCOME_ENGAGEMENT", "WHATSAPP", "CONVERSATIONS", "WHATSAPP_MESSAGE", "WHATSAPP",
                       CONVERSATION_ACTION, True),
    "messenger": PresetSpec("OUTCOME_ENGAGEMENT", "MESSENGER", "CONVERSATIONS", "MESSAGE_PAGE", "MESSENGER",
                            CONVERSATION_ACTION, True),
    "instagram_direct": PresetSpec("OUTCOME_ENGAGEMENT", "INSTAGRAM_DIRECT", "CONVERSATIONS", "INSTAGRAM_MESSAGE",
                                   "INSTAGRAM_DIRECT", CONVERSATION_ACTION, True),
    "lead_form": PresetSpec("OUTCOME_LEADS", "ON_AD", "LEAD_GENERATION", "SIGN_UP", None, "lead", False),
    "website_leads": PresetSpec("OUTCOME_LEADS", "WEBSITE", "OFFSITE_CONVERSIONS", "LEARN_MORE", None,
                                "offsite_conversion.fb_pixel_lead", False),
    "whatsapp_conversions": PresetSpec("OUTCOME_SALES", "WHATSAPP", "OFFSITE_CONVERSIONS", "WHATSAPP_MESSAGE",
                                       "WHATSAPP", "offsite_conversion.fb_pixel_purchase", True),
}  # fmt: skip
WHATSAPP_PRESETS = frozenset({"ctwa", "whatsapp_conversions"})
CONVERSION_RESULTS = {"LEAD": "offsite_conversion.fb_pixel_lead", "PURCHASE": "offsite_conversion.fb_pixel_purchase"}
# The result of an ad set we did not create, from its optimisation goal (and destination where it matters).
GOAL_RESULTS = {
    "CONVERSATIONS": CONVERSATION_ACTION,
    "LEAD_GENERATION": "lead",
    "QUALITY_LEAD": "lead",
    "LINK_CLICKS": "link_click",
    "LANDING_PAGE_VIEWS": "landing_page_view",
    "REPLIES": CONVERSATION_ACTION,
}


def result_action(optimization_goal: str | None, destination_type: str | None = None) -> str | None:
    """The insights action that is the ad set's result; None when the goal has none we count (reach, impressions)."""
    if optimization_goal == "OFFSITE_CONVERSIONS":
        return PRESETS["whatsapp_conversions" if destination_type == "WHATSAPP" else "website_leads"].result_action
    return GOAL_RESULTS.get(optimization_goal or "")


class PresetRefused(ValueError):
    """A combination Meta would refuse, or something the preset needs and the tenant lacks."""


class City(BaseModel):
    key: str = Field(pattern=r"^\d{1,20}$", description="the city key from ads_search_locations")
    radius: int | None = Field(default=None, ge=10, le=80, description="10-80 km around the city; default: city only")
    distance_unit: Literal["kilometer", "mile"] = "kilometer"

    @model_validator(mode="after")
    def _radius(self) -> City:
        if self.radius is not None and self.distance_unit == "mile" and self.radius > 50:
            raise ValueError("a radius in miles is at most 50")
        return self

    def graph(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"key": self.key}
        if self.radius is not None:
            spec |= {"radius": self.radius, "distance_unit": self.distance_unit}
        return spec


class Targeting(BaseModel):
    countries: list[str] = Field(default=[], description="ISO country codes, e.g. ['KZ']")
    cities: list[City] = Field(default=[], max_length=250, description="from ads_search_locations: [{'key': '…'}]")
    age_min: int = Field(default=18, ge=13, le=65)
    age_max: int = Field(default=65, ge=13, le=65)
    genders: list[Literal[1, 2]] = Field(default=[], description="1 men, 2 women; empty: all")
    advantage_audience: Literal[0, 1] | None = Field(
        default=None,
        description="1: Meta may go beyond the ages/genders (they become suggestions; age_min at most 25); 0: they"
        " are hard limits. Default: 0 when ages or genders are narrowed, else 1.",
    )

    @model_validator(mode="after")
    def _check(self) -> Targeting:
        if not self.countries and not self.cities:
            raise ValueError("give at least one country or city")
        if any(len(c) != 2 or not c.isalpha() or not c.isupper() for c in self.countries):
            raise ValueError("countries are two-letter ISO codes in capitals, e.g. 'KZ'")
        if self.age_min > self.age_max:
            raise ValueError("age_min must not be above age_max")
        if self.advantage_audience == 1 and self.age_min > ADVANTAGE_MAX_AGE_MIN:
            raise ValueError(f"with Advantage+ audience age_min can be at most {ADVANTAGE_MAX_AGE_MIN}; set"
                             " advantage_audience 0 to keep an older minimum as a hard limit")  # fmt: skip
        return self

    @property
    def narrowed(self) -> bool:
        return self.age_min != 18 or self.age_max != 65 or bool(self.genders)

    def automation(self) -> int:
        if self.advantage_audience is not None:
            return self.advantage_audience
        return 0 if self.narrowed else 1

    def graph(self) -> dict[str, Any]:
        geo: dict[str, Any] = {"countries": self.countries} if self.countries else {}
        if self.cities:
            geo["cities"] = [city.graph() for city in self.cities]
        geo["location_types"] = ["home", "recent"]
        advantage = self.automation()
        spec: dict[str, Any] = {"geo_locations": geo, "age_min": self.age_min, "age_max": self.age_max,
                                "targeting_automation": {"advantage_audience": advantage}}  # fmt: skip
        if advantage and self.narrowed:
            spec["age_range"] = [self.age_min, self.age_max]
        return spec | ({"genders": self.genders} if self.genders else {})


@dataclass(frozen=True)
class Destinations:
    """What the tenant has for the presets: the Page, the Cloud API number (E.164), the Instagram account, the
    dataset our Conversions API events go to, and the website pixel."""

    page_id: str | None
    whatsapp_number: str | None = None
    instagram_user_id: str | None = None
    dataset_id: str | None = None
    pixel_id: str | None = None


def campaign_params(
    name: str, preset: Preset, categories: list[SpecialCategory], countries: list[str], daily_budget: int | None
) -> dict[str, Any]:
    if categories and not countries:
        raise PresetRefused("special ad categories need special_ad_category_country (the countries the ads run in)")
    params: dict[str, Any] = {"name": name, "objective": PRESETS[preset].objective,
                              "special_ad_categories": list(categories)}  # fmt: skip
    if categories:
        params["special_ad_category_country"] = list(countries)
    if daily_budget is not None:  # campaign budget (Advantage+ campaign budget, "CBO"): ad sets get none
        params |= {"daily_budget": daily_budget, "bid_strategy": "LOWEST_COST_WITHOUT_CAP"}
    else:
        params["is_adset_budget_sharing_enabled"] = False
    return params


def adset_params(
    preset: Preset, destinations: Destinations, campaign: dict[str, Any], conversion_event: ConversionEvent
) -> dict[str, Any]:
    """The preset's part of an ad set (goal, destination, promoted_object, billing), checked against the campaign
    it goes into and against what the tenant has."""
    spec = PRESETS[preset]
    if campaign.get("objective") and campaign["objective"] != spec.objective:
        raise PresetRefused(f"preset {preset} needs a campaign with objective {spec.objective}; campaign"
                            f" {campaign.get('id')} has {campaign['objective']}")  # fmt: skip
    promoted: dict[str, Any] = {}
    if preset != "website_leads":
        promoted["page_id"] = _need(destinations.page_id, "a Facebook page (ads_configure page_id)")
    if preset in WHATSAPP_PRESETS:
        promoted["whatsapp_phone_number"] = _need(
            destinations.whatsapp_number, "the tenant's WhatsApp Cloud API number"
        )
    if preset == "website_leads":
        promoted |= {"pixel_id": _need(destinations.pixel_id, "a website pixel (ads_configure pixel_id)"),
                     "custom_event_type": "LEAD"}  # fmt: skip
    if preset == "whatsapp_conversions":
        dataset = _need(destinations.dataset_id, "the tenant's Conversions API dataset (capi.dataset_id)")
        promoted |= {"pixel_id": dataset, "custom_event_type": conversion_event}
    return {"optimization_goal": spec.optimization_goal, "destination_type": spec.destination_type,
            "billing_event": "IMPRESSIONS", "promoted_object": promoted}  # fmt: skip


def _need(value: str | None, what: str) -> str:
    if not value:
        raise PresetRefused(f"this preset needs {what}, and the tenant has none")
    return value


class WelcomeMessage(BaseModel):
    """The chat's opening for a Click-to-WhatsApp/Messenger/Instagram ad: a greeting and up to 4 ice breakers."""

    text: str = Field(min_length=1, max_length=300, description="the greeting people see when the chat opens")
    ice_breakers: list[str] = Field(default=[], max_length=4, description="tappable questions, up to 4, 80 chars each")

    @model_validator(mode="after")
    def _lengths(self) -> WelcomeMessage:
        if any(not 0 < len(question) <= 80 for question in self.ice_breakers):
            raise ValueError("each ice breaker is 1 to 80 characters")
        return self

    def graph(self) -> str:
        """`page_welcome_message` is a JSON string in Meta's visual-editor format."""
        message: dict[str, Any] = {"text": self.text}
        action = "ice_breakers" if self.ice_breakers else "autofill_message"
        if self.ice_breakers:
            message["ice_breakers"] = [{"title": q, "response": ""} for q in self.ice_breakers]
        else:
            message["autofill_message"] = {"content": "Hi! I'm interested."}
        spec = {"type": "VISUAL_EDITOR", "version": 2, "landing_screen_type": "welcome_message",
                "media_type": "text", "text_format": {"customer_action_type": action, "message": message},
                "user_edit": False, "surface": "visual_editor_new"}  # fmt: skip
        return json.dumps(spec, ensure_ascii=False)


def call_to_action(preset: Preset, link: str | None, lead_form_id: str | None) -> dict[str, Any]:
    spec = PRESETS[preset]
    if preset == "lead_form":
        return {
            "type": spec.cta,
            "value": {"lead_gen_form_id": _need(lead_form_id, "a lead form (ads_create_lead_form)")},
        }
    if preset == "website_leads":
        return {"type": spec.cta, "value": {"link": _need(link, "the website link")}}
    return {"type": spec.cta, "value": {"app_destination": spec.app_destination}}


WHATSAPP_LINK = "https://api.whatsapp.com/send"


def story_spec(
    preset: Preset, destinations: Destinations, medium: dict[str, Any], message: str, headline: str | None,
    link: str | None, lead_form_id: str | None, welcome: WelcomeMessage | None,
) -> dict[str, Any]:  # fmt: skip
    """`object_story_spec` for the preset. `medium` is {"image_hash"} or {"video_id", "thumbnail": {image_hash |
    image_url}}; a video needs its thumbnail (Meta refuses video_data without one)."""
    spec = PRESETS[preset]
    if welcome is not None and not spec.messaging:
        raise PresetRefused("a welcome message belongs to chat presets (ctwa, messenger, instagram_direct, ...)")
    cta = call_to_action(preset, link, lead_form_id)
    story: dict[str, Any] = {"page_id": _need(destinations.page_id, "a Facebook page (ads_configure page_id)")}
    if preset == "instagram_direct":
        story["instagram_user_id"] = _need(
            destinations.instagram_user_id, "an Instagram account (ads_configure instagram_user_id)"
        )
    extra = {"page_welcome_message": welcome.graph()} if welcome else {}
    if "video_id" in medium:
        video = {"video_id": medium["video_id"], "message": message, "call_to_action": cta, **medium["thumbnail"]}
        story["video_data"] = video | ({"title": headline} if headline else {}) | extra
        return story
    target = link if preset == "website_leads" else WHATSAPP_LINK if spec.app_destination == "WHATSAPP" else None
    data: dict[str, Any] = {"image_hash": medium["image_hash"], "message": message, "call_to_action": cta}
    if target or link:
        data["link"] = target or link
    elif preset in ("messenger", "instagram_direct", "lead_form"):
        data["link"] = f"https://www.facebook.com/{story['page_id']}"
    story["link_data"] = data | ({"name": headline} if headline else {}) | extra
    return story
