"""The conversations aggregate (`conversations` and their mode changes): one row per peer on a channel account,
upserted by Ingest for every new message, switched between `bot` and `human`, read by the operator inbox. The
window a person may answer in is, on WhatsApp, 24 hours from the customer's last message timestamp, or until the free
entry point window Meta grants a Click-to-WhatsApp entry answered in time (72 hours, announced in our message's
status); on Messenger and Instagram 7 days (`HUMAN_AGENT`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.rows import class_row, dict_row, scalar_row

from clawgate.db import Conn

Mode = Literal["bot", "human"]
WINDOW_CHANNELS = ("whatsapp", "messenger", "instagram")
# When a person's free text can no longer reach the customer: WhatsApp 24 hours (or the free entry point Meta granted);
# Messenger and Instagram let a human agent answer for 7 days (`HUMAN_AGENT`; the bot's 24 hours is its adapter's).
WINDOW_EXPIRES = (
    "CASE WHEN c.channel = 'whatsapp' THEN greatest(c.last_customer_at + interval '24 hours', c.free_entry_until)"
    " WHEN c.channel IN ('messenger', 'instagram') THEN c.last_customer_at + interval '7 days' END"
)
COLUMNS = (
    "c.id, c.channel, c.account_id, c.peer_id, c.name, c.mode, c.mode_changed_at, c.assignee, c.unread,"
    f" c.last_customer_at, c.last_operator_at, c.opted_out_at, {WINDOW_EXPIRES} AS window_expires_at"
)


@dataclass(frozen=True)
class Conversation:
    id: int
    channel: str
    account_id: str
    peer_id: str
    name: str | None
    mode: str
    mode_changed_at: datetime | None
    assignee: str | None
    unread: int
    last_customer_at: datetime | None
    last_operator_at: datetime | None
    opted_out_at: datetime | None
    window_expires_at: datetime | None

    def window_open(self, now: datetime) -> bool:
        """Free text may go out (channels without a window are always open)."""
        if self.channel not in WINDOW_CHANNELS:
            return True
        return self.window_expires_at is not None and now < self.window_expires_at


RECORD_INBOUND = (
    "WITH c AS ("
    " INSERT INTO conversations AS c (channel, account_id, peer_id, name, person_id, source_ad_id, unread,"
    " last_message_at, last_customer_at)"
    " VALUES (%(channel)s, %(account)s, %(peer)s, %(name)s,"
    " (SELECT person_id FROM person_identities WHERE channel = %(channel)s AND external_id = %(peer)s LIMIT 1),"
    " %(ad)s, 1, now(), least(%(at)s::timestamptz, now()))"
    " ON CONFLICT (channel, account_id, peer_id) DO UPDATE SET name = coalesce(EXCLUDED.name, c.name),"
    " person_id = coalesce(c.person_id, EXCLUDED.person_id), source_ad_id = coalesce(c.source_ad_id,"
    " EXCLUDED.source_ad_id), unread = c.unread + 1, last_message_at = now(), updated_at = now(),"
    " last_customer_at = greatest(c.last_customer_at, EXCLUDED.last_customer_at)"
    f" RETURNING {COLUMNS}),"
    " stored AS (UPDATE inbound_events SET conversation_id = (SELECT id FROM c)"
    " WHERE channel = %(channel)s AND provider_id = %(provider)s RETURNING id)"
    " SELECT c.*, (SELECT id FROM stored) AS event_id FROM c"
)


def record_inbound(
    conn: Conn, *, channel: str, account_id: str, peer_id: str, provider_id: str, name: str | None,
    sent_at: datetime | None, ad_id: str | None,
) -> tuple[Conversation, int | None]:  # fmt: skip
    """Upsert the conversation of a new inbound message, count it unread, and tie the stored event to it; returns
    the conversation and the stored event's id. The window counts from when the customer wrote: the message's
    timestamp, never later than now (a missing one is now; a hostile one in the future cannot hold it open)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        found = cursor.execute(
            RECORD_INBOUND,
            {"channel": channel, "account": account_id, "peer": peer_id, "name": name, "ad": ad_id,
             "at": sent_at, "provider": provider_id},
        ).fetchone()  # fmt: skip
    assert found is not None
    event_id = found.pop("event_id")
    return Conversation(**found), event_id


