"""The sessions aggregate: a session (agent + channel + peer), its transcript (`messages`, rows of Anthropic content
blocks) and its compaction point with the summary of what came before it. `agent/transcript.py` turns the rows into
the messages a model accepts."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


def session_key(agent_id: str, channel: str, peer_id: str) -> str:
    return f"{agent_id}:{channel}:{peer_id}"


# The session of (agent, channel, peer), created on first sight; `agent/data/turns.py` opens a turn on it in the
# same statement.
UPSERT_SESSION = (
    "INSERT INTO sessions (agent_id, channel, peer_id, account_id, session_key, last_message_at)"
    " VALUES (%(agent)s, %(channel)s, %(peer)s, %(account)s, %(key)s, now()) ON CONFLICT (session_key)"
    " DO UPDATE SET last_message_at = now(), updated_at = now() RETURNING id"
)


def upsert_session(conn: Conn, agent_id: str, channel: str, account_id: str | None, peer_id: str) -> int:
    """The session of the agent with the peer (created on first sight), its last message now."""
    params = {"agent": agent_id, "channel": channel, "peer": peer_id, "account": account_id,
              "key": session_key(agent_id, channel, peer_id)}  # fmt: skip
    session_id = conn.cursor(row_factory=scalar_row).execute(UPSERT_SESSION, params).fetchone()
    assert session_id is not None
    return int(session_id)


def append(conn: Conn, session_id: int, turn_id: int | None, role: str, content: list[dict[str, Any]]) -> None:
    text = "\n".join(str(b.get("text", "")) for b in content if b.get("type") == "text") or None
    conn.execute(
        "INSERT INTO messages (session_id, turn_id, role, content, text) VALUES (%s, %s, %s, %s, %s)",
        (session_id, turn_id, role, Jsonb(content), text),
    )


Rows = list[tuple[int, str, list[Any]]]
TRANSCRIPT_OF_TURN = (
    "SELECT s.summary, m.id, m.role, m.content FROM turns t JOIN sessions s ON s.id = t.session_id"
    " LEFT JOIN LATERAL (SELECT id, role, content FROM messages WHERE session_id = s.id"
    "   AND id > coalesce(s.compacted_through_message_id, 0) ORDER BY id DESC"
    "   LIMIT CASE t.channel WHEN 'whatsapp' THEN 40 WHEN 'telegram' THEN 80 WHEN 'schedule' THEN 40 ELSE 200 END"
    " ) m ON true WHERE t.id = %s"
)


def transcript_rows(fetched: list[dict[str, Any]]) -> tuple[str | None, Rows]:
    """The latest summary and the rows after the compaction point (at most the channel's history limit)."""
    summary = fetched[0]["summary"] if fetched else None
    rows = [(r["id"], r["role"], r["content"]) for r in fetched if r["id"] is not None]
    return summary, sorted(rows, key=lambda r: r[0])


def session_summary(conn: Conn, session_id: int) -> str | None:
    return (
        conn.cursor(row_factory=scalar_row)
        .execute("SELECT summary FROM sessions WHERE id = %s", (session_id,))
        .fetchone()
    )


def record_compaction(conn: Conn, session_id: int, summary: str, through_message_id: int) -> None:
    """The transcript up to `through_message_id` is now `summary`; loading starts after it."""
    conn.execute(
        "UPDATE sessions SET summary = %s, compacted_through_message_id = %s, updated_at = now() WHERE id = %s",
        (summary, through_message_id, session_id),
    )


def select_transcript(conn: Conn, turn_id: int) -> Cursor[Any]:
    """The transcript's query for the turn, sent (in a pipeline: queued); read it with `transcript_rows`."""
    return conn.cursor(row_factory=dict_row).execute(TRANSCRIPT_OF_TURN, (turn_id,))


def load_rows(conn: Conn, turn_id: int) -> tuple[str | None, Rows]:
    return transcript_rows(select_transcript(conn, turn_id).fetchall())
