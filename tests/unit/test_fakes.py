"""The loopback fakes, driven through the real SDKs (anthropic, facebook-business) and httpx."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram, graph_error
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.lead import Lead
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.event_request import EventRequest
from facebook_business.adobjects.serverside.user_data import UserData
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

TOKEN = "123456:TEST-token"


# ---------------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def client(fake_anthropic: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test", base_url=fake_anthropic.url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    previous_graph, previous_api = FacebookSession.GRAPH, FacebookAdsApi.get_default_api()
    with FakeGraph() as fake:
        FacebookSession.GRAPH = fake.url
        FacebookAdsApi.init(access_token="graph-token", crash_log=False)
        try:
            yield fake
        finally:
            FacebookSession.GRAPH = previous_graph
            FacebookAdsApi.set_default_api(previous_api)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------------------------
# base behaviour


def test_base_records_and_fails_then_recovers(telegram: FakeTelegram) -> None:
    telegram.fail_next(500, times=2, path_contains="getMe")
    codes = [httpx.get(f"{telegram.url}/bot{TOKEN}/getMe").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert len(telegram.requests_to("/getMe")) == 3
    assert telegram.requests[0].headers["host"].startswith("127.0.0.1")
    telegram.reset()
    assert telegram.requests == []


# ---------------------------------------------------------------------------------------------------------------
# Anthropic


def test_anthropic_text_answer(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.script_text("Hello from the fake")
    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, system="Be brief.", messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "Hello from the fake"
    assert message.model == "claude-sonnet-4-5" and message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    (recorded,) = fake_anthropic.requests_to("/v1/messages")
    assert recorded.headers["authorization"] == "Bearer test" or recorded.headers.get("x-api-key") == "test"
    assert isinstance(recorded.json, dict)
    assert (recorded.json["system"], recorded.json["max_tokens"]) == ("Be brief.", 256)
    # script empty: the default echoes the last user text
    echo = client.messages.create(model="m", max_tokens=64, messages=[{"role": "user", "content": "ping"}])
    assert echo.content[0].type == "text" and echo.content[0].text == "fake reply to: ping"


def test_anthropic_tool_use_answer(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.script_tool_use([("get_insights", {"level": "ad"}), ("send_report", {"chat": 1})], text="On it")
    tools = [{"name": "get_insights", "description": "d", "input_schema": {"type": "object"}}]
    message = client.messages.create(
        model="m",
        max_tokens=512,
        tools=tools,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "report please"}],
    )
    assert message.stop_reason == "tool_use"
    uses = [b for b in message.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [("get_insights", {"level": "ad"}), ("send_report", {"chat": 1})]
    assert len({u.id for u in uses}) == 2 and all(u.id.startswith("toolu_") for u in uses)
    assert fake_anthropic.message_requests()[0]["tools"][0]["name"] == "get_insights"


def test_anthropic_stream(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.script_text("A streamed answer that spans several deltas.")
    with client.messages.stream(model="m", max_tokens=100, messages=[{"role": "user", "content": "go"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 3 and "".join(pieces) == "A streamed answer that spans several deltas."
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 1
    assert fake_anthropic.message_requests()[0]["stream"] is True


def test_anthropic_stream_tool_use_and_cache(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.script_tool_use([("lookup", {"query": "spend by ad yesterday"})])
    system: list[anthropic.types.TextBlockParam] = [
        {"type": "text", "text": "long system prompt " * 50, "cache_control": {"type": "ephemeral"}}
    ]
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "x"}]
    with client.messages.stream(model="m", max_tokens=100, system=system, messages=messages) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use" and final.content[0].input == {"query": "spend by ad yesterday"}
    assert final.usage.cache_creation_input_tokens and not final.usage.cache_read_input_tokens
    again = client.messages.create(model="m", max_tokens=100, system=system, messages=messages)
    assert again.usage.cache_read_input_tokens == final.usage.cache_creation_input_tokens


def test_anthropic_overloaded_and_rate_limited(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.fail_overloaded()
    fake_anthropic.fail_rate_limited(retry_after=7)
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert overloaded.value.status_code == 529 and isinstance(overloaded.value, anthropic.InternalServerError)
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert limited.value.response.headers["retry-after"] == "7"
    assert client.messages.count_tokens(model="m", messages=[{"role": "user", "content": "x"}]).input_tokens > 0
    assert len(fake_anthropic.requests_to("/v1/messages")) == 3


def test_anthropic_responder(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.responder = lambda body: f"{len(body['messages'])} messages"
    message = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert message.content[0].type == "text" and message.content[0].text == "1 messages"


# ---------------------------------------------------------------------------------------------------------------
# Meta Graph through facebook-business


def test_graph_lead(graph: FakeGraph) -> None:
    field_data = [{"name": "full_name", "values": ["Joe"]}, {"name": "phone_number", "values": ["+79990001122"]}]
    graph.add_lead("444", field_data, ad_id="555", form_id="666", campaign_id="777")
    lead = Lead("444").api_get(fields=["id", "ad_id", "form_id", "field_data", "created_time"])
    assert lead["field_data"] == field_data and lead["ad_id"] == "555"
    assert "campaign_id" not in lead.export_all_data()
    (recorded,) = graph.requests_to("/444")  # the SDK requests nodes with a trailing slash
    assert recorded.path == "/v26.0/444/" and recorded.query["access_token"] == "graph-token"
    assert recorded.query["fields"] == "id,ad_id,form_id,field_data,created_time"


def test_graph_capi_event(graph: FakeGraph) -> None:
    user = UserData(phone="+1 650 555 1234", ctwa_clid="ctwa-1")
    event = Event(
        event_name="QualifiedLead",
        event_time=1_763_700_000,
        event_id="e-1",
        user_data=user,
        action_source=ActionSource.BUSINESS_MESSAGING,
    )
    response = EventRequest(pixel_id="9001", events=[event], test_event_code="TEST1").execute()
    assert response.events_received == 1
    (sent,) = graph.capi_events("9001")
    assert sent["event_name"] == "QualifiedLead" and sent["user_data"]["ctwa_clid"] == "ctwa-1"
    assert len(sent["user_data"]["ph"][0]) == 64  # hashed by the SDK
    recorded = graph.requests_to("/9001/events")[0]
    assert recorded.headers["content-type"] == "application/x-www-form-urlencoded"
    assert isinstance(json.loads(recorded.form["data"])[0], str)  # a JSON list of JSON-encoded events


def test_graph_insights_paging(graph: FakeGraph) -> None:
    rows = [
        {"ad_id": str(i), "impressions": 100 * i, "spend": 1.5 * i, "actions": [{"action_type": "lead", "value": i}]}
        for i in range(1, 6)
    ]
    graph.add_insights("act_42", rows, level="ad")
    graph.add_insights("act_42", [{"impressions": 1}], level="campaign")
    cursor = AdAccount("act_42").get_insights(
        fields=["ad_id", "impressions", "spend", "actions"], params={"level": "ad", "limit": 3}
    )
    got = [dict(row) for row in cursor]
    assert [r["ad_id"] for r in got] == ["1", "2", "3", "4", "5"]
    assert got[1]["impressions"] == "200" and got[1]["spend"] == "3.0"
    assert got[4]["actions"] == [{"action_type": "lead", "value": "5"}]
    pages = graph.requests_to("/act_42/insights")
    assert len(pages) == 2 and "after" in pages[1].query and pages[0].query["level"] == "ad"


def test_graph_create_and_update(graph: FakeGraph) -> None:
    campaign = AdAccount("act_42").create_campaign(
        params={"name": "C", "objective": "OUTCOME_LEADS", "special_ad_categories": [], "status": "PAUSED"}
    )
    assert campaign["id"] in graph.objects and graph.created[0]["special_ad_categories"] == []
    AdSet(campaign["id"]).api_update(params={"daily_budget": 5000, "status": "ACTIVE"})
    assert graph.updates == [(campaign["id"], {"daily_budget": "5000", "status": "ACTIVE"})]
    assert [c["id"] for c in graph.objects_of("campaign", "act_42")] == [campaign["id"]]


def test_graph_error_190(graph: FakeGraph) -> None:
    graph.fail_next(400, graph_error(190, 463, "Error validating access token: Session has expired"))
    with pytest.raises(FacebookRequestError) as caught:
        Lead("1").api_get(fields=["id"])
    assert caught.value.api_error_code() == 190 and caught.value.api_error_subcode() == 463
    assert len(graph.requests) == 1


def test_graph_whatsapp_send_read_and_media(graph: FakeGraph) -> None:
    headers = {"authorization": "Bearer wa-token"}
    body = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}}
    sent = httpx.post(f"{graph.url}/v26.0/1065/messages", json=body, headers=headers).json()
    assert sent["messages"][0]["id"].startswith("wamid.") and sent["contacts"][0]["wa_id"] == "16505551234"
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    assert httpx.post(f"{graph.url}/v26.0/1065/messages", json=read, headers=headers).json() == {"success": True}
    assert graph.sent_whatsapp("16505551234")[0]["text"] == {"body": "hi"} and len(graph.read_receipts) == 1
    graph.add_media("m1", b"JPEGDATA", "image/jpeg")
    meta = httpx.get(f"{graph.url}/v26.0/m1", headers=headers).json()
    assert meta["file_size"] == 8 and meta["mime_type"] == "image/jpeg"
    assert httpx.get(meta["url"], headers=headers).content == b"JPEGDATA"


# ---------------------------------------------------------------------------------------------------------------
# Telegram through httpx


def test_telegram_send_message(telegram: FakeTelegram) -> None:
    api = f"{telegram.url}/bot{TOKEN}"
    first = httpx.post(f"{api}/sendMessage", json={"chat_id": 77, "text": "hello"}).json()
    second = httpx.post(f"{api}/sendMessage", data={"chat_id": "77", "text": "again"}).json()
    assert first["ok"] and first["result"]["chat"] == {**first["result"]["chat"], "id": 77, "type": "private"}
    assert second["result"]["message_id"] == first["result"]["message_id"] + 1
    assert [m["text"] for m in telegram.sent_messages(chat_id=77)] == ["hello", "again"]
    assert httpx.post(f"{api}/sendMessage", json={"chat_id": 77, "text": ""}).status_code == 400
    assert httpx.get(f"{telegram.url}/botWRONG/getMe").status_code == 401


def test_telegram_rate_limited(telegram: FakeTelegram) -> None:
    telegram.fail_rate_limited(retry_after=3, method="sendMessage")
    api = f"{telegram.url}/bot{TOKEN}"
    limited = httpx.post(f"{api}/sendMessage", json={"chat_id": 5, "text": "x"})
    assert limited.status_code == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert httpx.post(f"{api}/sendMessage", json={"chat_id": 5, "text": "x"}).json()["ok"] is True
    assert len(telegram.sent_messages()) == 1 and len(telegram.requests_to("/sendMessage")) == 2


def test_telegram_send_photo_multipart_and_files(telegram: FakeTelegram) -> None:
    api = f"{telegram.url}/bot{TOKEN}"
    png = _png(3, 2)
    answer = httpx.post(
        f"{api}/sendPhoto",
        data={"chat_id": "-1001", "caption": "chart"},
        files={"photo": ("chart.png", png, "image/png")},
    ).json()
    photo = answer["result"]["photo"][0]
    assert (photo["width"], photo["height"]) == (3, 2) and answer["result"]["chat"]["type"] == "supergroup"
    (sent,) = telegram.sent_photos(chat_id=-1001)
    assert sent["upload"].data == png and sent["upload"].content_type == "image/png"
    assert sent["upload"].data.startswith(b"\x89PNG")
    path = httpx.get(f"{api}/getFile", params={"file_id": photo["file_id"]}).json()["result"]["file_path"]
    assert httpx.get(f"{telegram.url}/file/bot{TOKEN}/{path}").content == png


def test_telegram_webhook(telegram: FakeTelegram) -> None:
    api = f"{telegram.url}/bot{TOKEN}"
    hook = {"url": "https://gw.example/tg/abc", "secret_token": "s3cr3t_-", "allowed_updates": ["message"]}
    assert httpx.post(f"{api}/setWebhook", json=hook).json()["description"] == "Webhook was set"
    info = httpx.get(f"{api}/getWebhookInfo").json()["result"]
    assert info["url"] == hook["url"] and info["allowed_updates"] == ["message"] and info["pending_update_count"] == 0
    assert telegram.webhook is not None and telegram.webhook["secret_token"] == "s3cr3t_-"
    assert httpx.post(f"{api}/setWebhook", json={**hook, "secret_token": "bad token!"}).status_code == 400
    httpx.post(f"{api}/deleteWebhook")
    assert httpx.get(f"{api}/getWebhookInfo").json()["result"]["url"] == ""
