"""The numbers an agency asks of its conversations, over a date range in the tenant's timezone: first-response time
(the agent's, from a customer's first message; a person's, from each hand-over), the share of conversations resolved
without a person, and hand-offs per day. (Leads and cost per lead by ad, creative and direction are Meta's domain:
`meta.marketing.lead_quality`.)"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from clawgate.db import Conn

RANGE = "(%(since)s::date AT TIME ZONE %(tz)s) AND {col} < ((%(until)s::date + 1) AT TIME ZONE %(tz)s)"

FIRST_RESPONSE_BOT = f"""
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), avg(seconds), count(*) FROM (
  SELECT extract(epoch FROM (SELECT min(coalesce(o.sent_at, o.created_at)) FROM outbound_messages o
    WHERE o.conversation_id = c.id AND o.author = 'agent' AND o.status <> 'failed'
    AND coalesce(o.sent_at, o.created_at) >= f.at) - f.at) AS seconds
  FROM conversations c
  JOIN LATERAL (SELECT min(e.received_at) AS at FROM inbound_events e WHERE e.conversation_id = c.id) f ON true
  WHERE f.at >= {RANGE.format(col="f.at")}
) r WHERE seconds IS NOT NULL
"""

FIRST_RESPONSE_HUMAN = f"""
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), avg(seconds), count(*) FROM (
  SELECT extract(epoch FROM (SELECT min(coalesce(o.sent_at, o.created_at)) FROM outbound_messages o
    WHERE o.conversation_id = h.conversation_id AND o.author = 'operator' AND o.status <> 'failed'
    AND coalesce(o.sent_at, o.created_at) >= h.at) - h.at) AS seconds
  FROM conversation_mode_changes h WHERE h.mode = 'human' AND h.at >= {RANGE.format(col="h.at")}
) r WHERE seconds IS NOT NULL
"""

RESOLVED = f"""
SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM conversation_mode_changes h
  WHERE h.conversation_id = c.id AND h.mode = 'human'))
FROM conversations c WHERE EXISTS (SELECT 1 FROM inbound_events e WHERE e.conversation_id = c.id
  AND e.received_at >= {RANGE.format(col="e.received_at")})
"""

HANDOFFS = f"""
SELECT (h.at AT TIME ZONE %(tz)s)::date AS day, count(*) FROM conversation_mode_changes h
WHERE h.mode = 'human' AND h.at >= {RANGE.format(col="h.at")} GROUP BY 1 ORDER BY 1
"""


class ResponseTime(BaseModel):
    median_seconds: float | None
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


def _response(row: tuple[Any, ...] | None) -> ResponseTime:
    median, average, count = row or (None, None, 0)
    median = None if median is None else round(float(median), 1)
    average = None if average is None else round(float(average), 1)
    return ResponseTime(median_seconds=median, average_seconds=average, count=int(count or 0))


def inbox_metrics(conn: Conn, since: date, until: date, timezone: str) -> InboxMetrics:
    params = {"since": since, "until": until, "tz": timezone}
    total, resolved = conn.execute(RESOLVED, params).fetchone() or (0, 0)
    return InboxMetrics(
        since=since, until=until,
        first_response_bot=_response(conn.execute(FIRST_RESPONSE_BOT, params).fetchone()),
        first_response_human=_response(conn.execute(FIRST_RESPONSE_HUMAN, params).fetchone()),
        conversations=int(total), resolved_without_human=int(resolved),
        resolved_share=round(int(resolved) / int(total), 3) if total else None,
        handoffs_per_day=[DayCount(date=d, count=int(n)) for d, n in conn.execute(HANDOFFS, params).fetchall()],
    )  # fmt: skip
