"""Sessions (agent + channel + peer) and their transcripts, stored as rows of Anthropic content blocks.

Loading repairs what a failed turn may leave behind (a tool_use without its result), merges a burst of user
messages into one, and starts after the last compaction with its summary."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from clawgate.db import Conn

SUMMARY_PREFIX = "[Summary of the earlier conversation]\n"


def session_key(agent_id: str, channel: str, peer_id: str) -> str:
    return f"{agent_id}:{channel}:{peer_id}"


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


def transcript_rows(fetched: list[tuple[Any, ...]]) -> tuple[str | None, Rows]:
    """The latest summary and the rows after the compaction point (at most the channel's history limit)."""
    summary = fetched[0][0] if fetched else None
    return summary, sorted(((r[1], r[2], r[3]) for r in fetched if r[1] is not None), key=lambda r: r[0])


def session_summary(conn: Conn, session_id: int) -> str | None:
    row = conn.execute("SELECT summary FROM sessions WHERE id = %s", (session_id,)).fetchone()
    return row[0] if row else None


def record_compaction(conn: Conn, session_id: int, summary: str, through_message_id: int) -> None:
    """The transcript up to `through_message_id` is now `summary`; loading starts after it."""
    conn.execute(
        "UPDATE sessions SET summary = %s, compacted_through_message_id = %s, updated_at = now() WHERE id = %s",
        (summary, through_message_id, session_id),
    )


def select_transcript(conn: Conn, turn_id: int) -> Cursor[Any]:
    """The transcript's query for the turn, sent (in a pipeline: queued); read it with `transcript_rows`."""
    return conn.execute(TRANSCRIPT_OF_TURN, (turn_id,))


def load_rows(conn: Conn, turn_id: int) -> tuple[str | None, Rows]:
    return transcript_rows(select_transcript(conn, turn_id).fetchall())


def to_messages(summary: str | None, rows: list[tuple[int, str, list[Any]]]) -> list[dict[str, Any]]:
    """Rows → alternating user/assistant messages that the API accepts."""
    messages: list[dict[str, Any]] = []
    if summary:
        messages.append({"role": "user", "content": [{"type": "text", "text": SUMMARY_PREFIX + summary}]})
    for _, role, content in rows:
        api_role = "assistant" if role in ("assistant", "tool_use") else "user"
        if messages and messages[-1]["role"] == api_role:
            messages[-1]["content"] = messages[-1]["content"] + content
        else:
            messages.append({"role": api_role, "content": list(content)})
    return _drop_orphans(messages)


def _drop_orphans(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep tool_use/tool_result pairs together: drop either half when the other is missing."""
    results = {b["tool_use_id"] for m in messages for b in m["content"] if b.get("type") == "tool_result"}
    uses = {b["id"] for m in messages for b in m["content"] if b.get("type") == "tool_use"}
    cleaned: list[dict[str, Any]] = []
    for message in messages:
        content = [
            b
            for b in message["content"]
            if not (b.get("type") == "tool_use" and b["id"] not in results)
            and not (b.get("type") == "tool_result" and b["tool_use_id"] not in uses)
        ]
        if content:
            if cleaned and cleaned[-1]["role"] == message["role"]:
                cleaned[-1]["content"] += content
            else:
                cleaned.append({"role": message["role"], "content": content})
    while cleaned and cleaned[0]["role"] != "user":
        cleaned.pop(0)
    return cleaned


def estimate_tokens(value: Any) -> int:
    """About four characters a token: enough to decide when to compact."""
    return len(str(value)) // 4
