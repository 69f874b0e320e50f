"""The registry's `ws_connections`: who is behind a connection, and posting frames to one or to every open tab of a
device through `@connections` (chunked past 32 KB)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from clawgate.core import ports, protocol
from clawgate.db import registry_tx
from clawgate.observability import logger


@dataclass(frozen=True)
class ConnectionState:
    connection_id: str
    source_ip: str
    connected_at: datetime
    authenticated: bool
    tenant: str | None
    device: str | None
    device_status: str | None  # approved | pending | revoked, read on every message: a revocation bites at once
    device_name: str | None
    token_revoked: bool = False  # the gateway token it connected with was revoked since


def record(connection_id: str, source_ip: str) -> None:
    with registry_tx() as conn:
        conn.execute(
            "INSERT INTO ws_connections (connection_id, source_ip) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (connection_id, source_ip),
        )


def forget(connection_id: str) -> None:
    with registry_tx() as conn:
        conn.execute("DELETE FROM ws_connections WHERE connection_id = %s", (connection_id,))


def state(connection_id: str) -> ConnectionState | None:
    with registry_tx() as conn:
        return (
            conn.cursor(row_factory=class_row(ConnectionState))
            .execute(
                "SELECT c.connection_id, coalesce(c.source_ip, '') AS source_ip, c.connected_at, c.authenticated,"
                " c.tenant_slug AS tenant, c.device_id AS device, d.status AS device_status, d.name AS device_name,"
                " t.revoked_at IS NOT NULL AS token_revoked FROM ws_connections c"
                " LEFT JOIN devices d ON d.tenant_slug = c.tenant_slug AND d.device_id = c.device_id"
                " LEFT JOIN gateway_tokens t ON t.id = c.token_id"
                " WHERE c.connection_id = %s",
                (connection_id,),
            )
            .fetchone()
        )


def authenticate(connection_id: str, tenant: str, device: str, token_id: int | None = None) -> None:
    with registry_tx() as conn:
        conn.execute(
            "UPDATE ws_connections SET tenant_slug = %s, device_id = %s, token_id = %s, authenticated = true"
            " WHERE connection_id = %s",
            (tenant, device, token_id, connection_id),
        )


def device_connections(tenant: str, device: str) -> list[str]:
    with registry_tx() as conn:
        rows = conn.execute(
            "SELECT connection_id FROM ws_connections WHERE tenant_slug = %s AND device_id = %s AND authenticated",
            (tenant, device),
        ).fetchall()
    return [str(row[0]) for row in rows]


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
            forget(connection_id)
    return reached


def close(connection_id: str) -> None:
    try:
        ports.connections().delete(connection_id)
    except Exception:  # already closed by the client: nothing to do
        logger.info("websocket close failed", extra={"connection": connection_id}, exc_info=True)
