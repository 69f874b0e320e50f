"""The Messenger and Instagram adapters' shared body (`channels.messenger`, `channels.instagram` configure it).

Sending: each piece is one Send API call with the account's token. The 24-hour window is enforced before a call
leaves: a bot reply goes out as a `RESPONSE` only within 24 hours of the customer's last message; a person's reply
(no turn: the operator inbox) may follow up to 7 days later with the `HUMAN_AGENT` tag; anything later is refused
as "outside the window" and recorded. The first bot message of a conversation is preceded, once, by the account's
automation disclosure (claimed in `outbound_messages` under a unique key before it is sent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from clawgate import secrets
from clawgate.channels import meta_send
from clawgate.channels.data import disclosures
from clawgate.channels.media import fetch_media
from clawgate.channels.meta_messaging_parse import parse_envelope
from clawgate.channels.text import chunk_text
from clawgate.conversations.data import conversations
from clawgate.core.channels import DeliveryError, Envelope, InboundMessage, MediaRef, SentMessage
from clawgate.db import tenant_tx
from clawgate.observability import logger
from clawgate.tenancy.channel_accounts import MetaMessagingAccount

if TYPE_CHECKING:
    from clawgate.core.channels import TextSink
    from clawgate.core.turns import Turn

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def last_customer_message_at(tenant: str, channel: str, account_id: str, peer_id: str) -> datetime | None:
    """The provider's timestamp of the customer's last message (the conversation's), as the inbox shows it."""
    with tenant_tx(tenant, "ro") as conn:
        found = conversations.find(conn, channel, account_id, peer_id)
    return found.last_customer_at if found else None


def claim_disclosure(tenant: str, channel: str, account_id: str, peer_id: str, text: str) -> bool:
    """True once per conversation, ever: the disclosure's outbound row, keyed by conversation, is ours to send."""
    with tenant_tx(tenant) as conn:
        return disclosures.claim(conn, channel, account_id, peer_id, text)


def settle_disclosure(tenant: str, channel: str, account_id: str, peer_id: str, message_id: str | None) -> None:
    """Sent: the row records it. Refused (message_id None): the claim is released for the next reply."""
    with tenant_tx(tenant) as conn:
        if message_id is None:
            disclosures.release(conn, channel, account_id, peer_id)
        else:
            disclosures.mark_sent(conn, channel, account_id, peer_id, message_id)


class MetaMessagingChannel:
    """Messenger (`max_text` characters) or Instagram (`max_text` UTF-8 bytes): the same Send API shape."""

    def __init__(
        self,
        name: str,
        max_text: int,
        measure: Callable[[str], int],
        account_field: str,
        account_model: type[MetaMessagingAccount],
    ) -> None:
        self.name = name
        self.max_text = max_text
        self.account_model = account_model  # `channels.<name>` of the tenant file
        self._measure = measure
        self._account_field = account_field  # page_id | ig_user_id

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        return parse_envelope(envelope)

    def chunk(self, text: str) -> list[str]:
        return chunk_text(text, self.max_text, self._measure)

    def _account(self, account: dict[str, Any]) -> tuple[str, str, str]:
        """(tenant, account id, token) from the account's config (`account_config`)."""
        account_id = str(account.get(self._account_field) or account.get("account_id") or "")
        if not account_id or not account.get("tenant"):
            raise DeliveryError(f"{self.name} account config lacks its id or tenant", retryable=False)
        return str(account["tenant"]), account_id, secrets.resolve(str(account["access_token"]))

    def _tag(self, tenant: str, account_id: str, peer_id: str, human: bool) -> str | None:
        """None (a RESPONSE), `HUMAN_AGENT`, or a DeliveryError: the window is closed for this sender."""
        last = last_customer_message_at(tenant, self.name, account_id, peer_id)
        age = datetime.now(UTC) - last if last else None
        if age is not None and age <= RESPONSE_WINDOW:
            return None
        if human and age is not None and age <= HUMAN_AGENT_WINDOW:
            return "HUMAN_AGENT"
        limit = "7 days (HUMAN_AGENT)" if human else "24 hours"
        raise DeliveryError(f"{self.name}: outside the messaging window ({limit} since the customer last wrote)",
                            code=meta_send.WINDOW_CLOSED_CODE, retryable=False)  # fmt: skip

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        """One piece, as a reply (`turn`) or a person's message (no turn, may use the HUMAN_AGENT tag)."""
        tenant, account_id, token = self._account(account)
        tag = self._tag(tenant, account_id, peer_id, human=turn is None)
        if turn is not None:
            self._disclose(account, tenant, account_id, token, peer_id)
        answer = meta_send.post(self.name, account_id, token, meta_send.text_body(peer_id, text, tag))
        logger.info(f"{self.name} sent", extra={"tag": tag, "chars": len(text)})
        return [SentMessage(provider_message_id=answer.get("message_id"), chunk_index=0, text=text)]

    def _disclose(self, account: dict[str, Any], tenant: str, account_id: str, token: str, peer_id: str) -> None:
        text = (account.get("automation_disclosure") or "").strip()
        if not text or not claim_disclosure(tenant, self.name, account_id, peer_id, text):
            return
        try:
            answer = meta_send.post(self.name, account_id, token, meta_send.text_body(peer_id, text, None))
        except DeliveryError:
            settle_disclosure(tenant, self.name, account_id, peer_id, None)
            raise
        settle_disclosure(tenant, self.name, account_id, peer_id, str(answer.get("message_id") or "") or None)

    def stream(self, turn: Turn) -> TextSink | None:
        return None  # the reply goes out whole, piece by piece

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        return fetch_media(self.name, account, media, tenant=tenant)

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """Mark the conversation seen and show the typing indicator; best effort, never raises."""
        if message.kind not in ("message", "callback") or not message.peer_id:
            return
        try:
            _, account_id, token = self._account(account)
            for action in ("mark_seen", "typing_on"):
                meta_send.post(self.name, account_id, token, meta_send.action_body(message.peer_id, action))
        except Exception as error:
            logger.warning(f"{self.name} seen/typing failed", extra={"error": str(error)[:200]})
