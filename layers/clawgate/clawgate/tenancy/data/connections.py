"""The registry's `ws_connections`: who is behind a WebSocket connection (its tenant, device and token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row, dict_row

from clawgate.db import Conn


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


def record(conn: Conn, connection_id: str, source_ip: str) -> None:
    conn.execute(
        "INSERT INTO ws_connections (connection_id, source_ip) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (connection_id, source_ip),
    )


def forget(conn: Conn, connection_id: str) -> None:
    conn.execute("DELETE FROM ws_connections WHERE connection_id = %s", (connection_id,))


def state(conn: Conn, connection_id: str) -> ConnectionState | None:
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


def authenticate(conn: Conn, connection_id: str, tenant: str, device: str, token_id: int | None = None) -> None:
    conn.execute(
        "UPDATE ws_connections SET tenant_slug = %s, device_id = %s, token_id = %s, authenticated = true"
        " WHERE connection_id = %s",
        (tenant, device, token_id, connection_id),
    )


def device_connections(conn: Conn, tenant: str, device: str) -> list[str]:
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT connection_id FROM ws_connections WHERE tenant_slug = %s AND device_id = %s AND authenticated",
            (tenant, device),
        )
        .fetchall()
    )
    return [str(row["connection_id"]) for row in rows]


def unauthenticate_token(conn: Conn, token_id: int) -> list[str]:
    """The connections opened with a revoked token lose their authentication; returns their ids."""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "UPDATE ws_connections SET authenticated = false WHERE token_id = %s RETURNING connection_id", (token_id,)
        )
        .fetchall()
    )
    return [str(row["connection_id"]) for row in rows]
