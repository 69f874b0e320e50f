"""The outbound messages aggregate: every message we sent (or were refused), one row per chunk keyed by an
idempotency key (`turn:<id>:<chunk>`, `api:<key>:<chunk>`, …), and the delivery statuses the provider reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.rows import dict_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.core.channels import SentMessage
from clawgate.db import Conn

RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
_RANK_SQL = "CASE status WHEN 'pending' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 4 END"


def sent_chunks(conn: Conn, key: str, chunks: int) -> set[int]:
    """Which of the `chunks` pieces of `key` went out already (a retried Deliver skips them). Matched exactly, not
    by prefix: the key may come from a client."""
    sent = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT chunk_index FROM outbound_messages WHERE idempotency_key = ANY(%s) AND status <> 'failed'",
            ([f"{key}:{index}" for index in range(chunks)],),
        )
        .fetchall()
    )
    return {int(index) for index in sent}


_CONVERSATION = "(SELECT id FROM conversations WHERE channel = %s AND account_id = %s AND peer_id = %s)"


def record_sent(
    conn: Conn, turn_id: int | None, channel: str, account_id: str | None, peer_id: str, key: str, sent: SentMessage,
    author: str = "agent", author_name: str | None = None, payload: dict[str, Any] | None = None,
) -> tuple[int, int | None] | None:  # fmt: skip
    """Record one sent chunk with its author, in its conversation; (row id, conversation id), or None when this
    chunk was recorded before."""
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(
            "INSERT INTO outbound_messages (turn_id, channel, account_id, peer_id, provider_message_id,"
            " idempotency_key, chunk_index, body, payload, status, sent_at, author, author_name, conversation_id)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'sent', now(), %s, %s, {_CONVERSATION})"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, conversation_id",
            (turn_id, channel, account_id, peer_id, sent.provider_message_id, f"{key}:{sent.chunk_index}",
             sent.chunk_index, sent.text, Jsonb(payload) if payload else None, author, author_name, channel,
             account_id or "", peer_id),
        ).fetchone()  # fmt: skip
    return (int(row["id"]), row["conversation_id"]) if row else None


def record_refusal(
    conn: Conn, turn_id: int, channel: str, account_id: str | None, peer_id: str, body: str | None,
    code: int | None, message: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO outbound_messages (turn_id, channel, account_id, peer_id, idempotency_key, body, status,"
        f" error_code, error, conversation_id) VALUES (%s, %s, %s, %s, %s, %s, 'failed', %s, %s, {_CONVERSATION})"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        (turn_id, channel, account_id, peer_id, f"turn:{turn_id}:refused", body, code, Jsonb({"message": message}),
         channel, account_id or "", peer_id),
    )  # fmt: skip


def move_status(
    conn: Conn, channel: str, provider_message_id: str, status: str, at: datetime | None, code: int | None,
    error: dict[str, Any] | None,
) -> str | None:  # fmt: skip
    """Move the row forward to `status` (never back); the peer of the row that moved, or None."""
    peer_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "UPDATE outbound_messages SET status = %s, status_at = coalesce(%s, now()),"
            " error_code = coalesce(%s, error_code), error = coalesce(%s, error)"
            f" WHERE channel = %s AND provider_message_id = %s AND {_RANK_SQL} < %s RETURNING peer_id",
            (status, at, code, Jsonb(error) if error else None, channel, provider_message_id, RANK[status]),
        )
        .fetchone()
    )
    return str(peer_id) if peer_id is not None else None


def mark_read_up_to(conn: Conn, channel: str, account_id: str, peer_id: str, before: datetime) -> int:
    """Messenger and Instagram report reads by watermark: every message to the peer sent up to then is read."""
    return conn.execute(
        "UPDATE outbound_messages SET status = 'read', status_at = now() WHERE channel = %s AND account_id = %s"
        f" AND peer_id = %s AND sent_at <= %s AND {_RANK_SQL} < %s",
        (channel, account_id, peer_id, before, RANK["read"]),
    ).rowcount
