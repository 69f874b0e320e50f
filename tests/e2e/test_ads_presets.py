"""Campaign presets through operator turns: the real facebook-business SDK posts to the fake Graph, and each request
is checked field by field against what Meta requires in v26 (the fake also refuses, as Meta does, an ad set without
`advantage_audience`, special categories without a country, and Messenger lead generation)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic
from clawgate.local.fakes.graph_support import decode_params

from tests.ads_fixtures import Ads, ads_tenant, graph, operator_turn, telegram  # noqa: F401
from tests.channel_fixtures import WHATSAPP_TOKEN

CAMPAIGNS = {"OUTCOME_ENGAGEMENT": "120330000000000001", "OUTCOME_LEADS": "120330000000000002",
             "OUTCOME_SALES": "120330000000000003"}  # fmt: skip
WHY = {"reason": "operator asked for a new campaign"}
KZ_25_45 = {"countries": ["KZ"], "age_min": 25, "age_max": 45}


def posted(ads: Ads, edge: str) -> list[dict[str, Any]]:
    """The decoded parameters of every POST to `edge` (e.g. "/adsets"), as the fake received them."""
    return [decode_params(r.params) for r in ads.graph.requests_to(edge, "POST")]


@pytest.fixture
def accounts(ads: Ads) -> Ads:
    ads.graph.add_object(ads.phone_number_id, "phone_number", display_phone_number="+7 701 555 0101")
    for objective, campaign_id in CAMPAIGNS.items():
        ads.graph.add_object(campaign_id, "campaign", objective=objective, account_id=ads.account[4:])
    with tenant_tx(ads.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('pixel_id', '\"555000111\"'),"
                     " ('instagram_user_id', '\"17841400000000000\"')")  # fmt: skip
    return ads


def adset(preset: str, objective: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    args = {"campaign_id": CAMPAIGNS[objective], "name": f"{preset} Almaty", "daily_budget": 10000, "preset": preset,
            "targeting": KZ_25_45, **WHY, **extra}  # fmt: skip
    return ("ads_create_adset", args)


def test_a_click_to_whatsapp_campaign_carries_the_tenants_number_advantage_audience_and_a_welcome_message(
    accounts: Ads, model: FakeAnthropic
) -> None:
    ads, page = accounts, accounts.tenant.meta.page_id if accounts.tenant.meta else None
    welcome = {"text": "Hi! Ask us about implants", "ice_breakers": ["How much is it?", "Can I book a visit?"]}
    results = operator_turn(
        ads, model,
        ("ads_create_campaign", {"name": "Implants CTWA", "preset": "ctwa", **WHY}),
        adset("ctwa", "OUTCOME_ENGAGEMENT"),
        ("ads_create_creative", {"name": "Smile", "preset": "ctwa", "message": "Book a free consultation",
                                 "image_hash": "abc123", "welcome_message": welcome, **WHY}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["ok", "ok", "ok"], results

    [campaign] = posted(ads, "/campaigns")
    assert campaign["objective"] == "OUTCOME_ENGAGEMENT" and campaign["special_ad_categories"] == []
    assert campaign["status"] == "PAUSED" and "special_ad_category_country" not in campaign

    [created] = posted(ads, "/adsets")
    assert created["promoted_object"] == {"page_id": page, "whatsapp_phone_number": "+77015550101"}
    assert (created["destination_type"], created["optimization_goal"], created["billing_event"]) == (
        "WHATSAPP", "CONVERSATIONS", "IMPRESSIONS")  # fmt: skip
    assert created["targeting"]["targeting_automation"] == {"advantage_audience": 0}  # custom ages: hard limits
    assert (created["targeting"]["age_min"], created["targeting"]["age_max"]) == (25, 45)
    assert created["targeting"]["geo_locations"]["countries"] == ["KZ"]
    assert created["daily_budget"] == "1000000" and created["status"] == "PAUSED"
    assert results[1][2]["result"] == "onsite_conversion.messaging_conversation_started_7d"

    [creative] = posted(ads, "/adcreatives")
    link_data = creative["object_story_spec"]["link_data"]
    assert creative["object_story_spec"]["page_id"] == page
    assert link_data["call_to_action"] == {"type": "WHATSAPP_MESSAGE", "value": {"app_destination": "WHATSAPP"}}
    assert link_data["link"] == "https://api.whatsapp.com/send"
    opening = json.loads(link_data["page_welcome_message"])
    assert opening["text_format"]["message"]["text"] == "Hi! Ask us about implants"
    assert [q["title"] for q in opening["text_format"]["message"]["ice_breakers"]] == welcome["ice_breakers"]
    [number_read] = ads.graph.requests_to(f"/{ads.phone_number_id}", "GET")
    assert number_read.bearer_token == WHATSAPP_TOKEN  # asked of Graph with the number's own token


@pytest.mark.parametrize(
    ("preset", "objective", "destination", "goal", "promoted", "cta"),
    [
        ("messenger", "OUTCOME_ENGAGEMENT", "MESSENGER", "CONVERSATIONS", {"page_id": "PAGE"},
         {"type": "MESSAGE_PAGE", "value": {"app_destination": "MESSENGER"}}),
        ("instagram_direct", "OUTCOME_ENGAGEMENT", "INSTAGRAM_DIRECT", "CONVERSATIONS", {"page_id": "PAGE"},
         {"type": "INSTAGRAM_MESSAGE", "value": {"app_destination": "INSTAGRAM_DIRECT"}}),
        ("lead_form", "OUTCOME_LEADS", "ON_AD", "LEAD_GENERATION", {"page_id": "PAGE"},
         {"type": "SIGN_UP", "value": {"lead_gen_form_id": "777000"}}),
        ("website_leads", "OUTCOME_LEADS", "WEBSITE", "OFFSITE_CONVERSIONS",
         {"pixel_id": "555000111", "custom_event_type": "LEAD"},
         {"type": "LEARN_MORE", "value": {"link": "https://acme.example/implants"}}),
        ("whatsapp_conversions", "OUTCOME_SALES", "WHATSAPP", "OFFSITE_CONVERSIONS",
         {"page_id": "PAGE", "whatsapp_phone_number": "+77015550101", "pixel_id": "1234567890",
          "custom_event_type": "PURCHASE"},
         {"type": "WHATSAPP_MESSAGE", "value": {"app_destination": "WHATSAPP"}}),
    ],
)  # fmt: skip
def test_each_preset_posts_the_objective_destination_goal_promoted_object_and_call_to_action_meta_requires(
    accounts: Ads, model: FakeAnthropic, preset: str, objective: str, destination: str, goal: str,
    promoted: dict[str, str], cta: dict[str, Any],
) -> None:  # fmt: skip
    ads = accounts
    page = ads.tenant.meta.page_id if ads.tenant.meta else ""
    creative = {"name": preset, "preset": preset, "message": "Implants from 990 USD", "image_hash": "abc123",
                "link": "https://acme.example/implants", "lead_form_id": "777000", **WHY}  # fmt: skip
    results = operator_turn(ads, model, ("ads_create_campaign", {"name": preset, "preset": preset, **WHY}),
                            adset(preset, objective), ("ads_create_creative", creative))  # fmt: skip
    assert [status for _, status, _ in results] == ["ok", "ok", "ok"], results

    assert posted(ads, "/campaigns")[0]["objective"] == objective
    [created] = posted(ads, "/adsets")
    assert (created["destination_type"], created["optimization_goal"]) == (destination, goal)
    assert created["promoted_object"] == {k: page if v == "PAGE" else v for k, v in promoted.items()}
    assert created["targeting"]["targeting_automation"]["advantage_audience"] in (0, 1)
    story = posted(ads, "/adcreatives")[0]["object_story_spec"]
    assert story["link_data"]["call_to_action"] == cta and story["page_id"] == page
    if preset == "instagram_direct":
        assert story["instagram_user_id"] == "17841400000000000"


def test_refusals_happen_before_any_write(accounts: Ads, model: FakeAnthropic) -> None:
    ads = accounts
    results = operator_turn(
        ads, model,
        ("ads_create_campaign", {"name": "Loans", "special_ad_categories": ["FINANCIAL_PRODUCTS_SERVICES"], **WHY}),
        ("ads_create_campaign", {"name": "Old", "special_ad_categories": ["CREDIT"], **WHY}),
        adset("lead_form", "OUTCOME_ENGAGEMENT"),  # a lead-form ad set in an engagement campaign
        adset("ctwa", "OUTCOME_ENGAGEMENT", targeting={"countries": ["KZ"], "age_min": 30, "advantage_audience": 1}),
        ("ads_create_creative", {"name": "x", "preset": "lead_form", "message": "m", "image_hash": "h", **WHY}),
        ("ads_create_creative", {"name": "x", "preset": "website_leads", "message": "m", "image_hash": "h",
                                 "welcome_message": {"text": "hi"}, "link": "https://a.example", **WHY}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["error"] * 6, results
    assert "special_ad_category_country" in results[0][2]
    assert "'FINANCIAL_PRODUCTS_SERVICES'" in results[1][2]  # CREDIT is gone
    assert "objective OUTCOME_LEADS" in results[2][2]
    assert "age_min can be at most 25" in results[3][2]
    assert "lead form" in results[4][2] and "welcome message" in results[5][2]
    assert posted(ads, "/campaigns") == posted(ads, "/adsets") == posted(ads, "/adcreatives") == []


def test_special_categories_carry_their_country_and_broad_targeting_turns_advantage_audience_on(
    accounts: Ads, model: FakeAnthropic
) -> None:
    ads = accounts
    ads.graph.locations.append({"key": "1522245", "name": "Almaty", "type": "city", "country_code": "KZ"})
    results = operator_turn(
        ads, model,
        ("ads_create_campaign", {"name": "Flats", "preset": "lead_form", "special_ad_categories": ["HOUSING"],
                                 "special_ad_category_country": ["KZ"], **WHY}),
        ("ads_search_locations", {"query": "alma", "country": "KZ"}),
        adset("ctwa", "OUTCOME_ENGAGEMENT", targeting={"cities": [{"key": "1522245", "radius": 20}]}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["ok", "ok", "ok"], results
    campaign = posted(ads, "/campaigns")[0]
    assert campaign["special_ad_categories"] == ["HOUSING"] and campaign["special_ad_category_country"] == ["KZ"]
    assert results[1][2]["cities"] == [{"key": "1522245", "name": "Almaty", "type": "city", "country_code": "KZ"}]
    search = ads.graph.requests_to("/search")[0].query
    assert (search["type"], search["q"]) == ("adgeolocation", "alma")
    targeting = posted(ads, "/adsets")[0]["targeting"]
    assert targeting["geo_locations"]["cities"] == [{"key": "1522245", "radius": 20, "distance_unit": "kilometer"}]
    assert targeting["targeting_automation"] == {"advantage_audience": 1} and "age_range" not in targeting


def test_a_campaign_budget_campaign_takes_ad_sets_without_budgets(accounts: Ads, model: FakeAnthropic) -> None:
    ads = accounts
    cbo = "120330000000000009"
    ads.graph.add_object(cbo, "campaign", objective="OUTCOME_ENGAGEMENT", daily_budget="3000000")
    results = operator_turn(
        ads, model,
        ("ads_create_campaign", {"name": "CBO", "daily_budget": 30000, **WHY}),
        ("ads_create_adset", {**adset("ctwa", "OUTCOME_ENGAGEMENT")[1], "campaign_id": cbo}),
        ("ads_create_adset", {**adset("ctwa", "OUTCOME_ENGAGEMENT")[1], "campaign_id": cbo, "daily_budget": None}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["ok", "error", "ok"], results
    campaign = posted(ads, "/campaigns")[0]
    assert campaign["daily_budget"] == "3000000" and campaign["bid_strategy"] == "LOWEST_COST_WITHOUT_CAP"
    assert "campaign budget" in results[1][2]
    [created] = posted(ads, "/adsets")
    assert "daily_budget" not in created and "bid_strategy" not in created


def test_a_lead_form_is_created_with_the_pages_token_and_a_video_creative_gets_its_thumbnail_once_processed(
    accounts: Ads, model: FakeAnthropic
) -> None:
    ads = accounts
    page = ads.tenant.meta.page_id if ads.tenant.meta else ""
    ads.graph.add_object(page, "page", access_token="EAAG-page-token")
    ads.graph.add_object(
        "9001",
        "video",
        status={"video_status": "ready"},
        thumbnails=[
            {"id": "1", "uri": "https://cdn.example/t1.jpg", "is_preferred": False},
            {"id": "2", "uri": "https://cdn.example/t2.jpg", "is_preferred": True},
        ],
    )
    ads.graph.add_object("9002", "video", status={"video_status": "error"})  # fmt: skip
    form = {"name": "Implants form", "questions": ["FULL_NAME", "PHONE"],
            "privacy_policy_url": "https://acme.example/privacy", **WHY}  # fmt: skip
    video = {"name": "Tour", "preset": "ctwa", "message": "See the clinic", **WHY}
    results = operator_turn(ads, model, ("ads_create_lead_form", form),
                            ("ads_create_creative", {**video, "video_id": "9001"}),
                            ("ads_create_creative", {**video, "video_id": "9002"}))  # fmt: skip
    assert [status for _, status, _ in results] == ["ok", "ok", "error"], results
    [form_request] = ads.graph.requests_to(f"/{page}/leadgen_forms", "POST")
    sent = decode_params(form_request.params)
    assert form_request.params.get("access_token") == "EAAG-page-token"
    assert sent["questions"] == [{"type": "FULL_NAME"}, {"type": "PHONE"}]
    assert sent["privacy_policy"] == {"url": "https://acme.example/privacy", "link_text": "Privacy policy"}
    video_data = posted(ads, "/adcreatives")[0]["object_story_spec"]["video_data"]
    assert video_data["video_id"] == "9001" and video_data["image_url"] == "https://cdn.example/t2.jpg"
    assert "could not process video 9002" in results[2][2]
