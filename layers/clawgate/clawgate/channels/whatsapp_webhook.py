"""The WhatsApp Cloud API webhook: verify, split the batch, enqueue one envelope per update, answer 200.
No database, no model, no Graph SDK, no pydantic on this path (Meta wants a median under 250 ms).

One envelope per inbound message (dedup: wamid), per delivery status (dedup: "<wamid>:<status>") and per `errors`
array; a change of another field, or a body that is not the JSON we expect, is kept raw ("unsupported",
"malformed"): acknowledged, logged, stored by Ingest, never a 5xx that Meta would retry for seven days.
"""

from __future__ import annotations

import json
from typing import Any

from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, text_response
from clawgate.core.meta_webhooks import authenticate
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics

CHANNEL = "whatsapp"


def conversation_key(phone_number_id: str, peer_id: str) -> str:
    """The FIFO group and the session's peer: one conversation per business number and user (BSUID)."""
    return f"{CHANNEL}:{phone_number_id}:{peer_id}"


def message_peer(message: dict[str, Any], contacts: list[dict[str, Any]]) -> str:
    """The business-scoped user id when present (always, since April 2026), else the wa_id."""
    contact = matching_contact(message, contacts)
    return str(
        message.get("from_user_id") or contact.get("user_id") or message.get("from") or contact.get("wa_id") or ""
    )


def matching_contact(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    user_id, wa_id = message.get("from_user_id"), message.get("from")
    for contact in contacts:
        if (user_id and contact.get("user_id") == user_id) or (wa_id and contact.get("wa_id") == wa_id):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def status_peer(status: dict[str, Any]) -> str:
    return str(status.get("recipient_user_id") or status.get("recipient_id") or "")


def receive(request: HttpRequest) -> HttpResponse:
    if (early := authenticate(request, "whatsapp")) is not None:
        return early
    messages = split_updates(request.body)
    try:
        envelopes.send(messages)
    except Exception:  # the queue is down: a 5xx makes Meta retry the batch later, so nothing is lost
        logger.exception("whatsapp webhook: enqueue failed", extra={"updates": len(messages)})
        return text_response(503, "try again")
    metrics.add_metric(name="WhatsAppUpdates", unit="Count", value=len(messages))
    return text_response(200, "ok")


def split_updates(raw: bytes) -> list[QueueMessage]:
    """One queue message per message, status and errors array; anything unparseable is kept raw."""
    try:
        payload = json.loads(raw)
        entries = payload["entry"]
        changes = [(entry, change) for entry in entries for change in entry.get("changes") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        return [_malformed(raw)]
    messages: list[QueueMessage] = []
    for entry, change in changes:
        try:
            messages += _split_change(entry, change)
        except (KeyError, TypeError, AttributeError, ValueError):
            messages.append(_unsupported(entry, change, "malformed change"))
    return messages


def _split_change(entry: dict[str, Any], change: dict[str, Any]) -> list[QueueMessage]:
    value = change.get("value")
    if change.get("field") != "messages" or not isinstance(value, dict):
        return [_unsupported(entry, change, f"field {change.get('field')!r}")]
    metadata = value.get("metadata") or {}
    account = str(metadata.get("phone_number_id", ""))
    base = {"waba_id": str(entry.get("id", "")), "metadata": metadata}
    contacts = value.get("contacts") or []
    items = [("message", m) for m in value.get("messages") or []] + [("status", s) for s in value.get("statuses") or []]
    if value.get("errors"):
        items.append(("errors", {"errors": value["errors"]}))
    out: list[QueueMessage] = []
    for kind, item in items:
        try:
            if kind == "message":
                out.append(_message(account, base, contacts, item))
            else:
                out.append(_status(account, base, item) if kind == "status" else _errors(account, base, item))
        except (KeyError, TypeError, AttributeError, ValueError):  # one odd item never costs the others
            out.append(_unsupported(entry, {"field": "messages", "value": {"metadata": metadata, kind: item}}, kind))
    return out


def _message(
    account: str, base: dict[str, Any], contacts: list[dict[str, Any]], message: dict[str, Any]
) -> QueueMessage:
    peer = message_peer(message, contacts)
    contact = matching_contact(message, contacts)
    context = {**base, "contacts": [contact] if contact else contacts}
    wamid = str(message.get("id") or "") or "nomid:" + envelopes.digest(message)
    body = envelopes.envelope(CHANNEL, "message", account_id=account, provider_id=wamid, update=message,
                              context=context)  # fmt: skip
    return envelopes.queue_message(body, conversation_key(account, peer), wamid)


def _status(account: str, base: dict[str, Any], status: dict[str, Any]) -> QueueMessage:
    provider_id = f"{status['id']}:{status.get('status', '')}"
    body = envelopes.envelope(CHANNEL, "status", account_id=account, provider_id=provider_id, update=status,
                              context=base)  # fmt: skip
    return envelopes.queue_message(body, conversation_key(account, status_peer(status)), provider_id)


def _errors(account: str, base: dict[str, Any], update: dict[str, Any]) -> QueueMessage:
    provider_id = "errors:" + envelopes.digest(update)
    body = envelopes.envelope(CHANNEL, "status", account_id=account, provider_id=provider_id, update=update,
                              context=base)  # fmt: skip
    return envelopes.queue_message(body, f"{CHANNEL}:{account}:errors", provider_id)


def _unsupported(entry: Any, change: Any, reason: str) -> QueueMessage:
    value = change.get("value") if isinstance(change, dict) else None
    metadata = value.get("metadata") if isinstance(value, dict) else None
    account = str((metadata or {}).get("phone_number_id", "")) if isinstance(metadata, dict) else ""
    waba = str(entry.get("id", "")) if isinstance(entry, dict) else ""
    field = str(change.get("field", "")) if isinstance(change, dict) else ""
    logger.info("whatsapp webhook: kept raw", extra={"reason": reason, "field": field})
    provider_id = "change:" + envelopes.digest(change)
    update = change if isinstance(change, dict) else {"change": change}
    body = envelopes.envelope(CHANNEL, "unsupported", account_id=account, provider_id=provider_id, update=update,
                              context={"waba_id": waba, "field": field})  # fmt: skip
    return envelopes.queue_message(body, f"{CHANNEL}:{account or waba}:{field or 'unknown'}", provider_id)


def _malformed(raw: bytes) -> QueueMessage:
    logger.warning("whatsapp webhook: malformed payload kept raw", extra={"bytes": len(raw)})
    provider_id = "malformed:" + envelopes.digest(raw)
    body = envelopes.envelope(CHANNEL, "malformed", provider_id=provider_id, raw=raw.decode("utf-8", "replace"))
    return envelopes.queue_message(body, f"{CHANNEL}:malformed", provider_id)
