"""The inbound events aggregate: every provider update stored once (`inbound_events`, unique on channel and
provider id), the turn it became part of, and the updates no tenant owns (the registry's `unrouted_events`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clawgate.core.channels import InboundMessage
from clawgate.db import Conn

STORE_ONLY_KINDS = frozenset({"edited", "status", "event", "malformed"})
Stored = Literal["new", "pending", "done"]


@dataclass(frozen=True)
class StoredEvent:
    """new: first delivery. pending: stored before but never part of a turn (the Ingest that stored it failed
    before the turn started): answer it now. done: part of a turn already, or a kind that is only stored.
    `unfinished_turn`: the turn a `done` event is part of, when that turn never finished (still `running`, or a
    budget notice not delivered yet); `reply_ready`: that turn's final reply is persisted already."""

    state: Stored
    unfinished_turn: int | None = None
    reply_ready: bool = False


# The event's turn is read with the upsert (no round trip of its own); a first delivery has no turn to join.
STORE_EVENT = (
    "WITH stored AS (INSERT INTO inbound_events (channel, account_id, provider_id, conversation_key, peer_id, kind,"
    " payload, processed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)"
    " ON CONFLICT (channel, provider_id) DO UPDATE SET channel = EXCLUDED.channel"
    " RETURNING xmax = 0 AS inserted, processed_at IS NOT NULL AS processed, turn_id)"
    " SELECT s.inserted, s.processed, t.id AS unfinished_turn, t.reply_text IS NOT NULL AS reply_ready"
    " FROM stored s LEFT JOIN turns t ON t.id = s.turn_id AND t.finished_at IS NULL"
    " AND t.status IN ('running', 'budget_exceeded')"
)


def store(conn: Conn, message: InboundMessage) -> StoredEvent:
    """The event stored once, and what Ingest is to do with it (`StoredEvent`)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(
            STORE_EVENT,
            (message.channel, message.account_id, message.provider_id, message.conversation_key, message.peer_id,
             message.kind, Jsonb(message.model_dump(mode="json")), message.kind in STORE_ONLY_KINDS),
        ).fetchone()  # fmt: skip
    if row is None:
        return StoredEvent("done")
    if row["inserted"] or not row["processed"]:
        return StoredEvent("new" if row["inserted"] else "pending")
    return StoredEvent("done", row["unfinished_turn"], bool(row["reply_ready"]))


def add_to_payload(conn: Conn, message: InboundMessage, extra: dict[str, Any]) -> tuple[int, int] | None:
    """What Ingest learnt after storing the event (blob keys of its media, a voice note's transcript); the event's
    id and conversation, where it has one."""
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(
            "UPDATE inbound_events SET payload = payload || %s WHERE channel = %s AND provider_id = %s"
            " RETURNING id, conversation_id",
            (Jsonb(extra), message.channel, message.provider_id),
        ).fetchone()
    return (int(row["id"]), int(row["conversation_id"])) if row and row["conversation_id"] is not None else None


def attach_to_turn(conn: Conn, turn_id: int, conversation_key: str) -> None:
    """The conversation's unanswered messages become part of the turn (a burst is one turn)."""
    conn.execute(
        "UPDATE inbound_events SET turn_id = %s, processed_at = now()"
        " WHERE conversation_key = %s AND turn_id IS NULL AND kind NOT IN ('status', 'edited', 'event')",
        (turn_id, conversation_key),
    )


def mark_held(conn: Conn, conversation_key: str) -> None:
    """The conversation's unanswered messages are processed without a turn (a `human` conversation holds them)."""
    conn.execute(
        "UPDATE inbound_events SET processed_at = now() WHERE conversation_key = %s AND turn_id IS NULL"
        " AND processed_at IS NULL",
        (conversation_key,),
    )


def attach_events(conn: Conn, turn_id: int, channel: str, provider_ids: list[str]) -> None:
    """These events, and no others, are part of the turn (an operator's button press answered in code)."""
    conn.execute(
        "UPDATE inbound_events SET turn_id = %s, processed_at = now() WHERE channel = %s AND provider_id = ANY(%s)",
        (turn_id, channel, provider_ids),
    )
