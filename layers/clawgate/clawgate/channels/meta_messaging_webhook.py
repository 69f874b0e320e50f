"""Messenger and Instagram messaging webhooks (`object: page` / `object: instagram` on `/webhooks/meta`): split
`entry[].messaging[]` into one envelope per event for the inbound queue. No database, no pydantic on this path.

Each event names its conversation: `sender.id` (PSID on Messenger, IGSID on Instagram) on the account `entry[].id`
(the Page, or the Instagram professional account). Exactly-once keys: a message's `mid`; a postback's `mid` when
Meta gives one; read receipts by watermark; reactions, deliveries, referrals and anything else by a digest of the
event (a redelivery is the same bytes). Echoes of what we sent (`message.is_echo`) are dropped here. Events we do not
know, and `changes` of other Instagram fields (comments, mentions), are kept raw as "unsupported": stored, never lost.
"""

from __future__ import annotations

from typing import Any

from clawgate.core import envelopes
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger

CHANNELS = {"page": "messenger", "instagram": "instagram"}
STATUS_EVENTS = ("read", "delivery")
MESSAGE_EVENTS = ("message", "postback", "reaction", "referral")


def conversation_key(channel: str, account_id: str, peer_id: str) -> str:
    """The FIFO group and the session's peer: one conversation per account (Page / IG account) and person."""
    return f"{channel}:{account_id}:{peer_id}"


def split(payload: dict[str, Any]) -> list[QueueMessage]:
    """The queue messages of one webhook body (already parsed); [] for an object that is not Messenger/Instagram."""
    channel = CHANNELS.get(str(payload.get("object")))
    if channel is None:
        return []
    messages: list[QueueMessage] = []
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            messages.append(_unsupported(channel, "", {"entry": entry}, "entry is not an object"))
            continue
        account = str(entry.get("id") or "")
        for event in entry.get("messaging") or []:
            try:
                messages += _event(channel, account, event)
            except (KeyError, TypeError, AttributeError, ValueError):  # one odd event never costs the others
                messages.append(_unsupported(channel, account, {"messaging": event}, "malformed event"))
        for event in entry.get("standby") or []:  # another app holds the thread (handover protocol)
            messages.append(_unsupported(channel, account, {"standby": event}, "standby"))
        if channel == "instagram":
            for change in entry.get("changes") or []:
                field = change.get("field") if isinstance(change, dict) else None
                messages.append(_unsupported(channel, account, {"change": change}, f"field {field!r}"))
    return messages


def _event(channel: str, account: str, event: dict[str, Any]) -> list[QueueMessage]:
    message = event.get("message")
    if isinstance(message, dict) and message.get("is_echo"):
        logger.debug("meta messaging: echo dropped", extra={"channel": channel})
        return []
    peer = str((event.get("sender") or {}).get("id") or "")
    account = account or str((event.get("recipient") or {}).get("id") or "")
    key = conversation_key(channel, account, peer)
    if isinstance(message, dict) and message.get("mid"):
        return [_envelope(channel, "message", account, str(message["mid"]), event, key)]
    if isinstance(event.get("postback"), dict) and event["postback"].get("mid"):
        return [_envelope(channel, "message", account, f"postback:{event['postback']['mid']}", event, key)]
    if isinstance(event.get("read"), dict) and "watermark" in event["read"]:
        return [_envelope(channel, "status", account, f"read:{peer}:{event['read']['watermark']}", event, key)]
    if isinstance(event.get("delivery"), dict):  # one status per delivered mid, keyed like WhatsApp's statuses
        mids = [str(mid) for mid in event["delivery"].get("mids") or []]
        if mids:
            return [_envelope(channel, "status", account, f"{mid}:delivered", event, key) for mid in mids]
    known = next((name for name in (*MESSAGE_EVENTS, *STATUS_EVENTS) if name in event), None)
    if known is None:
        return [_unsupported(channel, account, {"messaging": event}, "unknown event")]
    kind = "status" if known in STATUS_EVENTS else "message"
    return [_envelope(channel, kind, account, f"{known}:{envelopes.digest(event)}", event, key)]


def _envelope(channel: str, kind: str, account: str, provider_id: str, event: dict[str, Any], key: str) -> QueueMessage:
    body = envelopes.envelope(channel, kind, account_id=account, provider_id=provider_id, update=event)
    return envelopes.queue_message(body, key, provider_id)


def _unsupported(channel: str, account: str, update: dict[str, Any], reason: str) -> QueueMessage:
    logger.info("meta messaging: kept raw", extra={"channel": channel, "reason": reason})
    provider_id = "raw:" + envelopes.digest(update)
    body = envelopes.envelope(channel, "unsupported", account_id=account, provider_id=provider_id, update=update,
                              context={"reason": reason})  # fmt: skip
    return envelopes.queue_message(body, f"{channel}:{account}:unsupported", provider_id)
