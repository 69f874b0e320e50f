"""The turn record shared by the steps, and the payload that travels between states (ids only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from psycopg import Connection
from psycopg.rows import TupleRow
from pydantic import BaseModel

from clawgate.observability import count

Conn = Connection[TupleRow]
Next = Literal["model", "tools", "deliver", "done"]


class TurnRef(BaseModel):
    """What the state machine carries between states: never a transcript (256 KB payload limit)."""

    tenant: str
    turn_id: int
    next: Next = "model"


class StepInput(BaseModel):
    tenant: str
    turn_id: int
    attempt: int = 0


@dataclass(frozen=True)
class Turn:
    id: int
    session_id: int
    agent_id: str
    channel: str
    account_id: str | None
    peer_id: str
    status: str
    trigger: str
    step_count: int
    reply_text: str | None
    context: dict[str, Any]


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
