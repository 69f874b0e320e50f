"""What the reports say, read from the tenant's tables after metrics sync and scoring: daily totals (spend from the
ad sets' insights, leads and qualified leads from our own `leads` and `wa_dialogs`), totals of a window, and the
latest ad-set scores with the ad sets' names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from clawgate.db import Conn
from clawgate.jobs.charts import Day
from clawgate.meta.marketing.lead_quality import leads_by_day


@dataclass(frozen=True)
class Totals:
    spend: Decimal
    leads: int
    impressions: int
    clicks: int
    qualified: int = 0

    @property
    def cpql(self) -> Decimal | None:
        return (self.spend / self.qualified).quantize(Decimal("0.01")) if self.qualified else None

    @property
    def cpl(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(Decimal("0.01")) if self.leads else None

    @property
    def ctr(self) -> float | None:
        return round(100 * self.clicks / self.impressions, 2) if self.impressions else None


def daily_series(conn: Conn, since: date, until: date, tz: str) -> list[Day]:
    """One point per day (days without rows are zero): spend from insights, leads from our own rows."""
    rows = conn.execute(
        "SELECT date, sum(spend) FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s GROUP BY date",
        (since, until),
    ).fetchall()
    spent = {day: float(spend) for day, spend in rows}
    leads = leads_by_day(conn, since, until, tz)
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    return [Day(day, spent.get(day, 0.0), leads.get(day, (0, 0))[0]) for day in days]


def totals(conn: Conn, since: date, until: date, tz: str) -> Totals:
    row = conn.execute(
        "SELECT coalesce(sum(spend), 0), coalesce(sum(impressions), 0), coalesce(sum(clicks), 0)"
        " FROM metrics_history WHERE level = 'adset' AND date BETWEEN %s AND %s",
        (since, until),
    ).fetchone()
    assert row is not None
    counted = leads_by_day(conn, since, until, tz).values()
    return Totals(Decimal(row[0]), sum(n for n, _ in counted), int(row[1]), int(row[2]), sum(q for _, q in counted))


def latest_scores(conn: Conn) -> list[dict[str, Any]]:
    """The ad sets of the latest scoring run, worst first, with their names when mapping sync knows them."""
    rows = conn.execute(
        "SELECT h.adset_id, h.score, h.recommendation, h.date, coalesce(o.name, h.adset_id) FROM scoring_history h"
        " LEFT JOIN ads_objects o ON o.object_id = h.adset_id"
        " WHERE h.execution_id = (SELECT max(id) FROM scoring_executions WHERE status = 'succeeded')"
        " ORDER BY h.score, h.adset_id"
    ).fetchall()
    return [{"adset_id": r[0], "score": float(r[1]), "recommendation": r[2], "date": r[3], "name": r[4]}
            for r in rows]  # fmt: skip


def change(now: Decimal | int | None, before: Decimal | int | None) -> str:
    if now is None or before is None or not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f" ({'+' if percent >= 0 else ''}{percent:.0f}%)"


def latest_alerts(conn: Conn) -> list[str]:
    """The latest scoring run's alerts (frequency, Meta's issues, disapproved ads), as lines for people."""
    row = conn.execute(
        "SELECT alerts FROM scoring_executions WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    alerts = row[0] if row else []
    return [f"{a.get('name') or a.get('adset_id') or a.get('ad_id')}: {a['text']}" for a in alerts if a.get("text")]
