"""Handing a conversation to a person: the mode switch (recorded with who and why), the live update, and a notice
to the tenant's operators (Telegram, with a link to the conversation in the inbox)."""

from __future__ import annotations

from clawgate.conversations import live
from clawgate.conversations.data import conversations
from clawgate.conversations.data.conversations import Conversation
from clawgate.core.notify import notify_operator
from clawgate.db import tenant_tx
from clawgate.observability import logger, mask_phone
from clawgate.settings import get_settings


def inbox_link(inbox_url: str | None, conversation_id: int) -> str:
    """`handoff.inbox_url` of the tenant file, else the local runtime's web UI."""
    base = inbox_url or f"http://127.0.0.1:{get_settings().port}/"
    return f"{base.rstrip('/')}/#inbox/{conversation_id}"


def notify(tenant: str, conversation: Conversation, text: str, reason: str | None, inbox_url: str | None) -> bool:
    who = conversation.name or mask_phone(conversation.peer_id)
    if reason:
        head = f"{conversation.channel} conversation with {who} handed to a person ({reason})"
    else:
        head = f"{who} wrote on {conversation.channel}; a person is handling this conversation"
    excerpt = " ".join(text.split())[:300]
    notified = notify_operator(tenant, f"{head}:\n“{excerpt}”\n{inbox_link(inbox_url, conversation.id)}")
    logger.info("operators told about a human conversation", extra={"notified": notified})
    return notified


def hand_over(
    tenant: str, channel: str, account_id: str | None, peer_id: str, by: str, reason: str, inbox_url: str | None
) -> str:
    """Switch a conversation to `human` (the `handoff` tool, a qualification rule); returns what the agent reads."""
    with tenant_tx(tenant) as conn:
        conversation = conversations.find(conn, channel, account_id, peer_id)
        changed = conversation is not None and conversations.set_mode(conn, conversation.id, "human", by, reason)
        if conversation is not None and changed:
            live.updated(conn, tenant, conversation.id)
    if conversation is None:  # a run-API or scheduled session: no inbox conversation to pause
        notified = notify_operator(tenant, f"Handoff requested ({channel} {mask_phone(peer_id)}): {reason}")
        return "a colleague has been notified" if notified else "recorded; no operator channel is configured"
    if changed:
        notify(tenant, conversation, reason, f"{by}: {reason}", inbox_url)
    return "the conversation is now with a person; you will not be called until they give it back"
