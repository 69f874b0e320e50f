"""The automation disclosures aggregate: the message a Messenger or Instagram account sends once per conversation
before its first bot reply, claimed as an `outbound_messages` row under the key `disclosure:<channel>:<account>:<peer>`
before it is sent, so that two replies racing never both disclose."""

from __future__ import annotations

from clawgate.db import Conn


def _key(channel: str, account_id: str, peer_id: str) -> str:
    return f"disclosure:{channel}:{account_id}:{peer_id}"


def claim(conn: Conn, channel: str, account_id: str, peer_id: str, text: str) -> bool:
    """True once per conversation, ever: the disclosure's row is ours to send."""
    return (
        conn.execute(
            "INSERT INTO outbound_messages (channel, account_id, peer_id, idempotency_key, body, status)"
            " VALUES (%s, %s, %s, %s, %s, 'pending') ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (channel, account_id, peer_id, _key(channel, account_id, peer_id), text),
        ).fetchone()
        is not None
    )


def release(conn: Conn, channel: str, account_id: str, peer_id: str) -> None:
    """The send was refused: the claim goes, for the next reply to try again."""
    conn.execute("DELETE FROM outbound_messages WHERE idempotency_key = %s AND status = 'pending'",
                 (_key(channel, account_id, peer_id),))  # fmt: skip


def mark_sent(conn: Conn, channel: str, account_id: str, peer_id: str, message_id: str) -> None:
    conn.execute(
        "UPDATE outbound_messages SET status = 'sent', sent_at = now(), provider_message_id = %s"
        " WHERE idempotency_key = %s",
        (message_id, _key(channel, account_id, peer_id)),
    )
