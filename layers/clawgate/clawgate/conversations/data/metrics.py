"""The inbox metrics read model: the numbers an agency asks of its conversations, over a date range in the tenant's
timezone: first-response time (the agent's, from a customer's first message; a person's, from each hand-over), the
share of conversations resolved without a person, and hand-offs per day. (Leads and cost per lead by ad, creative
and direction are Meta's domain: `meta.marketing.data.lead_quality`.)"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg.rows import class_row, dict_row
from pydantic import BaseModel

from clawgate.db import Conn

RANGE = "(%(since)s::date AT TIME ZONE %(tz)s) AND {col} < ((%(until)s::date + 1) AT TIME ZONE %(tz)s)"

FIRST_RESPONSE_BOT = f"""
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95, avg(seconds) AS average, count(*) FROM (
  SELECT extract(epoch FROM (SELECT min(coalesce(o.sent_at, o.created_at)) FROM outbound_messages o
    WHERE o.conversation_id = c.id AND o.author = 'agent' AND o.status <> 'failed'
    AND coalesce(o.sent_at, o.created_at) >= f.at) - f.at) AS seconds
  FROM conversations c
  JOIN LATERAL (SELECT min(e.received_at) AS at FROM inbound_events e WHERE e.conversation_id = c.id) f ON true
  WHERE f.at >= {RANGE.format(col="f.at")}
) r WHERE seconds IS NOT NULL
"""

FIRST_RESPONSE_HUMAN = f"""
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95, avg(seconds) AS average, count(*) FROM (
  SELECT extract(epoch FROM (SELECT min(coalesce(o.sent_at, o.created_at)) FROM outbound_messages o
    WHERE o.conversation_id = h.conversation_id AND o.author = 'operator' AND o.status <> 'failed'
    AND coalesce(o.sent_at, o.created_at) >= h.at) - h.at) AS seconds
  FROM conversation_mode_changes h WHERE h.mode = 'human' AND h.at >= {RANGE.format(col="h.at")}
) r WHERE seconds IS NOT NULL
"""

RESOLVED = f"""
SELECT count(*) AS total, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM conversation_mode_changes h
  WHERE h.conversation_id = c.id AND h.mode = 'human')) AS resolved
FROM conversations c WHERE EXISTS (SELECT 1 FROM inbound_events e WHERE e.conversation_id = c.id
  AND e.received_at >= {RANGE.format(col="e.received_at")})
"""

HANDOFFS = f"""
SELECT (h.at AT TIME ZONE %(tz)s)::date AS date, count(*) FROM conversation_mode_changes h
WHERE h.mode = 'human' AND h.at >= {RANGE.format(col="h.at")} GROUP BY 1 ORDER BY 1
"""


class ResponseTime(BaseModel):
    median_seconds: float | None
    p95_seconds: float | None
    average_seconds: float | None
    count: int


class DayCount(BaseModel):
    date: date
    count: int


class InboxMetrics(BaseModel):
    since: date
    until: date
    first_response_bot: ResponseTime
    first_response_human: ResponseTime
    conversations: int
    resolved_without_human: int
    resolved_share: float | None
    handoffs_per_day: list[DayCount]


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _response(conn: Conn, query: str, params: dict[str, Any]) -> ResponseTime:
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(query, params).fetchone() or {"median": None, "p95": None, "average": None, "count": 0}
    return ResponseTime(median_seconds=_seconds(row["median"]), p95_seconds=_seconds(row["p95"]),
                        average_seconds=_seconds(row["average"]), count=int(row["count"] or 0))  # fmt: skip


def inbox_metrics(conn: Conn, since: date, until: date, timezone: str) -> InboxMetrics:
    params = {"since": since, "until": until, "tz": timezone}
    with conn.cursor(row_factory=dict_row) as cursor:
        counted = cursor.execute(RESOLVED, params).fetchone() or {"total": 0, "resolved": 0}
    with conn.cursor(row_factory=class_row(DayCount)) as days:
        handoffs = days.execute(HANDOFFS, params).fetchall()
    total, resolved = int(counted["total"]), int(counted["resolved"])
    return InboxMetrics(
        since=since, until=until,
        first_response_bot=_response(conn, FIRST_RESPONSE_BOT, params),
        first_response_human=_response(conn, FIRST_RESPONSE_HUMAN, params),
        conversations=total, resolved_without_human=resolved,
        resolved_share=round(resolved / total, 3) if total else None,
        handoffs_per_day=handoffs,
    )  # fmt: skip
