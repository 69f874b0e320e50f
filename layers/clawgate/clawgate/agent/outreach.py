"""Template messages to a person (WhatsApp; allowed outside the 24-hour window): sent by an operator from the
inbox, by the agent's `send_template` tool on operator channels, or by the `inbox` job for a scheduled follow-up.
Each is sent once per key (a retry changes nothing), recorded with its author, and never to someone who opted out."""

from __future__ import annotations

from clawgate.agent.data import outbound
from clawgate.agent.delivery import Author, account_for
from clawgate.conversations import live
from clawgate.conversations.data import conversations
from clawgate.conversations.data.conversations import Conversation
from clawgate.conversations.templates import Template
from clawgate.core.channels import TemplateSender, get_adapter
from clawgate.db import tenant_tx
from clawgate.observability import count


class OutreachRefusedError(Exception):
    """The template may not go out (the customer opted out, a parameter is missing); `field` names the culprit."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def check(conversation: Conversation, template: Template, parameters: list[str]) -> None:
    if conversation.opted_out_at is not None:
        raise OutreachRefusedError(
            "the customer opted out: nothing but the confirmation goes to them", code="opted_out"
        )
    if conversation.channel != "whatsapp":
        raise OutreachRefusedError(f"templates are for WhatsApp, not {conversation.channel}", code="not_whatsapp")
    if len(parameters) != template.parameter_count:
        raise OutreachRefusedError(
            f"parameters: template {template.name!r} takes {template.parameter_count}, got {len(parameters)}",
            code="invalid_request", field="parameters",
        )  # fmt: skip


def send_template_once(
    tenant: str, conversation: Conversation, template: Template, parameters: list[str], key: str, author: Author
) -> int:
    """1 when it went out now, 0 when this key went out before. Channel refusals raise `DeliveryError`."""
    check(conversation, template, parameters)
    adapter = get_adapter(conversation.channel)
    if not isinstance(adapter, TemplateSender):
        raise OutreachRefusedError(f"{conversation.channel} has no templates", code="not_whatsapp")
    with tenant_tx(tenant) as conn:
        if outbound.sent_chunks(conn, key, 1):
            return 0
    account = account_for(tenant, conversation.channel, conversation.account_id)
    sent = adapter.send_template(account, conversation.peer_id, template.name, template.language, parameters)
    text = template.render(parameters)
    chunk = sent.model_copy(update={"text": text, "chunk_index": 0})
    payload = {"template": {"name": template.name, "language": template.language, "parameters": parameters}}
    with tenant_tx(tenant) as conn:
        recorded = outbound.record_sent(
            conn, None, "whatsapp", conversation.account_id, conversation.peer_id, key, chunk, author.kind,
            author.name, payload,
        )  # fmt: skip
        conversations.record_outbound(conn, conversation.id, author.kind)
        if recorded:
            live.message(conn, tenant, conversation.id, author.item(recorded[0], text) | {"template": template.name})
            live.updated(conn, tenant, conversation.id)
    count("TemplatesSent")
    return 1
