"""Cost per lead and per *qualified* lead — the number an agency sells — from our own rows, not Meta's counts:
spend from `metrics_history` (ad level), leads from `leads` (Click-to-WhatsApp conversations that became leads and
form leads, by the ad they came from), and qualified leads: those whose WhatsApp dialog our agent marked
`interested` or `scheduled` (or whose own status says so). Grouped by ad, ad set, creative or direction through
`ad_creative_mapping` (direction: the mapping's, else the ad set's in `direction_adsets`), with names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from psycopg.rows import class_row

from clawgate.db import Conn

By = Literal["ad", "adset", "creative", "direction"]
QUALIFIED = ("interested", "scheduled")
_KEYS: dict[str, tuple[str, str]] = {  # dimension -> (key, name) over the per-ad rows below
    "ad": ("b.ad_id", "coalesce(b.ad_name, m.ad_name)"),
    "adset": ("coalesce(b.adset_id, m.adset_id)", "o.name"),
    "creative": ("m.creative_id::text", "c.title"),
    "direction": ("coalesce(m.direction_id, da.direction_id)::text", "d.name"),
}
PER_AD = """
WITH spent AS (
    SELECT object_id AS ad_id, max(adset_id) AS adset_id, max(name) AS ad_name, sum(spend) AS spend,
           sum(results) AS results, sum(conversations) AS conversations
    FROM metrics_history WHERE level = 'ad' AND date BETWEEN %(since)s AND %(until)s GROUP BY object_id),
got AS (
    SELECT l.ad_id, max(l.adset_id) AS adset_id, count(*) AS leads,
           count(*) FILTER (WHERE d.qualification = ANY(%(qualified)s) OR l.status = ANY(%(qualified)s)) AS qualified
    FROM leads l LEFT JOIN wa_dialogs d ON d.id = l.dialog_id
    WHERE l.ad_id IS NOT NULL AND (l.created_at AT TIME ZONE %(tz)s)::date BETWEEN %(since)s AND %(until)s
    GROUP BY l.ad_id),
b AS (
    SELECT coalesce(s.ad_id, g.ad_id) AS ad_id, coalesce(s.adset_id, g.adset_id) AS adset_id, s.ad_name,
           coalesce(s.spend, 0) AS spend, coalesce(s.results, 0) AS results,
           coalesce(s.conversations, 0) AS conversations, coalesce(g.leads, 0) AS leads,
           coalesce(g.qualified, 0) AS qualified
    FROM spent s FULL JOIN got g ON g.ad_id = s.ad_id)
"""


@dataclass(frozen=True)
class Performance:
    key: str | None
    name: str | None
    spend: Decimal
    results: int
    conversations: int
    leads: int
    qualified: int

    @property
    def cpl(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(Decimal("0.01")) if self.leads else None

    @property
    def cpql(self) -> Decimal | None:
        return (self.spend / self.qualified).quantize(Decimal("0.01")) if self.qualified else None

    def as_json(self) -> dict[str, object]:
        cpl, cpql = self.cpl, self.cpql
        return {"key": self.key, "name": self.name, "spend": float(self.spend), "results": self.results,
                "conversations": self.conversations, "leads": self.leads, "qualified": self.qualified,
                "cost_per_lead": float(cpl) if cpl is not None else None,
                "cost_per_qualified_lead": float(cpql) if cpql is not None else None}  # fmt: skip


def performance(conn: Conn, since: date, until: date, timezone: str, by: By) -> list[Performance]:
    """One row per ad/ad set/creative/direction with spend or leads in since..until (the tenant's days), best
    cost per qualified lead first; a None key collects what is not mapped."""
    key, name = _KEYS[by]
    found = (
        conn.cursor(row_factory=class_row(Performance))
        .execute(
            PER_AD + f"SELECT {key} AS key, max({name}) AS name, coalesce(sum(b.spend), 0) AS spend,"
            " coalesce(sum(b.results), 0)::bigint AS results, coalesce(sum(b.conversations), 0)::bigint AS"
            " conversations, coalesce(sum(b.leads), 0)::bigint AS leads, coalesce(sum(b.qualified), 0)::bigint AS"
            " qualified FROM b LEFT JOIN ad_creative_mapping m ON m.ad_id = b.ad_id"
            " LEFT JOIN direction_adsets da ON da.adset_id = coalesce(b.adset_id, m.adset_id)"
            " LEFT JOIN directions d ON d.id = coalesce(m.direction_id, da.direction_id)"
            " LEFT JOIN creatives c ON c.id = m.creative_id"
            " LEFT JOIN ads_objects o ON o.object_id = coalesce(b.adset_id, m.adset_id)"
            f" GROUP BY {key}",
            {"since": since, "until": until, "tz": timezone, "qualified": list(QUALIFIED)},
        )
        .fetchall()
    )
    return sorted(found, key=lambda p: (p.key is None, p.cpql is None, p.cpql or 0, -p.qualified))


def totals(rows: list[Performance]) -> Performance:
    return Performance(None, "total", sum((r.spend for r in rows), Decimal(0)), sum(r.results for r in rows),
                       sum(r.conversations for r in rows), sum(r.leads for r in rows),
                       sum(r.qualified for r in rows))  # fmt: skip


@dataclass(frozen=True)
class DayLeads:
    day: date
    leads: int
    qualified: int


LEADS_BY_DAY = (
    "SELECT (l.created_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS leads,"
    " count(*) FILTER (WHERE d.qualification = ANY(%(qualified)s) OR l.status = ANY(%(qualified)s)) AS qualified"
    " FROM leads l LEFT JOIN wa_dialogs d ON d.id = l.dialog_id"
    " WHERE (l.created_at AT TIME ZONE %(tz)s)::date BETWEEN %(since)s AND %(until)s GROUP BY day"
)


def leads_by_day(conn: Conn, since: date, until: date, timezone: str) -> dict[date, tuple[int, int]]:
    """Every lead (ads and organic) and the qualified ones, per day of the tenant's timezone."""
    params = {"tz": timezone, "since": since, "until": until, "qualified": list(QUALIFIED)}
    days = conn.cursor(row_factory=class_row(DayLeads)).execute(LEADS_BY_DAY, params).fetchall()
    return {day.day: (day.leads, day.qualified) for day in days}
