"""What scoring reads: per ad set, the sums of a recent and a baseline window — spend, impressions, clicks and the
highest daily frequency from `metrics_history`, leads and qualified leads from our own `leads` and `wa_dialogs` (by
the ad set of the ad they came from) — and the ad set's state from the last metrics sync (`ads_objects`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from clawgate.db import Conn

RECENT_DAYS, BASELINE_DAYS = 3, 7


@dataclass(frozen=True)
class Window:
    spend: float = 0.0
    leads: int = 0
    impressions: int = 0
    clicks: int = 0
    qualified: int = 0
    frequency: float | None = None  # the highest daily frequency in the window

    @property
    def cpl(self) -> float | None:
        return self.spend / self.leads if self.leads else None

    @property
    def cpql(self) -> float | None:
        return self.spend / self.qualified if self.qualified else None


@dataclass(frozen=True)
class AdSetData:
    adset_id: str
    campaign_id: str | None
    name: str | None
    recent: Window
    baseline: Window
    target: float | None  # the direction's target CPL (the tenant's is applied by the caller)
    state: dict[str, Any] = field(default_factory=dict)  # status, effective_status, learning_stage, issues


WINDOWS = """
WITH spent AS (
    SELECT object_id AS adset_id, max(campaign_id) AS campaign_id,
           sum(spend) FILTER (WHERE date BETWEEN %(recent)s AND %(day)s) AS spend_r,
           sum(impressions) FILTER (WHERE date BETWEEN %(recent)s AND %(day)s) AS impressions_r,
           sum(clicks) FILTER (WHERE date BETWEEN %(recent)s AND %(day)s) AS clicks_r,
           max(frequency) FILTER (WHERE date BETWEEN %(recent)s AND %(day)s) AS frequency_r,
           sum(spend) FILTER (WHERE date < %(recent)s) AS spend_b,
           sum(impressions) FILTER (WHERE date < %(recent)s) AS impressions_b,
           sum(clicks) FILTER (WHERE date < %(recent)s) AS clicks_b
    FROM metrics_history WHERE level = 'adset' AND date BETWEEN %(baseline)s AND %(day)s GROUP BY object_id),
got AS (
    SELECT coalesce(l.adset_id, m.adset_id) AS adset_id,
           count(*) FILTER (WHERE l.day >= %(recent)s) AS leads_r,
           count(*) FILTER (WHERE l.day >= %(recent)s AND l.qualified) AS qualified_r,
           count(*) FILTER (WHERE l.day < %(recent)s) AS leads_b,
           count(*) FILTER (WHERE l.day < %(recent)s AND l.qualified) AS qualified_b
    FROM (SELECT l.adset_id, l.ad_id, (l.created_at AT TIME ZONE %(tz)s)::date AS day,
                 (d.qualification IN ('interested', 'scheduled')
                  OR l.status IN ('interested', 'scheduled')) AS qualified
          FROM leads l LEFT JOIN wa_dialogs d ON d.id = l.dialog_id) l
    LEFT JOIN ad_creative_mapping m ON m.ad_id = l.ad_id
    WHERE l.day BETWEEN %(baseline)s AND %(day)s GROUP BY 1)
SELECT s.adset_id, s.campaign_id, o.name, coalesce(s.spend_r, 0), coalesce(g.leads_r, 0), coalesce(s.impressions_r, 0),
       coalesce(s.clicks_r, 0), coalesce(g.qualified_r, 0), s.frequency_r, coalesce(s.spend_b, 0),
       coalesce(g.leads_b, 0), coalesce(s.impressions_b, 0), coalesce(s.clicks_b, 0), coalesce(g.qualified_b, 0),
       (SELECT max(d.target_cpl) FROM direction_adsets da JOIN directions d ON d.id = da.direction_id
        WHERE da.adset_id = s.adset_id),
       o.status, o.effective_status, o.learning_stage, o.issues
FROM spent s LEFT JOIN got g ON g.adset_id = s.adset_id LEFT JOIN ads_objects o ON o.object_id = s.adset_id
ORDER BY s.adset_id
"""


def adset_windows(conn: Conn, day: date, timezone: str) -> list[AdSetData]:
    """Every ad set with insights in the baseline or recent window ending on `day`."""
    recent_from = day - timedelta(days=RECENT_DAYS - 1)
    params = {"day": day, "recent": recent_from, "baseline": recent_from - timedelta(days=BASELINE_DAYS),
              "tz": timezone}  # fmt: skip
    found = []
    for row in conn.execute(WINDOWS, params).fetchall():
        adset_id, campaign_id, name = row[0], row[1], row[2]
        recent = Window(float(row[3]), int(row[4]), int(row[5]), int(row[6]), int(row[7]),
                        float(row[8]) if row[8] is not None else None)  # fmt: skip
        baseline = Window(float(row[9]), int(row[10]), int(row[11]), int(row[12]), int(row[13]))
        state = {"status": row[15], "effective_status": row[16], "learning_stage": row[17], "issues": row[18] or []}
        found.append(AdSetData(adset_id, campaign_id, name, recent, baseline,
                               float(row[14]) if row[14] is not None else None, state))  # fmt: skip
    return found


def disapproved_ads(conn: Conn) -> list[dict[str, Any]]:
    """Ads Meta refused or flagged, as the last metrics sync saw them."""
    rows = conn.execute(
        "SELECT object_id, name, adset_id, effective_status, issues FROM ads_objects WHERE level = 'ad'"
        " AND (effective_status IN ('DISAPPROVED', 'WITH_ISSUES') OR issues <> '[]'::jsonb) ORDER BY object_id"
    ).fetchall()
    return [{"ad_id": r[0], "name": r[1], "adset_id": r[2], "effective_status": r[3], "issues": r[4]} for r in rows]
