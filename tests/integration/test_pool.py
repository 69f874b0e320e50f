"""The pool holds no connection it does not need, and survives the server closing an idle one (what Aurora without
RDS Proxy does to the pooled connection of a Lambda frozen between invocations: idle_session_timeout)."""

from __future__ import annotations

import psycopg
import pytest
from clawgate.db import close_pool, get_pool, pool


def backend_pid() -> int:
    with get_pool().connection() as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def test_a_new_pool_opens_no_connection_before_one_is_asked_for(database: str) -> None:
    close_pool()
    assert get_pool().get_stats()["pool_size"] == 0
    backend_pid()
    assert get_pool().get_stats()["pool_size"] == 1


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_pool()
    monkeypatch.setattr(pool, "IDLE_SECONDS", 0.0)  # every returned connection has now been idle "long enough"
    closed = backend_pid()
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (closed,))

    assert backend_pid() != closed
