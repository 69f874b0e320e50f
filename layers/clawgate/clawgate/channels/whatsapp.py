"""The WhatsApp Cloud API adapter: parse envelopes, send replies from the agent's number through Graph
(`POST /{version}/{phone_number_id}/messages`, bearer token), and show activity (read receipt + typing indicator in
one call). Graph errors become `DeliveryError`s the turn's Retry and Catch understand."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from clawgate import secrets
from clawgate.channels.graph_calls import call_meta
from clawgate.channels.media import fetch_media
from clawgate.channels.text import chunk_text
from clawgate.channels.whatsapp_parse import parse_envelope
from clawgate.conversations.addressing import WhatsAppAddress, whatsapp_address
from clawgate.core.channels import ChannelName, DeliveryError, Envelope, InboundMessage, MediaRef, SentMessage
from clawgate.tenancy.channel_accounts import WhatsAppAccount

if TYPE_CHECKING:
    from clawgate.core.channels import TextSink
    from clawgate.core.turns import Turn
from clawgate.observability import logger, mask_phone
from clawgate.settings import get_settings

MAX_TEXT = 4096
OUTSIDE_WINDOW = 131047  # more than 24 hours since the customer last wrote: only templates may be sent
BSUID_NOT_SUPPORTED = 131062  # this message cannot go to a business-scoped user id (`recipient`): only to a phone
PAIR_RATE_LIMIT = 131056  # too many messages to the same user: back off 4^n seconds
THROUGHPUT_LIMIT = 130429  # the number's messages per second exceeded
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def whatsapp_format(text: str) -> str:
    """CommonMark as the model writes it → WhatsApp's markup (`*bold*`; headings become bold lines)."""
    return _BOLD.sub(r"*\1*", _HEADING.sub(lambda m: f"*{m.group(1).strip()}*", text))


def delivery_error(status: int, payload: Any) -> DeliveryError:
    """A Graph error answer as a DeliveryError: what may be retried, and after how long."""
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    message = f"Graph {status} (#{code}): {details or error.get('message') or 'no message'}"
    if code in (OUTSIDE_WINDOW, BSUID_NOT_SUPPORTED):
        return DeliveryError(message, code=code, retryable=False)
    if code == PAIR_RATE_LIMIT:
        return DeliveryError(message, code=code, retryable=True, retry_after_s=4.0)  # then 16, 64: BackoffRate 4
    if code == THROUGHPUT_LIMIT:
        return DeliveryError(message, code=code, retryable=True, retry_after_s=2.0)
    if code in RATE_LIMIT_CODES:
        return DeliveryError(message, code=code, retryable=True, retry_after_s=60.0)
    if status >= 500 or status == 429 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return DeliveryError(message, code=code or status, retryable=True)
    return DeliveryError(message, code=code or status, retryable=False)


def graph_post(path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    url = f"{settings.graph_url.rstrip('/')}/{settings.graph_version}/{path}"
    return call_meta("POST", url, token, delivery_error, json=body, service="Graph")


def send_message(phone_number_id: str, token: str, address: WhatsAppAddress, message: dict[str, Any]) -> dict[str, Any]:
    """POST one message (text, template…) to an address. Meta answers 131062 when a message cannot go to a BSUID:
    then it goes `to` a phone known from elsewhere, and without one the refusal stands (Deliver records it and
    tells the operator)."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **address.fields(), **message}
    try:
        return graph_post(f"{phone_number_id}/messages", token, body)
    except DeliveryError as error:
        if error.code != BSUID_NOT_SUPPORTED or address.to:
            raise
        if not address.fallback_phone:
            raise DeliveryError(f"{error} — this message cannot go to a business-scoped user id and no phone number"
                                " is known for this person", code=error.code, retryable=False) from None  # fmt: skip
    logger.info("whatsapp: BSUID refused (131062), sent to the known phone instead")
    fallback = {**body, "to": address.fallback_phone}
    fallback.pop("recipient", None)
    return graph_post(f"{phone_number_id}/messages", token, fallback)


class WhatsAppChannel:
    name: ChannelName = "whatsapp"
    max_text: int = MAX_TEXT
    account_model = WhatsAppAccount  # `channels.whatsapp` of the tenant file

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        return parse_envelope(envelope)

    def chunk(self, text: str) -> list[str]:
        """The pieces `send_text` sends, in order (each ≤ 4,096 characters); Deliver may send them one by one."""
        return chunk_text(whatsapp_format(text), self.max_text)

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        """Each chunk `to` the person's phone when one is known, else to their BSUID (`recipient`)."""
        phone_number_id = str(account.get("phone_number_id") or account.get("account_id") or "")
        if not phone_number_id:
            raise DeliveryError("account config has no phone_number_id (see registry.account_config)", retryable=False)
        token = secrets.resolve(str(account["access_token"]))
        address = whatsapp_address(account.get("tenant"), peer_id)
        sent: list[SentMessage] = []
        for index, chunk in enumerate(self.chunk(text)):
            body: dict[str, Any] = {"type": "text", "text": {"body": chunk, "preview_url": False}}
            if reply_to and index == 0:
                body["context"] = {"message_id": reply_to}
            answer = send_message(phone_number_id, token, address, body)
            wamid = ((answer.get("messages") or [{}])[0]).get("id")
            sent.append(SentMessage(provider_message_id=wamid, chunk_index=index, text=chunk))
        by_phone = bool(address.to)
        logger.info("whatsapp sent", extra={"to": mask_phone(peer_id), "chunks": len(sent), "by_phone": by_phone})
        return sent

    def send_template(
        self, account: dict[str, Any], peer_id: str, name: str, language: str, parameters: list[str]
    ) -> SentMessage:
        """One approved template (allowed outside the 24-hour window), addressed like any reply."""
        phone_number_id = str(account.get("phone_number_id") or account.get("account_id") or "")
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if parameters:
            template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
        token = secrets.resolve(str(account["access_token"]))
        address = whatsapp_address(account.get("tenant"), peer_id)
        answer = send_message(phone_number_id, token, address, {"type": "template", "template": template})
        wamid = ((answer.get("messages") or [{}])[0]).get("id")
        return SentMessage(provider_message_id=wamid, chunk_index=0, text="")

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """Mark the customer's message read and show the typing indicator (25 s or until the reply); best effort."""
        if message.kind != "message" or message.provider_id.startswith("nomid:"):
            return
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message.provider_id,
                "typing_indicator": {"type": "text"}}  # fmt: skip
        try:
            token = secrets.resolve(str(account["access_token"]))
            graph_post(f"{message.account_id}/messages", token, body)
        except Exception as error:
            logger.warning("whatsapp read/typing failed", extra={"error": str(error)[:200]})

    def stream(self, turn: Turn) -> TextSink | None:
        return None  # the reply goes out whole, chunk by chunk

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        return fetch_media(self.name, account, media, tenant=tenant)


CHANNEL = WhatsAppChannel()
