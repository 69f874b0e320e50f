"""What every Meta webhook (WhatsApp Cloud API, Page leadgen) shares: the hub.* verification handshake and the
X-Hub-Signature-256 HMAC over the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from clawgate.core.http import HttpRequest, HttpResponse, text_response
from clawgate.observability import logger
from clawgate.secrets import is_reference, resolve
from clawgate.settings import get_settings


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


def authenticate(request: HttpRequest, source: str) -> HttpResponse | None:
    """The answer a Meta webhook gives before reading the body: the GET handshake (challenge or 403), or 401 for a
    POST whose signature does not match. None: an authentic POST, go on."""
    settings = get_settings()
    if request.method == "GET":
        challenge = verification_answer(dict(request.query), settings.meta_verify_token)
        return text_response(200, challenge) if challenge is not None else text_response(403, "forbidden")
    if not signature_is_valid(request.body, request.header("x-hub-signature-256"), settings.meta_app_secret):
        logger.warning(f"{source} webhook: bad signature", extra={"bytes": len(request.body)})
        return text_response(401, "invalid signature")
    return None


def sign(raw: bytes, app_secret: str) -> str:
    """The header value Meta would send (for tests, fakes and the CLI's webhook checks)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
