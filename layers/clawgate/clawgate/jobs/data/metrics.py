"""What metrics sync stores: `metrics_history` (Meta's daily insights per ad set and ad, upserted by date, level and
object) and `ads_objects` (each ad set's and ad's state as the last sync saw it: status, delivery, learning phase,
Meta's issues)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn

BATCH = 1000
INSIGHT_COLUMNS = ("date", "level", "object_id", "campaign_id", "adset_id", "ad_id", "impressions", "reach", "clicks",
                   "spend", "ctr", "cpm", "leads", "cost_per_lead", "actions", "currency", "name", "conversations",
                   "results", "result_action", "frequency")  # fmt: skip
STATE_COLUMNS = ("object_id", "level", "name", "campaign_id", "adset_id", "status", "effective_status",
                 "optimization_goal", "destination_type", "daily_budget", "learning_stage", "issues")  # fmt: skip


def _upsert(table: str, columns: tuple[str, ...], key: str, touched: str) -> str:
    """INSERT … ON CONFLICT (key) DO UPDATE every other column, and the `touched` timestamp."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key.split(", "))
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)})"
            f" ON CONFLICT ({key}) DO UPDATE SET {updates}, {touched} = now()")  # fmt: skip


UPSERT_INSIGHTS = _upsert("metrics_history", INSIGHT_COLUMNS, "date, level, object_id", "synced_at")
UPSERT_STATES = _upsert("ads_objects", STATE_COLUMNS, "object_id", "updated_at")
DISAPPROVED = (
    "SELECT object_id AS ad_id, name, adset_id, effective_status, issues FROM ads_objects WHERE level = 'ad'"
    " AND (effective_status IN ('DISAPPROVED', 'WITH_ISSUES') OR issues <> '[]'::jsonb) ORDER BY object_id"
)


def save_insights(conn: Conn, rows: Iterable[dict[str, Any]]) -> int:
    """Upsert daily insight rows (keyed by INSIGHT_COLUMNS; `actions` a dict), in batches; how many."""
    count = 0
    batch: list[dict[str, Any]] = []
    with conn.cursor() as cursor:
        for row in rows:
            batch.append({**row, "actions": Jsonb(row["actions"])})
            if len(batch) >= BATCH:
                cursor.executemany(UPSERT_INSIGHTS, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(UPSERT_INSIGHTS, batch)
            count += len(batch)
    return count


def save_states(conn: Conn, states: list[dict[str, Any]]) -> int:
    """Upsert the ad sets' and ads' states (keyed by STATE_COLUMNS; `issues` a list); how many."""
    with conn.cursor() as cursor:
        cursor.executemany(UPSERT_STATES, [{**state, "issues": Jsonb(state["issues"])} for state in states])
    return len(states)


def disapproved_ads(conn: Conn) -> list[dict[str, Any]]:
    """Ads Meta refused or flagged, as the last metrics sync saw them: ad_id, name, adset_id, effective_status,
    issues."""
    return conn.cursor(row_factory=dict_row).execute(DISAPPROVED).fetchall()
