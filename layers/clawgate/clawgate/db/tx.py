"""Role-scoped transactions. Runtime work for a tenant runs as that tenant's role with a transaction-local
search_path, so a bug or a prompt injection cannot reach another tenant's rows, and RDS Proxy pins nothing past the
transaction (both settings are `set_config(..., is_local => true)`).

Each transaction opens with BEGIN and its scope in one round trip, and ends with COMMIT and DISCARD ALL in one more:
whatever a statement managed to leave on the session is gone before the connection goes back to the pool (the
pool's reset discards again any connection that did not get this far)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import Connection
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from clawgate.core import events
from clawgate.db.logins import login_url
from clawgate.db.names import (
    APP_LOGIN,
    GATEWAY_ROLE,
    OWNER_ROLE,
    REGISTRY_SCHEMA,
    SLUG_PATTERN,
    Access,
    InvalidSlugError,
    check_slug,
    search_path,
    tenant_role,
    tenant_schema,
)
from clawgate.db.pool import get_pool, mark_discarded

__all__ = [
    "APP_LOGIN",
    "GATEWAY_ROLE",
    "OWNER_ROLE",
    "REGISTRY_SCHEMA",
    "SLUG_PATTERN",
    "Access",
    "InvalidSlugError",
    "check_slug",
    "owner_connection",
    "owner_tx",
    "registry_tx",
    "scoped_tx",
    "tenant_role",
    "tenant_schema",
    "tenant_tx",
]

SET_SCOPE = "SELECT set_config('role', %s, true), set_config('search_path', %s, true)"


@contextmanager
def scoped_tx(role: str, schema: str, *, pipeline: bool = False) -> Iterator[Connection[TupleRow]]:
    """A transaction of the app login that runs as `role` with `schema` (then pg_temp) as its search_path.

    With `pipeline`, statements are queued and sent together: the client waits for the server only when a result
    is fetched and at COMMIT, so a transaction of writes costs one round trip. The price: a statement's error is
    raised at the next fetch or at the end of the block, not by its own `execute` — use it where no code catches
    errors of single statements (the agent-turn steps).

    Effects registered with `events.after_commit` (or by after-commit subscribers of an event published here) run
    once the transaction has committed and its connection is back in the pool."""
    with events.unit_of_work(), get_pool().connection() as conn, _transaction(conn, role, schema, pipeline=pipeline):
        yield conn


@contextmanager
def _transaction(conn: Connection[TupleRow], role: str, schema: str, *, pipeline: bool) -> Iterator[None]:
    try:
        if pipeline:
            with conn.pipeline():
                _begin(conn, role, schema)
                yield
                _end(conn)
        else:
            with conn.pipeline():
                _begin(conn, role, schema)
            yield
            with conn.pipeline():
                _end(conn)
    except BaseException:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise


def _begin(conn: Connection[TupleRow], role: str, schema: str) -> None:
    conn.execute("BEGIN")  # explicit: psycopg's own BEGIN would wait for the server first
    conn.execute(SET_SCOPE, (role, search_path(schema)))


def _end(conn: Connection[TupleRow]) -> None:
    conn.execute("COMMIT")
    conn.execute("DISCARD ALL")  # allowed here: COMMIT ended the transaction, so it runs on its own
    mark_discarded(conn)


@contextmanager
def tenant_tx(slug: str, access: Access = "rw", *, pipeline: bool = False) -> Iterator[Connection[TupleRow]]:
    with scoped_tx(tenant_role(slug, access), tenant_schema(slug), pipeline=pipeline) as conn:
        yield conn


@contextmanager
def registry_tx(*, pipeline: bool = False) -> Iterator[Connection[TupleRow]]:
    with scoped_tx(GATEWAY_ROLE, REGISTRY_SCHEMA, pipeline=pipeline) as conn:
        yield conn


@contextmanager
def owner_connection() -> Iterator[Connection[TupleRow]]:
    """A connection of the owner login (migrations, provisioning): not pooled, these are rare."""
    with psycopg.connect(login_url("owner"), autocommit=True, prepare_threshold=None, connect_timeout=10) as conn:
        yield conn


@contextmanager
def owner_tx(schema: str = REGISTRY_SCHEMA) -> Iterator[Connection[TupleRow]]:
    """A transaction of the owner login with `schema` (then pg_temp) as its search_path."""
    with owner_connection() as conn, conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (search_path(schema),))
        yield conn
