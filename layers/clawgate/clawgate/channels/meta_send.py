"""The Send API of the Messenger Platform: Messenger at `{graph}/{version}/{page_id}/messages` with the Page token,
Instagram (Instagram API with Instagram Login) at `{instagram}/{version}/{ig_user_id}/messages` with the account's
token; the same body shape on both. Errors become `DeliveryError`s classified like WhatsApp's: rate limits and
transient failures are retried with backoff, a closed window or an unreachable person is recorded, not retried.
"""

from __future__ import annotations

from typing import Any

from clawgate.channels.graph_calls import call_meta
from clawgate.core.channels import DeliveryError
from clawgate.settings import get_settings

OUTSIDE_WINDOW = 10  # with subcode 2018278 (Messenger) or 2534022 (Instagram): "outside of allowed window"
WINDOW_SUBCODES = frozenset({2018278, 2534022})
NOT_AVAILABLE = 551  # "This person isn't available right now"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80006})
TRANSIENT_CODES = frozenset({1, 2, 1200})  # 1200: temporary send message failure
WINDOW_CLOSED_CODE = 2018278  # what a send refused before it left (our own window check) is recorded as


def api_base(channel: str) -> str:
    settings = get_settings()
    base = settings.graph_url if channel == "messenger" else settings.instagram_api_url
    return f"{base.rstrip('/')}/{settings.graph_version}"


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def delivery_error(status: int, payload: Any) -> DeliveryError:
    """A Send API error answer as a DeliveryError: what may be retried, and after how long."""
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = f"Send API {status} (#{code}{f'/{subcode}' if subcode else ''}): {error.get('message') or 'no message'}"
    if subcode in WINDOW_SUBCODES:
        return DeliveryError(message, code=subcode, retryable=False)
    if code in RATE_LIMIT_CODES:
        return DeliveryError(message, code=code, retryable=True, retry_after_s=60.0)
    if status >= 500 or status == 429 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return DeliveryError(message, code=code or status, retryable=True)
    return DeliveryError(message, code=code or status, retryable=False)  # 551, 100, 190 (token), 10 (permission)


# The webhook fields a conversation needs: the Page's (`POST /{page_id}/subscribed_apps`), and the Instagram
# account's (`POST /{ig_user_id}/subscribed_apps` on the Instagram API; the same names are enabled for the app's
# `instagram` object in the App Dashboard). Echoes are not asked for: they would only be dropped.
PAGE_FIELDS = ("messages", "messaging_postbacks", "messaging_referrals", "message_reactions", "message_reads",
               "message_deliveries")  # fmt: skip
INSTAGRAM_FIELDS = ("messages", "messaging_postbacks", "messaging_referral", "message_reactions", "messaging_seen")


def subscribe(channel: str, account_id: str, token: str, fields: list[str]) -> dict[str, Any]:
    """Subscribe the app to an account's webhook fields; Graph's answer (`{"success": true}`) or a DeliveryError."""
    return post(channel, account_id, token, {"subscribed_fields": ",".join(fields)}, edge="subscribed_apps")


def post(channel: str, account_id: str, token: str, body: dict[str, Any], edge: str = "messages") -> dict[str, Any]:
    """POST one Send API call; the answer (`{"recipient_id", "message_id"}`) or a DeliveryError."""
    url = f"{api_base(channel)}/{account_id}/{edge}"
    return call_meta("POST", url, token, delivery_error, json=body, service="Send API")


def text_body(peer_id: str, text: str, tag: str | None) -> dict[str, Any]:
    """A text message: a `RESPONSE` inside the 24-hour window, a `MESSAGE_TAG` (`HUMAN_AGENT`) after it."""
    body: dict[str, Any] = {"recipient": {"id": peer_id}, "message": {"text": text}}
    if tag:
        return {**body, "messaging_type": "MESSAGE_TAG", "tag": tag}
    return {**body, "messaging_type": "RESPONSE"}


def action_body(peer_id: str, action: str) -> dict[str, Any]:
    """`mark_seen` or `typing_on` (shown for 20 s or until the next message)."""
    return {"recipient": {"id": peer_id}, "sender_action": action}
