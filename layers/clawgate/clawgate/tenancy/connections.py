"""Posting frames to a WebSocket connection, or to every open tab of a device, through `@connections` (chunked past
32 KB). Who is behind a connection is the registry's `ws_connections` (`data/connections.py`)."""

from __future__ import annotations

from clawgate.core import ports, protocol
from clawgate.db import registry_tx
from clawgate.observability import logger
from clawgate.tenancy.data import connections as connection_rows


def post(connection_id: str, frame: str) -> bool:
    """Send one frame (as chunk frames when it is over 32 KB); False when the connection is gone."""
    return all(ports.connections().post(connection_id, piece) for piece in protocol.split_frame(frame))


def post_to_all(connection_ids: list[str], frame: str) -> int:
    """Post to each connection; a gone one (API Gateway's 410) is forgotten. Returns how many were reached."""
    reached = 0
    for connection_id in dict.fromkeys(connection_ids):
        if post(connection_id, frame):
            reached += 1
        else:
            logger.info("websocket connection gone", extra={"connection": connection_id})
            with registry_tx() as conn:
                connection_rows.forget(conn, connection_id)
    return reached


def close(connection_id: str) -> None:
    try:
        ports.connections().delete(connection_id)
    except Exception:  # already closed by the client: nothing to do
        logger.info("websocket close failed", extra={"connection": connection_id}, exc_info=True)
