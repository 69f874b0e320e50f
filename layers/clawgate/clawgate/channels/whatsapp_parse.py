"""WhatsApp envelopes → `InboundMessage`s: every documented message type, statuses, errors, and anything else kept
raw as kind "unsupported". The conversation is keyed on (phone_number_id, user_id); the wa_id is kept when present;
a Click-to-WhatsApp `referral` is handed on intact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, cast

from clawgate.channels.whatsapp_webhook import conversation_key, matching_contact, message_peer, status_peer
from clawgate.core.channels import Envelope, InboundKind, InboundMessage, MediaRef
from clawgate.core.placeholders import location_text, media_text, unsupported_text

MediaKind = Literal["image", "video", "audio", "voice", "document", "sticker"]
Parsed = tuple[str, list[MediaRef]]  # (text for the model, media)
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def parse_envelope(envelope: Envelope) -> list[InboundMessage]:
    if envelope.kind == "malformed":
        return [_raw_message(envelope, "malformed", {"body": envelope.raw or ""})]
    if envelope.kind == "status":
        return [_status(envelope)]
    if "type" not in envelope.update:  # a change of another webhook field, kept as it came
        return [_raw_message(envelope, "unsupported", envelope.update)]
    return [_message(envelope)]  # unknown types too: kind "unsupported", kept raw, the model told what it was


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _message(envelope: Envelope) -> InboundMessage:
    message = envelope.update
    contacts = envelope.context.get("contacts") or []
    contact = matching_contact(message, contacts)
    peer = message_peer(message, contacts)
    kind = message.get("type", "")
    parser = _PARSERS.get(kind)
    media: list[MediaRef] = []
    inbound_kind: InboundKind = "message"
    if parser is None:
        text, inbound_kind = _unsupported(message), "unsupported"
    else:
        text, media = parser(message)
    if kind == "system":
        inbound_kind = "status"  # a notice from WhatsApp (e.g. the user changed number): stored, never answered
    return InboundMessage(
        channel="whatsapp",
        kind=inbound_kind,
        account_id=envelope.account_id,
        provider_id=envelope.provider_id,
        peer_id=peer,
        conversation_key=conversation_key(envelope.account_id, peer),
        sender_id=peer,
        sender_name=(contact.get("profile") or {}).get("name"),
        wa_id=message.get("from") or contact.get("wa_id"),
        sender_identity=_identity(contact),
        text=text,
        media=media,
        reply_to_provider_id=(message.get("context") or {}).get("id"),
        referral=message.get("referral"),
        status="system" if kind == "system" else None,
        sent_at=_timestamp(message.get("timestamp")),
        raw=message,
    )


def _identity(contact: dict[str, Any]) -> dict[str, str]:
    """A username (users who adopted one may hide their phone) and a parent BSUID (`US.ENT.…`), when Meta sends them."""
    profile = contact.get("profile") or {}
    found = {"username": profile.get("username") or contact.get("username"),
             "parent_bsuid": contact.get("parent_user_id")}  # fmt: skip
    return {key: str(value) for key, value in found.items() if value}


def _status(envelope: Envelope) -> InboundMessage:
    update = envelope.update
    if "id" not in update and update.get("errors"):  # `value.errors`: a problem not tied to one of our messages
        status, peer = "error", ""
    else:
        status, peer = str(update.get("status", "")), status_peer(update)
    errors = update.get("errors") or []
    return InboundMessage(
        channel="whatsapp",
        kind="status",
        account_id=envelope.account_id,
        provider_id=envelope.provider_id,
        peer_id=peer,
        conversation_key=conversation_key(envelope.account_id, peer),
        wa_id=update.get("recipient_id"),
        status=status,
        error=errors[0] if errors else None,
        sent_at=_timestamp(update.get("timestamp")),
        raw=update,
    )


def _raw_message(envelope: Envelope, kind: str, raw: dict[str, Any]) -> InboundMessage:
    """A malformed body, or a change of another webhook field (template status, quality, account update): kind
    "status" with status "field:<name>", so Ingest stores it and no turn starts (it has no peer)."""
    field = str(envelope.context.get("field") or "unknown")
    return InboundMessage(
        channel="whatsapp",
        kind="malformed" if kind == "malformed" else "status",
        account_id=envelope.account_id,
        provider_id=envelope.provider_id,
        peer_id="",
        conversation_key=conversation_key(envelope.account_id, ""),
        status=None if kind == "malformed" else f"field:{field}",
        text=unsupported_text("webhook", field),
        raw=raw,
    )


# message types -----------------------------------------------------------------------------------------------------
def _text(message: dict[str, Any]) -> Parsed:
    return str((message.get("text") or {}).get("body", "")), []


def _media(message: dict[str, Any]) -> Parsed:
    kind = message["type"]
    body = message.get(kind) or {}
    media_kind = "voice" if kind == "audio" and body.get("voice") else kind
    ref = MediaRef(
        kind=cast(MediaKind, media_kind),
        provider_media_id=str(body.get("id", "")),
        mime_type=body.get("mime_type"),
        filename=body.get("filename"),
        size_bytes=body.get("file_size"),
    )
    text = media_text(media_kind, mime_type=ref.mime_type, filename=ref.filename, caption=body.get("caption"))
    return text, [ref]


def _location(message: dict[str, Any]) -> Parsed:
    place = message.get("location") or {}
    return location_text(place.get("latitude"), place.get("longitude"), place.get("name"), place.get("address")), []


def _contacts(message: dict[str, Any]) -> Parsed:
    cards = []
    for card in message.get("contacts") or []:
        name = (card.get("name") or {}).get("formatted_name") or "unnamed"
        phones = ", ".join(str(p.get("phone") or p.get("wa_id")) for p in card.get("phones") or [])
        cards.append(f"{name} ({phones})" if phones else name)
    return f"[Shared contact: {'; '.join(cards) or 'empty'}]", []


def _interactive(message: dict[str, Any]) -> Parsed:
    interactive = message.get("interactive") or {}
    kind = interactive.get("type", "")
    reply = interactive.get(kind) or {}
    if kind == "button_reply":
        return str(reply.get("title", "")), []
    if kind == "list_reply":
        description = reply.get("description")
        return str(reply.get("title", "")) + (f" — {description}" if description else ""), []
    if kind == "nfm_reply":
        return f"[Form response: {reply.get('response_json', '')}]", []
    return unsupported_text(f"interactive {kind}"), []


def _button(message: dict[str, Any]) -> Parsed:
    button = message.get("button") or {}
    return str(button.get("text") or button.get("payload") or ""), []


def _reaction(message: dict[str, Any]) -> Parsed:
    emoji = (message.get("reaction") or {}).get("emoji")
    return (f"[Reacted {emoji} to an earlier message]" if emoji else "[Removed a reaction]"), []


def _order(message: dict[str, Any]) -> Parsed:
    order = message.get("order") or {}
    items = [
        f"{i.get('quantity', 1)} × {i.get('product_retailer_id')} at {i.get('item_price')} {i.get('currency', '')}"
        for i in order.get("product_items") or []
    ]
    note = f" Note: {order['text']}" if order.get("text") else ""
    return f"[Order: {'; '.join(items) or 'no items'}]{note}", []


def _system(message: dict[str, Any]) -> Parsed:
    return f"[WhatsApp notice: {(message.get('system') or {}).get('body', '')}]", []


def _unsupported(message: dict[str, Any]) -> str:
    errors = message.get("errors") or []
    detail = (errors[0].get("error_data") or {}).get("details") or errors[0].get("title") if errors else None
    kind = str(message.get("type") or "unknown")
    return unsupported_text(kind if kind != "unsupported" else "WhatsApp", detail)


_PARSERS: dict[str, Callable[[dict[str, Any]], Parsed]] = {
    "text": _text,
    **dict.fromkeys(MEDIA_TYPES, _media),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}
