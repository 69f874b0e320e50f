"""Role-scoped transactions. Runtime work for a tenant runs as that tenant's role with a transaction-local
search_path, so a bug or a prompt injection cannot reach another tenant's rows, and RDS Proxy pins nothing past the
transaction (both settings are `set_config(..., is_local => true)`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from psycopg import Connection
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from clawgate.core import events
from clawgate.db.pool import get_pool

SLUG_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
REGISTRY_SCHEMA = "clawgate"
OWNER_ROLE = "clawgate_owner"
GATEWAY_ROLE = "clawgate_gateway"

Access = Literal["rw", "ro"]
SET_SCOPE = "SELECT set_config('role', %s, true), set_config('search_path', %s, true)"


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
def scoped_tx(role: str, search_path: str, *, pipeline: bool = False) -> Iterator[Connection[TupleRow]]:
    """A transaction that runs as `role` with `search_path`, both reset when it ends.

    With `pipeline`, statements are queued and sent together: the client waits for the server only when a result
    is fetched and at COMMIT, so a transaction of writes costs one round trip. The price: a statement's error is
    raised at the next fetch or at the end of the block, not by its own `execute` — use it where no code catches
    errors of single statements (the agent-turn steps).

    Effects registered with `events.after_commit` (or by after-commit subscribers of an event published here) run
    once the transaction has committed and its connection is back in the pool."""
    with events.unit_of_work(), get_pool().connection() as conn:
        if not pipeline:
            with conn.transaction():
                conn.execute(SET_SCOPE, (role, search_path))
                yield conn
            return
        try:
            with conn.pipeline():
                conn.execute("BEGIN")  # explicit: psycopg's own BEGIN would wait for the server first
                conn.execute(SET_SCOPE, (role, search_path))
                yield conn
                conn.execute("COMMIT")
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            raise


@contextmanager
def tenant_tx(slug: str, access: Access = "rw", *, pipeline: bool = False) -> Iterator[Connection[TupleRow]]:
    with scoped_tx(tenant_role(slug, access), tenant_schema(slug), pipeline=pipeline) as conn:
        yield conn


@contextmanager
def registry_tx() -> Iterator[Connection[TupleRow]]:
    with scoped_tx(GATEWAY_ROLE, REGISTRY_SCHEMA) as conn:
        yield conn


@contextmanager
def owner_tx(search_path: str = REGISTRY_SCHEMA) -> Iterator[Connection[TupleRow]]:
    with scoped_tx(OWNER_ROLE, search_path) as conn:
        yield conn
