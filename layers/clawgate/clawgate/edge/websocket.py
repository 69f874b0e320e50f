"""API Gateway WebSocket events in (`$connect`, `$default`, `$disconnect`): the connection id, the caller's address
and the frame, typed; the gateway's status code back out as the Lambda result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SocketEvent:
    connection_id: str
    source_ip: str
    body: str


def socket_event(event: dict[str, Any]) -> SocketEvent:
    context = event["requestContext"]
    source_ip = str(context.get("identity", {}).get("sourceIp", ""))
    return SocketEvent(str(context["connectionId"]), source_ip, str(event.get("body") or ""))


def result(status: int) -> dict[str, Any]:
    return {"statusCode": status}
