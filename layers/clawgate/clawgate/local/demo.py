"""The newcomer's minute: `clawgate demo` plays a Click-to-WhatsApp conversation into a running `make dev` (signed
Cloud API webhooks, as Meta sends them), and `clawgate dev --offline` answers it with a labelled demo model that
records the qualification the way a real model would, through the `update_dialog` tool.

The conversation: a customer taps an ad (the first message carries the ad's referral), asks about prices, then
books a visit. The runtime ties the dialog to the ad and makes it a lead, sends the Conversions API events at the
tenant's threshold and on qualification, and the control UI shows the dialog, the lead, the events and the charts."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx

from clawgate.local.fakes.anthropic import Answer, FakeAnthropic
from clawgate.local.fakes.graph import FakeGraph
from clawgate.observability import logger

LABEL = "[offline demo model]"
BOOKING = re.compile(r"\b(book|appointment|tomorrow|schedule)\b", re.IGNORECASE)
DEMO_AD_ID = "120210000000000001"
DEMO_ADSET_ID = "120210000000000002"
DEMO_CAMPAIGN_ID = "120210000000000003"
CHART_DAYS = 14
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


def _insight(level: str, object_id: str, day: date, n: int) -> dict[str, Any]:
    """One day of a Graph insights row (numbers as strings, leads in `actions`), varied but reproducible."""
    impressions, clicks, leads = 2400 + 170 * (n % 5), 60 + 9 * (n % 4), 2 + n % 4
    spend = f"{4000 + 350 * (n % 6)}.00"
    ids = {"campaign_id": DEMO_CAMPAIGN_ID, "adset_id": DEMO_ADSET_ID} | (
        {"ad_id": DEMO_AD_ID} if level == "ad" else {}
    )
    actions = [{"action_type": "link_click", "value": str(clicks)}, {"action_type": "lead", "value": str(leads)}]
    return {"date_start": day.isoformat(), "date_stop": day.isoformat(), **ids, f"{level}_id": object_id,
            f"{level}_name": f"Demo {level}", "impressions": str(impressions), "reach": str(impressions * 4 // 5),
            "clicks": str(clicks), "spend": spend, "actions": actions}  # fmt: skip


def seed_ads(graph: FakeGraph, ad_account_id: str, currency: str, timezone: str) -> None:
    """The demo ad account and its last two weeks in the fake Graph, so the metrics sync has something to chart."""
    graph.add_object(ad_account_id, "adaccount", name="Demo ads", currency=currency, timezone_name=timezone,
                     account_status=1)  # fmt: skip
    today = date.today()
    for level, object_id in (("adset", DEMO_ADSET_ID), ("ad", DEMO_AD_ID)):
        rows = [_insight(level, object_id, today - timedelta(days=n), n) for n in range(CHART_DAYS)]
        graph.add_insights(ad_account_id, rows, level=level)


def sync_metrics_soon(slug: str) -> None:
    """Run the tenant's metrics sync once through the jobs workflow, in the background (the runtime is starting)."""
    from clawgate.core import ports

    def run() -> None:
        try:
            ports.workflows().run("jobs", {"tenant": slug, "job": "metrics_sync", "params": {"days": str(CHART_DAYS)}})
        except Exception:
            logger.exception("demo metrics sync failed", extra={"tenant": slug})

    threading.Thread(target=run, name="demo-metrics-sync", daemon=True).start()
