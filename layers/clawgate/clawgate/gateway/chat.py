"""Chat from the control UI. `chat.send` puts a webchat envelope on the `inbound` queue (group = the device's
conversation, dedup = the client's message id), so the turn runs through the same AgentTurn workflow as a messenger
message. While the model streams, `chat.delta` events go out; the reply ends with `chat.final`.

Replies reach every open tab of the device (its authenticated `ws_connections`), not only the tab that asked: the
turn's peer is the device, and the asking connection (`turn.context["connection_id"]`, put there by Ingest from the
envelope) is always included, so streaming works even before the registry row is visible."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from clawgate.agent.turns import Turn
from clawgate.channels import envelopes
from clawgate.gateway import connections, protocol

DELTA_INTERVAL_S = 0.05  # deltas closer together than this are merged into the next post


class SendParams(BaseModel):
    agent: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=32_000)
    message_id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


def conversation(tenant: str, device: str) -> str:
    return f"webchat:{tenant}:{device}"


def enqueue(tenant: str, device: str, device_name: str | None, connection_id: str, params: SendParams) -> str:
    """The webchat envelope on the inbound queue; returns its provider id (`<device>:<message_id>`)."""
    provider_id = f"{device}:{params.message_id}"
    update = {"text": params.text, "agent": params.agent, "device": device, "device_name": device_name,
              "message_id": params.message_id, "connection_id": connection_id}  # fmt: skip
    body = envelopes.envelope("webchat", "message", account_id=tenant, provider_id=provider_id, update=update)
    envelopes.send([envelopes.queue_message(body, conversation(tenant, device), provider_id)])
    return provider_id


def _targets(turn: Turn) -> list[str]:
    asking = [str(turn.context["connection_id"])] if turn.context.get("connection_id") else []
    if not turn.account_id:
        return asking
    return asking + connections.device_connections(turn.account_id, turn.peer_id)


def _payload(turn: Turn, text: str) -> dict[str, Any]:
    return {"turn_id": turn.id, "agent": turn.agent_id, "text": text, "in_reply_to": turn.context.get("reply_to")}


def delta_sink(turn: Turn) -> Callable[[str], None]:
    """Post streamed pieces of the reply as `chat.delta` events: the first at once, then at most one post every
    DELTA_INTERVAL_S (a piece that arrives sooner waits for the next one; `chat.final` carries the whole text)."""
    targets = _targets(turn)
    pending: list[str] = []
    last_post = 0.0

    def post(text: str) -> None:
        nonlocal last_post
        pending.append(text)
        now = time.monotonic()
        if now - last_post < DELTA_INTERVAL_S:
            return
        frame = protocol.event("chat.delta", _payload(turn, "".join(pending)))
        pending.clear()
        last_post = now
        connections.post_to_all(targets, frame)

    return post


def post_reply(turn: Turn, text: str) -> int:
    """`chat.final` to the device's open connections; returns how many were reached."""
    return connections.post_to_all(_targets(turn), protocol.event("chat.final", _payload(turn, text)))


def post_typing(tenant: str, device: str, connection_id: str | None, agent: str | None) -> int:
    targets = ([connection_id] if connection_id else []) + connections.device_connections(tenant, device)
    return connections.post_to_all(targets, protocol.event("chat.typing", {"agent": agent}))
