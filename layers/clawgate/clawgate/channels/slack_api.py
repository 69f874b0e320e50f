"""A minimal Slack Web API client over the shared httpx client: `call(token, method, params)`.

Slack answers errors with HTTP 200 and `{"ok": false, "error"}`, and rate limits with HTTP 429 and `Retry-After`
(seconds). A short wait is honoured here, once, before the call is tried again; a longer one is raised with its
delay, so the state machine's retry comes back later instead of holding a Lambda.
"""

from __future__ import annotations

import time
from typing import Any

from clawgate.core import transport
from clawgate.core.channels import DeliveryError
from clawgate.settings import get_settings

MAX_INLINE_WAIT_S = 5.0
# Errors that another attempt can fix; the rest (channel_not_found, not_in_channel, invalid_auth…) are final.
RETRYABLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


class SlackApiError(Exception):
    def __init__(self, method: str, error: str, status: int = 200, retry_after: float | None = None) -> None:
        super().__init__(f"Slack {method}: {error}")
        self.method, self.error, self.status, self.retry_after = method, error, status, retry_after

    @property
    def retryable(self) -> bool:
        return self.error in RETRYABLE or self.status == 429 or self.status >= 500 or self.status == 0

    def as_delivery_error(self) -> DeliveryError:
        return DeliveryError(str(self), code=self.status or None, retryable=self.retryable,
                             retry_after_s=self.retry_after)  # fmt: skip


def call(token: str, method: str, params: dict[str, Any], *, sleep: Any = time.sleep) -> dict[str, Any]:
    """POST `method` with a JSON body; the answer when `ok`, else SlackApiError. A 429 asking for at most
    MAX_INLINE_WAIT_S is waited out and tried once more."""
    try:
        return _call(token, method, params)
    except SlackApiError as error:
        if error.status != 429 or error.retry_after is None or error.retry_after > MAX_INLINE_WAIT_S:
            raise
        sleep(error.retry_after)
        return _call(token, method, params)


def _call(token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    import httpx

    url = f"{get_settings().slack_api_url.rstrip('/')}/api/{method}"
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json; charset=utf-8"}
    try:
        response = transport.client().post(url, json=params, headers=headers)
    except httpx.TransportError as error:
        raise SlackApiError(method, f"unreachable ({type(error).__name__})", status=0) from None
    if response.status_code == 429:
        raise SlackApiError(method, "ratelimited", 429, _seconds(response.headers.get("retry-after")))
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code >= 400 or not isinstance(payload, dict) or not payload.get("ok"):
        reason = payload.get("error") if isinstance(payload, dict) else None
        raise SlackApiError(method, str(reason or response.reason_phrase), response.status_code)
    return payload


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
