"""What the metrics summary reads of the ad account's numbers: `metrics_history` (Marketing API insights per day and
level, as the metrics sync stores them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.rows import class_row, scalar_row

from clawgate.db import Conn


@dataclass(frozen=True)
class SpendDay:
    date: date
    spend: Decimal
    impressions: int
    clicks: int


def widest_level(conn: Conn, days: int) -> str | None:
    """The widest level (account, campaign, ad set) with rows in the last `days` days; None when there are none."""
    return (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT level FROM metrics_history WHERE level IN ('account', 'campaign', 'adset')"
            " AND date > current_date - %s::int"
            " ORDER BY array_position(ARRAY['account', 'campaign', 'adset'], level) LIMIT 1",
            (days,),
        )
        .fetchone()
    )


def spend_by_day(conn: Conn, level: str, days: int) -> list[SpendDay]:
    """Spend, impressions and clicks per day at one level (summed over its objects), oldest first."""
    return (
        conn.cursor(row_factory=class_row(SpendDay))
        .execute(
            "SELECT date, sum(spend) AS spend, sum(impressions)::bigint AS impressions, sum(clicks)::bigint AS clicks"
            " FROM metrics_history WHERE level = %s AND date > current_date - %s::int GROUP BY date ORDER BY date",
            (level, days),
        )
        .fetchall()
    )
