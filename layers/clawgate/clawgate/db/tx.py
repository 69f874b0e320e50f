"""Role-scoped transactions. Runtime work for a tenant runs as that tenant's role with a transaction-local
search_path, so a bug or a prompt injection cannot reach another tenant's rows, and RDS Proxy pins nothing past the
transaction (both settings are `set_config(..., is_local => true)`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from psycopg import Connection
from psycopg.rows import TupleRow

from clawgate.db.pool import get_pool

SLUG_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
REGISTRY_SCHEMA = "clawgate"
OWNER_ROLE = "clawgate_owner"
GATEWAY_ROLE = "clawgate_gateway"

Access = Literal["rw", "ro"]


class InvalidSlugError(ValueError):
    pass


def check_slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise InvalidSlugError(f"tenant slug {slug!r} must match [a-z0-9_]{{1,40}}")
    return slug


def tenant_schema(slug: str) -> str:
    return f"tenant_{check_slug(slug)}"


def tenant_role(slug: str, access: Access = "rw") -> str:
    return f"tenant_{check_slug(slug)}_{access}"


@contextmanager
def scoped_tx(role: str, search_path: str) -> Iterator[Connection[TupleRow]]:
    """A transaction that runs as `role` with `search_path`, both reset when it ends."""
    with get_pool().connection() as conn, conn.transaction():
        conn.execute("SELECT set_config('role', %s, true), set_config('search_path', %s, true)", (role, search_path))
        yield conn


@contextmanager
def tenant_tx(slug: str, access: Access = "rw") -> Iterator[Connection[TupleRow]]:
    with scoped_tx(tenant_role(slug, access), tenant_schema(slug)) as conn:
        yield conn


@contextmanager
def registry_tx() -> Iterator[Connection[TupleRow]]:
    with scoped_tx(GATEWAY_ROLE, REGISTRY_SCHEMA) as conn:
        yield conn


@contextmanager
def owner_tx(search_path: str = REGISTRY_SCHEMA) -> Iterator[Connection[TupleRow]]:
    with scoped_tx(OWNER_ROLE, search_path) as conn:
        yield conn
