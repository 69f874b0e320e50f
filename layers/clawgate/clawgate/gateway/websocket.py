"""WebSocket route handlers. `$connect` records the connection (a source over the failure limit is refused with
429); `$default` takes frames: the first must be `connect` (else the socket is closed), then the methods of
`gateway.methods`, whose answers go back through `@connections`; `$disconnect` forgets the connection.

Closing a connection that never authenticates: locally the dev server closes a socket whose first frame has not come
within 10 s; in AWS the next frame after 10 s is refused and closes it, and a silent one idles out (API Gateway's
10-minute idle timeout) without ever reaching a method."""

from __future__ import annotations

from datetime import UTC, datetime

from clawgate.core import protocol
from clawgate.core.protocol import ProtocolError, Request
from clawgate.db import registry_tx
from clawgate.gateway import auth, chunks, reports
from clawgate.gateway.methods import METHODS, Caller
from clawgate.observability import bind, logger
from clawgate.tenancy import connections
from clawgate.tenancy.data import connections as connection_rows
from clawgate.tenancy.data.connections import ConnectionState

OK = 200  # what API Gateway is told (`clawgate.edge.websocket` makes it the Lambda result)


def on_connect(connection_id: str, source_ip: str) -> int:
    if auth.rate_limited(source_ip or connection_id):
        logger.warning("websocket refused: too many failed authentications", extra={"source": source_ip})
        return 429
    with registry_tx() as conn:
        connection_rows.record(conn, connection_id, source_ip)
    return OK


def on_disconnect(connection_id: str) -> int:
    with registry_tx() as conn:
        connection_rows.forget(conn, connection_id)
    return OK


def _refuse(connection_id: str, request_id: str, code: str, message: str) -> int:
    """Answer with the error, then close the socket."""
    connections.post(connection_id, protocol.error(request_id, code, message))
    connections.close(connection_id)
    return OK


def on_message(connection_id: str, body: str) -> int:
    bind(connection=connection_id)
    with registry_tx() as conn:
        state = connection_rows.state(conn, connection_id)
    if state is None:
        return _refuse(connection_id, "", "unknown_connection", "this connection is not known; reconnect")
    try:
        request = _request(state, body)
    except ProtocolError as problem:
        if not state.authenticated:
            return _refuse(connection_id, "", problem.code, str(problem))
        connections.post(connection_id, protocol.error("", problem.code, str(problem)))
        return OK
    if request is None:
        return OK  # a chunk of a message still incomplete
    if state.device_status == "revoked":
        return _refuse(connection_id, request.id, "device_revoked", "this device was revoked")
    if state.token_revoked:
        return _refuse(connection_id, request.id, "token_revoked", "the gateway token of this connection was revoked")
    if not state.authenticated:
        return _connect(state, request)
    if request.method == "connect":
        connections.post(connection_id, protocol.error(request.id, "already_connected", "this socket is connected"))
        return OK
    bind(tenant=state.tenant)
    caller = Caller(connection_id, str(state.tenant), str(state.device), state.device_name)
    connections.post(connection_id, _dispatch(caller, request))
    return OK


def _request(state: ConnectionState, body: str) -> Request | None:
    frame = protocol.parse_frame(body)
    if isinstance(frame, Request):
        return frame
    if not state.authenticated:
        raise ProtocolError("unauthenticated", "the first frame must be a connect request")
    text = chunks.receive(state.connection_id, frame)
    return protocol.parse_request(text) if text is not None else None


def _connect(state: ConnectionState, request: Request) -> int:
    if request.method != "connect":
        return _refuse(state.connection_id, request.id, "unauthenticated", "the first frame must be a connect request")
    try:
        welcome = auth.connect(state, request.params, datetime.now(UTC))
    except auth.ConnectRefused as refused:
        return _refuse(state.connection_id, request.id, refused.code, str(refused))
    tenant = str(welcome["tenant"])
    welcome |= {"agents": [a.model_dump() for a in reports.agents(tenant)],
                "limits": {"max_frame_bytes": protocol.MAX_FRAME_BYTES, "max_chunks": protocol.MAX_CHUNKS}}  # fmt: skip
    connections.post(state.connection_id, protocol.ok(request.id, welcome))
    return OK


def _dispatch(caller: Caller, request: Request) -> str:
    method = METHODS.get(request.method)
    if method is None:
        return protocol.error(request.id, "unknown_method", f"no method {request.method!r}")
    try:
        return protocol.ok(request.id, method(caller, request.params))
    except ProtocolError as problem:
        return protocol.error(request.id, problem.code, str(problem))
    except Exception:
        logger.exception("websocket method failed", extra={"method": request.method})
        return protocol.error(request.id, "internal", "the method failed; it was logged")
