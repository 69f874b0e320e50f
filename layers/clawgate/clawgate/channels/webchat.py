"""The web chat adapter: the control UI's chat, all of it (the gateway only puts the envelope on the queue).

An envelope (built by `gateway.chat.enqueue`) carries the text, the agent the operator picked, the device (the peer)
and the asking connection. While the model writes, the reply streams as `chat.delta` events; the reply itself is one
`chat.final` event; activity is a `chat.typing` event. Frames reach every open tab of the device (its authenticated
`ws_connections`), not only the tab that asked: the turn's peer is the device, and the asking connection
(`turn.context["connection_id"]`, put there by Ingest from the message) is always included, so streaming works even
before the registry row is visible. The account is the tenant (account_id = slug)."""

from __future__ import annotations

import time
from typing import Any

from clawgate.core import protocol
from clawgate.core.channels import (
    ChannelName,
    DeliveryError,
    Envelope,
    InboundMessage,
    MediaError,
    MediaRef,
    SentMessage,
    TextSink,
)
from clawgate.core.turns import Turn
from clawgate.db import registry_tx
from clawgate.observability import logger
from clawgate.tenancy import connections
from clawgate.tenancy.data import connections as connection_rows

DELTA_INTERVAL_S = 0.05  # deltas closer together than this are merged into the next post


def conversation(tenant: str, device: str) -> str:
    return f"webchat:{tenant}:{device}"


def _targets(tenant: str, device: str, asking: str | None) -> list[str]:
    if not tenant:
        return [asking] if asking else []
    with registry_tx() as conn:
        return ([asking] if asking else []) + connection_rows.device_connections(conn, tenant, device)


def _payload(turn: Turn | None, text: str, reply_to: str | None = None) -> dict[str, Any]:
    if turn is None:
        return {"turn_id": None, "agent": None, "text": text, "in_reply_to": reply_to}
    return {"turn_id": turn.id, "agent": turn.agent_id, "text": text, "in_reply_to": turn.context.get("reply_to")}


class WebchatChannel:
    name: ChannelName = "webchat"
    max_text = 100_000

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        update = envelope.update
        device = str(update["device"])
        return [
            InboundMessage(
                channel="webchat",
                kind="message",
                account_id=envelope.account_id,
                provider_id=envelope.provider_id,
                peer_id=device,
                conversation_key=conversation(envelope.account_id, device),
                sender_id=device,
                sender_name=update.get("device_name"),
                text=str(update.get("text") or ""),
                agent_id=update.get("agent"),
                turn_context={"connection_id": update.get("connection_id")},
                raw=update,
            )
        ]

    def chunk(self, text: str) -> list[str]:
        return [text]  # the protocol splits frames over 32 KB itself

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        """`chat.final` to the device's open tabs. A turn's reply with no tab open is not an error (it is in the
        transcript, which the UI loads on reconnecting); an operator's message to a device with none is refused."""
        tenant = str(account.get("tenant") or account.get("account_id") or "")
        asking = str(turn.context["connection_id"]) if turn and turn.context.get("connection_id") else None
        frame = protocol.event("chat.final", _payload(turn, text, reply_to))
        if not connections.post_to_all(_targets(tenant, peer_id, asking), frame):
            if turn is None:
                raise DeliveryError(f"device {peer_id} has no open connection", retryable=False)
            logger.info("webchat reply reached no open tab", extra={"turn": turn.id})
            return []
        return [SentMessage(provider_message_id=None, chunk_index=0, text=text)]

    def stream(self, turn: Turn) -> TextSink | None:
        """`chat.delta` events: the first piece at once, then at most one post every DELTA_INTERVAL_S (a piece that
        arrives sooner waits for the next one; `chat.final` carries the whole text)."""
        asking = turn.context.get("connection_id")
        if not asking:
            return None
        targets = _targets(turn.account_id or "", turn.peer_id, str(asking))
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

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        targets = _targets(message.account_id, message.peer_id, message.raw.get("connection_id"))
        connections.post_to_all(targets, protocol.event("chat.typing", {"agent": message.agent_id}))

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        raise MediaError("web chat messages carry no media")


CHANNEL = WebchatChannel()
