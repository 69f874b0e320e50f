"""One request to a Meta API (Graph, or the Instagram API) with an account's token, the one way every channel
adapter makes it: the JSON object Meta answered, or a DeliveryError. An unreachable host may be retried; what an
error answer means is the caller's to say (`classify`), since WhatsApp's and the Send API's codes differ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clawgate.core import transport
from clawgate.core.channels import DeliveryError

Classify = Callable[[int, Any], DeliveryError]


def call_meta(
    method: str, url: str, token: str, classify: Classify, *, json: Any = None, params: Any = None, service: str
) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    try:
        response = transport.client().request(method, url, json=json, params=params, headers=headers)
    except httpx.TransportError as error:
        raise DeliveryError(f"{service} unreachable: {type(error).__name__}", retryable=True) from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400 or not isinstance(payload, dict):
        raise classify(response.status_code, payload)
    return payload
