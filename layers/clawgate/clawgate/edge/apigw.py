"""API Gateway HTTP API (payload format 2.0) events in, `core.http` requests to the domains, responses back out.
Kept free of pydantic and Powertools' resolver: the webhook functions import it on their cold start."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from clawgate.core.http import HttpRequest, HttpResponse


def http_request(event: dict[str, Any]) -> HttpRequest:
    body = event.get("body") or ""
    return HttpRequest(
        method=str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper(),
        body=base64.b64decode(body) if event.get("isBase64Encoded") else body.encode(),
        headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
        query=dict(event.get("queryStringParameters") or {}),
        path=dict(event.get("pathParameters") or {}),
        source_ip=str(event.get("requestContext", {}).get("http", {}).get("sourceIp") or ""),
    )


def http_result(response: HttpResponse) -> dict[str, Any]:
    headers = {"content-type": response.content_type, **response.headers}
    return {"statusCode": response.status, "headers": headers, "body": response.body}


def serve(event: dict[str, Any], receive: Callable[[HttpRequest], HttpResponse]) -> dict[str, Any]:
    """A handler's whole body: the event as a request, the domain's answer as the Lambda result."""
    return http_result(receive(http_request(event)))
