"""The workspace aggregate: an agent's workspace files (persona, rules, MEMORY.md, its own skills) and the notes it
keeps per customer (`peer_memories`), which only that customer's conversations load."""

from __future__ import annotations

from psycopg.rows import dict_row, scalar_row

from clawgate.db import Conn


def files(conn: Conn, agent_id: str) -> dict[str, str]:
    """The agent's workspace files by name."""
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute("SELECT name, content FROM workspace_files WHERE agent_id = %s", (agent_id,)).fetchall()
    return {row["name"]: row["content"] for row in rows}


def write_file(conn: Conn, agent_id: str, name: str, content: str) -> None:
    conn.execute(
        "INSERT INTO workspace_files (agent_id, name, content, updated_by) VALUES (%s, %s, %s, 'agent')"
        " ON CONFLICT (agent_id, name) DO UPDATE SET content = EXCLUDED.content, updated_by = 'agent',"
        " updated_at = now()",
        (agent_id, name, content),
    )


def write_memory(conn: Conn, agent_id: str, text: str, *, append: bool) -> int:
    """MEMORY.md replaced by `text`, or `text` added as its last line; its length now."""
    length = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO workspace_files (agent_id, name, content, updated_by) VALUES (%s, 'MEMORY.md', %s, 'agent')"
            " ON CONFLICT (agent_id, name) DO UPDATE SET updated_by = 'agent', updated_at = now(),"
            " content = CASE WHEN %s THEN workspace_files.content || E'\\n' || EXCLUDED.content"
            " ELSE EXCLUDED.content END"
            " RETURNING length(content)",
            (agent_id, text, append),
        )
        .fetchone()
    )
    return int(length or 0)


def add_peer_note(conn: Conn, agent_id: str, channel: str, peer_id: str, text: str, keep_chars: int) -> int:
    """`text` added to the notes on one customer, of which the newest `keep_chars` are kept; their length now."""
    length = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO peer_memories (agent_id, channel, peer_id, content) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (agent_id, channel, peer_id) DO UPDATE SET updated_at = now(),"
            " content = right(peer_memories.content || E'\\n' || EXCLUDED.content, %s)"
            " RETURNING length(content)",
            (agent_id, channel, peer_id, text, keep_chars),
        )
        .fetchone()
    )
    return int(length or 0)