def grant_free_entry(conn: Conn, account_id: str, peer_id: str, provider_message_id: str, until: datetime) -> bool:
    """Meta granted a free entry point window until `until` (a Click-to-WhatsApp entry answered within 24 hours):
    the conversation of our message `provider_message_id` (else of the status's peer) keeps the later expiry."""
    row = conn.execute(
        "UPDATE conversations SET free_entry_until = %(until)s, updated_at = now() WHERE id = coalesce("
        " (SELECT conversation_id FROM outbound_messages WHERE channel = 'whatsapp'"
        " AND provider_message_id = %(message)s AND conversation_id IS NOT NULL LIMIT 1),"
        " (SELECT id FROM conversations WHERE channel = 'whatsapp' AND account_id = %(account)s"
        " AND peer_id = %(peer)s)) AND (free_entry_until IS NULL OR free_entry_until < %(until)s) RETURNING id",
        {"until": until, "message": provider_message_id, "account": account_id, "peer": peer_id},
    ).fetchone()
    return row is not None


def get(conn: Conn, conversation_id: int) -> Conversation | None:
    with conn.cursor(row_factory=class_row(Conversation)) as cursor:
        return cursor.execute(f"SELECT {COLUMNS} FROM conversations c WHERE c.id = %s", (conversation_id,)).fetchone()


def find(conn: Conn, channel: str, account_id: str | None, peer_id: str) -> Conversation | None:
    with conn.cursor(row_factory=class_row(Conversation)) as cursor:
        return cursor.execute(
            f"SELECT {COLUMNS} FROM conversations c WHERE c.channel = %s AND c.account_id = %s AND c.peer_id = %s",
            (channel, account_id or "", peer_id),
        ).fetchone()


def set_mode(conn: Conn, conversation_id: int, mode: Mode, changed_by: str, reason: str | None = None) -> bool:
    """Switch the mode (recorded with who and why); False when it was in that mode already."""
    row = conn.execute(
        "WITH changed AS (UPDATE conversations SET mode = %(mode)s, mode_changed_at = now(), updated_at = now()"
        " WHERE id = %(id)s AND mode <> %(mode)s RETURNING id)"
        " INSERT INTO conversation_mode_changes (conversation_id, mode, changed_by, reason)"
        " SELECT id, %(mode)s, %(by)s, %(reason)s FROM changed RETURNING id",
        {"id": conversation_id, "mode": mode, "by": changed_by[:200], "reason": (reason or "")[:1000] or None},
    ).fetchone()
    return row is not None


def set_assignee(conn: Conn, conversation_id: int, assignee: str | None) -> None:
    conn.execute(
        "UPDATE conversations SET assignee = %s, updated_at = now() WHERE id = %s", (assignee, conversation_id)
    )


def set_opted_out(conn: Conn, conversation_id: int, opted_out: bool) -> None:
    conn.execute(
        "UPDATE conversations SET opted_out_at = CASE WHEN %s THEN now() END, updated_at = now() WHERE id = %s",
        (opted_out, conversation_id),
    )


def mark_read(conn: Conn, conversation_id: int) -> None:
    conn.execute("UPDATE conversations SET unread = 0 WHERE id = %s AND unread <> 0", (conversation_id,))


def record_outbound(conn: Conn, conversation_id: int, author: str) -> None:
    """A message went out: an operator's also reads the conversation and restarts the auto-resume clock."""
    conn.execute(
        "UPDATE conversations SET last_message_at = now(), updated_at = now(),"
        " last_operator_at = CASE WHEN %(operator)s THEN now() ELSE last_operator_at END,"
        " unread = CASE WHEN %(operator)s THEN 0 ELSE unread END WHERE id = %(id)s",
        {"operator": author == "operator", "id": conversation_id},
    )


def update(conn: Conn, conversation_id: int, changes: dict[str, Any]) -> bool:
    """Labels and the private note (the only fields an operator edits directly)."""
    allowed = {k: v for k, v in changes.items() if k in ("labels", "note")}
    if not allowed:
        return get(conn, conversation_id) is not None
    assignments = ", ".join(f"{name} = %({name})s" for name in allowed)
    row = conn.execute(
        f"UPDATE conversations SET {assignments}, updated_at = now() WHERE id = %(id)s RETURNING id",
        {**allowed, "id": conversation_id},
    ).fetchone()
    return row is not None


def due_for_resume(conn: Conn, minutes: int) -> list[int]:
    """Human conversations with no operator message for `minutes` since the hand-over (or the last one)."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT id FROM conversations WHERE mode = 'human'"
            " AND greatest(mode_changed_at, last_operator_at) < now() - make_interval(mins => %s)",
            (minutes,),
        )
        .fetchall()
    )
