"""A minimal Telegram Bot API client over the shared httpx client: `call(token, method, params)`.

The token is part of every URL, so no message here quotes a URL, and errors carry only the method and Telegram's
description."""

from __future__ import annotations

import json
from typing import Any

from clawgate.core import transport
from clawgate.core.channels import DeliveryError
from clawgate.settings import get_settings


class TelegramApiError(Exception):
    def __init__(self, method: str, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Telegram {method}: {code} {description}")
        self.method = method
        self.code = code
        self.description = description
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.code == 429 or self.code >= 500 or self.code == 0

    def as_delivery_error(self) -> DeliveryError:
        return DeliveryError(
            str(self), code=self.code or None, retryable=self.retryable, retry_after_s=self.retry_after
        )


def api_url(token: str, method: str) -> str:
    return f"{get_settings().telegram_api_url.rstrip('/')}/bot{token}/{method}"


def file_url(token: str, file_path: str) -> str:
    return f"{get_settings().telegram_api_url.rstrip('/')}/file/bot{token}/{file_path}"


def call(
    token: str,
    method: str,
    params: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Any:
    """POST a method with a JSON body (or, with `files` such as `{"photo": (name, bytes, mime)}`, a multipart one);
    its `result`, or TelegramApiError (code 0: Telegram unreachable)."""
    import httpx

    try:
        if files:
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (params or {}).items()}
            response = transport.client().post(api_url(token, method), data=fields, files=files)
        else:
            response = transport.client().post(api_url(token, method), json=params or {})
    except httpx.TransportError as error:
        raise TelegramApiError(method, 0, f"unreachable ({type(error).__name__})") from None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if response.status_code < 400 and payload.get("ok"):
        return payload.get("result")
    retry_after = (payload.get("parameters") or {}).get("retry_after")
    code = int(payload.get("error_code") or response.status_code)
    description = str(payload.get("description") or response.reason_phrase)
    raise TelegramApiError(method, code, description, float(retry_after) if retry_after is not None else None)
