"""Gateway tokens: shown once, stored only as a SHA-256 hash (`data/tokens.py`); failed authentications counted per
source address and refused past a limit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from clawgate.db import owner_tx, registry_tx
from clawgate.db.names import GATEWAY_ROLE, REGISTRY_SCHEMA
from clawgate.db.tx import scoped_tx
from clawgate.observability import logger
from clawgate.tenancy import connections
from clawgate.tenancy.data import connections as connection_rows
from clawgate.tenancy.data import registry
from clawgate.tenancy.data import tokens as token_rows
from clawgate.tenancy.data.tokens import TokenInfo
from clawgate.tenancy.tenants import UnknownTenantError

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
        if not registry.tenant_exists(conn, slug):
            raise UnknownTenantError(f"no tenant {slug!r}; apply its tenant file first")
        token_rows.insert_token(conn, slug, token_hash(token), label)
    return token


def replace_token(slug: str, label: str) -> str:
    """A new token under `label`; the tokens that label named before are revoked (one live sign-in link)."""
    with owner_tx() as conn:  # revoking, like minting, is the operator's
        token_rows.revoke_label(conn, slug, label)
    return create_token(slug, label)


def token_tenant(token: str) -> str | None:
    """The tenant a live token belongs to (and records its use); None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with registry_tx() as conn:
        return token_rows.use_token(conn, token_hash(token))


def verify_token(slug: str, token: str) -> int | None:
    """The id of `token` when it is a live token of tenant `slug` (and records its use); None otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with registry_tx() as conn:
        return token_rows.use_tenant_token(conn, slug, token_hash(token))


def list_tokens(slug: str) -> list[TokenInfo]:
    with owner_tx() as conn:
        return token_rows.list_tokens(conn, slug)


def revoke_token(slug: str, token_id: int) -> int:
    """Revoke a tenant's token (the operator's CLI, the owner login) and close the control-plane sockets it opened;
    returns how many were open. Raises LookupError for a token the tenant has not got, or has revoked already."""
    with owner_tx() as conn:
        if not token_rows.revoke_token(conn, slug, token_id):
            raise LookupError(f"tenant {slug!r} has no live token {token_id}")
        sockets = connection_rows.unauthenticate_token(conn, token_id)
    for connection_id in sockets:
        connections.close(connection_id)
    logger.info("gateway token revoked", extra={"tenant": slug, "token_id": token_id, "sockets": len(sockets)})
    return len(sockets)


def rate_limited(source: str) -> bool:
    with registry_tx() as conn:
        return token_rows.recent_failures(conn, source, FAILURE_WINDOW) >= MAX_FAILURES


def record_failure(source: str, reason: str) -> None:
    logger.warning("authentication failed", extra={"source": source, "reason": reason})
    with registry_tx() as conn:
        token_rows.record_failure(conn, source, FAILURE_WINDOW)


@dataclass(frozen=True)
class BearerCheck:
    tenant: str | None  # the token's tenant; None: unknown, revoked or refused
    throttled: bool = False


def bearer_tenant(authorization: str, source: str, surface: str) -> BearerCheck:
    """`Authorization: Bearer <gateway token>` of an HTTP request from `source`: its tenant, with the failure counted
    when it is wrong; a source past the failure limit is refused whatever it sends. One round trip when it is right."""
    token = authorization.removeprefix("Bearer ").strip()
    with scoped_tx(GATEWAY_ROLE, REGISTRY_SCHEMA, pipeline=True) as conn:
        rows = token_rows.bearer_rows(conn, source, FAILURE_WINDOW, token_hash(token))
    if rows.failures >= MAX_FAILURES:
        return BearerCheck(None, throttled=True)
    if rows.tenant is None or not token.startswith(TOKEN_PREFIX):
        record_failure(source, f"bad bearer token ({surface})")
        return BearerCheck(None)
    return BearerCheck(rows.tenant)
