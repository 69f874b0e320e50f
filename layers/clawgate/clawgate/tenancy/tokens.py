"""Gateway tokens: shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from clawgate.db import owner_tx, registry_tx
from clawgate.tenancy.registry import UnknownTenantError

TOKEN_PREFIX = "cgt_"


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


def verify_token(slug: str, token: str) -> bool:
    """True when `token` is a live token of tenant `slug` (and records its use)."""
    if not token.startswith(TOKEN_PREFIX):
        return False
    with registry_tx() as conn:
        row = conn.execute(
            "UPDATE gateway_tokens SET last_used_at = now()"
            " WHERE tenant_slug = %s AND token_sha256 = %s AND revoked_at IS NULL RETURNING id",
            (slug, token_hash(token)),
        ).fetchone()
    return row is not None
