"""Live inbox updates: `conversation.message` (a message stored or sent) and `conversation.updated` (mode,
assignee, labels, note, unread), published on the transaction that made the change, so operators see them once it
has committed (the gateway subscribes and pushes them to every connected operator)."""

from __future__ import annotations

from typing import Any

from clawgate.core import events
from clawgate.db import Conn


def message(conn: Conn, tenant: str, conversation_id: int, item: dict[str, Any]) -> None:
    events.publish(conn, events.ConversationMessage(tenant, conversation_id, item))


def updated(conn: Conn, tenant: str, conversation_id: int) -> None:
    events.publish(conn, events.ConversationUpdated(tenant, conversation_id))
