"""Tokens and cost of every model call, and the tenant's daily budget (in the tenant's own day)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from clawgate.agent.providers.base import Usage
from clawgate.db import Conn
from clawgate.observability import count

MTOK = Decimal(1_000_000)
# USD per million tokens (input, output); cache writes cost 1.25× input, cache reads 0.1× input.
PRICES: dict[str, tuple[Decimal, Decimal]] = {
    "claude-opus-4-1": (Decimal(15), Decimal(75)),
    "claude-opus-4": (Decimal(15), Decimal(75)),
    "claude-sonnet-4-5": (Decimal(3), Decimal(15)),
    "claude-sonnet-4": (Decimal(3), Decimal(15)),
    "claude-haiku-4-5": (Decimal(1), Decimal(5)),
    "claude-3-5-haiku": (Decimal("0.8"), Decimal(4)),
}
UNKNOWN_MODEL_PRICE = PRICES["claude-sonnet-4-5"]  # priced, not free: the budget must still bite


def price_of(model_id: str) -> tuple[Decimal, Decimal]:
    if model_id.startswith("offline") or model_id == "":
        return Decimal(0), Decimal(0)
    for prefix, price in sorted(PRICES.items(), key=lambda item: -len(item[0])):
        if prefix in model_id:
            return price
    return UNKNOWN_MODEL_PRICE


def cost_usd(model_id: str, usage: Usage) -> Decimal:
    price_in, price_out = price_of(model_id)
    tokens_in = (
        usage.input_tokens + usage.cache_write_tokens * Decimal("1.25") + usage.cache_read_tokens * Decimal("0.1")
    )
    return (tokens_in * price_in + usage.output_tokens * price_out) / MTOK


def record_usage(conn: Conn, turn_id: int, agent_id: str, provider: str, model_id: str, usage: Usage) -> Decimal:
    cost = cost_usd(model_id, usage)
    count("ModelCalls")
    count("ModelInputTokens", usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens)
    count("ModelOutputTokens", usage.output_tokens)
    count("ModelCostUSD", float(cost), unit="None")
    conn.execute(
        "INSERT INTO usage (turn_id, agent_id, model, provider, input_tokens, output_tokens, cache_read_tokens,"
        " cache_write_tokens, cost_usd) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (turn_id, agent_id, model_id, provider, usage.input_tokens, usage.output_tokens, usage.cache_read_tokens,
         usage.cache_write_tokens, cost),
    )  # fmt: skip
    return cost


def spent_today(conn: Conn, timezone: str) -> Decimal:
    return spent_of(select_spent_today(conn, timezone))


def select_spent_today(conn: Conn, timezone: str) -> Cursor[Any]:
    """Today's spending in the tenant's timezone, sent (in a pipeline: queued); `spent_of` reads it."""
    return conn.execute(
        "SELECT coalesce(sum(cost_usd), 0) FROM usage"
        " WHERE created_at >= (date_trunc('day', now() AT TIME ZONE %s) AT TIME ZONE %s)",
        (timezone, timezone),
    )


def spent_of(spent_query: Cursor[Any]) -> Decimal:
    row = spent_query.fetchone()
    return Decimal(row[0]) if row else Decimal(0)


def first_budget_notice(conn: Conn, day: str) -> bool:
    """Record that the operator is told about the spent budget on `day`; False when that was done already."""
    row = conn.execute(
        "INSERT INTO config (key, value) VALUES ('budget_notice_date', %s) ON CONFLICT (key) DO UPDATE"
        " SET value = EXCLUDED.value, updated_at = now() WHERE config.value IS DISTINCT FROM EXCLUDED.value"
        " RETURNING key",
        (Jsonb(day),),
    ).fetchone()
    return row is not None
