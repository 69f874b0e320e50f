"""The newcomer's minute: `clawgate demo` plays a Click-to-WhatsApp conversation into a running `make dev` (signed
Cloud API webhooks, as Meta sends them), and `clawgate dev --offline` answers it with a labelled demo model that
records the qualification the way a real model would, through the `update_dialog` tool.

The conversation: a customer taps an ad (the first message carries the ad's referral), asks about prices, then
books a visit. The runtime ties the dialog to the ad and makes it a lead, sends the Conversions API events at the
tenant's threshold and on qualification, and the control UI shows the dialog, the lead, the events and the charts."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from clawgate.local.fakes.anthropic import Answer, FakeAnthropic

LABEL = "[offline demo model]"
BOOKING = re.compile(r"\b(book|appointment|tomorrow|schedule)\b", re.IGNORECASE)
DEMO_AD_ID = "120210000000000001"
CONVERSATION = (
    "Hi! I saw your ad about teeth whitening",
    "How much does it cost?",
    "Great, can I book a visit tomorrow at 10?",
)


def _last_user(body: dict[str, Any]) -> tuple[str, bool]:
    """The last user message's text, and whether it carries tool results."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content, False
        blocks = [b for b in content or [] if isinstance(b, dict)]
        texts = [str(b.get("text", "")) for b in blocks if b.get("type") == "text"]
        return (texts[-1] if texts else ""), any(b.get("type") == "tool_result" for b in blocks)
    return "", False


def respond(body: dict[str, Any]) -> Answer:
    text, has_results = _last_user(body)
    tools = {str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)}
    if has_results:
        return Answer.text(f"{LABEL} You're booked for tomorrow at 10:00. See you then!")
    if "update_dialog" in tools and BOOKING.search(text):
        summary = f"Asked to book a visit: {text[:200]}"
        return Answer.tool_use([("update_dialog", {"qualification": "scheduled", "summary": summary})])
    return Answer.text(f"{LABEL} Thanks for your message! You said: {text[:300]}")


@contextmanager
def demo_model() -> Iterator[FakeAnthropic]:
    """The Messages API on loopback, answered by `respond`, recording nothing (it may run for days)."""
    with FakeAnthropic(api_key=f"offline-{uuid.uuid4().hex[:8]}") as model:
        model.responder = respond
        model.keep_requests = False
        yield model


def whatsapp_update(phone_number_id: str, wa_id: str, text: str, referral: dict[str, Any] | None) -> bytes:
    message: dict[str, Any] = {
        "from": wa_id, "id": f"wamid.DEMO{uuid.uuid4().hex.upper()}", "timestamp": str(int(time.time())),
        "type": "text", "text": {"body": text},
    }  # fmt: skip
    if referral:
        message["referral"] = referral
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Demo Customer"}, "wa_id": wa_id}],
        "messages": [message],
    }
    entry = {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def ad_referral(ad_id: str = DEMO_AD_ID) -> dict[str, Any]:
    """What a Click-to-WhatsApp ad puts on the first message (Cloud API `referral`)."""
    return {
        "source_url": "https://fb.me/demo", "source_id": ad_id, "source_type": "ad",
        "headline": "Whiter teeth in 1 hour", "body": "Book a free consultation", "media_type": "image",
        "ctwa_clid": f"demo-{uuid.uuid4().hex[:16]}",
    }  # fmt: skip


def play(base_url: str, app_secret: str, phone_number_id: str, *, pause_s: float = 1.0) -> list[int]:
    """Post the conversation as signed webhooks; return the status of each post."""
    from clawgate.core.meta_webhooks import sign

    wa_id = f"7700{int(time.time()) % 10**7:07d}"
    statuses = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n, text in enumerate(CONVERSATION):
            body = whatsapp_update(phone_number_id, wa_id, text, ad_referral() if n == 0 else None)
            headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, app_secret)}
            statuses.append(client.post("/webhooks/whatsapp", content=body, headers=headers).status_code)
            time.sleep(pause_s)  # a person typing: each message its own turn
    return statuses


def wait_until_idle(base_url: str, timeout: float = 60.0) -> bool:
    """Until the runtime's queues are empty (its /healthz reports their depth)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queues = httpx.get(base_url + "/healthz", timeout=10).json().get("queues", {})
        if all(q.get("queued", 0) == 0 and q.get("in_flight", 0) == 0 for q in queues.values()):
            return True
        time.sleep(0.3)
    return False
