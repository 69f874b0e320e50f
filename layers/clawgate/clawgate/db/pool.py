"""One connection pool per process, of the app login (clawgate.db.logins): never the master user, never a login
that can create roles. Every connection is reset (DISCARD ALL) before it is handed out again: see tx.py.

The pool holds no connection it does not need: none at start, and one unused for IDLE_SECONDS is closed, so a quiet
process does not keep Aurora from pausing. A Lambda frozen between invocations runs no pool thread, so without a
proxy the server closes idle sessions itself (infra/constructs/database.py); a connection unused for longer than
IDLE_SECONDS is therefore pinged before use, and replaced if the server has closed it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

from psycopg import Connection
from psycopg_pool import ConnectionPool

from clawgate.db.logins import DatabaseNotConfiguredError, login_url

IDLE_SECONDS = 60.0
# No server-side prepared statements: RDS Proxy would pin every connection that uses them.
CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}

_pool: ConnectionPool | None = None
_lock = threading.Lock()
_returned_at: WeakKeyDictionary[Connection[Any], float] = WeakKeyDictionary()
_discarded: WeakSet[Connection[Any]] = WeakSet()

__all__ = ["DatabaseNotConfiguredError", "close_pool", "get_pool", "mark_discarded", "new_pool"]


def new_pool(
    *, configure: Callable[[Connection[Any]], None] | None = None, min_size: int = 0, max_size: int = 8
) -> ConnectionPool:
    return ConnectionPool(
        login_url("app"),
        min_size=min_size,
        max_size=max_size,
        max_idle=IDLE_SECONDS,
        check=_ping_if_idle,
        reset=_reset,
        configure=configure,
        open=True,
        name="clawgate",
        kwargs=CONNECTION_KWARGS,
    )


def get_pool() -> ConnectionPool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = new_pool()
        return _pool


def mark_discarded(conn: Connection[Any]) -> None:
    """The connection's session was just reset (DISCARD ALL sent with the COMMIT): no need to do it again."""
    _discarded.add(conn)


def _reset(conn: Connection[Any]) -> None:
    if conn in _discarded:
        _discarded.discard(conn)
    else:
        conn.execute("DISCARD ALL")
    _returned_at[conn] = time.time()  # wall clock: it keeps counting while a Lambda is frozen


def _ping_if_idle(conn: Connection[Any]) -> None:
    returned_at = _returned_at.get(conn)
    if returned_at is not None and time.time() - returned_at > IDLE_SECONDS:
        ConnectionPool.check_connection(conn)


def close_pool() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None
