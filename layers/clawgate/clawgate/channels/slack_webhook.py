"""The Slack Events API webhook (`POST /webhooks/slack/{tenant}/{agent}`): check the signature, answer
`url_verification`, enqueue one envelope per event callback, answer 200 (Slack wants it within 3 s).

The signature is `v0=` + hex HMAC-SHA256(signing secret, "v0:{X-Slack-Request-Timestamp}:{raw body}"), and a
timestamp more than 5 minutes away from now is refused (a replayed request), as Slack's own SDK does. The signing
secret is the app's, one per tenant: it comes sealed in the request URL (`webhook_seal`), so this path reads
neither the database nor a tenant secret.

Retries (`X-Slack-Retry-Num`) are enqueued again: the queue's deduplication id and Ingest's unique key are the
`event_id`, so a retry of an event that went through changes nothing, and one whose first delivery failed is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from clawgate.channels import webhook_seal
from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, json_response, text_response
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics

CHANNEL = "slack"
MAX_SKEW_S = 5 * 60


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature_valid(secret: str, timestamp: str | None, presented: str | None, body: bytes, now: float) -> bool:
    if not timestamp or not presented or not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_SKEW_S:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), presented.encode())


def conversation(event: dict[str, Any]) -> str:
    """The peer of an event: a direct message's channel, or a channel's thread (`<channel>:<thread ts>`) — each
    thread in a channel is a conversation of its own, answered in that thread."""
    channel = str(event.get("channel") or "")
    if event.get("channel_type") == "im" and not event.get("thread_ts"):
        return channel
    return f"{channel}:{event.get('thread_ts') or event.get('ts') or ''}"


def receive(request: HttpRequest) -> HttpResponse:
    try:
        found = webhook_seal.opened(CHANNEL, request)
    except Exception:  # no platform key configured: refuse loudly, Slack retries and nothing is lost
        logger.exception("slack webhook: cannot open the request URL's seal")
        return text_response(503, "not configured")
    if found is None:
        logger.warning("slack webhook: no valid seal in the request URL")
        return text_response(401, "invalid request URL")
    account_id, secret = found
    body = request.body
    timestamp, presented = request.header("x-slack-request-timestamp"), request.header("x-slack-signature")
    if not signature_valid(secret, timestamp, presented, body, time.time()):
        logger.warning("slack webhook: bad signature or stale timestamp", extra={"account": account_id})
        return text_response(401, "invalid signature")
    payload = _json(body)
    if payload.get("type") == "url_verification":
        return json_response(200, {"challenge": str(payload.get("challenge", ""))})
    try:
        envelopes.send([build_message(account_id, payload, body)])
    except Exception:  # the queue is down: a 5xx makes Slack retry
        logger.exception("slack webhook: enqueue failed", extra={"account": account_id})
        return text_response(503, "try again")
    retry = request.header("x-slack-retry-num")
    metrics.add_metric(name="SlackRetries" if retry else "SlackEvents", unit="Count", value=1)
    return text_response(200, "ok")


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def build_message(account_id: str, payload: dict[str, Any], raw: bytes) -> QueueMessage:
    """One queue message for one event callback; anything else is kept raw ("malformed")."""
    inner = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(inner, dict) or not payload.get("event_id"):
        logger.warning("slack webhook: not an event callback, kept raw", extra={"account": account_id})
        provider_id = f"{account_id}:malformed:{envelopes.digest(raw)}"
        body = envelopes.envelope(CHANNEL, "malformed", account_id=account_id, provider_id=provider_id,
                                  raw=raw.decode("utf-8", "replace"))  # fmt: skip
        return envelopes.queue_message(body, f"{CHANNEL}:{account_id}:malformed", provider_id)
    provider_id = f"{account_id}:{payload['event_id']}"  # event ids are Slack's; the account scopes them to the app
    body = envelopes.envelope(CHANNEL, "message", account_id=account_id, provider_id=provider_id, update=payload)
    return envelopes.queue_message(body, f"{CHANNEL}:{account_id}:{conversation(inner)}", provider_id)
