"""Ad attribution, Lead Ads and the Conversions API through the local runtime: signed webhooks in, the real agent
turn (fake model), the real facebook-business SDK against the fake Graph, rows in the tenant schema, and the
operator's Telegram alerts at the fake Bot API."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile, parse_tenant

from tests.channel_fixtures import BOT_TOKEN, WHATSAPP_TOKEN
from tests.channel_payloads import raw, wa_body, wa_text
from tests.conftest import TEST_APP_SECRET
from tests.runtime import RunningRuntime

META_TOKEN = "EAAG-test-meta-token"
OPERATOR_CHAT = 123456789


@dataclass
class Shop:
    """A tenant with a WhatsApp number, a Facebook page, an operator bot and one mapped ad."""

    tenant: TenantFile
    phone_number_id: str
    page_id: str
    ad_id: str
    creative_id: int
    direction_id: int
    local: RunningRuntime

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with tenant_tx(self.slug) as conn:
            return conn.execute(sql, params).fetchall()

    def whatsapp(self, text: str, user: str, referral: dict[str, Any] | None = None, times: int = 1) -> None:
        """A signed Cloud API webhook with one message, delivered `times` times, then every queue drained."""
        extra = {"referral": referral} if referral else {}
        message = wa_text(text, user_id=f"US.{user}", wa_id=user, **extra)
        self.post("/webhooks/whatsapp", raw(wa_body([message], phone_number_id=self.phone_number_id)), times)

    def leadgen(self, leadgen_id: int, form_id: int = 987654321, times: int = 1) -> None:
        value = {"leadgen_id": leadgen_id, "page_id": int(self.page_id), "form_id": form_id, "adgroup_id": 1,
                 "ad_id": int(self.ad_id), "created_time": 1440120384}  # fmt: skip
        body = {"object": "page", "entry": [{"id": self.page_id, "time": 1438292065,
                                             "changes": [{"field": "leadgen", "value": value}]}]}  # fmt: skip
        self.post("/webhooks/meta", raw(body), times)

    def post(self, path: str, body: bytes, times: int) -> None:
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, TEST_APP_SECRET)}
        for _ in range(times):
            answer = httpx.post(self.local.url + path, content=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
        assert self.local.runtime.queues.wait_idle(60)

    def capi_log(self) -> list[tuple[Any, ...]]:
        return self.rows("SELECT level, event_name, status, attempts, error FROM capi_events_log ORDER BY level, id")


def referral(ad_id: str, clid: str | None = "Aff-n8ZTODiE79d22Kt") -> dict[str, Any]:
    data = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": ad_id, "source_type": "ad",
            "headline": "Chat with us", "body": "Summer succulents are here!", "media_type": "image",
            "image_url": "https://example.com/a.jpg", "welcome_message": {"text": "Hi there!"}}  # fmt: skip
    return data | ({"ctwa_clid": clid} if clid else {})


@pytest.fixture
def shop_for(
    local: RunningRuntime,
    make_tenant: Callable[..., TenantFile],
    graph: FakeGraph,
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Shop]:
    def make(**capi: Any) -> Shop:
        unique = str(uuid.uuid4().int)[:10]
        slug, phone_number_id, page_id, ad_id = f"attr_{unique}", f"7{unique}", f"15{unique}", f"1202{unique}"
        for name, value in (("WHATSAPP", WHATSAPP_TOKEN), ("TELEGRAM_DIRECTOR", BOT_TOKEN), ("META", META_TOKEN)):
            monkeypatch.setenv(f"CLAWGATE_SECRET_{slug.upper()}_{name}", value)
        tenant = make_tenant(
            slug,
            channels={
                "whatsapp": [{"phone_number_id": phone_number_id, "waba_id": "102290129340398", "agent": "assistant",
                              "access_token": f"secret:{slug}/whatsapp"}],
                "telegram": [{"agent": "director", "bot_token": f"secret:{slug}/telegram-director",
                              "dm_policy": "allowlist", "allow_from": [OPERATOR_CHAT], "operator": True}],
            },
            meta={"ad_account_id": f"act_{unique}", "page_id": page_id, "access_token": f"secret:{slug}/meta"},
            capi={"dataset_id": "1234567890", "threshold": 3, **capi},
        )  # fmt: skip
        apply_tenant(tenant)
        with tenant_tx(slug) as conn:
            direction = conn.execute("INSERT INTO directions (name) VALUES ('Implants') RETURNING id").fetchone()
            creative = conn.execute(
                "INSERT INTO creatives (meta_creative_id, kind, title) VALUES (%s, 'image', 'Smile') RETURNING id",
                (f"cr{ad_id}",),
            ).fetchone()
            assert direction and creative
            conn.execute(
                "INSERT INTO ad_creative_mapping (ad_id, creative_id, direction_id, adset_id, campaign_id)"
                " VALUES (%s, %s, %s, 'adset-1', 'campaign-1')",
                (ad_id, creative[0], direction[0]),
            )
        return Shop(tenant, phone_number_id, page_id, ad_id, creative[0], direction[0], local)

    return make


def events_named(fake: FakeGraph, name: str) -> list[dict[str, Any]]:
    return [e for e in fake.capi_events() if e["event_name"] == name]


@pytest.mark.iam_checked  # every AWS call checked against the synthesized policies
def test_a_ctwa_conversation_becomes_a_lead_and_one_conversion_per_level(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
    model: FakeAnthropic,
) -> None:
    shop = shop_for(test_event_code="TEST123")
    shop.whatsapp("Hi, I saw your ad", "16505551234", referral(shop.ad_id), times=3)
    dialog = shop.rows("SELECT ad_id, ctwa_clid, creative_id, direction_id, capi_msg_count FROM wa_dialogs")
    assert dialog == [(shop.ad_id, "Aff-n8ZTODiE79d22Kt", shop.creative_id, shop.direction_id, 1)]
    leads = shop.rows("SELECT source, ad_id, ctwa_clid, creative_id, direction_id, adset_id, phone FROM leads")
    assert leads == [("ctwa", shop.ad_id, "Aff-n8ZTODiE79d22Kt", shop.creative_id, shop.direction_id, "adset-1",
                      "16505551234")]  # fmt: skip
    shop.whatsapp("How much is an implant?", "16505551234", times=3)
    assert graph.capi_events() == []
    shop.whatsapp("And when can I come?", "16505551234", times=3)
    [l1] = events_named(graph, "LeadSubmitted")
    assert l1["action_source"] == "business_messaging" and l1["messaging_channel"] == "whatsapp"
    assert l1["user_data"]["ctwa_clid"] == "Aff-n8ZTODiE79d22Kt"
    assert l1["user_data"]["ph"] == [hashlib.sha256(b"16505551234").hexdigest()]

    model.script_tool_use([("update_dialog", {"qualification": "interested", "summary": "wants an implant"})])
    model.script_text("Great, let's find a time.")
    shop.whatsapp("I want an implant", "16505551234", times=3)
    [l2] = events_named(graph, "QualifiedLead")
    assert l2["user_data"]["ctwa_clid"] == "Aff-n8ZTODiE79d22Kt"
    model.script_tool_use([("update_dialog", {"qualification": "scheduled", "summary": "Friday 10:00"})])
    model.script_text("See you on Friday at 10:00.")
    shop.whatsapp("Friday 10:00 works", "16505551234", times=3)
    [l3] = events_named(graph, "Purchase")
    assert l3["custom_data"] == {"currency": "kzt", "value": 0.0}

    assert len(graph.capi_events()) == 3
    assert {batch["test_event_code"] for batch in graph.capi_batches} == {"TEST123"}
    assert len({e["event_id"] for e in graph.capi_events()}) == 3
    assert shop.capi_log() == [(1, "LeadSubmitted", "sent", 1, None), (2, "QualifiedLead", "sent", 1, None),
                               (3, "Purchase", "sent", 1, None)]  # fmt: skip
    assert shop.rows("SELECT count(*), max(capi_msg_count), max(qualification) FROM wa_dialogs") == [
        (1, 5, "scheduled")
    ]
    assert shop.rows("SELECT count(*) FROM leads") == [(1,)]
    fbtrace = shop.rows("SELECT fbtrace_id, response->>'events_received' FROM capi_events_log")
    assert all(trace and received == "1" for trace, received in fbtrace)


def test_graph_500_twice_then_success_sends_once_and_logs_every_attempt(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
) -> None:
    shop = shop_for(threshold=1)
    graph.fail_next(500, times=2, path_contains="/events")
    shop.whatsapp("Hi", "77010000001", referral(shop.ad_id))
    assert shop.capi_log() == [(1, "LeadSubmitted", "sent", 3, None)]
    [(attempts,)] = shop.rows("SELECT attempt_log FROM capi_events_log")
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "sent"]
    assert [a["error"]["status"] for a in attempts[:2]] == [500, 500]
    assert attempts[2]["events_received"] == 1 and attempts[2]["fbtrace_id"]
    assert len(graph.requests_to("/events")) == 3
    assert len(graph.capi_events()) == 1


def test_an_invalid_token_fails_alerts_the_operator_once_and_is_not_retried(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
    telegram: FakeTelegram,
) -> None:
    shop = shop_for(threshold=1)
    graph.fail_graph(190, 463, "Error validating access token: Session has expired", times=10, path_contains="/events")
    shop.whatsapp("Hi", "77010000002", referral(shop.ad_id, "clid-a"))
    assert shop.rows("SELECT status, error_code, attempts FROM capi_events_log") == [("failed", 190, 1)]
    assert len(graph.requests_to("/events")) == 1
    shop.whatsapp("Hello", "77010000003", referral(shop.ad_id, "clid-b"))
    assert shop.rows("SELECT status, error_code FROM capi_events_log") == [("failed", 190)] * 2
    assert len(graph.requests_to("/events")) == 2
    alerts = [m for m in telegram.sent_messages(OPERATOR_CHAT) if "error 190" in m["text"]]
    assert len(alerts) == 1


def test_without_a_ctwa_clid_the_event_is_skipped(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
) -> None:
    shop = shop_for(threshold=1)
    shop.whatsapp("Hi from a Status ad", "77010000004", referral(shop.ad_id, clid=None))
    assert shop.capi_log() == [(1, "LeadSubmitted", "skipped", 0, "no ctwa_clid")]
    assert shop.rows("SELECT source, ad_id, ctwa_clid FROM leads") == [("ctwa", shop.ad_id, None)]
    assert graph.requests_to("/events") == []


def test_organic_conversations_stay_dialogs_unless_the_account_asks_for_leads(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
) -> None:
    shop = shop_for(enabled=False, threshold=1)
    shop.whatsapp("Hi, found you on Google", "77010000005")
    assert shop.rows("SELECT count(*) FROM wa_dialogs") == [(1,)]
    assert shop.rows("SELECT count(*) FROM leads") == [(0,)]
    assert shop.capi_log() == [(1, "LeadSubmitted", "skipped", 0, "CAPI disabled")]
    data = shop.tenant.model_dump(mode="json")
    data["channels"]["whatsapp"][0]["organic_leads"] = True
    apply_tenant(parse_tenant(data))
    shop.whatsapp("Hi, a friend told me", "77010000006")
    assert shop.rows("SELECT source, wa_id, ad_id FROM leads") == [("organic", "77010000006", None)]
    assert graph.requests_to("/events") == []


@pytest.mark.iam_checked  # every AWS call checked against the synthesized policies
def test_a_lead_ads_lead_is_fetched_stored_once_and_reported(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
    telegram: FakeTelegram,
) -> None:
    shop = shop_for(crm_events=True)
    fields = [
        {"name": name, "values": [value]}
        for name, value in (("full_name", "Joe Doe"), ("phone_number", "+77011234567"), ("email", "joe@example.com"),
                            ("preferred_day", "Friday"))
    ]  # fmt: skip
    graph.add_lead(4401, fields, ad_id=shop.ad_id, form_id="987654321")
    shop.leadgen(4401, times=3)
    leads = shop.rows("SELECT source, leadgen_id, form_id, page_id, ad_id, name, phone, email, creative_id,"
                      " direction_id, field_data FROM leads")  # fmt: skip
    assert leads == [("lead_form", "4401", "987654321", shop.page_id, shop.ad_id, "Joe Doe", "+77011234567",
                      "joe@example.com", shop.creative_id, shop.direction_id, fields)]  # fmt: skip
    assert len(graph.requests_to("/4401", "GET")) == 1
    alerts = [m["text"] for m in telegram.sent_messages(OPERATOR_CHAT) if "Lead Ads" in m["text"]]
    assert len(alerts) == 1 and "Joe Doe" in alerts[0]
    [crm] = graph.capi_events()
    assert crm["action_source"] == "system_generated" and crm["user_data"] == {"lead_id": 4401}
    assert crm["custom_data"]["event_source"] == "crm"
    # The same notice long after the queue's five-minute deduplication window: the database still says no.
    record = {"messageId": "m-1", "body": json.dumps({"leadgen_id": "4401", "page_id": shop.page_id})}
    assert shop.local.runtime.lambdas.invoke("lead_worker", {"Records": [record]}) == {"batchItemFailures": []}
    assert shop.rows("SELECT count(*) FROM leads") == [(1,)]
    assert len(graph.requests_to("/4401", "GET")) == 1
    assert shop.capi_log() == [(0, "Lead", "sent", 1, None)]


def test_the_meta_webhook_verifies_like_the_whatsapp_one(local: RunningRuntime) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "test-verify-token"}
    assert httpx.get(local.url + "/webhooks/meta", params=params).text == "1158201444"
    wrong = httpx.get(local.url + "/webhooks/meta", params={**params, "hub.verify_token": "nope"})
    assert wrong.status_code == 403
    body = raw({"object": "page", "entry": []})
    forged = httpx.post(local.url + "/webhooks/meta", content=body, headers={"x-hub-signature-256": "sha256=00"})
    assert forged.status_code == 401


def test_mapping_sync_fills_the_mapping_from_the_ad_account(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from clawgate.cli import main

    shop = shop_for()
    account = shop.tenant.meta.ad_account_id.removeprefix("act_") if shop.tenant.meta else ""
    with tenant_tx(shop.slug) as conn:
        conn.execute("INSERT INTO directions (name) VALUES ('Whitening')")
        conn.execute("INSERT INTO direction_adsets (direction_id, adset_id) SELECT id, 'adset-9' FROM directions"
                     " WHERE name = 'Whitening'")  # fmt: skip
    shop.whatsapp("Hi", "77010000007", referral("555000001"))  # an ad nobody has mapped yet
    for n, kind in ((1, {"object_type": "VIDEO", "video_id": "v1"}), (2, {"object_type": "PHOTO"})):
        creative = {"id": f"8800{n}", "title": f"Creative {n}", "body": "Smile", "image_url": "https://x/i.jpg", **kind}
        graph.add_object(f"55500000{n}", "ad", account_id=account, name=f"Ad {n}", adset_id="adset-9",
                         campaign_id="camp-9", creative=creative)  # fmt: skip
    graph.add_object("999000001", "ad", account_id="42", name="another account's ad", creative={"id": "1"})
    assert main(["meta", "sync-mapping", "--tenant", shop.slug]) == 0
    assert "2 ads" in capsys.readouterr().out
    mapping = shop.rows(
        "SELECT m.ad_id, c.meta_creative_id, c.kind, d.name, m.adset_id, m.campaign_id, m.ad_name"
        " FROM ad_creative_mapping m JOIN creatives c ON c.id = m.creative_id"
        " JOIN directions d ON d.id = m.direction_id WHERE m.ad_id LIKE %s ORDER BY m.ad_id",
        "5550%",
    )
    assert mapping == [("555000001", "88001", "video", "Whitening", "adset-9", "camp-9", "Ad 1"),
                       ("555000002", "88002", "image", "Whitening", "adset-9", "camp-9", "Ad 2")]  # fmt: skip
    attributed = shop.rows("SELECT c.meta_creative_id FROM leads l JOIN creatives c ON c.id = l.creative_id")
    assert attributed == [("88001",)]
    assert main(["meta", "sync-mapping", "--tenant", shop.slug]) == 0
    assert shop.rows("SELECT count(*) FROM creatives WHERE meta_creative_id LIKE %s", "8800%") == [(2,)]


def test_one_tenants_webhooks_never_write_to_another_tenants_schema(
    shop_for: Callable[..., Shop],
    graph: FakeGraph,
) -> None:
    a, b = shop_for(threshold=1), shop_for(threshold=1)
    graph.add_lead(4402, [{"name": "full_name", "values": ["Ann"]}], ad_id=a.ad_id)
    a.whatsapp("Hi", "77010000008", referral(a.ad_id))
    a.leadgen(4402)
    tables = ("wa_dialogs", "leads", "capi_events_log", "inbound_events")
    assert [a.rows(f"SELECT count(*) FROM {t}")[0][0] > 0 for t in tables] == [True] * 4
    assert [b.rows(f"SELECT count(*) FROM {t}")[0][0] for t in tables] == [0] * 4


def test_a_milestone_lost_between_commit_and_enqueue_is_queued_again(
    shop_for: Callable[..., Shop], graph: FakeGraph
) -> None:
    from clawgate.meta.conversions import enqueue, record_dialog_milestone, requeue_stale

    shop = shop_for(threshold=1)
    with tenant_tx(shop.slug) as conn:  # level 1 recorded, but the process died before its queue message left
        dialog = conn.execute(
            "INSERT INTO wa_dialogs (phone_number_id, user_id, wa_id, ctwa_clid) VALUES (%s, 'US.1', '77010000009',"
            " 'clid-lost') RETURNING id",
            (shop.phone_number_id,),
        ).fetchone()
        assert dialog and record_dialog_milestone(conn, shop.slug, dialog[0], 1)
        assert not requeue_stale(conn, shop.slug)  # too recent: its message may still be on the way
        conn.execute("UPDATE capi_events_log SET created_at = now() - interval '11 minutes'")
        jobs = requeue_stale(conn, shop.slug)
    enqueue(jobs)
    assert shop.local.runtime.queues.wait_idle(60)
    assert shop.capi_log() == [(1, "LeadSubmitted", "sent", 1, None)]
    assert [e["user_data"]["ctwa_clid"] for e in graph.capi_events()] == ["clid-lost"]
    with tenant_tx(shop.slug) as conn:
        assert requeue_stale(conn, shop.slug) == []
