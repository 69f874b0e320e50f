"""The WhatsApp Cloud API webhook: verify, split the batch, enqueue one message per update, answer 200.
No database, no model, no Graph SDK on this path (Meta wants a median under 250 ms)."""

from __future__ import annotations

import json
from typing import Any

from clawgate import http, ports
from clawgate.channels.meta_webhooks import signature_is_valid, verification_answer
from clawgate.observability import logger
from clawgate.ports import QueueMessage
from clawgate.settings import get_settings


def handle(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    if http.method(event) == "GET":
        challenge = verification_answer(http.query(event), settings.meta_verify_token)
        return http.text_response(200, challenge) if challenge is not None else http.text_response(403, "forbidden")
    raw = http.raw_body(event)
    if not signature_is_valid(raw, http.header(event, "x-hub-signature-256"), settings.meta_app_secret):
        logger.warning("whatsapp webhook: bad signature", extra={"bytes": len(raw)})
        return http.text_response(401, "invalid signature")
    messages = split_updates(raw)
    if messages:
        ports.queues().send("inbound", messages)
    return http.text_response(200, "ok")


def split_updates(raw: bytes) -> list[QueueMessage]:
    """One queue message per inbound message or status; anything unparseable is kept raw for Ingest to store."""
    try:
        payload = json.loads(raw)
        entries = payload["entry"]
        values = [change["value"] for entry in entries for change in entry.get("changes", [])]
    except (ValueError, KeyError, TypeError):
        logger.warning("whatsapp webhook: malformed payload kept raw", extra={"bytes": len(raw)})
        body = json.dumps({"channel": "whatsapp", "kind": "malformed", "raw": raw.decode("utf-8", "replace")})
        return [QueueMessage(body, group_id="whatsapp:malformed")]
    messages = []
    for value in values:
        account = str((value.get("metadata") or {}).get("phone_number_id", ""))
        for update in value.get("messages") or []:
            peer = update.get("from_user_id") or update.get("from") or "unknown"
            body = json.dumps({"channel": "whatsapp", "kind": "message", "account_id": account, "value": value,
                               "update": update})  # fmt: skip
            messages.append(QueueMessage(body, group_id=f"whatsapp:{account}:{peer}", dedup_id=update.get("id")))
    return messages
