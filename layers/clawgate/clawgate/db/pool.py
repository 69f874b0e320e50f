"""One connection pool per process. Locally the URL comes from the environment (or the embedded server); in AWS
from the RDS Proxy secret. No session state is ever set on a pooled connection: see tx.py."""

from __future__ import annotations

import json
import threading

from psycopg_pool import ConnectionPool

from clawgate.settings import get_settings

_pool: ConnectionPool | None = None
_lock = threading.Lock()


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
                min_size=1,
                max_size=8,
                open=True,
                name="clawgate",
                # No server-side prepared statements: RDS Proxy would pin every connection that uses them.
                kwargs={"autocommit": True, "prepare_threshold": None},
            )
        return _pool


def close_pool() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None
