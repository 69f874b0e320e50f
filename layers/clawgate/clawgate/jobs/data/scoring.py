"""The scoring aggregate: `scoring_executions` (one row per run, with what it skipped and its alerts) and
`scoring_history` (one score per ad set per run); and what scoring reads: per ad set, the sums of a recent and a
baseline window — spend, impressions, clicks and the highest daily frequency from `metrics_history`, leads and
qualified leads from our own `leads` and `wa_dialogs` (by the ad set of the ad they came from) — and the ad set's
state from the last metrics sync (`ads_objects`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from psycopg.rows import class_row, dict_row, scalar_row
from psycopg.types.json import Jsonb

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


@dataclass(frozen=True)
class AdSetScore:
    """An ad set's score in the latest scoring run, with its name when mapping sync knows it."""

    adset_id: str
    name: str
    score: float
    recommendation: str | None
    date: date


# Each window's columns are named `<Window field>_r` (recent) and `<Window field>_b` (baseline).
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
SELECT s.adset_id, s.campaign_id, o.name,
       coalesce(s.spend_r, 0)::float8 AS spend_r, coalesce(g.leads_r, 0) AS leads_r,
       coalesce(s.impressions_r, 0)::bigint AS impressions_r, coalesce(s.clicks_r, 0)::bigint AS clicks_r,
       coalesce(g.qualified_r, 0) AS qualified_r, s.frequency_r::float8 AS frequency_r,
       coalesce(s.spend_b, 0)::float8 AS spend_b, coalesce(g.leads_b, 0) AS leads_b,
       coalesce(s.impressions_b, 0)::bigint AS impressions_b, coalesce(s.clicks_b, 0)::bigint AS clicks_b,
       coalesce(g.qualified_b, 0) AS qualified_b,
       (SELECT max(d.target_cpl) FROM direction_adsets da JOIN directions d ON d.id = da.direction_id
        WHERE da.adset_id = s.adset_id)::float8 AS target,
       o.status, o.effective_status, o.learning_stage, o.issues
FROM spent s LEFT JOIN got g ON g.adset_id = s.adset_id LEFT JOIN ads_objects o ON o.object_id = s.adset_id
ORDER BY s.adset_id
"""
WINDOW_FIELDS = tuple(f.name for f in fields(Window))
STATE_FIELDS = ("status", "effective_status", "learning_stage")
LATEST_SCORES = (
    "SELECT h.adset_id, coalesce(o.name, h.adset_id) AS name, h.score::float8 AS score, h.recommendation, h.date"
    " FROM scoring_history h LEFT JOIN ads_objects o ON o.object_id = h.adset_id"
    " WHERE h.execution_id = (SELECT max(id) FROM scoring_executions WHERE status = 'succeeded')"
    " ORDER BY h.score, h.adset_id"
)


def _window(row: dict[str, Any], suffix: str) -> Window:
    return Window(**{name: row[f"{name}_{suffix}"] for name in WINDOW_FIELDS if f"{name}_{suffix}" in row})


def _adset(row: dict[str, Any]) -> AdSetData:
    state = {name: row[name] for name in STATE_FIELDS} | {"issues": row["issues"] or []}
    return AdSetData(
        adset_id=row["adset_id"],
        campaign_id=row["campaign_id"],
        name=row["name"],
        recent=_window(row, "r"),
        baseline=_window(row, "b"),
        target=row["target"],
        state=state,
    )


def adset_windows(conn: Conn, day: date, timezone: str) -> list[AdSetData]:
    """Every ad set with insights in the baseline or recent window ending on `day`."""
    recent_from = day - timedelta(days=RECENT_DAYS - 1)
    params = {
        "day": day,
        "recent": recent_from,
        "baseline": recent_from - timedelta(days=BASELINE_DAYS),
        "tz": timezone,
    }
    return [_adset(row) for row in conn.cursor(row_factory=dict_row).execute(WINDOWS, params)]


def start_run(conn: Conn, day: date) -> int:
    """A new `running` execution for the scoring day; its id."""
    run = conn.cursor(row_factory=scalar_row).execute(
        "INSERT INTO scoring_executions (params) VALUES (%s) RETURNING id", (Jsonb({"date": day.isoformat()}),)
    )
    execution_id = run.fetchone()
    assert execution_id is not None  # INSERT … RETURNING returns the row
    return int(execution_id)


def record_score(
    conn: Conn,
    execution_id: int,
    data: AdSetData,
    day: date,
    score: float,
    recommendation: str,
    components: dict[str, Any],
) -> None:
    conn.execute(
        "INSERT INTO scoring_history (execution_id, adset_id, campaign_id, date, score, components, recommendation)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (execution_id, data.adset_id, data.campaign_id, day, score, Jsonb(components), recommendation),
    )


def finish_run(
    conn: Conn, execution_id: int, scored: int, alerts: list[dict[str, Any]], skipped: list[dict[str, Any]]
) -> None:
    conn.execute(
        "UPDATE scoring_executions SET status = 'succeeded', finished_at = now(), adsets_scored = %s, alerts = %s,"
        " skipped = %s WHERE id = %s",
        (scored, Jsonb(alerts), Jsonb(skipped), execution_id),
    )


def latest_scores(conn: Conn) -> list[AdSetScore]:
    """The ad sets of the latest successful run, worst first."""
    return conn.cursor(row_factory=class_row(AdSetScore)).execute(LATEST_SCORES).fetchall()


def latest_alerts(conn: Conn) -> list[dict[str, Any]]:
    """The latest successful run's alerts (frequency, Meta's issues, disapproved ads); [] before the first."""
    alerts = conn.cursor(row_factory=scalar_row).execute(
        "SELECT alerts FROM scoring_executions WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1"
    )
    return alerts.fetchone() or []
