"""Reassembly of chunk frames (see `protocol`). The pieces wait in the registry's `ws_chunks`, because in AWS each
frame may reach another Lambda instance; a lock per message makes exactly one receiver see it complete."""

from __future__ import annotations

from clawgate.core.protocol import Chunk, ProtocolError
from clawgate.db import registry_tx


def receive(connection_id: str, chunk: Chunk) -> str | None:
    """Store one piece; the whole message once its last piece is in, else None."""
    with registry_tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ws_chunks:{connection_id}:{chunk.id}",))
        known = conn.execute(
            "SELECT DISTINCT chunk_count FROM ws_chunks WHERE connection_id = %s AND message_id = %s",
            (connection_id, chunk.id),
        ).fetchall()
        if any(count != chunk.count for (count,) in known):
            conn.execute(
                "DELETE FROM ws_chunks WHERE connection_id = %s AND message_id = %s", (connection_id, chunk.id)
            )
            raise ProtocolError("bad_frame", f"chunks of message {chunk.id!r} disagree on their count")
        conn.execute(
            "INSERT INTO ws_chunks (connection_id, message_id, chunk_index, chunk_count, data)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (connection_id, chunk.id, chunk.index, chunk.count, chunk.data),
        )
        have = conn.execute(
            "SELECT count(*) FROM ws_chunks WHERE connection_id = %s AND message_id = %s", (connection_id, chunk.id)
        ).fetchone()
        if have is None or have[0] < chunk.count:
            return None
        rows = conn.execute(
            "DELETE FROM ws_chunks WHERE connection_id = %s AND message_id = %s RETURNING chunk_index, data",
            (connection_id, chunk.id),
        ).fetchall()
    return "".join(str(data) for _, data in sorted(rows))
