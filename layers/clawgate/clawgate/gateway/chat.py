"""Chat from the control UI. `chat.send` puts a webchat envelope on the `inbound` queue (group = the device's
conversation, dedup = the client's message id), so the turn runs through the same AgentTurn workflow as a messenger
message; the web chat adapter (`channels.webchat`) streams and sends the reply."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from clawgate.channels.webchat import conversation
from clawgate.core import envelopes


class SendParams(BaseModel):
    agent: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=32_000)
    message_id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


def enqueue(tenant: str, device: str, device_name: str | None, connection_id: str, params: SendParams) -> str:
    """The webchat envelope on the inbound queue; returns its provider id (`<device>:<message_id>`)."""
    provider_id = f"{device}:{params.message_id}"
    update = {"text": params.text, "agent": params.agent, "device": device, "device_name": device_name,
              "message_id": params.message_id, "connection_id": connection_id}  # fmt: skip
    body = envelopes.envelope("webchat", "message", account_id=tenant, provider_id=provider_id, update=update)
    envelopes.send([envelopes.queue_message(body, conversation(tenant, device), provider_id)])
    return provider_id
