"""The follow-ups aggregate: WhatsApp templates scheduled for a conversation whose customer stays silent, each sent
(or cancelled, skipped, failed) once by the `inbox` job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class DueFollowUp:
    id: int
    conversation_id: int
    template_name: str
    language: str
    parameters: list[str]
    answered: bool  # the customer wrote after it was scheduled


def schedule(conn: Conn, conversation_id: int, name: str, language: str, parameters: list[str],
             silent_minutes: int, due: datetime, created_by: str) -> int:  # fmt: skip
    follow_up_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO follow_ups (conversation_id, template_name, language, parameters, silent_minutes, due_at,"
            " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (conversation_id, name, language, Jsonb(parameters), silent_minutes, due, created_by),
        )
        .fetchone()
    )
    assert follow_up_id is not None
    return int(follow_up_id)


def due(conn: Conn, limit: int = 100) -> list[DueFollowUp]:
    """Scheduled follow-ups whose time has come, the earliest first."""
    return (
        conn.cursor(row_factory=class_row(DueFollowUp))
        .execute(
            "SELECT f.id, f.conversation_id, f.template_name, f.language, f.parameters,"
            " coalesce(c.last_customer_at > f.created_at, false) AS answered"
            " FROM follow_ups f JOIN conversations c ON c.id = f.conversation_id"
            " WHERE f.status = 'scheduled' AND f.due_at <= now() ORDER BY f.due_at LIMIT %s",
            (limit,),
        )
        .fetchall()
    )


def finish(conn: Conn, follow_up_id: int, outcome: str, detail: str | None) -> None:
    conn.execute("UPDATE follow_ups SET status = %s, detail = %s, done_at = now() WHERE id = %s",
                 (outcome, detail, follow_up_id))  # fmt: skip
