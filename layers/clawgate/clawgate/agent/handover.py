"""What Ingest does with a conversation's mode. Every new inbound message updates its conversation (unread, the
service window, the ad that started it) and reaches the operators' inbox live; then the tenant's rules decide: an
opt-out gets only the confirmation, a hand-off keyword switches the conversation to `human`, and a `human`
conversation whose operator has been silent for `handoff.auto_resume_minutes` goes back to `bot`. In `human` mode no
model is called: the messages join the agent's session (so it knows them when it resumes) and the operators are
notified on Telegram with a link."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from clawgate.agent.data.inbound import mark_held
from clawgate.agent.data.sessions import append, upsert_session
from clawgate.agent.routing import resolve_agent
from clawgate.conversations import live, rules
from clawgate.conversations.data import conversations
from clawgate.conversations.data.conversations import Conversation
from clawgate.conversations.handoff import notify
from clawgate.core.channels import InboundMessage
from clawgate.db import Conn, tenant_tx
from clawgate.tenancy.model import TenantFile

Action = Literal["turn", "hold", "opt_out"]


@dataclass(frozen=True)
class Routed:
    message: InboundMessage
    conversation: Conversation
    action: Action
    handed_over: str | None = None  # why this message switched the conversation to `human`


def route_inbound(conn: Conn, tenant: TenantFile, message: InboundMessage) -> Routed:
    """Inside Ingest's transaction, for a message stored for the first time (after `InboundStored`)."""
    conversation, event_id = conversations.record_inbound(
        conn, channel=message.channel, account_id=message.account_id, peer_id=message.peer_id,
        provider_id=message.provider_id, name=message.sender_name, sent_at=message.sent_at,
        ad_id=_ad_id(message.referral),
    )  # fmt: skip
    if not message.media:  # one with media reaches the inbox once its blobs are stored (`media_stored`)
        live.message(conn, tenant.slug, conversation.id, inbound_item(message, event_id))
    live.updated(conn, tenant.slug, conversation.id)
    if rules.is_opt_out(tenant.opt_out.keywords, message.text):
        conversations.set_opted_out(conn, conversation.id, True)
        return Routed(message, conversation, "opt_out")
    if conversation.opted_out_at is not None:  # they wrote again: they want to hear from us
        conversations.set_opted_out(conn, conversation.id, False)
    if rules.resume_due(tenant.handoff.auto_resume_minutes, conversation, datetime.now(UTC)):
        conversations.set_mode(
            conn, conversation.id, "bot", "timeout", "no operator message within auto_resume_minutes"
        )
        conversation = replace(conversation, mode="bot")
    reason = None
    if conversation.mode == "bot" and (keyword := rules.handoff_keyword(tenant.handoff.keywords, message.text)):
        reason = f"the customer wrote {keyword!r}"
        conversations.set_mode(conn, conversation.id, "human", "rule:keyword", reason)
        conversation = replace(conversation, mode="human")
    return Routed(message, conversation, "hold" if conversation.mode == "human" else "turn", reason)


def _ad_id(referral: dict[str, Any] | None) -> str | None:
    """WhatsApp: `source_id` of an ad's referral; Messenger and Instagram: `ad_id` when `source` is `ADS`."""
    referral = referral or {}
    if "source" in referral:
        return str(referral["ad_id"]) if referral.get("source") == "ADS" and referral.get("ad_id") else None
    source_id = referral.get("source_id")
    return str(source_id) if source_id and referral.get("source_type", "ad") == "ad" else None


def inbound_item(message: InboundMessage, event_id: int | None) -> dict[str, Any]:
    return {"id": f"in:{event_id}", "direction": "in", "author": "customer", "author_name": message.sender_name,
            "text": message.text, "at": datetime.now(UTC).isoformat(),
            "media": [m.model_dump(mode="json") for m in message.media]}  # fmt: skip


def media_stored(conn: Conn, tenant: str, message: InboundMessage, event_id: int, conversation_id: int) -> None:
    """A new message with media, pushed to the operators in the transaction that records its blob keys: the inbox
    gets it with preview URLs that already serve the bytes, never one that answers 404 until the download ends."""
    live.message(conn, tenant, conversation_id, inbound_item(message, event_id))


def hold(tenant: TenantFile, routed: list[Routed], content: list[dict[str, Any]]) -> None:
    """A `human` conversation's new messages: into the agent's session without a turn, marked processed (a
    redelivery changes nothing), and the operators told (one notice per burst)."""
    message = routed[-1].message
    with tenant_tx(tenant.slug) as conn:
        agent_id = resolve_agent(conn, tenant, message.channel, message.account_id, message.peer_id)
        session_id = upsert_session(conn, agent_id, message.channel, message.account_id, message.peer_id)
        append(conn, session_id, None, "user", content)
        mark_held(conn, message.conversation_key)
    reason = next((r.handed_over for r in routed if r.handed_over), None)
    text = "\n".join(r.message.text for r in routed)
    notify(tenant.slug, routed[-1].conversation, text, reason, tenant.handoff.inbox_url)
