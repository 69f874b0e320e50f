"""What the heartbeat compares: a fingerprint of the tenant's data (newest lead, last metrics sync, last scoring run,
concluded creative tests, pending budget changes, last failed job), read in one statement, and the fingerprint kept at
the last heartbeat (config `heartbeat_state`)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from clawgate.db import Conn
from clawgate.tenancy.data import config

STATE_KEY = "heartbeat_state"
FINGERPRINT = (
    "SELECT (SELECT coalesce(max(id), 0) FROM leads) AS newest_lead,"
    " (SELECT max(synced_at)::text FROM metrics_history) AS metrics_synced_at,"
    " (SELECT coalesce(max(id), 0) FROM scoring_executions WHERE status = 'succeeded') AS scoring_run,"
    " (SELECT count(*) FROM creative_tests WHERE status = 'concluded') AS concluded_tests,"
    " (SELECT count(*) FROM budget_changes WHERE status = 'pending') AS pending_budget_changes,"
    " (SELECT coalesce(max(id), 0) FROM jobs WHERE status = 'failed') AS failed_job"
)


def fingerprint(conn: Conn) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(FINGERPRINT).fetchone()
    assert row is not None  # a SELECT of aggregates has one row
    return row


def last_state(conn: Conn) -> dict[str, Any]:
    """The fingerprint stored at the last heartbeat ({} before the first)."""
    return config.get(conn, STATE_KEY) or {}


def remember(conn: Conn, state: dict[str, Any]) -> None:
    config.write(conn, STATE_KEY, state)
