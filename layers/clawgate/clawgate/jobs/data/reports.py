"""What the reports read from the synced insights (`metrics_history`, ad-set level): spend per day, and the sums of
a window. Leads come from our own rows (meta's lead quality), the scores from `data/scoring.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.rows import class_row, dict_row

from clawgate.db import Conn


@dataclass(frozen=True)
class AdTotals:
    spend: Decimal
    impressions: int
    clicks: int


SPEND_BY_DAY = (
    "SELECT date, sum(spend) AS spend FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s"
    " GROUP BY date"
)
TOTALS = (
    "SELECT coalesce(sum(spend), 0) AS spend, coalesce(sum(impressions), 0)::bigint AS impressions,"
    " coalesce(sum(clicks), 0)::bigint AS clicks FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s"
)


def spend_by_day(conn: Conn, since: date, until: date) -> dict[date, Decimal]:
    """The days with insights and what the ad sets spent on each."""
    days = conn.cursor(row_factory=dict_row).execute(SPEND_BY_DAY, (since, until))
    return {day["date"]: day["spend"] for day in days}


def ad_totals(conn: Conn, since: date, until: date) -> AdTotals:
    totals = conn.cursor(row_factory=class_row(AdTotals)).execute(TOTALS, (since, until)).fetchone()
    assert totals is not None  # a SELECT of aggregates has one row
    return totals
