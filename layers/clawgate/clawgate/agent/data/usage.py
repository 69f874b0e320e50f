"""The usage aggregate: one row per model call (tokens and cost), today's spending in the tenant's own day, and
the once-a-day mark that the operator was told the budget is spent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg import Cursor
from psycopg.rows import scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class ModelCall:
    """What one model call cost: its tokens (input, output, cache reads and writes) and their price in USD."""

    turn_id: int
    agent_id: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: Decimal


def record_call(conn: Conn, call: ModelCall) -> None:
    conn.execute(
        "INSERT INTO usage (turn_id, agent_id, model, provider, input_tokens, output_tokens, cache_read_tokens,"
        " cache_write_tokens, cost_usd) VALUES (%(turn_id)s, %(agent_id)s, %(model)s, %(provider)s,"
        " %(input_tokens)s, %(output_tokens)s, %(cache_read_tokens)s, %(cache_write_tokens)s, %(cost_usd)s)",
        call.__dict__,
    )


def spent_today(conn: Conn, timezone: str) -> Decimal:
    return spent_of(select_spent_today(conn, timezone))


def select_spent_today(conn: Conn, timezone: str) -> Cursor[Any]:
    """Today's spending in the tenant's timezone, sent (in a pipeline: queued); `spent_of` reads it."""
    return conn.cursor(row_factory=scalar_row).execute(
        "SELECT coalesce(sum(cost_usd), 0) FROM usage"
        " WHERE created_at >= (date_trunc('day', now() AT TIME ZONE %s) AT TIME ZONE %s)",
        (timezone, timezone),
    )


def spent_of(spent_query: Cursor[Any]) -> Decimal:
    spent = spent_query.fetchone()
    return Decimal(spent) if spent is not None else Decimal(0)


def first_budget_notice(conn: Conn, day: str) -> bool:
    """Record that the operator is told about the spent budget on `day`; False when that was done already."""
    row = conn.execute(
        "INSERT INTO config (key, value) VALUES ('budget_notice_date', %s) ON CONFLICT (key) DO UPDATE"
        " SET value = EXCLUDED.value, updated_at = now() WHERE config.value IS DISTINCT FROM EXCLUDED.value"
        " RETURNING key",
        (Jsonb(day),),
    ).fetchone()
    return row is not None
