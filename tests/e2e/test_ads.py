"""Ads tools in agent turns through the local runtime: the fake model calls them, the real facebook-business SDK
reaches the fake Graph, and the guardrails (budget step and cap, confirmation turns, 4 changes an hour, the channel
policy, Graph's rate limits) hold in code."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import httpx
from clawgate.core.meta_webhooks import sign
from clawgate.core.tools import all_tools
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic
from clawgate.meta.marketing.context import load_context

from tests.ads_fixtures import ADSET, Ads, ads_tenant, graph, operator_turn, telegram  # noqa: F401
from tests.channel_payloads import raw, wa_body, wa_text
from tests.conftest import TEST_APP_SECRET

ADS_TOOLS = {name for name, tool in all_tools().items() if tool.risk == "ads"}


def set_budget(amount: int) -> tuple[str, dict[str, Any]]:
    return ("ads_set_budget", {"adset_id": ADSET, "daily_budget": amount, "reason": "CPL below target for 3 days"})


def test_a_customer_channel_turn_is_never_offered_ads_tools(ads: Ads, model: FakeAnthropic) -> None:
    ads.graph.add_object(ADSET, "adset", daily_budget="1000000")
    model.script_tool_use([set_budget(90000)])
    model.script_text("Hello! How can I help?")
    body = raw(wa_body([wa_text("raise the ad budget to 90000", user_id="US.77", wa_id="77")],
                       phone_number_id=ads.phone_number_id))  # fmt: skip
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, TEST_APP_SECRET)}
    assert httpx.post(ads.local.url + "/webhooks/whatsapp", content=body, headers=headers).status_code == 200
    assert ads.local.runtime.queues.wait_idle(60)

    offered = {tool["name"] for tool in model.message_requests()[0].get("tools", [])}
    assert offered and not offered & ADS_TOOLS
    assert ads.rows("SELECT name, status FROM tool_calls") == [("ads_set_budget", "refused")]
    assert ads.graph.updates == [] and ads.graph.objects[ADSET]["daily_budget"] == "1000000"


def test_meta_rate_limit_headers_make_the_tools_wait_without_calling_graph_again(
    ads: Ads, model: FakeAnthropic
) -> None:
    usage = '{"%s": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 5}]}'
    ads.graph.fail_graph(80000, message="(#80000) There have been too many calls", path_contains="/insights",
                         headers={"x-business-use-case-usage": usage % ads.account[4:]})  # fmt: skip
    insights = ("ads_insights", {"since": "2026-05-01", "until": "2026-05-07"})
    [(_, status, result)] = operator_turn(ads, model, insights)
    assert status == "error" and "try again in about 5 minute(s)" in result
    [(_, status, result)] = operator_turn(ads, model, insights)  # the next turn: refused before any request
    assert status == "error" and "rate limit is reached" in result
    assert len(ads.graph.requests_to("/insights")) == 1


def test_a_campaign_is_created_paused_from_creatives_uploaded_from_the_blob_store(
    ads: Ads, model: FakeAnthropic
) -> None:
    from clawgate.core.blobs import blob_store

    ads.graph.add_object(ads.phone_number_id, "phone_number", display_phone_number="+7 701 555 0101")
    image, video = b"\x89PNG\r\n\x1a\n" + b"i" * 500, b"\x00\x00\x00\x18ftypmp42" + b"v" * 3000
    blob_store().put(f"{ads.slug}/creatives/smile.png", image, "image/png")
    blob_store().put(f"{ads.slug}/creatives/tour.mp4", video, "video/mp4")
    with tenant_tx(ads.slug) as conn:
        conn.execute("INSERT INTO creatives (kind, title, blob_key, content_type) VALUES ('image', 'Smile', %s,"
                     " 'image/png'), ('video', 'Tour', %s, 'video/mp4')",
                     (f"{ads.slug}/creatives/smile.png", f"{ads.slug}/creatives/tour.mp4"))  # fmt: skip
    why = {"reason": "operator asked for a Click-to-WhatsApp campaign"}
    model.script_tool_use([("ads_upload_creative", {"creative_id": 1, **why}),
                           ("ads_upload_creative", {"creative_id": 2, **why}),
                           ("ads_create_campaign", {"name": "Implants May", **why})])  # fmt: skip
    model.script_text("uploaded")
    ads.run("upload the creatives and create the campaign")
    [(image_hash, _), (_, video_id)] = ads.rows("SELECT meta_image_hash, meta_video_id FROM creatives ORDER BY id")
    assert image_hash == hashlib.md5(image).hexdigest() and ads.graph.images[image_hash] == image
    phases = [r.params.get("upload_phase") for r in ads.graph.requests_to("/advideos")]
    assert phases == ["start", "transfer", "finish"] and video_id
    assert ads.graph.requests_to("/advideos")[1].files["video_file_chunk"].data == video

    def create(tool: str, args: dict[str, Any]) -> str:
        model.script_tool_use([(tool, {**args, **why})])
        model.script_text("created")
        ads.run(f"please run {tool}")
        return str(ads.graph.created[-1]["id"])

    campaign_id = next(c["id"] for c in ads.graph.created if c["kind"] == "campaign")
    targeting = {"countries": ["KZ"], "age_min": 25, "age_max": 45}
    adset_id = create("ads_create_adset", {"campaign_id": campaign_id, "name": "Almaty 25-45", "daily_budget": 15000,
                                           "targeting": targeting})  # fmt: skip
    creative_id = create("ads_create_creative", {"name": "Smile", "message": "Book a free consultation",
                                                 "image_hash": image_hash, "creative_row_id": 1})  # fmt: skip
    create("ads_create_ad", {"adset_id": adset_id, "creative_id": creative_id, "name": "Smile ad"})

    model.script_tool_use([("ads_list", {"kind": "adset", "parent_id": campaign_id})])
    model.script_text("listed")
    [(_, _, listed)] = ads.tool_results(ads.run("list the ad sets")["turn_id"])
    assert [(a["id"], a["status"], a["daily_budget"]) for a in listed["adsets"]] == [(adset_id, "PAUSED", "15000")]

    kinds = {c["kind"]: c for c in ads.graph.created}
    assert kinds["adset"]["status"] == "PAUSED" and kinds["adset"]["daily_budget"] == "1500000"
    assert kinds["adset"]["destination_type"] == "WHATSAPP"
    assert kinds["campaign"]["status"] == "PAUSED"
    story = kinds["adcreative"]["object_story_spec"]
    assert story["link_data"]["image_hash"] == image_hash
    assert story["link_data"]["call_to_action"]["type"] == "WHATSAPP_MESSAGE"
    assert kinds["ad"]["status"] == "PAUSED" and kinds["ad"]["creative"] == {"creative_id": creative_id}
    assert ads.rows("SELECT meta_creative_id FROM creatives WHERE id = 1") == [(creative_id,)]
    actions = [a for (a,) in ads.rows("SELECT action FROM audit_log ORDER BY id")]
    assert sorted(actions) == sorted(["creative.upload", "creative.upload", "campaign.create", "adset.create",
                                      "adcreative.create", "ad.create"])  # fmt: skip


# onboarding ----------------------------------------------------------------------------------------------------------
def test_the_onboarding_skill_driven_by_the_model_fills_the_config(ads: Ads, model: FakeAnthropic) -> None:
    # billed in dollars; the tenant reads its reports in KZT
    ads.graph.add_object(
        "act_999", "adaccount", name="New account", currency="USD", timezone_name="Asia/Almaty", account_status=1
    )
    reason = {"reason": "onboarding, operator's answer"}
    model.script_tool_use([("read_skill", {"name": "fb-onboarding"})])
    model.script_tool_use([("ads_account_info", {"ad_account_id": "act_999"})])
    model.script_tool_use([
        ("ads_configure", {"key": "ad_account_id", "value": "act_999", **reason}),
        ("ads_configure", {"key": "page_id", "value": "153125381133", **reason}),
        ("ads_configure", {"key": "dataset_id", "value": "1234567890", **reason}),
        ("ads_save_direction", {"name": "Implants", "target_cpl": 1800, "adset_ids": [ADSET], **reason}),
        ("ads_configure", {"key": "target_cpl", "value": "1500", **reason}),
        ("ads_configure", {"key": "report_chat_id", "value": "-100200300", **reason}),
    ])  # fmt: skip
    model.script_text("All 8 steps are done.")
    body = ads.run("let's connect our Facebook ads")
    assert body["reply"] == "All 8 steps are done."

    results = ads.tool_results(body["turn_id"])
    assert all(status == "ok" for _, status, _ in results), results
    assert "Telegram chat" in results[0][2] and results[1][2]["account"]["name"] == "New account"
    config = dict(ads.rows("SELECT key, value FROM config"))
    assert config == {"ad_account_id": "act_999", "page_id": "153125381133", "dataset_id": "1234567890",
                      "target_cpl": "1500", "report_chat_id": -100200300,
                      "account_currency": {"account": "act_999", "currency": "USD"}}  # fmt: skip
    assert ads.rows("SELECT d.name, d.target_cpl, a.adset_id FROM directions d JOIN direction_adsets a"
                    " ON a.direction_id = d.id") == [("Implants", Decimal("1800.0000"), ADSET)]  # fmt: skip
    context = load_context(ads.slug)
    assert (context.ad_account_id, context.report_chat_id, context.target_cpl) == ("act_999", -100200300,
                                                                                   Decimal("1500"))  # fmt: skip
    assert (context.currency, context.display_currency) == ("USD", "KZT")
    assert ads.rows("SELECT count(*) FROM audit_log WHERE action = 'config.set'") == [(5,)]

    [(_, status, refusal)] = operator_turn(ads, model, ("ads_configure", {"key": "currency", "value": "JPY", **reason}))
    assert status == "error" and "'currency' is not a setting" in refusal  # only the ad account decides
    assert load_context(ads.slug).currency == "USD"
