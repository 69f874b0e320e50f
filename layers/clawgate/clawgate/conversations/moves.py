"""WhatsApp's `user_changed_user_id` system message: the person now has a new business-scoped user id. The
conversation moves to the new id and keeps its history: the person, the dialog (counters, referral, lead), the
agent's sessions, and the stored inbound and outbound rows follow; nothing is copied, nothing is lost."""

from __future__ import annotations

from typing import Any

from clawgate.conversations.data import people
from clawgate.db import Conn
from clawgate.observability import logger


def whatsapp_user_id_change(message_raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(old id, new id, system block) of a `user_changed_user_id` system message; None for any other message."""
    system = message_raw.get("system")
    if not isinstance(system, dict) or system.get("type") != "user_changed_user_id":
        return None
    old = str(system.get("previous_user_id") or message_raw.get("from_user_id") or "")
    new = str(system.get("user_id") or "")
    if not (people.is_bsuid(old) and people.is_bsuid(new)) or old == new:
        logger.warning("user_changed_user_id without two distinct ids; kept, nothing moved")
        return None
    return old, new, system


def move_whatsapp_user(conn: Conn, account_id: str, message_raw: dict[str, Any]) -> bool:
    """Apply a `user_changed_user_id` notice inside Ingest's transaction; True when it was one."""
    change = whatsapp_user_id_change(message_raw)
    if change is None:
        return False
    old, new, system = change
    people.move_whatsapp_user(
        conn, account_id, old, new, wa_id=system.get("wa_id"), parent_bsuid=system.get("parent_user_id")
    )
    logger.info("whatsapp conversation moved to a new user id", extra={"account": account_id})
    return True
