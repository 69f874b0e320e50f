"""The Telegram webhook (`POST /webhooks/telegram/{tenant}/{agent}`): check the secret token, enqueue one envelope,
answer 200. No database and no bot token on this path.

Each bot's secret is derived, not stored: base64url(HMAC-SHA256(platform key, "telegram-webhook:<tenant>/<agent>")),
43 characters of A-Za-z0-9_-. Verifying needs only the platform key, and rotating that key (then re-running
`clawgate channels telegram set-webhook`) rotates every bot's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets as random
from functools import lru_cache
from pathlib import Path
from typing import Any

from clawgate.core import envelopes
from clawgate.core.http import HttpRequest, HttpResponse, text_response
from clawgate.core.ports import QueueMessage
from clawgate.observability import logger, metrics
from clawgate.settings import get_settings

CHANNEL = "telegram"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
_TENANT = re.compile(r"^[a-z0-9_]{1,40}$")
_AGENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_KINDS = {
    "message": "message",
    "edited_message": "edited",
    "channel_post": "unsupported",
    "edited_channel_post": "edited",
    "callback_query": "callback",
}


class WebhookKeyMissingError(RuntimeError):
    pass


def account_id(tenant: str, agent: str) -> str:
    return f"{tenant}/{agent}"


def conversation_key(account: str, chat_id: str) -> str:
    return f"{CHANNEL}:{account}:{chat_id}"


def update_kind(update: dict[str, Any]) -> tuple[str, str]:
    """(the update's field, our kind): message, edited, callback, or unsupported for anything else."""
    for field, kind in _KINDS.items():
        if isinstance(update.get(field), dict):
            return field, kind
    field = next((k for k in update if k != "update_id"), "")
    return field, "unsupported"


def chat_of(update: dict[str, Any]) -> str:
    """The chat an update belongs to (the conversation), or "" when it has none."""
    field, _ = update_kind(update)
    body = update.get(field)
    if not isinstance(body, dict):
        return ""
    if field == "callback_query":
        message = body.get("message") or {}
        chat_id = (message.get("chat") or {}).get("id") or (body.get("from") or {}).get("id")
    else:
        chat_id = (body.get("chat") or {}).get("id") or (body.get("from") or {}).get("id")
    return str(chat_id) if chat_id is not None else ""


# secrets -----------------------------------------------------------------------------------------------------------
def webhook_secret(account: str) -> str:
    """The secret_token Telegram echoes for this bot (`<tenant>/<agent>`)."""
    digest = hmac.new(webhook_key().encode(), f"telegram-webhook:{account}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def webhook_key() -> str:
    """The platform's webhook key (CLAWGATE_TELEGRAM_WEBHOOK_KEY): Telegram's secrets derive from it, and Slack's and
    Discord's request URLs are sealed with it (`channels.webhook_seal`).

    Resolved on every call: Secrets Manager values are cached for `secrets.CACHE_SECONDS`, so a rotated key takes
    effect within minutes instead of living as long as the container."""
    settings = get_settings()
    if settings.telegram_webhook_key:
        from clawgate.secrets import resolve

        return resolve(settings.telegram_webhook_key)
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise WebhookKeyMissingError("CLAWGATE_TELEGRAM_WEBHOOK_KEY is not set")
    return _local_key(settings.data_dir)


@lru_cache(maxsize=4)
def _local_key(data_dir: Path) -> str:
    """Local runs without a configured key get one generated under .clawgate/ (kept, so registrations survive)."""
    path = data_dir / "telegram-webhook.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(random.token_urlsafe(32))
    return path.read_text().strip()


def secret_matches(account: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), webhook_secret(account).encode())


# handler -----------------------------------------------------------------------------------------------------------
def receive(request: HttpRequest) -> HttpResponse:
    tenant, agent = str(request.path.get("tenant", "")), str(request.path.get("agent", ""))
    if not (_TENANT.match(tenant) and _AGENT.match(agent)):
        return text_response(404, "not found")
    account = account_id(tenant, agent)
    presented = request.header(SECRET_HEADER)
    if not presented:
        logger.warning("telegram webhook: no secret token", extra={"account": account})
        return text_response(401, "missing secret token")
    try:
        valid = secret_matches(account, presented)
    except Exception:  # no key configured: refuse, loudly (Telegram retries; nothing is lost)
        logger.exception("telegram webhook: cannot derive the secret", extra={"account": account})
        return text_response(503, "not configured")
    if not valid:
        logger.warning("telegram webhook: wrong secret token", extra={"account": account})
        return text_response(403, "wrong secret token")
    message = build_message(account, request.body, request.query.get("bot"))
    try:
        envelopes.send([message])
    except Exception:  # the queue is down: a 5xx makes Telegram redeliver
        logger.exception("telegram webhook: enqueue failed", extra={"account": account})
        return text_response(503, "try again")
    metrics.add_metric(name="TelegramUpdates", unit="Count", value=1)
    return text_response(200, "ok")


def build_message(account: str, raw: bytes, bot_username: str | None = None) -> QueueMessage:
    """One queue message for one Update; a body that is not a JSON object is kept raw ("malformed")."""
    context = {"bot_username": bot_username} if bot_username else None
    try:
        update = json.loads(raw)
        if not isinstance(update, dict):
            raise ValueError("not an object")
    except ValueError:
        logger.warning("telegram webhook: malformed update kept raw", extra={"account": account, "bytes": len(raw)})
        provider_id = f"{account}:malformed:{envelopes.digest(raw)}"
        body = envelopes.envelope(CHANNEL, "malformed", account_id=account, provider_id=provider_id,
                                  raw=raw.decode("utf-8", "replace"), context=context)  # fmt: skip
        return envelopes.queue_message(body, f"{CHANNEL}:{account}:malformed", provider_id)
    _, kind = update_kind(update)
    update_id = update.get("update_id")
    provider_id = f"{account}:{update_id if update_id is not None else envelopes.digest(update)}"
    chat = chat_of(update)
    group = conversation_key(account, chat) if chat else f"{CHANNEL}:{account}:updates"
    body = envelopes.envelope(CHANNEL, kind, account_id=account, provider_id=provider_id, update=update,
                              context=context)  # fmt: skip
    return envelopes.queue_message(body, group, provider_id)
