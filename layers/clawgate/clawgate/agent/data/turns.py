"""The turns aggregate: every statement on `turns` and their `tool_calls` (the types are `clawgate.core.turns`).
Rows come back as `Turn` objects through psycopg's `class_row`, by column name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import Cursor
from psycopg.rows import class_row, dict_row, kwargs_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.agent.data.sessions import UPSERT_SESSION, session_key
from clawgate.core.turns import Turn, TurnRef
from clawgate.db import Conn
from clawgate.observability import count

TURN_COLUMNS = (
    "id, session_id, agent_id, channel, account_id, peer_id, status, trigger, step_count, reply_text, context"
)
SELECT_TURN = f"SELECT {TURN_COLUMNS} FROM turns WHERE id = %s"
OPEN_TURN = (
    f"WITH session AS ({UPSERT_SESSION})"
    " INSERT INTO turns (session_id, agent_id, channel, account_id, peer_id, status, trigger, context, request_id,"
    " replay_of_turn_id, started_at) SELECT id, %(agent)s, %(channel)s, %(account)s, %(peer)s, 'running', %(trigger)s,"
    " %(context)s, %(request_id)s, %(replay_of)s, now() FROM session"
    " ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id, session_id"
)


@dataclass(frozen=True)
class Opened:
    ref: TurnRef
    session_id: int


@dataclass(frozen=True)
class NewTurn:
    """Where a turn runs and why: the conversation, the trigger (inbound, policy, api, schedule, replay…)."""

    agent_id: str
    channel: str
    account_id: str | None
    peer_id: str
    trigger: str
    context: dict[str, Any]
    request_id: str | None = None
    replay_of: int | None = None


def select_turn(conn: Conn, turn_id: int) -> Cursor[Turn]:
    """The turn's query, sent (in a pipeline: queued); `fetchone()` on the result reads it."""
    return conn.cursor(row_factory=class_row(Turn)).execute(SELECT_TURN, (turn_id,))


# The agent's workspace files, and the notes of the peer the turn is with under the name `peer_memory`
# (system_blocks gives those to customer-profile prompts only).
FILES_OF_TURN = (
    "SELECT f.name, f.content FROM workspace_files f JOIN turns t ON f.agent_id = t.agent_id WHERE t.id = %(turn)s"
    " UNION ALL SELECT %(peer_memory)s, m.content FROM peer_memories m JOIN turns t"
    " ON (m.agent_id, m.channel, m.peer_id) = (t.agent_id, t.channel, t.peer_id) WHERE t.id = %(turn)s"
)


def select_files(conn: Conn, turn_id: int, peer_memory: str) -> Cursor[Any]:
    """The turn's workspace files and peer notes (sent; read with `files_of`)."""
    return conn.cursor(row_factory=dict_row).execute(FILES_OF_TURN, {"turn": turn_id, "peer_memory": peer_memory})


def files_of(files_query: Cursor[Any]) -> dict[str, str]:
    return {row["name"]: row["content"] for row in files_query.fetchall()}


def load_turn(conn: Conn, turn_id: int) -> Turn:
    turn = select_turn(conn, turn_id).fetchone()
    if turn is None:
        raise LookupError(f"no turn {turn_id}")
    return turn


def open_turn(conn: Conn, tenant: str, new: NewTurn) -> Opened | None:
    """A session (upserted) and a running turn on it, in one statement; None when `request_id` was seen before."""

    def opened(id: int, session_id: int) -> Opened:
        return Opened(TurnRef(tenant=tenant, turn_id=id), session_id)

    return conn.cursor(row_factory=kwargs_row(opened)).execute(
        OPEN_TURN,
        {"agent": new.agent_id, "channel": new.channel, "peer": new.peer_id, "account": new.account_id,
         "trigger": new.trigger, "key": session_key(new.agent_id, new.channel, new.peer_id),
         "context": Jsonb(new.context), "request_id": new.request_id, "replay_of": new.replay_of},
    ).fetchone()  # fmt: skip


def replay_source(conn: Conn, turn_id: int) -> NewTurn:
    """A new turn on the conversation of `turn_id` (a failed turn re-driven)."""

    def replay(**row: Any) -> NewTurn:
        return NewTurn(**row, trigger="replay", replay_of=turn_id)

    source = (
        conn.cursor(row_factory=kwargs_row(replay))
        .execute("SELECT agent_id, channel, account_id, peer_id, context FROM turns WHERE id = %s", (turn_id,))
        .fetchone()
    )
    if source is None:
        raise LookupError(f"no turn {turn_id}")
    return source


