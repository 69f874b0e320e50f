"""Delivery statuses of our outbound WhatsApp, Messenger and Instagram messages (sent → delivered → read, or failed
with Meta's error), applied to `outbound_messages` by provider_message_id (Messenger's and Instagram's reads: every
message sent before a watermark). Statuses arrive out of order and more than once: a status only ever moves a row
forward, so a late `delivered` never undoes `read`, and a replay changes nothing.

A WhatsApp status whose conversation origin is `referral_conversion` says Meta granted the free entry point window (a
Click-to-WhatsApp entry answered within 24 hours): the conversation may get free text until its
`expiration_timestamp` (72 hours), the only place Meta announces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clawgate.agent.data import outbound
from clawgate.conversations.data import conversations
from clawgate.core import events
from clawgate.core.channels import InboundMessage
from clawgate.core.notify import notify_operator
from clawgate.db import Conn
from clawgate.observability import logger, mask_phone

OUTSIDE_WINDOW = 131047
FREE_ENTRY_ORIGIN = "referral_conversion"
# Meta's free entry point window lasts 72 hours; an expiry further ahead than that (and a few minutes of clock skew)
# is not one Meta sent, and is ignored.
FREE_ENTRY_LONGEST = timedelta(hours=72, minutes=5)


def _error_code(error: dict[str, Any] | None) -> int | None:
    code = (error or {}).get("code")
    return int(code) if isinstance(code, int | str) and str(code).isdigit() else None


def apply_status(conn: Conn, tenant_slug: str, message: InboundMessage) -> bool:
    """Move the outbound row forward; True when a row changed. A 131047 failure (outside the 24-hour window) is
    surfaced to the operator once, when the row turns `failed`, after the transaction commits."""
    status = message.status or ""
    if status == "error" or status not in outbound.RANK:
        logger.warning("whatsapp status not applied", extra={"status": status, "error": message.error})
        return False
    watermark = (message.raw.get("read") or {}).get("watermark") if isinstance(message.raw.get("read"), dict) else None
    if watermark is not None:
        return _read_up_to(conn, message, watermark)
    wamid = str(message.raw.get("id") or message.provider_id.rpartition(":")[0])
    if message.channel == "whatsapp" and (until := free_entry_until(message.raw)) is not None:
        granted = conversations.grant_free_entry(conn, message.account_id, message.peer_id, wamid, until)
        logger.info("whatsapp free entry point", extra={"tenant": tenant_slug, "until": until, "granted": granted})
    code = _error_code(message.error)
    peer = outbound.move_status(conn, message.channel, wamid, status, message.sent_at, code, message.error)
    if peer is None:
        logger.info("whatsapp status: no row moved", extra={"status": status, "tenant": tenant_slug})
        return False
    if status == "failed":
        logger.warning("whatsapp message failed", extra={"tenant": tenant_slug, "code": code, "to": mask_phone(peer)})
        if code == OUTSIDE_WINDOW:
            events.after_commit(lambda: _tell_operator(tenant_slug, peer, message.error))
    return True


def free_entry_until(status: dict[str, Any], now: datetime | None = None) -> datetime | None:
    """When the free entry point window a WhatsApp status announces ends; None for any other conversation, and for
    an expiry that is missing, not unix seconds, already past or beyond 72 hours from now."""
    conversation = status.get("conversation")
    if not isinstance(conversation, dict):
        return None
    origin = conversation.get("origin")
    if not isinstance(origin, dict) or origin.get("type") != FREE_ENTRY_ORIGIN:
        return None
    expires = conversation.get("expiration_timestamp")
    text = str(expires) if isinstance(expires, int | str) and not isinstance(expires, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return None
    now = now or datetime.now(UTC)
    seconds = int(text)
    if not now.timestamp() < seconds <= (now + FREE_ENTRY_LONGEST).timestamp():
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _read_up_to(conn: Conn, message: InboundMessage, watermark: Any) -> bool:
    """Messenger and Instagram say "read" once for everything sent before a watermark (milliseconds)."""
    try:
        before = datetime.fromtimestamp(int(watermark) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return False
    return outbound.mark_read_up_to(conn, message.channel, message.account_id, message.peer_id, before) > 0


def _tell_operator(tenant_slug: str, peer_id: str, error: dict[str, Any] | None) -> None:
    detail = ((error or {}).get("error_data") or {}).get("details") or (error or {}).get("title") or ""
    notify_operator(
        tenant_slug,
        f"a WhatsApp reply to {mask_phone(peer_id)} was not delivered: more than 24 hours since the customer last "
        f"wrote, only a template message can reach them now (131047). {detail}".strip(),
    )
