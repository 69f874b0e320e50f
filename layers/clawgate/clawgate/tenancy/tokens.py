"""Gateway tokens: shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row

from clawgate.db import owner_tx, registry_tx
from clawgate.db.names import GATEWAY_ROLE, REGISTRY_SCHEMA
from clawgate.db.tx import scoped_tx
from clawgate.observability import logger
from clawgate.tenancy.registry import UnknownTenantError

TOKEN_PREFIX = "cgt_"
# Failed authentications per source address (the registry's auth_failures), shared by every surface that takes a
# gateway token: the WebSocket's connect frame and the HTTP APIs. Past the limit a source is refused, even with a
# right token, until its failures age out of the window.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
TOO_MANY_FAILURES = "too many failed authentications from this address; try later"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(slug: str, label: str | None = None) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with owner_tx() as conn:  # minting is the operator's (CLI), never a handler's
        if not conn.execute("SELECT 1 FROM tenants WHERE slug = %s", (slug,)).fetchone():
            raise UnknownTenantError(f"no tenant {slug!r}; apply its tenant file first")
        conn.execute(
            "INSERT INTO gateway_tokens (tenant_slug, token_sha256, label) VALUES (%s, %s, %s)",
            (slug, token_hash(token), label),
        )
    return token


def replace_token(slug: str, label: str) -> str:
    """A new token under `label`; the tokens that label named before are revoked (one live sign-in link)."""
    with owner_tx() as conn:  # revoking, like minting, is the operator's
        conn.execute(
            "UPDATE gateway_tokens SET revoked_at = now() WHERE tenant_slug = %s AND label = %s AND revoked_at IS NULL",
            (slug, label),
        )
    return create_token(slug, label)


def token_tenant(token: str) -> str | None:
    """The tenant a live token belongs to (and records its use); None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with registry_tx() as conn:
        row = conn.execute(
            "UPDATE gateway_tokens SET last_used_at = now() WHERE token_sha256 = %s AND revoked_at IS NULL"
            " RETURNING tenant_slug",
            (token_hash(token),),
        ).fetchone()
    return str(row[0]) if row else None


def verify_token(slug: str, token: str) -> int | None:
    """The id of `token` when it is a live token of tenant `slug` (and records its use); None otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with registry_tx() as conn:
        row = conn.execute(
            "UPDATE gateway_tokens SET last_used_at = now()"
            " WHERE tenant_slug = %s AND token_sha256 = %s AND revoked_at IS NULL RETURNING id",
            (slug, token_hash(token)),
        ).fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(slug: str) -> list[TokenInfo]:
    with owner_tx() as conn:
        return (
            conn.cursor(row_factory=class_row(TokenInfo))
            .execute(
                "SELECT id, label, created_at, last_used_at, revoked_at FROM gateway_tokens WHERE tenant_slug = %s"
                " ORDER BY id",
                (slug,),
            )
            .fetchall()
        )


def revoke_token(slug: str, token_id: int) -> int:
    """Revoke a tenant's token (the operator's CLI, the owner login) and close the control-plane sockets it opened;
    returns how many were open. Raises LookupError for a token the tenant has not got, or has revoked already."""
    with owner_tx() as conn:
        if not conn.execute(
            "UPDATE gateway_tokens SET revoked_at = now() WHERE tenant_slug = %s AND id = %s AND revoked_at IS NULL"
            " RETURNING id",
            (slug, token_id),
        ).fetchone():
            raise LookupError(f"tenant {slug!r} has no live token {token_id}")
        sockets = conn.execute(
            "UPDATE ws_connections SET authenticated = false WHERE token_id = %s RETURNING connection_id", (token_id,)
        ).fetchall()
    from clawgate.tenancy import connections

    for (connection_id,) in sockets:
        connections.close(connection_id)
    logger.info("gateway token revoked", extra={"tenant": slug, "token_id": token_id, "sockets": len(sockets)})
    return len(sockets)


def rate_limited(source: str) -> bool:
    with registry_tx() as conn:
        row = conn.execute(
            "SELECT count(*) FROM auth_failures WHERE source = %s AND at > now() - %s", (source, FAILURE_WINDOW)
        ).fetchone()
    return bool(row and row[0] >= MAX_FAILURES)


def record_failure(source: str, reason: str) -> None:
    logger.warning("authentication failed", extra={"source": source, "reason": reason})
    with registry_tx() as conn:
        conn.execute("DELETE FROM auth_failures WHERE source = %s AND at <= now() - %s", (source, FAILURE_WINDOW))
        conn.execute("INSERT INTO auth_failures (source) VALUES (%s)", (source,))


@dataclass(frozen=True)
class BearerCheck:
    tenant: str | None  # the token's tenant; None: unknown, revoked or refused
    throttled: bool = False


def bearer_tenant(authorization: str, source: str, surface: str) -> BearerCheck:
    """`Authorization: Bearer <gateway token>` of an HTTP request from `source`: its tenant, with the failure counted
    when it is wrong; a source past the failure limit is refused whatever it sends. One round trip when it is right."""
    token = authorization.removeprefix("Bearer ").strip()
    with scoped_tx(GATEWAY_ROLE, REGISTRY_SCHEMA, pipeline=True) as conn:
        failures = conn.execute(
            "SELECT count(*) FROM auth_failures WHERE source = %s AND at > now() - %s", (source, FAILURE_WINDOW)
        )
        owner = conn.execute(
            "UPDATE gateway_tokens SET last_used_at = now() WHERE token_sha256 = %s AND revoked_at IS NULL"
            " RETURNING tenant_slug",
            (token_hash(token),),
        )
        row, found = failures.fetchone(), owner.fetchone()
    if row and row[0] >= MAX_FAILURES:
        return BearerCheck(None, throttled=True)
    if found is None or not token.startswith(TOKEN_PREFIX):
        record_failure(source, f"bad bearer token ({surface})")
        return BearerCheck(None)
    return BearerCheck(str(found[0]))
