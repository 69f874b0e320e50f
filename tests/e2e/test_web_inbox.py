"""The operator inbox in a real browser (Playwright driving Chromium, as in test_web_ui) on a 390 px phone screen:
a WhatsApp customer writes, the operator takes the conversation over, answers (the reply reaches the fake Graph),
sees the customer's next message arrive live with no model call, gives the conversation back; a conversation whose
24-hour window closed offers the template picker instead of the reply box. Screenshots go to test-output/."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.core.meta_webhooks import sign
from clawgate.db import registry_tx, tenant_tx
from clawgate.gateway.data import devices
from clawgate.local.fakes import FakeAnthropic, FakeGraph
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.tokens import create_token

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import WABA_ID, raw, wa_body, wa_text
from tests.conftest import TEST_APP_SECRET
from tests.e2e.conftest import Client
from tests.e2e.test_web_ui import OUTPUT, browser
from tests.runtime import RunningRuntime

__all__ = ["browser"]


@pytest.fixture
def client(local: RunningRuntime, make_tenant: Callable[..., Any], graph: FakeGraph) -> Iterator[Client]:
    slug = f"t{uuid.uuid4().hex[:8]}"
    tenant = make_tenant(slug)
    apply_tenant(tenant)
    with environment(**tenant_secrets(slug)):
        yield Client(tenant, create_token(slug), local.url)


def customer_writes(local: RunningRuntime, client: Client, text: str, user: str, at: float | None = None) -> None:
    message = wa_text(text, user_id=user, wa_id=user.removeprefix("US."), timestamp=str(int(at or time.time())))
    data = raw(wa_body([message], phone_number_id=client.tenant.channels.whatsapp[0].phone_number_id))
    headers = {"x-hub-signature-256": sign(data, TEST_APP_SECRET), "content-type": "application/json"}
    assert httpx.post(local.url + "/webhooks/whatsapp", content=data, headers=headers, timeout=30).status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def signed_in_phone(browser: Any, client: Client) -> Any:
    """A 390 px phone signed in as an approved device of the tenant, on the app's first screen."""
    from playwright.sync_api import expect

    device = "web-inbox" + uuid.uuid4().hex[:8]
    with registry_tx() as conn:
        devices.register(conn, client.tenant.slug, device, "Anna's phone", approve=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_init_script(
        f"localStorage.setItem('clawgate.device', '{device}');"
        f"localStorage.setItem('clawgate.tenant', '{client.tenant.slug}');"
        f"localStorage.setItem('clawgate.token', '{client.token}');"
    )
    page = context.new_page()
    page.goto(client.url + "/")
    expect(page.locator("#app")).to_be_visible()
    return page


def test_take_over_a_whatsapp_conversation_answer_and_give_it_back_on_a_phone(
    browser: Any, local: RunningRuntime, client: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    from playwright.sync_api import expect

    model.script_text("Hello! We have slots tomorrow at 10 and 15.")
    customer_writes(local, client, "Hi, any slots tomorrow?", "US.77010000601")
    graph.add_template(WABA_ID, "visit_reminder", "Hi {{1}}, shall we book your visit?")
    customer_writes(local, client, "hello from last week", "US.77010000602", at=time.time() - 30 * 3600)
    page = signed_in_phone(browser, client)
    page.click("#tabs button[data-tab=inbox]")
    expect(page.locator("#inbox-list .conversation")).to_have_count(2)
    expect(page.locator("#tabs .tab-count")).to_have_text("2")  # one unread message in each
    page.locator("#inbox-list .conversation", has_text="77010000601").click()
    transcript = page.locator("#inbox-transcript")
    expect(transcript).to_contain_text("Hi, any slots tomorrow?")
    expect(transcript.locator(".msg.agent")).to_contain_text("slots tomorrow at 10 and 15")
    expect(page.locator("#inbox-facts")).to_contain_text("left")  # the time left in the 24-hour window
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_transcript.png"), full_page=True)

    page.click("#inbox-take")
    expect(page.locator("#inbox-give")).to_be_visible()
    expect(page.locator("#inbox-facts")).to_contain_text("human · Chrome on Linux")  # the device takes it
    page.fill("#inbox-text", "Hi, this is Anna. 10:00 is yours!")
    page.click("#inbox-reply button[type=submit]")
    expect(transcript.locator(".msg.operator")).to_contain_text("this is Anna", timeout=15_000)
    sent = [b for b in graph.sent_whatsapp() if b.get("text", {}).get("body") == "Hi, this is Anna. 10:00 is yours!"]
    assert len(sent) == 1 and sent[0]["to"] == "77010000601"

    calls = len(model.message_requests())
    customer_writes(local, client, "Perfect, see you then", "US.77010000601")
    expect(transcript).to_contain_text("Perfect, see you then")  # pushed live, no reload
    assert len(model.message_requests()) == calls  # the bot stayed quiet
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_human.png"), full_page=True)

    page.click("#inbox-give")
    expect(page.locator("#inbox-take")).to_be_visible()
    with tenant_tx(client.tenant.slug) as conn:
        modes = conn.execute("SELECT peer_id, mode FROM conversations ORDER BY peer_id").fetchall()
    assert modes == [("US.77010000601", "bot"), ("US.77010000602", "bot")]

    page.click("#inbox-back")
    page.locator("#inbox-list .conversation", has_text="77010000602").click()
    expect(page.locator("#inbox-template")).to_be_visible()  # the window closed 6 hours ago
    expect(page.locator("#inbox-reply")).to_be_hidden()
    expect(page.locator("#inbox-template-body")).to_have_text("Hi {{1}}, shall we book your visit?")
    page.fill("#inbox-template-params input", "Dana")
    page.click("#inbox-template button[type=submit]")
    expect(transcript.locator(".msg.operator")).to_contain_text("Hi Dana, shall we book your visit?", timeout=15_000)
    [template] = [b for b in graph.sent_whatsapp() if b.get("type") == "template"]
    assert template["template"]["name"] == "visit_reminder" and template["to"] == "77010000602"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_template.png"), full_page=True)
    page.context.close()


def test_customer_media_shows_as_a_preview_a_player_and_a_safe_download_on_a_phone(
    browser: Any, local: RunningRuntime, client: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.test_inbox_media import HOSTILE_NAME, customer_sends, png

    user = "US.77010000603"
    customer_sends(local, client, graph, "image", "web-img-1", png(40, 30), "image/png", user, caption="my tooth")
    customer_sends(local, client, graph, "audio", "web-audio-1", b"OggS" + b"\x00" * 64, "audio/ogg", user)
    customer_sends(local, client, graph, "document", "web-doc-1", b"<script>parent.pwned=1</script>", "text/html",
                   user, filename=HOSTILE_NAME)  # fmt: skip
    page = signed_in_phone(browser, client)
    page.click("#tabs button[data-tab=inbox]")
    page.locator("#inbox-list .conversation", has_text="77010000603").click()
    expect(page.locator("#inbox-facts")).to_contain_text("left")  # written seconds ago: the window is open
    expect(page.locator("#inbox-reply")).to_be_visible()
    transcript = page.locator("#inbox-transcript")
    thumb = transcript.locator(".media.image img.thumb")
    expect(thumb).to_be_visible()
    expect(transcript).to_contain_text("my tooth")
    page.wait_for_function("document.querySelector('#inbox-transcript img.thumb').naturalWidth === 40")
    assert thumb.get_attribute("src", timeout=5_000).startswith("blob:")  # fetched with the token, not in the URL
    expect(transcript.locator(".media.audio audio[controls]")).to_have_count(1)
    download = transcript.locator(".media.document a.download")
    expect(download).to_have_text(f"⬇ {HOSTILE_NAME}".replace("\r\n", " "), use_inner_text=True)
    assert download.get_attribute("download") == HOSTILE_NAME
    html = page.inner_html("#inbox-transcript")
    attributes = "[...document.querySelectorAll('#inbox-transcript *')].flatMap(e => e.getAttributeNames()).join()"
    assert "onerror" not in page.evaluate(attributes)
    assert "<script" not in html and client.token not in html
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_media.png"), full_page=True)

    thumb.click()
    expect(page.locator(".media-full img")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "web_inbox_phone_image_full.png"))
    page.locator(".media-full").click()
    expect(page.locator(".media-full")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()


DRAWN_BARS = "[...document.querySelectorAll('#handoff-chart rect.bar')].filter(r => r.height.baseVal.value).length"
DATE_LABEL_SPANS = """[...document.querySelectorAll('#handoff-chart text.axis')]
  .filter(t => t.textContent.includes('-')).map(t => { const b = t.getBBox(); return [b.x, b.x + b.width]; })"""


def test_the_metrics_card_shows_response_times_resolution_and_hand_offs_on_a_phone(
    browser: Any, local: RunningRuntime, client: Client, graph: FakeGraph, model: FakeAnthropic
) -> None:
    from playwright.sync_api import expect

    model.script_text("Hello! We are open until 19:00.")
    customer_writes(local, client, "When are you open?", "US.77010000604")  # the bot resolves this one
    model.script_text("Hello! Let me check.")
    customer_writes(local, client, "I want a refund", "US.77010000605")
    http = httpx.Client(base_url=f"{client.url}/api/v1/tenants/{client.tenant.slug}", timeout=30,
                        headers={"authorization": f"Bearer {client.token}"})  # fmt: skip
    [handed] = [c for c in http.get("/conversations").json()["items"] if c["peer_id"] == "US.77010000605"]
    assert http.post(f"/conversations/{handed['id']}/mode", json={"mode": "human", "author": "Anna"}).status_code == 200
    customer_writes(local, client, "Hello? Anyone?", "US.77010000605")
    reply = http.post(f"/conversations/{handed['id']}/messages", json={"text": "Anna here, sorting it out."})
    assert reply.status_code == 201
    numbers = http.get("/metrics/conversations", params={"days": 30}).json()

    page = signed_in_phone(browser, client)
    page.click("#tabs button[data-tab=metrics]")
    card = page.locator("#conversation-metrics")
    expect(card.locator("#resolved")).to_have_text("50% of 2")
    expect(card.locator("#handoffs-total")).to_have_text("1")
    expect(card.locator("#frt-bot")).to_have_text(re.compile(r"^\d+ (s|min)$"))
    expect(card.locator("#frt-human")).to_have_text(re.compile(r"^\d+ (s|min)$"))
    bars = card.locator("#handoff-chart svg rect.bar.handoff")
    expect(bars).to_have_count(30)  # one a day over the 30 days, today included
    titles = [t for t in card.locator("#handoff-chart svg rect title").all_text_contents() if not t.endswith(": 0")]
    assert titles == [f"{numbers['until']}: 1"]
    assert page.evaluate(DRAWN_BARS) == 1
    axis = card.locator("#handoff-chart svg text.axis")
    y_labels = [t for t in axis.all_text_contents() if t.isdigit()]
    assert y_labels == ["0", "1"]  # whole hand-offs, each once
    boxes = page.evaluate(DATE_LABEL_SPANS)
    assert len(boxes) >= 3 and all(a[1] <= b[0] for a, b in itertools.pairwise(boxes))  # dates never overlap
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card.screenshot(path=str(OUTPUT / "web_metrics_phone_conversations.png"))
    page.context.close()


def test_a_voice_note_shows_as_a_player_with_its_transcript(
    browser: Any, local: RunningRuntime, make_tenant: Callable[..., Any], graph: FakeGraph, model: FakeAnthropic
) -> None:
    from clawgate.local.fakes import FakeOpenAI
    from playwright.sync_api import expect

    from tests.e2e.test_inbox_media import customer_sends

    with FakeOpenAI() as whisper:
        whisper.transcript = "Can I book a cleaning on Friday?"
        tenant = make_tenant(transcription={"base_url": f"{whisper.url}/v1", "model": "whisper-large-v3"})
        apply_tenant(tenant)
        with environment(**tenant_secrets(tenant.slug)):
            client = Client(tenant, create_token(tenant.slug), local.url)
            customer_sends(local, client, graph, "audio", "web-voice-1", b"OggS" + b"\x00" * 64,
                           "audio/ogg; codecs=opus", "US.77010000606", voice=True)  # fmt: skip
            page = signed_in_phone(browser, client)
            page.click("#tabs button[data-tab=inbox]")
            page.locator("#inbox-list .conversation", has_text="77010000606").click()
            customer = page.locator("#inbox-transcript .msg.customer")
            expect(customer.locator(".media.voice audio[controls]")).to_have_count(1)
            expect(customer.locator(".media-transcript")).to_have_text("Transcript: Can I book a cleaning on Friday?")
            expect(customer).not_to_contain_text("[Audio")  # the model's placeholder is not shown
            page.screenshot(path=str(OUTPUT / "web_inbox_phone_voice.png"), full_page=True)
            page.context.close()
