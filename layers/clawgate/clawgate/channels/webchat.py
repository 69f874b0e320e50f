"""The webchat adapter: the control UI's chat. An envelope (built by `gateway.chat.enqueue`) carries the text, the
agent the operator picked, the device (the peer) and the asking connection; replies are `chat.final` events on
the device's open connections, activity is a `chat.typing` event. The account is the tenant (account_id = slug)."""

from __future__ import annotations

from typing import Any

from clawgate.channels.contract import ChannelName, DeliveryError, Envelope, InboundMessage, SentMessage
from clawgate.gateway import chat, connections, protocol


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
                conversation_key=chat.conversation(envelope.account_id, device),
                sender_id=device,
                sender_name=update.get("device_name"),
                text=str(update.get("text") or ""),
                agent_id=update.get("agent"),
                raw=update,
            )
        ]

    def chunk(self, text: str) -> list[str]:
        return [text]  # the protocol splits frames over 32 KB itself

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None
    ) -> list[SentMessage]:
        tenant = str(account.get("tenant") or account.get("account_id") or "")
        frame = protocol.event("chat.final", {"turn_id": None, "agent": None, "text": text, "in_reply_to": reply_to})
        if not connections.post_to_all(connections.device_connections(tenant, peer_id), frame):
            raise DeliveryError(f"device {peer_id} has no open connection", retryable=False)
        return [SentMessage(provider_message_id=None, chunk_index=0, text=text)]

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        chat.post_typing(message.account_id, message.peer_id, message.raw.get("connection_id"), message.agent_id)


CHANNEL = WebchatChannel()
