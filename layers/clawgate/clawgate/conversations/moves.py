"""WhatsApp's `user_changed_user_id` system message: the person now has a new business-scoped user id. The
conversation moves to the new id and keeps its history: the person, the dialog (counters, referral, lead), the
agent's sessions, and the stored inbound and outbound rows follow; nothing is copied, nothing is lost."""

from __future__ import annotations

from typing import Any

from clawgate.conversations import store
from clawgate.conversations.data.people import is_bsuid
from clawgate.db import Conn
from clawgate.observability import logger

MOVES = (
    # the person: the new id becomes the BSUID (unless the new id already has its own person row)
    "UPDATE people SET bsuid = %(new)s, parent_bsuid = coalesce(%(parent)s, parent_bsuid),"
    " wa_id = coalesce(%(wa_id)s, wa_id), updated_at = now()"
    " WHERE bsuid = %(old)s AND NOT EXISTS (SELECT 1 FROM people WHERE bsuid = %(new)s)",
    "INSERT INTO person_identities (person_id, channel, kind, external_id)"
    " SELECT id, 'whatsapp', 'bsuid', %(new)s FROM people WHERE bsuid = %(new)s"
    " ON CONFLICT (channel, kind, external_id) DO NOTHING",
    "UPDATE wa_dialogs SET user_id = %(new)s, wa_id = coalesce(%(wa_id)s, wa_id), updated_at = now()"
    " WHERE phone_number_id = %(account)s AND user_id = %(old)s"
    " AND NOT EXISTS (SELECT 1 FROM wa_dialogs WHERE phone_number_id = %(account)s AND user_id = %(new)s)",
    "UPDATE leads SET user_id = %(new)s, updated_at = now() WHERE user_id = %(old)s",
    "UPDATE sessions SET peer_id = %(new)s, session_key = agent_id || ':whatsapp:' || %(new)s, updated_at = now()"
    " WHERE channel = 'whatsapp' AND peer_id = %(old)s AND account_id IS NOT DISTINCT FROM %(account)s"
    " AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_key = sessions.agent_id || ':whatsapp:' || %(new)s)",
    "UPDATE inbound_events SET peer_id = %(new)s, conversation_key = %(new_key)s"
    " WHERE channel = 'whatsapp' AND account_id = %(account)s AND peer_id = %(old)s",
    "UPDATE outbound_messages SET peer_id = %(new)s"
    " WHERE channel = 'whatsapp' AND account_id = %(account)s AND peer_id = %(old)s",
    store.MOVE,
)


def whatsapp_user_id_change(message_raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(old id, new id, system block) of a `user_changed_user_id` system message; None for any other message."""
    system = message_raw.get("system")
    if not isinstance(system, dict) or system.get("type") != "user_changed_user_id":
        return None
    old = str(system.get("previous_user_id") or message_raw.get("from_user_id") or "")
    new = str(system.get("user_id") or "")
    if not (is_bsuid(old) and is_bsuid(new)) or old == new:
        logger.warning("user_changed_user_id without two distinct ids; kept, nothing moved")
        return None
    return old, new, system


def move_whatsapp_user(conn: Conn, account_id: str, message_raw: dict[str, Any]) -> bool:
    """Apply a `user_changed_user_id` notice inside Ingest's transaction; True when it was one."""
    change = whatsapp_user_id_change(message_raw)
    if change is None:
        return False
    old, new, system = change
    params = {"old": old, "new": new, "account": account_id, "wa_id": system.get("wa_id"),
              "parent": system.get("parent_user_id"), "new_key": f"whatsapp:{account_id}:{new}"}  # fmt: skip
    for statement in MOVES:
        conn.execute(statement, params)
    logger.info("whatsapp conversation moved to a new user id", extra={"account": account_id})
    return True