def set_reply(conn: Conn, turn_id: int, reply: str | None, *, stop_reason: str | None = None) -> None:
    conn.execute(
        "UPDATE turns SET reply_text = %s, stop_reason = coalesce(%s, stop_reason) WHERE id = %s",
        (reply, stop_reason, turn_id),
    )


def mark_budget_exceeded(conn: Conn, turn_id: int, reply: str) -> None:
    conn.execute("UPDATE turns SET status = 'budget_exceeded', reply_text = %s WHERE id = %s", (reply, turn_id))


def count_step(conn: Conn, turn_id: int, model: str, stop_reason: str | None) -> None:
    conn.execute(
        "UPDATE turns SET step_count = step_count + 1, model = %s, stop_reason = %s WHERE id = %s",
        (model, stop_reason, turn_id),
    )


def select_seconds_since_start(conn: Conn, turn_id: int) -> Cursor[Any]:
    """The turn's age by the database's clock (sent; read with `seconds_of`)."""
    return conn.cursor(row_factory=scalar_row).execute(
        "SELECT extract(epoch FROM clock_timestamp() - coalesce(started_at, created_at))::float FROM turns"
        " WHERE id = %s",
        (turn_id,),
    )


def seconds_of(age_query: Cursor[Any]) -> float:
    seconds = age_query.fetchone()
    return float(seconds) if seconds is not None else 0.0


def result_of_request(conn: Conn, request_id: str) -> dict[str, Any]:
    """What the run API answers for the turn of `request_id`."""
    query = "SELECT id AS turn_id, status, reply_text AS reply, error FROM turns WHERE request_id = %s"
    with conn.cursor(row_factory=dict_row) as cursor:
        found = cursor.execute(query, (request_id,)).fetchone()
    if found is None:
        return {"status": "unknown", "reply": None}
    error = found.pop("error")
    return {**found, **({"error": error} if error else {})}


def finish_turn(conn: Conn, turn_id: int, status: str, *, reply: str | None = None, error: str | None = None) -> None:
    count(f"Turns{status.title().replace('_', '')}")
    conn.execute(
        "UPDATE turns SET status = %s, reply_text = coalesce(%s, reply_text), error = coalesce(%s, error),"
        " finished_at = now() WHERE id = %s",
        (status, reply, error, turn_id),
    )


# tool calls ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimedCall:
    name: str
    arguments: dict[str, Any]
    turn: Turn


def record_tool_calls(conn: Conn, turn_id: int, step: int, uses: list[dict[str, Any]]) -> None:
    for use in uses:
        conn.execute(
            "INSERT INTO tool_calls (turn_id, tool_use_id, name, arguments, step) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (turn_id, tool_use_id) DO NOTHING",
            (turn_id, use["id"], use["name"], Jsonb(use.get("input") or {}), step),
        )


def claim_tool_call(conn: Conn, turn_id: int, tool_use_id: str) -> ClaimedCall | None:
    """Start a pending call (None: it ran already), with its turn."""

    def claimed(tool_name: str, tool_arguments: dict[str, Any], **turn: Any) -> ClaimedCall:
        return ClaimedCall(tool_name, tool_arguments, Turn(**turn))

    columns = ", ".join(f"t.{column}" for column in TURN_COLUMNS.split(", "))
    return (
        conn.cursor(row_factory=kwargs_row(claimed))
        .execute(
            "UPDATE tool_calls c SET started_at = now() FROM turns t WHERE t.id = c.turn_id AND c.turn_id = %s"
            " AND c.tool_use_id = %s AND c.status = 'pending'"
            f" RETURNING c.name AS tool_name, c.arguments AS tool_arguments, {columns}",
            (turn_id, tool_use_id),
        )
        .fetchone()
    )


def finish_tool_call(conn: Conn, turn_id: int, tool_use_id: str, status: str, result: Any, error: str | None) -> None:
    conn.execute(
        "UPDATE tool_calls SET status = %s, result = %s, error = %s, finished_at = now()"
        " WHERE turn_id = %s AND tool_use_id = %s",
        (status, Jsonb(result), error, turn_id, tool_use_id),
    )
