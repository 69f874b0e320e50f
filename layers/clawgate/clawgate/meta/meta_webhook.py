"""The Meta webhook (`GET|POST /webhooks/meta`), routed by `object`: a Page's `leadgen` changes go to the lead queue
(one message per leadgen_id, its deduplication id), and Messenger (`page` messaging) and Instagram (`instagram`)
events to the inbound queue through the channels' splitter; then 200. Same hub.* verification and X-Hub-Signature-256
as the WhatsApp webhook. No database, no facebook-business, no pydantic on this path: the lead worker fetches the lead
and routes the page to its tenant, Ingest routes a conversation's account to its tenant."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, text_response
from clawgate.core.meta_webhooks import authenticate
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics

QUEUE = "lead"
NOTICE_FIELDS = ("leadgen_id", "page_id", "form_id", "ad_id", "adgroup_id", "created_time")


Splitter = Callable[[dict[str, Any]], list[QueueMessage]]


def receive(request: HttpRequest, messaging: Splitter | None = None) -> HttpResponse:
    """`messaging` splits Messenger and Instagram messaging events (`object: page` / `instagram`) for the inbound
    queue; the function's handler passes the channels' splitter (this domain does not import that one)."""
    if (early := authenticate(request, "meta")) is not None:
        return early
    payload = _payload(request.body)
    leads = leadgen_messages(payload)
    conversations = messaging(payload) if messaging and payload else []
    try:
        envelopes.send(leads, queue=QUEUE)
        envelopes.send(conversations, queue="inbound")
    except Exception:  # the queue is down: a 5xx makes Meta deliver the batch again later
        logger.exception("meta webhook: enqueue failed", extra={"leads": len(leads), "messages": len(conversations)})
        return text_response(503, "try again")
    metrics.add_metric(name="LeadgenNotices", unit="Count", value=len(leads))
    metrics.add_metric(name="MetaMessagingUpdates", unit="Count", value=len(conversations))
    return text_response(200, "ok")


def _payload(raw: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        logger.warning("meta webhook: unreadable body acknowledged", extra={"bytes": len(raw)})
        return None
    return payload


def leadgen_messages(body: bytes | dict[str, Any] | None) -> list[QueueMessage]:
    """One queue message per `leadgen` change; other fields and unreadable bodies are logged and acknowledged."""
    payload = _payload(body) if isinstance(body, bytes) else body
    if payload is None or payload.get("object") != "page":
        return []  # Instagram messaging, or an object this app does not subscribe to
    try:
        changes = [(entry, change) for entry in payload["entry"] for change in entry.get("changes") or []]
    except (KeyError, TypeError, AttributeError):
        logger.warning("meta webhook: no entries acknowledged")
        return []
    messages = []
    for entry, change in changes:
        change = change if isinstance(change, dict) else {}
        value = change.get("value")
        if change.get("field") != "leadgen" or not isinstance(value, dict) or not value.get("leadgen_id"):
            logger.info("meta webhook: change ignored", extra={"field": str(change.get("field"))})
            continue
        notice = {name: value[name] for name in NOTICE_FIELDS if value.get(name) is not None}
        notice["page_id"] = str(value.get("page_id") or entry.get("id") or "")
        leadgen_id = str(value["leadgen_id"])
        messages.append(QueueMessage(json.dumps(notice), dedup_id=leadgen_id))
    return messages
