"""API Gateway HTTP API (payload 2.0) request helpers and responses, shared by every HTTP handler."""

from __future__ import annotations

import base64
import json
from typing import Any


def raw_body(event: dict[str, Any]) -> bytes:
    """The request body as the bytes the sender signed."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    value = headers.get(name.lower())
    return value if value is not None else next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def query(event: dict[str, Any]) -> dict[str, str]:
    return dict(event.get("queryStringParameters") or {})


def method(event: dict[str, Any]) -> str:
    return str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper()


def json_response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def text_response(status: int, body: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": body}
