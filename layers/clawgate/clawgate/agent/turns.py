"""Reading and finishing the turn record (the types are `clawgate.core.turns`)."""

from __future__ import annotations

from psycopg import Connection
from psycopg.rows import TupleRow

from clawgate.core.turns import Turn
from clawgate.observability import count

Conn = Connection[TupleRow]


TURN_COLUMNS = (
    "id, session_id, agent_id, channel, account_id, peer_id, status, trigger, step_count, reply_text, context"
)


def load_turn(conn: Conn, turn_id: int) -> Turn:
    row = conn.execute(f"SELECT {TURN_COLUMNS} FROM turns WHERE id = %s", (turn_id,)).fetchone()
    if row is None:
        raise LookupError(f"no turn {turn_id}")
    return Turn(*row)


def finish_turn(conn: Conn, turn_id: int, status: str, *, reply: str | None = None, error: str | None = None) -> None:
    count(f"Turns{status.title().replace('_', '')}")
    conn.execute(
        "UPDATE turns SET status = %s, reply_text = coalesce(%s, reply_text), error = coalesce(%s, error),"
        " finished_at = now() WHERE id = %s",
        (status, reply, error, turn_id),
    )
