"""What every Meta webhook (WhatsApp Cloud API, Page leadgen) shares: the hub.* verification handshake and the
X-Hub-Signature-256 HMAC over the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from clawgate.secrets import is_reference, resolve


def _resolved(value: str | None) -> str | None:
    """In AWS the app secret and verify token are `secret:` references (read once, then cached)."""
    return resolve(value) if value and is_reference(value) else value


def verification_answer(params: dict[str, str], verify_token: str | None) -> str | None:
    """The challenge to echo when the subscription request carries our verify token; None means 403."""
    verify_token = _resolved(verify_token)
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(params.get("hub.verify_token", ""), verify_token):
        return None
    return params.get("hub.challenge", "")


def signature_is_valid(raw: bytes, signature_header: str | None, app_secret: str | None) -> bool:
    app_secret = _resolved(app_secret)
    if not app_secret or not signature_header or not signature_header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature_header.removeprefix("sha256="), expected)


def sign(raw: bytes, app_secret: str) -> str:
    """The header value Meta would send (for tests, fakes and the CLI's webhook checks)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
