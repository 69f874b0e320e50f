"""The operator inbox end to end through the local runtime: a signed WhatsApp webhook in, conversations listed and
read over HTTP and the control plane, take over (the bot pauses: no model call, the operator is told on Telegram
with a link), a human reply at the fake Graph exactly once per Idempotency-Key, give back (the agent reads the
operator's words as a colleague's), the 24-hour window and templates, opt-outs, rules and follow-ups."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from clawgate.agent import followups
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.jobs.runner import JobRequest, run_job
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.tokens import create_token

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import WABA_ID, raw, wa_body, wa_status, wa_text
from tests.conftest import TEST_APP_SECRET, tenant_data
from tests.e2e.conftest import Client
from tests.e2e.test_control_plane import connect_operator
from tests.runtime import RunningRuntime

OPERATOR_CHAT = 123456789


@pytest.fixture
def inbox(local: RunningRuntime, make_tenant: Callable[..., Any], graph: FakeGraph,
          telegram: FakeTelegram) -> Iterator[Client]:  # fmt: skip
    slug = f"t{uuid.uuid4().hex[:8]}"
    data = tenant_data(slug)
    data["channels"]["telegram"][0]["operator"] = True
    data["handoff"] = {"keywords": ["talk to a human"], "auto_resume_minutes": 30}
    tenant = make_tenant(slug, channels=data["channels"], handoff=data["handoff"])
    apply_tenant(tenant)
    with environment(**tenant_secrets(slug)):
        yield Client(tenant, create_token(slug), local.url)


def api(client: Client, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token or client.token}"}
    return httpx.Client(base_url=f"{client.url}/api/v1/tenants/{client.tenant.slug}", headers=headers, timeout=30)


def meta_reports(local: RunningRuntime, client: Client, *statuses: dict[str, Any]) -> None:
    """Signed status webhooks about our messages, as Meta sends them."""
    data = raw(wa_body(statuses=list(statuses), phone_number_id=client.tenant.channels.whatsapp[0].phone_number_id))
    headers = {"x-hub-signature-256": sign(data, TEST_APP_SECRET), "content-type": "application/json"}
    assert httpx.post(local.url + "/webhooks/whatsapp", content=data, headers=headers, timeout=30).status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def customer_writes(
    local: RunningRuntime, client: Client, text: str, user: str = "US.500", wa_id: str | None = "77010000500",
    at: float | None = None, **extra: Any,
) -> None:  # fmt: skip
    message = wa_text(text, user_id=user, wa_id=wa_id, timestamp=str(int(at or time.time())), **extra)
    data = raw(wa_body([message], phone_number_id=client.tenant.channels.whatsapp[0].phone_number_id))
    headers = {"x-hub-signature-256": sign(data, TEST_APP_SECRET), "content-type": "application/json"}
    assert httpx.post(local.url + "/webhooks/whatsapp", content=data, headers=headers, timeout=30).status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def drain(ws: Any) -> list[dict[str, Any]]:
    """The events still on their way (pushed after each change commits)."""
    frames = []
    try:
        while True:
            frames.append(ws.receive(timeout=2))
    except TimeoutError:
        return [f for f in frames if f.get("type") == "event"]


def only_conversation(http: httpx.Client) -> dict[str, Any]:
    [item] = http.get("/conversations").json()["items"]
    return item


def test_take_over_answer_and_give_back(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    http = api(inbox)
    model.script_text("Hello! How can I help?")
    customer_writes(local, inbox, "Hi, do you have slots tomorrow?")
    item = only_conversation(http)
    assert (item["channel"], item["peer_id"], item["wa_id"], item["mode"], item["unread"]) == (
        "whatsapp", "US.500", "77010000500", "bot", 1)  # fmt: skip
    assert item["window_expires_at"] is not None and item["name"] == "Sheena"
    assert http.post(f"/conversations/{item['id']}/mode", json={"mode": "human", "author": "Anna"}).status_code == 200
    calls = len(model.message_requests())
    customer_writes(local, inbox, "Are you there?")
    assert len(model.message_requests()) == calls  # paused: no model call
    [notice] = telegram.sent_messages(OPERATOR_CHAT)
    assert "Are you there?" in notice["text"] and f"#inbox/{item['id']}" in notice["text"]

    for _ in range(2):  # a client retry with the same key sends nothing more
        sent = http.post(f"/conversations/{item['id']}/messages", json={"text": "Yes, 10:00 works.", "author": "Anna"},
                         headers={"idempotency-key": "reply-1"})  # fmt: skip
        assert sent.status_code == 201
    operator_sends = [b for b in graph.sent_whatsapp() if b["text"]["body"] == "Yes, 10:00 works."]
    assert len(operator_sends) == 1 and operator_sends[0]["to"] == "77010000500"
    transcript = http.get(f"/conversations/{item['id']}/messages").json()["items"]
    assert [(m["direction"], m["author"], m["text"]) for m in transcript] == [
        ("in", "customer", "Hi, do you have slots tomorrow?"), ("out", "agent", "Hello! How can I help?"),
        ("in", "customer", "Are you there?"), ("out", "operator", "Yes, 10:00 works.")]  # fmt: skip
    assert transcript[-1]["author_name"] == "Anna"
    assert only_conversation(http)["unread"] == 0 and only_conversation(http)["assignee"] == "Anna"

    assert http.post(f"/conversations/{item['id']}/mode", json={"mode": "bot"}).json()["changed"] is True
    model.script_text("See you tomorrow at 10!")
    customer_writes(local, inbox, "Great, thanks")
    history = str(model.message_requests()[-1]["messages"])
    assert "human colleague Anna" in history and "Yes, 10:00 works." in history and "Are you there?" in history
    numbers = http.get("/metrics/conversations", params={"days": 1}).json()
    assert (numbers["conversations"], numbers["resolved_without_human"], numbers["resolved_share"]) == (1, 0, 0.0)
    assert [d["count"] for d in numbers["handoffs_per_day"]] == [1]
    assert numbers["first_response_bot"]["count"] == 1 and numbers["first_response_human"]["count"] == 1
    human = numbers["first_response_human"]  # one response: its 95th percentile is its median
    assert human["p95_seconds"] == human["median_seconds"] is not None
    assert set(numbers["leads_by"]) == {"ad", "creative", "direction"}


def test_the_inbox_over_the_control_plane_with_live_events(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    ws, _ = connect_operator(local, inbox)
    with ws:
        model.script_text("Hello from the bot")
        customer_writes(local, inbox, "Hello?", user="US.501", wa_id="77010000501")
        [item] = ws.call("conversations.list", {"channel": "whatsapp"})["items"]
        ws.call("conversations.mode", {"conversation_id": item["id"], "mode": "human"})
        answer = ws.call("conversations.reply", {"conversation_id": item["id"], "text": "Operator here"})
        assert answer["sent"] == 1
        ws.call("conversations.update", {"conversation_id": item["id"], "labels": ["vip", "vip", "dentist"],
                                         "note": "call after 6pm"})  # fmt: skip
        events = [*ws.events, *drain(ws)]
    messages = [e["payload"]["message"] for e in events if e["event"] == "conversation.message"]
    assert {(m["author"], m["text"]) for m in messages} >= {("customer", "Hello?"), ("agent", "Hello from the bot"),
                                                             ("operator", "Operator here")}  # fmt: skip
    assert next(m for m in messages if m["author"] == "operator")["author_name"] == "test browser"  # the device
    updates = [e["payload"]["conversation"] for e in events if e["event"] == "conversation.updated"]
    assert updates[-1]["labels"] == ["vip", "dentist"] and updates[-1]["note"] == "call after 6pm"
    assert any(u["mode"] == "human" for u in updates)


def test_filters_and_cursor_pagination(local: RunningRuntime, inbox: Client, model: FakeAnthropic) -> None:
    http = api(inbox)
    for n in range(3):
        model.script_text(f"answer {n}")
        customer_writes(local, inbox, f"hello {n}", user=f"US.51{n}", wa_id=f"7701000051{n}")
    items = http.get("/conversations").json()["items"]
    assert [i["peer_id"] for i in items] == ["US.512", "US.511", "US.510"]  # latest activity first
    http.post(f"/conversations/{items[1]['id']}/mode", json={"mode": "human", "assignee": "Bob"})
    http.patch(f"/conversations/{items[2]['id']}", json={"labels": ["hot"]})
    assert [i["peer_id"] for i in http.get("/conversations?mode=human").json()["items"]] == ["US.511"]
    assert [i["peer_id"] for i in http.get("/conversations?assignee=Bob").json()["items"]] == ["US.511"]
    assert [i["peer_id"] for i in http.get("/conversations?label=hot").json()["items"]] == ["US.510"]
    assert http.get("/conversations?channel=telegram").json()["items"] == []
    first = http.get("/conversations?limit=2").json()
    second = http.get(f"/conversations?limit=2&cursor={first['next_cursor']}").json()
    assert [i["peer_id"] for i in first["items"] + second["items"]] == ["US.512", "US.511", "US.510"]
    assert second["next_cursor"] is None


def test_bad_input_names_the_field_and_changes_nothing(
    local: RunningRuntime, inbox: Client, client_for: Callable[..., Client], model: FakeAnthropic
) -> None:
    http = api(inbox)
    model.script_text("hi")
    customer_writes(local, inbox, "hello", user="US.520", wa_id=None)
    conversation = only_conversation(http)["id"]
    empty = http.post(f"/conversations/{conversation}/messages", json={"text": ""})
    assert empty.status_code == 422 and "text" in empty.json()["message"]
    mode = http.post(f"/conversations/{conversation}/mode", json={"mode": "robot"})
    assert mode.status_code == 422 and "mode" in mode.json()["message"]
    labels = http.patch(f"/conversations/{conversation}", json={"labels": ["a,b"]})
    assert labels.status_code == 422 and "labels" in labels.json()["message"]
    assert http.post("/conversations/999999/messages", json={"text": "x"}).status_code == 404
    assert http.get("/conversations?cursor=garbage").status_code == 422
    other = client_for()
    assert api(inbox, other.token).get("/conversations").status_code == 403
    assert only_conversation(http)["labels"] == [] and only_conversation(http)["mode"] == "bot"


def test_a_closed_window_offers_the_templates_and_a_template_goes_out(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    graph.add_template(WABA_ID, "appointment_reminder", "Hi {{1}}, your visit is on {{2}}.")
    graph.add_template(WABA_ID, "draft_offer", "Not yet approved", status="PENDING")
    http = api(inbox)
    model.script_text("hi")
    customer_writes(local, inbox, "hello", at=time.time() - 25 * 3600)  # the customer wrote 25 hours ago
    conversation = only_conversation(http)["id"]
    closed = http.post(f"/conversations/{conversation}/messages", json={"text": "Still interested?"})
    assert closed.status_code == 409 and closed.json()["error"] == "window_closed"
    assert [t["name"] for t in closed.json()["templates"]] == ["appointment_reminder"]  # approved ones only
    short = {"name": "appointment_reminder", "language": "en", "parameters": ["Ann"]}
    missing = http.post(f"/conversations/{conversation}/template", json=short)
    assert missing.status_code == 422 and missing.json()["field"] == "parameters"
    body = {"name": "appointment_reminder", "language": "en", "parameters": ["Ann", "Monday"]}
    for _ in range(2):
        assert http.post(f"/conversations/{conversation}/template", json=body,
                         headers={"idempotency-key": "t1"}).status_code == 201  # fmt: skip
    [sent] = [b for b in graph.sent_whatsapp() if b.get("type") == "template"]
    assert sent["template"]["name"] == "appointment_reminder" and sent["to"] == "77010000500"
    assert sent["template"]["components"][0]["parameters"][1] == {"type": "text", "text": "Monday"}
    last = http.get(f"/conversations/{conversation}/messages").json()["items"][-1]
    assert (last["text"], last["template"]) == ("Hi Ann, your visit is on Monday.", "appointment_reminder")


def status_in(wamid: str, status: str, origin: str, expires: Any) -> dict[str, Any]:
    """A status of our message with the conversation Meta bills it in (`referral_conversion`: the free entry point
    window a Click-to-WhatsApp entry gets when answered within 24 hours)."""
    conversation = {"id": uuid.uuid4().hex, "expiration_timestamp": expires, "origin": {"type": origin}}
    pricing = {"billable": origin != "referral_conversion", "pricing_model": "PMP", "category": origin}
    return {**wa_status(wamid, status, user_id="US.500"), "conversation": conversation, "pricing": pricing}


@pytest.mark.parametrize("granted", [True, False], ids=["meta-grants-72h", "no-grant"])
def test_a_click_to_whatsapp_entry_gets_72_hours_only_where_meta_grants_them(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic, granted: bool
) -> None:
    graph.add_template(WABA_ID, "offer_reminder", "Hi, still interested?")
    http = api(inbox)
    model.script_text("Welcome! A cleaning is $80.")
    entered = int(time.time()) - 30 * 3600  # the customer tapped the ad and wrote 30 hours ago; the bot answered
    referral = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120226305854810726", "source_type": "ad",
                "headline": "Smile", "ctwa_clid": "Aff-n8ZTODiE79d22Kt"}  # fmt: skip
    customer_writes(local, inbox, "Hi, I saw your ad", at=entered, referral=referral)
    [answer] = graph.sent_whatsapp()
    if granted:  # then a later status says less: the longer expiry stays
        meta_reports(local, inbox, status_in(answer["wamid"], "sent", "referral_conversion", str(entered + 72 * 3600)),
                     status_in(answer["wamid"], "delivered", "referral_conversion", entered + 50 * 3600))  # fmt: skip
    else:  # an ordinary conversation, an expiry ten years ahead, one that is not a number
        meta_reports(local, inbox, status_in(answer["wamid"], "sent", "service", str(entered + 48 * 3600)),
                     status_in(answer["wamid"], "delivered", "referral_conversion", str(entered + 3650 * 86400)),
                     status_in(answer["wamid"], "read", "referral_conversion", {"$gt": 0}))  # fmt: skip
    item = only_conversation(http)
    reply = http.post(f"/conversations/{item['id']}/messages", json={"text": "Shall I book you in?"})
    if granted:  # the free entry point's 72 hours, never shortened by a later status
        assert reply.status_code == 201, reply.text
        assert [b["text"]["body"] for b in graph.sent_whatsapp()][-1] == "Shall I book you in?"
        assert item["window_expires_at"] is not None
        assert abs(datetime.fromisoformat(item["window_expires_at"]).timestamp() - (entered + 72 * 3600)) < 1
    else:  # an ad's referral alone opens the usual 24 hours; other conversations and hostile expiries change nothing
        assert reply.status_code == 409 and reply.json()["error"] == "window_closed"
        assert [t["name"] for t in reply.json()["templates"]] == ["offer_reminder"]
        assert [b["text"]["body"] for b in graph.sent_whatsapp() if "text" in b] == ["Welcome! A cleaning is $80."]
        assert abs(datetime.fromisoformat(item["window_expires_at"]).timestamp() - (entered + 24 * 3600)) < 1


def test_a_message_stamped_in_the_future_opens_no_more_than_24_hours(
    local: RunningRuntime, inbox: Client, model: FakeAnthropic
) -> None:
    http = api(inbox)
    model.script_text("hi")
    customer_writes(local, inbox, "hello from 2100", at=4102444800)  # a hostile body's timestamp: 2100-01-01
    expires = datetime.fromisoformat(only_conversation(http)["window_expires_at"]).timestamp()
    assert expires <= time.time() + 24 * 3600


def test_stop_gets_only_the_confirmation_and_blocks_templates(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    graph.add_template(WABA_ID, "promo", "Our offer")
    http = api(inbox)
    calls = len(model.message_requests())
    customer_writes(local, inbox, "Стоп!", user="US.530")
    assert len(model.message_requests()) == calls
    assert [b["text"]["body"] for b in graph.sent_whatsapp()] == [inbox.tenant.opt_out.confirmation]
    conversation = only_conversation(http)
    assert conversation["opted_out"] is True
    refused = http.post(f"/conversations/{conversation['id']}/template", json={"name": "promo", "language": "en"})
    assert refused.status_code == 409 and refused.json()["error"] == "opted_out"
    with pytest.raises(followups.FollowUpError, match="opted out"):
        followups.schedule(inbox.tenant.slug, conversation["id"], "promo", "en", [], 60, "test")


def test_a_keyword_hands_over_and_the_agent_resumes_after_the_timeout(
    local: RunningRuntime, inbox: Client, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    http = api(inbox)
    calls = len(model.message_requests())
    customer_writes(local, inbox, "I want to TALK TO A HUMAN please", user="US.540")
    assert len(model.message_requests()) == calls and only_conversation(http)["mode"] == "human"
    assert "talk to a human" in telegram.sent_messages(OPERATOR_CHAT)[0]["text"]
    with tenant_tx(inbox.tenant.slug) as conn:  # 31 minutes pass without an operator message
        conn.execute("UPDATE conversations SET mode_changed_at = now() - interval '31 minutes'")
    result = run_job(JobRequest(tenant=inbox.tenant.slug, job="inbox"))
    assert result["status"] == "succeeded" and only_conversation(http)["mode"] == "bot"
    model.script_text("I am back")
    customer_writes(local, inbox, "hello again", user="US.540")
    assert len(model.message_requests()) == calls + 1


def test_a_follow_up_goes_out_once_when_the_customer_stays_silent(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    graph.add_template(WABA_ID, "nudge", "Still thinking, {{1}}?")
    assert run_job(JobRequest(tenant=inbox.tenant.slug, job="templates_sync"))["status"] == "succeeded"
    model.script_text("hi")
    customer_writes(local, inbox, "hello", user="US.550")
    conversation = only_conversation(api(inbox))["id"]
    follow_up, _ = followups.schedule(inbox.tenant.slug, conversation, "nudge", "en", ["Ann"], 23 * 60, "test")
    answered, _ = followups.schedule(inbox.tenant.slug, conversation, "nudge", "en", ["Ann"], 23 * 60, "test")
    with tenant_tx(inbox.tenant.slug) as conn:  # the customer last wrote 2 days ago: after `answered` was scheduled
        conn.execute("UPDATE conversations SET last_customer_at = now() - interval '2 days'")
        conn.execute("UPDATE follow_ups SET due_at = now() - interval '1 minute', created_at = now() - %s::interval"
                     " WHERE id = %s", ("1 day", follow_up))  # fmt: skip
        conn.execute("UPDATE follow_ups SET due_at = now() - interval '1 minute', created_at = now() - %s::interval"
                     " WHERE id = %s", ("3 days", answered))  # fmt: skip
    for slot in ("2026-12-07T10:00:00Z", "2026-12-07T10:10:00Z"):
        assert run_job(JobRequest(tenant=inbox.tenant.slug, job="inbox", scheduled_for=slot))["status"] == "succeeded"
    templates = [b for b in graph.sent_whatsapp() if b.get("type") == "template"]
    assert len(templates) == 1 and templates[0]["template"]["name"] == "nudge"
    with tenant_tx(inbox.tenant.slug) as conn:
        statuses = dict(conn.execute("SELECT id, status FROM follow_ups").fetchall())
    assert statuses == {follow_up: "sent", answered: "cancelled"}


def test_the_operator_agent_sends_and_schedules_templates_and_a_customer_turn_cannot(
    local: RunningRuntime, inbox: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    graph.add_template(WABA_ID, "nudge", "Still thinking, {{1}}?")
    assert run_job(JobRequest(tenant=inbox.tenant.slug, job="templates_sync"))["status"] == "succeeded"
    sneaky = {"conversation_id": 1, "name": "nudge", "language": "en", "parameters": ["you"]}
    model.script_tool_use([("send_template", sneaky)])  # a customer's turn asks for an operator-only tool
    model.script_text("Hello!")
    customer_writes(local, inbox, "hello", user="US.560")
    assert not [b for b in graph.sent_whatsapp() if b.get("type") == "template"]
    conversation = only_conversation(api(inbox))["id"]

    args = {"conversation_id": conversation, "name": "nudge", "language": "en", "parameters": ["Ann"]}
    model.script_tool_use([("send_template", args), ("schedule_follow_up", {**args, "silent_hours": 23})])
    model.script_text("Sent one now, and another if she stays silent for 23 hours.")
    assert inbox.run("director", "remind Ann with the nudge template").status_code == 200
    [sent] = [b for b in graph.sent_whatsapp() if b.get("type") == "template"]
    assert sent["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Ann"}]
    with tenant_tx(inbox.tenant.slug) as conn:
        follow_ups = conn.execute("SELECT conversation_id, template_name, silent_minutes, status FROM follow_ups")
        assert follow_ups.fetchall() == [(conversation, "nudge", 23 * 60, "scheduled")]
