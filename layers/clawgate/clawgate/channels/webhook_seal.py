"""Sealed request URLs for the webhooks whose verification key belongs to the tenant: a Slack app's signing
secret, a Discord application's public key.

A webhook verifies, enqueues and answers without the database or any tenant secret (they stay out of its reach and
its cold start), so the key has to come with the request. It comes sealed in the request URL the tenant pastes
into Slack or Discord: `…/webhooks/slack/{tenant}/{agent}?k=<seal>`, where the seal is AES-256-GCM of the key
under a key derived from the platform's webhook key, bound to the channel and the `<tenant>/<agent>` account. A
seal cannot be read without the platform key, cannot be made for a key of the sender's choosing, and does not open
on another account's path. `clawgate channels slack request-url` and `clawgate channels discord register-commands`
print the URL; rotating the platform key (or the tenant's key) means printing and pasting it again, as Telegram's
`set-webhook` does for its bots.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

from clawgate.core.http import HttpRequest

SEAL_PARAMETER = "k"
_NONCE_BYTES = 12
_TENANT = re.compile(r"^[a-z0-9_]{1,40}$")
_AGENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def opened(channel: str, request: HttpRequest) -> tuple[str, str] | None:
    """(account id `<tenant>/<agent>`, the key sealed in the request's URL), or None when the path or the seal is
    not a valid one."""
    tenant, agent = str(request.path.get("tenant", "")), str(request.path.get("agent", ""))
    if not (_TENANT.match(tenant) and _AGENT.match(agent)):
        return None
    account_id = f"{tenant}/{agent}"
    material = unseal(channel, account_id, request.query.get(SEAL_PARAMETER))
    return (account_id, material) if material else None


def _key(channel: str) -> bytes:
    from clawgate.channels.telegram_webhook import webhook_key

    return hmac.new(webhook_key().encode(), f"{channel}-webhook-seal".encode(), hashlib.sha256).digest()


def seal(channel: str, account_id: str, material: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(channel)).encrypt(nonce, material.encode(), f"{channel}:{account_id}".encode())
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def unseal(channel: str, account_id: str, token: str | None) -> str | None:
    """The key sealed for this channel and account, or None for anything else (absent, altered, another path)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not token or len(token) > 1024:
        return None
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = AESGCM(_key(channel)).decrypt(
            data[:_NONCE_BYTES], data[_NONCE_BYTES:], f"{channel}:{account_id}".encode()
        )
    except (InvalidTag, ValueError, binascii.Error):
        return None
    return plain.decode("utf-8", "replace")


def request_url(base: str, channel: str, tenant: str, agent: str, material: str) -> str:
    """The URL to paste into the provider's console for this account."""
    sealed = seal(channel, f"{tenant}/{agent}", material)
    return f"{base.rstrip('/')}/webhooks/{channel}/{tenant}/{agent}?{SEAL_PARAMETER}={sealed}"
