"""Messenger and Instagram envelopes → `InboundMessage`s. The two platforms share the Messenger Platform's event
shapes: `message` (text, attachments, a quick reply's payload, a reply to a message or — Instagram — to a story, a
`referral` from an ad), `postback` (a button: its title), `reaction`, `referral` (an ad opened an existing thread),
`read` and `delivery`. Anything else arrives here as "unsupported" from the webhook and is stored as an event.

An ad's referral (`source: ADS`, `ad_id`, `ads_context_data`) is handed on intact in `referral`; Meta's attribution
reads it. A referral with no message is an `event` that carries it: attributed, stored, never answered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from clawgate.channels.meta_messaging_webhook import conversation_key
from clawgate.core.channels import Envelope, InboundKind, InboundMessage, MediaRef
from clawgate.core.placeholders import location_text, media_text, unsupported_text

MediaKind = Literal["image", "video", "audio", "voice", "document", "sticker"]
# Attachment types that carry a downloadable `payload.url` (Instagram's story mention is the story's media).
MEDIA_KINDS: dict[str, MediaKind] = {"image": "image", "video": "video", "audio": "audio", "file": "document",
                                     "story_mention": "image", "animated_image_share": "image"}  # fmt: skip
SHARE_KINDS = {"share": "a post", "ig_reel": "a reel", "reel": "a reel", "ig_post": "a post", "template": "a card",
               "fallback": "a link"}  # fmt: skip


def parse_envelope(envelope: Envelope) -> list[InboundMessage]:
    event = envelope.update
    if envelope.kind == "unsupported":
        reason = str(envelope.context.get("reason") or "unknown")
        return [_message(envelope, event, "event", unsupported_text("event", reason), status=f"unsupported:{reason}")]
    if envelope.kind == "status":
        status = "read" if "read" in event else "delivered"
        mid = envelope.provider_id.rpartition(":")[0] if status == "delivered" else None
        return [_message(envelope, {**event, "id": mid} if mid else event, "status", "", status=status)]
    if isinstance(event.get("message"), dict):
        return [_from_message(envelope, event)]
    if isinstance(event.get("postback"), dict):
        postback = event["postback"]
        text = str(postback.get("title") or postback.get("payload") or "")
        return [_message(envelope, event, "callback", text, referral=_referral(postback.get("referral")))]
    if isinstance(event.get("reaction"), dict):
        reaction = event["reaction"]
        emoji = reaction.get("emoji") or reaction.get("reaction")
        removed = reaction.get("action") == "unreact"
        text = "[Removed a reaction]" if removed else f"[Reacted {emoji} to an earlier message]"
        return [_message(envelope, event, "message", text, reply_to=reaction.get("mid"))]
    if isinstance(event.get("referral"), dict):
        return [_message(envelope, event, "event", "[Opened the conversation from a link or an ad]",
                         referral=_referral(event["referral"]))]  # fmt: skip
    return [_message(envelope, event, "event", unsupported_text("event"), status="unsupported:unknown event")]


def _from_message(envelope: Envelope, event: dict[str, Any]) -> InboundMessage:
    message = event["message"]
    parts: list[str] = []
    media: list[MediaRef] = []
    reply_to = message.get("reply_to") or {}
    if isinstance(reply_to.get("story"), dict):
        parts.append("[Replied to your story]")
    for attachment in message.get("attachments") or []:
        text, ref = _attachment(attachment)
        parts.append(text)
        media += [ref] if ref else []
    if message.get("text"):
        parts.append(str(message["text"]))
    kind: InboundKind = "message"
    if message.get("is_deleted"):
        parts, kind = ["[Deleted a message]"], "event"
    elif message.get("is_unsupported") or not parts:
        parts, kind = [unsupported_text("Meta")], "unsupported"
    return _message(envelope, event, kind, " ".join(parts), media=media, reply_to=reply_to.get("mid"),
                    referral=_referral(message.get("referral")))  # fmt: skip


def _attachment(attachment: Any) -> tuple[str, MediaRef | None]:
    attachment = attachment if isinstance(attachment, dict) else {}
    kind = str(attachment.get("type") or "unknown")
    payload = attachment.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    if kind == "location" or "coordinates" in payload:
        place = payload.get("coordinates") or {}
        return location_text(place.get("lat"), place.get("long"), attachment.get("title")), None
    if kind == "image" and payload.get("sticker_id"):
        return "[Sticker]", None  # Messenger's thumbs-up and stickers: nothing worth downloading
    media_kind = MEDIA_KINDS.get(kind)
    if media_kind and payload.get("url"):
        ref = MediaRef(kind=media_kind, provider_media_id=str(payload["url"]), filename=attachment.get("name"))
        text = media_text(media_kind, filename=ref.filename)
        return ("[Mentioned you in their story] " + text if kind == "story_mention" else text), ref
    if kind in SHARE_KINDS:
        title = payload.get("title") or attachment.get("title")
        return f"[Shared {SHARE_KINDS[kind]}{': ' + str(title) if title else ''}]", None
    return unsupported_text(f"{kind} attachment"), None


def _referral(referral: Any) -> dict[str, Any] | None:
    return referral if isinstance(referral, dict) and referral else None


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)  # milliseconds on the Messenger Platform
    except (TypeError, ValueError, OverflowError):
        return None


def _message(
    envelope: Envelope, event: dict[str, Any], kind: InboundKind, text: str, *, media: list[MediaRef] | None = None,
    reply_to: Any = None, referral: dict[str, Any] | None = None, status: str | None = None,
) -> InboundMessage:  # fmt: skip
    peer = str((event.get("sender") or {}).get("id") or "") if isinstance(event.get("sender"), dict) else ""
    return InboundMessage(
        channel=envelope.channel,
        kind=kind,
        account_id=envelope.account_id,
        provider_id=envelope.provider_id,
        peer_id=peer,
        conversation_key=conversation_key(envelope.channel, envelope.account_id, peer),
        sender_id=peer or None,
        text=text,
        media=media or [],
        reply_to_provider_id=str(reply_to) if reply_to else None,
        referral=referral,
        status=status,
        sent_at=_timestamp(event.get("timestamp")),
        raw=cast(dict[str, Any], event),
    )
