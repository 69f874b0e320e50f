"""What a model call costs: the price of each model's tokens, counted in metrics and recorded per call
(`agent/data/usage.py` keeps the rows and sums today's spending)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from clawgate.agent.data.usage import ModelCall, record_call
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
    record_call(conn, ModelCall(turn_id, agent_id, provider, model_id, **asdict(usage), cost_usd=cost))
    return cost
