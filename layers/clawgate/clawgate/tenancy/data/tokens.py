"""The registry's `gateway_tokens` (stored only as a SHA-256 hash) and `auth_failures` (failed authentications per
source address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row, dict_row

from clawgate.db import Conn


@dataclass(frozen=True)
class TokenInfo:
    id: int
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class BearerRows:
    """What one bearer check reads in one round trip: the source's recent failures and the token's tenant."""

    failures: int
    tenant: str | None


def insert_token(conn: Conn, slug: str, token_sha256: str, label: str | None) -> None:
    conn.execute(
        "INSERT INTO gateway_tokens (tenant_slug, token_sha256, label) VALUES (%s, %s, %s)",
        (slug, token_sha256, label),
    )


def revoke_label(conn: Conn, slug: str, label: str) -> None:
    conn.execute(
        "UPDATE gateway_tokens SET revoked_at = now() WHERE tenant_slug = %s AND label = %s AND revoked_at IS NULL",
        (slug, label),
    )


def revoke_token(conn: Conn, slug: str, token_id: int) -> bool:
    """False when the tenant has no live token `token_id`."""
    return (
        conn.execute(
            "UPDATE gateway_tokens SET revoked_at = now() WHERE tenant_slug = %s AND id = %s AND revoked_at IS NULL"
            " RETURNING id",
            (slug, token_id),
        ).fetchone()
        is not None
    )


_USE_TOKEN = (
    "UPDATE gateway_tokens SET last_used_at = now()"
    " WHERE token_sha256 = %s AND revoked_at IS NULL RETURNING tenant_slug"
)


def use_token(conn: Conn, token_sha256: str) -> str | None:
    """The tenant of a live token, recording its use; None for an unknown or revoked one."""
    row = conn.cursor(row_factory=dict_row).execute(_USE_TOKEN, (token_sha256,)).fetchone()
    return str(row["tenant_slug"]) if row else None


def use_tenant_token(conn: Conn, slug: str, token_sha256: str) -> int | None:
    """The id of a live token of tenant `slug`, recording its use; None otherwise."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "UPDATE gateway_tokens SET last_used_at = now()"
            " WHERE tenant_slug = %s AND token_sha256 = %s AND revoked_at IS NULL RETURNING id",
            (slug, token_sha256),
        )
        .fetchone()
    )
    return int(row["id"]) if row else None


def list_tokens(conn: Conn, slug: str) -> list[TokenInfo]:
    return (
        conn.cursor(row_factory=class_row(TokenInfo))
        .execute(
            "SELECT id, label, created_at, last_used_at, revoked_at FROM gateway_tokens WHERE tenant_slug = %s"
            " ORDER BY id",
            (slug,),
        )
        .fetchall()
    )


_FAILURES = "SELECT count(*) AS failures FROM auth_failures WHERE source = %s AND at > now() - %s"


def recent_failures(conn: Conn, source: str, window: timedelta) -> int:
    row = conn.cursor(row_factory=dict_row).execute(_FAILURES, (source, window)).fetchone()
    return int(row["failures"]) if row else 0


def record_failure(conn: Conn, source: str, window: timedelta) -> None:
    """One more failure of `source`; its failures older than `window` go."""
    conn.execute("DELETE FROM auth_failures WHERE source = %s AND at <= now() - %s", (source, window))
    conn.execute("INSERT INTO auth_failures (source) VALUES (%s)", (source,))


def bearer_rows(conn: Conn, source: str, window: timedelta, token_sha256: str) -> BearerRows:
    """`recent_failures` and `use_token` sent together: one round trip on a pipelined transaction."""
    failures = conn.cursor(row_factory=dict_row).execute(_FAILURES, (source, window))
    owner = conn.cursor(row_factory=dict_row).execute(_USE_TOKEN, (token_sha256,))
    failed, found = failures.fetchone(), owner.fetchone()
    return BearerRows(int(failed["failures"]) if failed else 0, str(found["tenant_slug"]) if found else None)
