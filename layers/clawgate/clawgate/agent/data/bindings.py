"""The bindings aggregate: which agent answers a (channel, account, peer), as the tenant file binds them."""

from __future__ import annotations

from psycopg.rows import scalar_row

from clawgate.db import Conn


def bound_agent(conn: Conn, channel: str, account_id: str | None, peer_id: str | None) -> str | None:
    """The agent of the most specific binding that matches (peer > account > channel > the tenant's default
    binding, then priority); None when no binding matches."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT agent_id FROM bindings"
            " WHERE (channel IS NULL OR channel = %s) AND (account_id IS NULL OR account_id = %s)"
            " AND (peer_id IS NULL OR peer_id = %s)"
            " ORDER BY (peer_id IS NOT NULL) DESC, (account_id IS NOT NULL) DESC, (channel IS NOT NULL) DESC,"
            " priority DESC, id LIMIT 1",
            (channel, account_id, peer_id),
        )
        .fetchone()
    )
