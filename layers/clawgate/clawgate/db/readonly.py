"""The model's SQL (`db_query`): whatever the text, it reads its own tenant's tables and nothing else.

It runs on a connection of its own, logged in as the tenant's query login (clawgate.db.logins): a role that is a
member of nothing, so `RESET ROLE`, `SET ROLE` and `set_config('role', …)` have nowhere to go; that can read its
own schema and no server file; that cannot create temporary tables. The connection is not pooled: it is opened for
the one query and closed after it, so nothing the text sets outlives it.

The text is sent once, through the extended protocol (one statement, never several), as the body of a cursor in a
read-only transaction, and a single FETCH takes the first rows: the server stops producing rows at the cap, and
the statement timeout, armed when the FETCH starts, is not lifted by anything the FETCH itself executes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from clawgate.db.logins import query_url
from clawgate.db.names import search_path, tenant_schema

ROW_CAP = 100
TIMEOUT_MS = 3_000


class QueryError(Exception):
    """The query was refused or failed; the message is the server's."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def run_query(slug: str, text: str, *, row_cap: int = ROW_CAP, timeout_ms: int = TIMEOUT_MS) -> QueryResult:
    body = text.strip().rstrip(";").strip()
    if not body:
        raise QueryError("empty query")
    options = (
        f"-c statement_timeout={timeout_ms} -c idle_in_transaction_session_timeout={timeout_ms * 2}"
        f" -c default_transaction_read_only=on -c search_path={search_path(tenant_schema(slug)).replace(' ', '')}"
    )
    try:
        with psycopg.connect(
            query_url(slug), autocommit=True, prepare_threshold=None, connect_timeout=5, options=options
        ) as conn:
            with conn.pipeline():  # every statement through the extended protocol, all in one round trip
                conn.execute("BEGIN READ ONLY")
                conn.execute(b"DECLARE model_query NO SCROLL CURSOR FOR " + body.encode())
                cursor = conn.execute(f"FETCH {row_cap + 1:d} FROM model_query".encode())
            columns = [column.name for column in cursor.description or []]
            rows = cursor.fetchall()
    except psycopg.Error as error:
        raise QueryError(str(error).strip()[:500]) from error
    return QueryResult(columns, rows[:row_cap], len(rows) > row_cap)
