"""The Meta Page webhook (`GET|POST /webhooks/meta`, field `leadgen`): verify, split, enqueue one message per
leadgen_id on the lead queue (deduplication id = leadgen_id), answer 200. Same hub.* verification and
X-Hub-Signature-256 as the WhatsApp webhook. No database, no facebook-business, no pydantic on this path: the lead
worker fetches the lead and routes the page to its tenant."""

from __future__ import annotations

import json

from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, text_response
from clawgate.core.meta_webhooks import authenticate
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics

QUEUE = "lead"
NOTICE_FIELDS = ("leadgen_id", "page_id", "form_id", "ad_id", "adgroup_id", "created_time")


def receive(request: HttpRequest) -> HttpResponse:
    if (early := authenticate(request, "meta")) is not None:
        return early
    messages = leadgen_messages(request.body)
    try:
        envelopes.send(messages, queue=QUEUE)
    except Exception:  # the queue is down: a 5xx makes Meta deliver the batch again later
        logger.exception("meta webhook: enqueue failed", extra={"leads": len(messages)})
        return text_response(503, "try again")
    metrics.add_metric(name="LeadgenNotices", unit="Count", value=len(messages))
    return text_response(200, "ok")


def leadgen_messages(raw: bytes) -> list[QueueMessage]:
    """One queue message per `leadgen` change; other fields and unreadable bodies are logged and acknowledged."""
    try:
        payload = json.loads(raw)
        changes = [(entry, change) for entry in payload["entry"] for change in entry.get("changes") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("meta webhook: unreadable body acknowledged", extra={"bytes": len(raw)})
        return []
    if payload.get("object") != "page":
        logger.info("meta webhook: not a page update", extra={"object": str(payload.get("object"))})
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
