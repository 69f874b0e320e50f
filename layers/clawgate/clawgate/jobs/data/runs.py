"""The `jobs` table: one row per run of a scheduled job. `(name, scheduled_for)` is unique, so a schedule that fires
twice runs once; a failed, queued or stuck run of the slot may be claimed again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn

CLAIM = (
    "INSERT INTO jobs (name, status, params, scheduled_for, started_at) VALUES (%(name)s, 'running', %(params)s,"
    " %(scheduled_for)s, now()) ON CONFLICT (name, scheduled_for) DO UPDATE SET status = 'running', started_at = now(),"
    " error = NULL, finished_at = NULL WHERE jobs.status IN ('failed', 'queued')"
    " OR (jobs.status = 'running' AND jobs.started_at < now() - %(stuck_after)s) RETURNING id"
)

LATEST = "SELECT id, name, status, started_at, finished_at, error FROM jobs ORDER BY id DESC LIMIT %s"


@dataclass(frozen=True)
class JobRun:
    id: int
    name: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


def claim(
    conn: Conn, name: str, params: dict[str, Any], scheduled_for: datetime | None, stuck_after: timedelta
) -> int | None:
    """The id of the run now `running`, or None when the slot already ran (or is running and not stuck)."""
    args = {"name": name, "params": Jsonb(params), "scheduled_for": scheduled_for, "stuck_after": stuck_after}
    return conn.cursor(row_factory=scalar_row).execute(CLAIM, args).fetchone()


def finish(conn: Conn, job_id: int, status: str, result: dict[str, Any] | None, error: str | None) -> None:
    conn.execute(
        "UPDATE jobs SET status = %s, result = %s, error = %s, finished_at = now() WHERE id = %s",
        (status, Jsonb(result) if result is not None else None, error, job_id),
    )


def latest(conn: Conn, limit: int) -> list[JobRun]:
    """The newest runs first."""
    return conn.cursor(row_factory=class_row(JobRun)).execute(LATEST, (limit,)).fetchall()
