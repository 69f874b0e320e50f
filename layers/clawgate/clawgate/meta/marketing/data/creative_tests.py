"""Creative tests (`creative_tests`): variants (one ad set each) compared until a verdict or the time limit, with
the thresholds every variant must reach first (spend in US dollars, impressions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class StartedTest:
    id: int
    budget_per_variant: Decimal  # US dollars each variant must spend before a verdict
    min_impressions: int
    ends_at: datetime


def start(
    conn: Conn, name: str, direction_id: int | None, variants: list[dict[str, Any]], max_days: int
) -> StartedTest:
    started = (
        conn.cursor(row_factory=class_row(StartedTest))
        .execute(
            "INSERT INTO creative_tests (direction_id, name, variants, ends_at) VALUES (%s, %s, %s,"
            " now() + make_interval(days => %s)) RETURNING id, budget_per_variant, min_impressions, ends_at",
            (direction_id, name, Jsonb(variants), max_days),
        )
        .fetchone()
    )
    assert started is not None
    return started
