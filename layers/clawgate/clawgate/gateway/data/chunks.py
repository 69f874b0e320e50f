"""The registry's `ws_chunks`: the pieces of a chunked WebSocket message, kept until its last piece is in (in AWS
each frame may reach another Lambda instance)."""

from __future__ import annotations

from psycopg.rows import scalar_row

from clawgate.db import Conn


def lock(conn: Conn, connection_id: str, message_id: str) -> None:
    """Until the transaction ends, exactly one receiver handles the pieces of this message."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ws_chunks:{connection_id}:{message_id}",))


def announced_counts(conn: Conn, connection_id: str, message_id: str) -> list[int]:
    """The piece counts the stored pieces announced (one, unless a client sent pieces that disagree)."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT DISTINCT chunk_count FROM ws_chunks WHERE connection_id = %s AND message_id = %s",
            (connection_id, message_id),
        )
        .fetchall()
    )


def add(conn: Conn, connection_id: str, message_id: str, index: int, count: int, data: str) -> int:
    """Store one piece (a repeated piece is ignored); returns how many of the message's pieces are in."""
    conn.execute(
        "INSERT INTO ws_chunks (connection_id, message_id, chunk_index, chunk_count, data)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (connection_id, message_id, index, count, data),
    )
    have = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT count(*) FROM ws_chunks WHERE connection_id = %s AND message_id = %s",
            (connection_id, message_id),
        )
        .fetchone()
    )
    return int(have or 0)


def take(conn: Conn, connection_id: str, message_id: str) -> list[str]:
    """Remove the message's pieces and return their data in order."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "WITH taken AS (DELETE FROM ws_chunks WHERE connection_id = %s AND message_id = %s"
            " RETURNING chunk_index, data) SELECT data FROM taken ORDER BY chunk_index",
            (connection_id, message_id),
        )
        .fetchall()
    )


def discard(conn: Conn, connection_id: str, message_id: str) -> None:
    conn.execute("DELETE FROM ws_chunks WHERE connection_id = %s AND message_id = %s", (connection_id, message_id))
