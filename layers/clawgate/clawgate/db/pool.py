"""One connection pool per process. Locally the URL comes from the environment (or the embedded server); in AWS
from the database secret, to RDS Proxy or to the cluster itself. No session state is ever set on a pooled
connection: see tx.py.

The pool holds no connection it does not need: none at start, and one unused for IDLE_SECONDS is closed, so a quiet
process does not keep Aurora from pausing. A Lambda frozen between invocations runs no pool thread, so without a
proxy the server closes idle sessions itself (infra/constructs/database.py); a connection unused for longer than
IDLE_SECONDS is therefore pinged before use, and replaced if the server has closed it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from weakref import WeakKeyDictionary

from psycopg import Connection
from psycopg_pool import ConnectionPool

from clawgate.settings import get_settings

IDLE_SECONDS = 60.0

_pool: ConnectionPool | None = None
_lock = threading.Lock()
_returned_at: WeakKeyDictionary[Connection[Any], float] = WeakKeyDictionary()


class DatabaseNotConfiguredError(RuntimeError):
    pass


def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        return _url_from_secret(settings.database_secret_arn)
    raise DatabaseNotConfiguredError("set CLAWGATE_DATABASE_URL (or run under `clawgate dev`, which starts one)")


def _url_from_secret(arn: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    secret = json.loads(str(parameters.get_secret(arn, max_age=3600)))
    host = get_settings().database_host or secret["host"]
    return (
        f"postgresql://{secret['username']}:{secret['password']}@{host}:{secret.get('port', 5432)}"
        f"/{secret.get('dbname', 'clawgate')}?sslmode=require"
    )


def get_pool() -> ConnectionPool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ConnectionPool(
                database_url(),
                min_size=0,
                max_size=8,
                max_idle=IDLE_SECONDS,
                check=_ping_if_idle,
                reset=_note_return,
                open=True,
                name="clawgate",
                # No server-side prepared statements: RDS Proxy would pin every connection that uses them.
                kwargs={"autocommit": True, "prepare_threshold": None},
            )
        return _pool


def _note_return(conn: Connection[Any]) -> None:
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
