"""The control UI's sessions (an agent's transcript with one peer on one channel), newest first, and the readable
part of one: the user's and the assistant's text."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from psycopg.rows import class_row
from pydantic import BaseModel, Field

from clawgate.db import Conn
from clawgate.gateway.data.pages import Page, PageQuery, build_page, decode_cursor


class SessionQuery(PageQuery):
    agent: str | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=20)


class SessionSummary(BaseModel):
    id: int
    agent_id: str
    channel: str
    peer_id: str
    title: str | None
    last_message_at: datetime | None
    messages: int


def page(conn: Conn, query: SessionQuery) -> Page[SessionSummary]:
    before = decode_cursor(query.cursor, 1)
    rows = conn.cursor(row_factory=class_row(SessionSummary)).execute(
        "SELECT s.id, s.agent_id, s.channel, s.peer_id, s.title, s.last_message_at,"
        " (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS messages FROM sessions s"
        " WHERE (%(agent)s::text IS NULL OR s.agent_id = %(agent)s)"
        " AND (%(channel)s::text IS NULL OR s.channel = %(channel)s)"
        " AND (%(before)s::bigint IS NULL OR s.id < %(before)s) ORDER BY s.id DESC LIMIT %(limit)s",
        {"agent": query.agent, "channel": query.channel, "before": before[0] if before else None,
         "limit": query.limit + 1},
    ).fetchall()  # fmt: skip
    return build_page(rows, query.limit, lambda session: [session.id])


class ChatMessage(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    text: str
    turn_id: int | None
    at: datetime


def transcript(conn: Conn, session_key: str | None, session_id: int | None, limit: int,
               before: int | None = None) -> list[ChatMessage]:  # fmt: skip
    """The session's (by key or by id) latest `limit` readable messages, oldest first; `before` a message id."""
    rows = (
        conn.cursor(row_factory=class_row(ChatMessage))
        .execute(
            "SELECT m.id, m.role, m.text, m.turn_id, m.created_at AS at FROM messages m"
            " JOIN sessions s ON s.id = m.session_id"
            " WHERE (s.session_key = %s OR s.id = %s) AND m.role IN ('user', 'assistant') AND m.text IS NOT NULL"
            " AND (%s::bigint IS NULL OR m.id < %s) ORDER BY m.id DESC LIMIT %s",
            (session_key, session_id, before, before, limit),
        )
        .fetchall()
    )
    return rows[::-1]
