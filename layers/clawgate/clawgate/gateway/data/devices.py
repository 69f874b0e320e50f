"""Control-plane devices (a browser profile of the web UI, identified by an id it generates and keeps), in the
registry's `devices`: a new device is pending until an operator approves it; a revoked one loses its connections'
authentication at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.rows import class_row, scalar_row

from clawgate.db import Conn

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"
DeviceStatus = Literal["pending", "approved", "revoked"]
_COLUMNS = "tenant_slug AS tenant, device_id, status, name, created_at, approved_at, last_seen_at"


@dataclass(frozen=True)
class Device:
    tenant: str
    device_id: str
    status: str
    name: str | None
    created_at: datetime
    approved_at: datetime | None
    last_seen_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


class UnknownDeviceError(LookupError):
    pass


def register(conn: Conn, tenant: str, device_id: str, name: str | None, *, approve: bool) -> str:
    """Record a connecting device (pending when new, unless `approve`); returns its status."""
    status = "approved" if approve else "pending"
    found = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO devices (tenant_slug, device_id, status, name, approved_at, last_seen_at)"
            " VALUES (%s, %s, %s, %s, CASE WHEN %s THEN now() END, now())"
            " ON CONFLICT (tenant_slug, device_id) DO UPDATE SET last_seen_at = now(),"
            " name = coalesce(EXCLUDED.name, devices.name),"
            " status = CASE WHEN devices.status = 'pending' THEN EXCLUDED.status ELSE devices.status END,"
            " approved_at = coalesce(devices.approved_at, EXCLUDED.approved_at)"
            " RETURNING status",
            (tenant, device_id, status, name, approve),
        )
        .fetchone()
    )
    return str(found)


def list_devices(conn: Conn, tenant: str | None = None, status: str | None = None) -> list[Device]:
    return (
        conn.cursor(row_factory=class_row(Device))
        .execute(
            f"SELECT {_COLUMNS} FROM devices WHERE (%s::text IS NULL OR tenant_slug = %s)"
            " AND (%s::text IS NULL OR status = %s) ORDER BY tenant_slug, created_at DESC",
            (tenant, tenant, status, status),
        )
        .fetchall()
    )


def set_status(conn: Conn, tenant: str, device_id: str, status: DeviceStatus) -> Device:
    """Approve or revoke; a revoked device's open connections stop receiving at once and are refused on their
    next frame."""
    device = (
        conn.cursor(row_factory=class_row(Device))
        .execute(
            f"UPDATE devices SET status = %s, approved_at = CASE WHEN %s = 'approved' THEN now() ELSE approved_at END"
            f" WHERE tenant_slug = %s AND device_id = %s RETURNING {_COLUMNS}",
            (status, status, tenant, device_id),
        )
        .fetchone()
    )
    if device is None:
        raise UnknownDeviceError(f"no device {device_id!r} in tenant {tenant!r}")
    if status == "revoked":
        conn.execute(
            "UPDATE ws_connections SET authenticated = false WHERE tenant_slug = %s AND device_id = %s",
            (tenant, device_id),
        )
    return device


def approved_connections(conn: Conn, tenant: str) -> list[str]:
    """The tenant's authenticated connections whose device is approved: who an inbox event goes to."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT c.connection_id FROM ws_connections c JOIN devices d ON d.tenant_slug = c.tenant_slug"
            " AND d.device_id = c.device_id WHERE c.tenant_slug = %s AND c.authenticated AND d.status = 'approved'",
            (tenant,),
        )
        .fetchall()
    )
