"""What the usage reports read of `usage` (tokens and cost of every model call): today's calls per agent and model,
the calls and cost per day, and the tokens of one turn. "Today" is the tenant's day (its timezone), as the budget
counts it."""

from __future__ import annotations

from datetime import date

from psycopg.rows import class_row
from pydantic import BaseModel

from clawgate.db import Conn

_TENANT_MIDNIGHT = "(date_trunc('day', now() AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s)"


class ModelUsage(BaseModel):
    agent_id: str | None
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageDay(BaseModel):
    date: date
    calls: int
    cost_usd: float


class TurnTokens(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


def today_by_model(conn: Conn, timezone: str) -> list[ModelUsage]:
    """Most expensive first."""
    return (
        conn.cursor(row_factory=class_row(ModelUsage))
        .execute(
            "SELECT agent_id, model, count(*) AS calls,"
            " sum(input_tokens + cache_read_tokens + cache_write_tokens) AS input_tokens,"
            " sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd FROM usage"
            f" WHERE created_at >= {_TENANT_MIDNIGHT} GROUP BY agent_id, model ORDER BY sum(cost_usd) DESC",
            {"tz": timezone},
        )
        .fetchall()
    )


def by_day(conn: Conn, timezone: str, days: int) -> list[UsageDay]:
    """The last `days` days, today included, oldest first; a day without calls has no row."""
    return (
        conn.cursor(row_factory=class_row(UsageDay))
        .execute(
            "SELECT (created_at AT TIME ZONE %(tz)s)::date AS date, count(*) AS calls, sum(cost_usd) AS cost_usd"
            f" FROM usage WHERE created_at >= {_TENANT_MIDNIGHT} - make_interval(days => %(before)s::int)"
            " GROUP BY 1 ORDER BY 1",
            {"tz": timezone, "before": days - 1},
        )
        .fetchall()
    )


def turn_tokens(conn: Conn, turn_id: int) -> TurnTokens:
    """Prompt tokens count cache reads and writes, as the model was sent them."""
    found = (
        conn.cursor(row_factory=class_row(TurnTokens))
        .execute(
            "SELECT coalesce(sum(input_tokens + cache_read_tokens + cache_write_tokens), 0) AS prompt_tokens,"
            " coalesce(sum(output_tokens), 0) AS completion_tokens FROM usage WHERE turn_id = %s",
            (turn_id,),
        )
        .fetchone()
    )
    return found or TurnTokens()
