"""What the reports say, read from the tenant's tables after metrics sync and scoring: daily account totals (the
sum of the ad sets), totals of a window, and the latest ad-set scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from clawgate.db import Conn
from clawgate.jobs.charts import Day


@dataclass(frozen=True)
class Totals:
    spend: Decimal
    leads: int
    impressions: int
    clicks: int

    @property
    def cpl(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(Decimal("0.01")) if self.leads else None

    @property
    def ctr(self) -> float | None:
        return round(100 * self.clicks / self.impressions, 2) if self.impressions else None


def daily_series(conn: Conn, since: date, until: date) -> list[Day]:
    """One point per day (days without rows are zero)."""
    rows = conn.execute(
        "SELECT date, sum(spend), sum(leads) FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s"
        " GROUP BY date",
        (since, until),
    ).fetchall()
    found = {day: (float(spend), int(leads)) for day, spend, leads in rows}
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    return [Day(day, *found.get(day, (0.0, 0))) for day in days]


def totals(conn: Conn, since: date, until: date) -> Totals:
    row = conn.execute(
        "SELECT coalesce(sum(spend), 0), coalesce(sum(leads), 0), coalesce(sum(impressions), 0),"
        " coalesce(sum(clicks), 0) FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s",
        (since, until),
    ).fetchone()
    assert row is not None
    return Totals(Decimal(row[0]), int(row[1]), int(row[2]), int(row[3]))


def latest_scores(conn: Conn) -> list[dict[str, Any]]:
    """The ad sets of the latest scoring run, worst first, with their names when mapping sync knows them."""
    rows = conn.execute(
        "SELECT h.adset_id, h.score, h.recommendation, h.date FROM scoring_history h"
        " WHERE h.execution_id = (SELECT max(id) FROM scoring_executions WHERE status = 'succeeded')"
        " ORDER BY h.score, h.adset_id"
    ).fetchall()
    return [{"adset_id": r[0], "score": float(r[1]), "recommendation": r[2], "date": r[3]} for r in rows]


def change(now: Decimal | int | None, before: Decimal | int | None) -> str:
    if now is None or before is None or not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f" ({'+' if percent >= 0 else ''}{percent:.0f}%)"
