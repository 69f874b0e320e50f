"""The pairing codes aggregate (the registry's `pairing_codes`): one-time codes that let an unknown sender reach an
agent once the operator approves them, keyed by (tenant, channel, account, peer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from psycopg.rows import class_row, scalar_row

from clawgate.db import Conn


@dataclass(frozen=True)
class Sender:
    """Who a code is for: a peer on a tenant's channel account."""

    tenant: str
    channel: str
    account_id: str
    peer_id: str

    def params(self) -> dict[str, str]:
        return {"tenant": self.tenant, "channel": self.channel, "account": self.account_id, "peer": self.peer_id}


@dataclass(frozen=True)
class PendingCode:
    code: str
    tenant: str
    channel: str
    account_id: str
    peer_id: str


SENDER = "tenant_slug = %(tenant)s AND channel = %(channel)s AND account_id = %(account)s AND peer_id = %(peer)s"


def is_paired(conn: Conn, sender: Sender) -> bool:
    return conn.execute(f"SELECT 1 FROM pairing_codes WHERE {SENDER} AND approved_at IS NOT NULL",
                        sender.params()).fetchone() is not None  # fmt: skip


def open_code(conn: Conn, sender: Sender) -> str | None:
    """The sender's newest code that is neither approved nor expired."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            f"SELECT code FROM pairing_codes WHERE {SENDER} AND approved_at IS NULL AND expires_at > now()"
            " ORDER BY created_at DESC LIMIT 1",
            sender.params(),
        )
        .fetchone()
    )


def insert_code(conn: Conn, code: str, sender: Sender, ttl: timedelta) -> bool:
    """False when `code` is taken (the caller draws another)."""
    return (
        conn.execute(
            "INSERT INTO pairing_codes (code, tenant_slug, channel, account_id, peer_id, expires_at)"
            " VALUES (%(code)s, %(tenant)s, %(channel)s, %(account)s, %(peer)s, now() + %(ttl)s)"
            " ON CONFLICT (code) DO NOTHING RETURNING code",
            {"code": code, "ttl": ttl, **sender.params()},
        ).fetchone()
        is not None
    )


def approve(conn: Conn, code: str) -> Sender | None:
    """Approve a pending, unexpired code; the sender it was for, or None."""
    return (
        conn.cursor(row_factory=class_row(Sender))
        .execute(
            "UPDATE pairing_codes SET approved_at = now() WHERE code = %s AND approved_at IS NULL"
            " AND expires_at > now() RETURNING tenant_slug AS tenant, channel, account_id, peer_id",
            (code,),
        )
        .fetchone()
    )


def was_approved(conn: Conn, code: str) -> bool | None:
    """Whether `code` was approved already; None when there is no such code."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute("SELECT approved_at IS NOT NULL FROM pairing_codes WHERE code = %s", (code,))
        .fetchone()
    )


def pending(conn: Conn, tenant: str | None) -> list[PendingCode]:
    """Unexpired, unapproved codes, oldest first (of one tenant, or all)."""
    return (
        conn.cursor(row_factory=class_row(PendingCode))
        .execute(
            "SELECT code, tenant_slug AS tenant, channel, account_id, peer_id FROM pairing_codes"
            " WHERE approved_at IS NULL AND expires_at > now()"
            " AND (%(tenant)s::text IS NULL OR tenant_slug = %(tenant)s) ORDER BY created_at",
            {"tenant": tenant},
        )
        .fetchall()
    )
