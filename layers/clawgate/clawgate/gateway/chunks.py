"""Reassembly of chunk frames (see `protocol`). The pieces wait in the registry (`data.chunks`), because in AWS each
frame may reach another Lambda instance; a lock per message makes exactly one receiver see it complete."""

from __future__ import annotations

from clawgate.core.protocol import Chunk, ProtocolError
from clawgate.db import registry_tx
from clawgate.gateway.data import chunks as pieces


def receive(connection_id: str, chunk: Chunk) -> str | None:
    """Store one piece; the whole message once its last piece is in, else None."""
    with registry_tx() as conn:
        pieces.lock(conn, connection_id, chunk.id)
        if any(count != chunk.count for count in pieces.announced_counts(conn, connection_id, chunk.id)):
            pieces.discard(conn, connection_id, chunk.id)
            raise ProtocolError("bad_frame", f"chunks of message {chunk.id!r} disagree on their count")
        if pieces.add(conn, connection_id, chunk.id, chunk.index, chunk.count, chunk.data) < chunk.count:
            return None
        return "".join(pieces.take(conn, connection_id, chunk.id))
