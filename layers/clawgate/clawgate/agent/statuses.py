"""Delivery statuses of our outbound WhatsApp, Messenger and Instagram messages (sent → delivered → read, or failed
with Meta's error), applied to `outbound_messages` by provider_message_id (Messenger's and Instagram's reads: every
message sent before a watermark). Statuses arrive out of order and more than once: a status only ever moves a row
forward, so a late `delivered` never undoes `read`, and a replay changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clawgate.agent.data import outbound
from clawgate.core import events
from clawgate.core.channels import InboundMessage
from clawgate.core.notify import notify_operator
from clawgate.db import Conn
from clawgate.observability import logger, mask_phone

OUTSIDE_WINDOW = 131047


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
