"""WebSocket route handlers: $connect records the connection, $default answers request frames through
`@connections`, $disconnect forgets the connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clawgate import ports
from clawgate.db import registry_tx
from clawgate.gateway import protocol
from clawgate.observability import bind, logger

Method = Callable[[str, protocol.Request], Any]


def _ping(_connection_id: str, request: protocol.Request) -> Any:
    return {"pong": True, "echo": request.params.get("echo")}


METHODS: dict[str, Method] = {"ping": _ping}


def _ids(event: dict[str, Any]) -> tuple[str, str]:
    context = event["requestContext"]
    return context["connectionId"], context.get("identity", {}).get("sourceIp", "")


def on_connect(event: dict[str, Any]) -> dict[str, Any]:
    connection_id, source_ip = _ids(event)
    with registry_tx() as conn:
        conn.execute(
            "INSERT INTO ws_connections (connection_id, source_ip) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (connection_id, source_ip),
        )
    return {"statusCode": 200}


def on_disconnect(event: dict[str, Any]) -> dict[str, Any]:
    connection_id, _ = _ids(event)
    with registry_tx() as conn:
        conn.execute("DELETE FROM ws_connections WHERE connection_id = %s", (connection_id,))
    return {"statusCode": 200}


def on_message(event: dict[str, Any]) -> dict[str, Any]:
    connection_id, _ = _ids(event)
    bind(connection=connection_id)
    try:
        request = protocol.parse_request(event.get("body") or "")
    except protocol.ProtocolError as problem:
        ports.connections().post(connection_id, protocol.error("", problem.code, str(problem)))
        return {"statusCode": 200}
    method = METHODS.get(request.method)
    if method is None:
        frame = protocol.error(request.id, "unknown_method", f"no method {request.method!r}")
    else:
        try:
            frame = protocol.ok(request.id, method(connection_id, request))
        except protocol.ProtocolError as problem:
            frame = protocol.error(request.id, problem.code, str(problem))
        except Exception:
            logger.exception("websocket method failed", extra={"method": request.method})
            frame = protocol.error(request.id, "internal", "the method failed; it was logged")
    ports.connections().post(connection_id, frame)
    return {"statusCode": 200}
