"""The operator inbox's actions, shared by the HTTP API and the WebSocket methods: a human reply over the
conversation's channel (once per idempotency key, recorded with its author, refused with `window_closed` outside
WhatsApp's window), take over / give back and assign, labels and a private note, templates listed and sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from clawgate.agent.data.sessions import append, upsert_session
from clawgate.agent.delivery import Author, send_to_peer
from clawgate.agent.outreach import OutreachRefusedError, check, send_template_once
from clawgate.agent.routing import resolve_agent
from clawgate.channels import whatsapp_templates
from clawgate.conversations import live
from clawgate.conversations.data import conversations
from clawgate.conversations.data.conversations import Conversation
from clawgate.core.channels import DeliveryError
from clawgate.db import tenant_tx
from clawgate.gateway.data import inbox as inbox_data
from clawgate.gateway.data.inbox import LABEL, ConversationItem, MessageItem
from clawgate.gateway.inbox_media import with_media_urls
from clawgate.tenancy.tenants import cached_tenant

OperatorName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, pattern=LABEL)]
COLLEAGUE = "[Sent to the customer by your human colleague {name}; you were paused meanwhile]\n{text}"


class WindowClosedError(Exception):
    """Free text outside the service window: only a template may go out now."""

    def __init__(self, conversation: Conversation, templates: list[dict[str, Any]]) -> None:
        expired = conversation.window_expires_at.isoformat() if conversation.window_expires_at else "never opened"
        if conversation.channel == "whatsapp":
            advice = "send an approved template instead"
        else:  # Messenger and Instagram: a person may answer for 7 days (HUMAN_AGENT), and there are no templates
            advice = "the customer must write again before anyone can answer"
        super().__init__(f"the {conversation.channel} messaging window is closed ({expired}); {advice}")
        self.templates = templates


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=4096)
    author: OperatorName = "operator"


class ModeBody(BaseModel):
    mode: Literal["human", "bot"]
    assignee: OperatorName | None = Field(default=None, description="who handles it; empty string: nobody")
    author: OperatorName = "operator"


class PatchBody(BaseModel):
    labels: list[Label] | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=5000, description="private: never shown to the customer")


class TemplateBody(BaseModel):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(min_length=2, max_length=15, pattern=r"^[A-Za-z_]+$")
    parameters: list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]] = Field(
        default=[], max_length=20
    )
    author: OperatorName = "operator"


def _conversation(tenant: str, conversation_id: int) -> Conversation:
    with tenant_tx(tenant, "ro") as conn:
        found = conversations.get(conn, conversation_id)
    if found is None:
        raise LookupError(f"no conversation {conversation_id}")
    return found


class MessagesPage(BaseModel):
    items: list[MessageItem]
    conversation: ConversationItem


def transcript(tenant: str, conversation_id: int, limit: int) -> MessagesPage:
    """The latest `limit` messages, oldest first, each stored attachment with the operator API path that serves it
    (the web UI fetches it with the token). Reading them is not marking them read: the caller does that."""
    with tenant_tx(tenant, "ro") as conn:
        conversation = inbox_data.conversation(conn, conversation_id)
        if conversation is None:
            raise LookupError(f"no conversation {conversation_id}")
        latest = inbox_data.latest_messages(conn, conversation_id, limit)
    items = [m.model_copy(update={"media": with_media_urls(tenant, conversation_id, m.id, m.media)})
             for m in reversed(latest)]  # fmt: skip
    return MessagesPage(items=items, conversation=conversation)


def template_summaries(tenant: str, refresh: bool = False) -> list[dict[str, Any]]:
    return [t.summary() for t in whatsapp_templates.current(cached_tenant(tenant), refresh=refresh)]


def reply(tenant: str, conversation_id: int, body: ReplyBody, idempotency_key: str | None) -> dict[str, Any]:
    """Send an operator's text once per key; the agent will read it as a colleague's when it resumes."""
    conversation = _conversation(tenant, conversation_id)
    if conversation.opted_out_at is not None:
        raise OutreachRefusedError(
            "the customer opted out: nothing but the confirmation goes to them", code="opted_out"
        )
    if not conversation.window_open(datetime.now(UTC)):
        templates = template_summaries(tenant) if conversation.channel == "whatsapp" else []
        raise WindowClosedError(conversation, templates)
    key = f"op:{conversation.id}:{idempotency_key or uuid.uuid4().hex}"
    sent = send_to_peer(tenant, conversation.channel, conversation.account_id, conversation.peer_id, body.text, key,
                        author=Author("operator", body.author))  # fmt: skip
    if sent:
        _remember_for_agent(tenant, conversation, COLLEAGUE.format(name=body.author, text=body.text))
    return {"sent": sent, "key": key, "conversation_id": conversation.id}


def _remember_for_agent(tenant: str, conversation: Conversation, text: str) -> None:
    settings = cached_tenant(tenant)
    with tenant_tx(tenant) as conn:
        agent_id = resolve_agent(conn, settings, conversation.channel, conversation.account_id, conversation.peer_id)
        session_id = upsert_session(conn, agent_id, conversation.channel, conversation.account_id,
                                    conversation.peer_id)  # fmt: skip
        append(conn, session_id, None, "assistant", [{"type": "text", "text": text}])


def set_mode(tenant: str, conversation_id: int, body: ModeBody) -> dict[str, Any]:
    """Take over (`human`) or give back (`bot`); an operator who takes over without naming anyone is the assignee."""
    assignee = body.assignee if body.assignee is not None else (body.author if body.mode == "human" else None)
    with tenant_tx(tenant) as conn:
        if conversations.get(conn, conversation_id) is None:
            raise LookupError(f"no conversation {conversation_id}")
        changed = conversations.set_mode(conn, conversation_id, body.mode, f"operator:{body.author}")
        if assignee is not None or "assignee" in body.model_fields_set:
            conversations.set_assignee(conn, conversation_id, assignee or None)
        live.updated(conn, tenant, conversation_id)
    return {"conversation_id": conversation_id, "mode": body.mode, "changed": changed, "assignee": assignee or None}


def update(tenant: str, conversation_id: int, body: PatchBody) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    if "labels" in changes and changes["labels"] is not None:
        changes["labels"] = list(dict.fromkeys(changes["labels"]))
    with tenant_tx(tenant) as conn:
        if not conversations.update(
            conn, conversation_id, {k: v for k, v in changes.items() if v is not None or k == "note"}
        ):
            raise LookupError(f"no conversation {conversation_id}")
        live.updated(conn, tenant, conversation_id)
    return {"conversation_id": conversation_id, "updated": sorted(changes)}


def send_template(tenant: str, conversation_id: int, body: TemplateBody, idempotency_key: str | None) -> dict[str, Any]:
    conversation = _conversation(tenant, conversation_id)
    current = whatsapp_templates.current(cached_tenant(tenant))
    template = next((t for t in current if (t.name, t.language) == (body.name, body.language)), None)
    if template is None:
        raise OutreachRefusedError(f"name: no approved template {body.name!r} in {body.language!r}",
                                   code="unknown_template", field="name")  # fmt: skip
    check(conversation, template, body.parameters)
    key = f"tpl:{conversation.id}:{idempotency_key or uuid.uuid4().hex}"
    sent = send_template_once(tenant, conversation, template, body.parameters, key, Author("operator", body.author))
    if sent:
        rendered = template.render(body.parameters)
        _remember_for_agent(tenant, conversation, COLLEAGUE.format(name=body.author, text=rendered))
    return {"sent": sent, "key": key, "conversation_id": conversation.id}


def mark_read(tenant: str, conversation_id: int) -> None:
    with tenant_tx(tenant) as conn:
        conversations.mark_read(conn, conversation_id)
        live.updated(conn, tenant, conversation_id)


__all__ = ["DeliveryError", "ModeBody", "PatchBody", "ReplyBody", "TemplateBody", "WindowClosedError"]
