"""Pushes inbox events to every approved operator connection of the tenant, after the change has committed:
`conversation.message` as published, `conversation.updated` with the conversation as the list shows it. Best effort:
an operator who misses one reloads the list."""

from __future__ import annotations

from typing import Any

from clawgate.core import events, protocol
from clawgate.db import registry_tx, tenant_tx
from clawgate.gateway.data import devices
from clawgate.gateway.data.inbox import conversation
from clawgate.gateway.inbox_media import with_media_urls
from clawgate.observability import logger
from clawgate.tenancy import connections


def tenant_connections(tenant: str) -> list[str]:
    with registry_tx() as conn:
        return devices.approved_connections(conn, tenant)


def broadcast(tenant: str, event: str, payload: dict[str, Any]) -> int:
    targets = tenant_connections(tenant)
    return connections.post_to_all(targets, protocol.event(event, payload)) if targets else 0


@events.subscribe(events.ConversationMessage)
def push_message(event: events.ConversationMessage) -> None:
    """The message as the transcript lists it: stored media with the URLs of their previews."""
    try:
        item = event.item | {"media": with_media_urls(event.tenant, event.conversation_id, str(event.item.get("id")),
                                                      event.item.get("media"))}  # fmt: skip
        broadcast(event.tenant, "conversation.message", {"conversation_id": event.conversation_id, "message": item})
    except Exception:
        logger.warning("conversation.message not pushed", exc_info=True)


@events.subscribe(events.ConversationUpdated)
def push_update(event: events.ConversationUpdated) -> None:
    try:
        if not tenant_connections(event.tenant):
            return
        with tenant_tx(event.tenant, "ro") as conn:
            found = conversation(conn, event.conversation_id)
        if found is None:
            return
        item = found.model_dump(mode="json")
        broadcast(event.tenant, "conversation.updated", {"conversation_id": event.conversation_id,
                                                         "conversation": item})  # fmt: skip
    except Exception:
        logger.warning("conversation.updated not pushed", exc_info=True)
