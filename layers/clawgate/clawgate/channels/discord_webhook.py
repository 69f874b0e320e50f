"""The Discord interactions endpoint (`POST /webhooks/discord/{tenant}/{agent}`).

Every request is signed: Ed25519 over `X-Signature-Timestamp` + the raw body, checked with the application's public
key (sealed in the request URL, `webhook_seal`, so this path reads neither the database nor a tenant secret);
anything else is 401 (Discord itself sends bad signatures to check that we refuse them).
PING is answered PONG. `/ask` is queued and answered at once with type 5 (a deferred reply: Discord shows "thinking"
and wants that answer within 3 s); Deliver completes it by editing `@original`. Other commands and component
interactions get a short ephemeral notice; a body we cannot read is acknowledged and kept raw.
"""

from __future__ import annotations

import json
from typing import Any

from clawgate.channels import webhook_seal
from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, json_response, text_response
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics

CHANNEL = "discord"
PING, APPLICATION_COMMAND = 1, 2
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE = 1, 4, 5
EPHEMERAL = 1 << 6
ASK = "ask"


def signature_valid(public_key_hex: str, timestamp: str | None, signature_hex: str | None, body: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not timestamp or not signature_hex:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), timestamp.encode() + body)
    except (InvalidSignature, ValueError):
        return False
    return True


def peer_of(interaction: dict[str, Any]) -> str:
    """A conversation per person and channel: `<channel>:<user>` in a server, the user's id in a DM."""
    user = user_of(interaction)
    channel = str(interaction.get("channel_id") or (interaction.get("channel") or {}).get("id") or "")
    return f"{channel}:{user.get('id', '')}" if interaction.get("guild_id") else str(user.get("id", ""))


def user_of(interaction: dict[str, Any]) -> dict[str, Any]:
    user = (interaction.get("member") or {}).get("user") or interaction.get("user") or {}
    return user if isinstance(user, dict) else {}


def receive(request: HttpRequest) -> HttpResponse:
    try:
        found = webhook_seal.opened(CHANNEL, request)
    except Exception:  # no platform key configured
        logger.exception("discord webhook: cannot open the request URL's seal")
        return text_response(503, "not configured")
    if found is None:
        logger.warning("discord webhook: no valid seal in the request URL")
        return text_response(401, "invalid request URL")
    account_id, public_key = found
    body = request.body
    timestamp, signature = request.header("x-signature-timestamp"), request.header("x-signature-ed25519")
    if not signature_valid(public_key, timestamp, signature, body):
        logger.warning("discord webhook: bad signature", extra={"account": account_id})
        return text_response(401, "invalid request signature")
    interaction = _json(body)
    if interaction.get("type") == PING:
        return json_response(200, {"type": PONG})
    if interaction.get("type") != APPLICATION_COMMAND or (interaction.get("data") or {}).get("name") != ASK:
        return json_response(200, _notice("Only /ask is understood here."))
    try:
        envelopes.send([build_message(account_id, interaction)])
    except Exception:  # the queue is down: say so now rather than leave "thinking…" for 15 minutes
        logger.exception("discord webhook: enqueue failed", extra={"account": account_id})
        return json_response(200, _notice("Sorry, I cannot take questions right now. Please try again."))
    metrics.add_metric(name="DiscordInteractions", unit="Count", value=1)
    return json_response(200, {"type": DEFERRED_CHANNEL_MESSAGE})


def _notice(text: str) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": {"content": text, "flags": EPHEMERAL}}


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def build_message(account_id: str, interaction: dict[str, Any]) -> QueueMessage:
    provider_id = f"{account_id}:{interaction.get('id') or envelopes.digest(interaction)}"
    body = envelopes.envelope(CHANNEL, "message", account_id=account_id, provider_id=provider_id, update=interaction)
    return envelopes.queue_message(body, f"{CHANNEL}:{account_id}:{peer_of(interaction)}", provider_id)
