"""The audit log aggregate (`audit_log`): one row per Marketing API write, refusal, held change and decision, with
who asked (`actor`, and `details.by`), the action, the target object and the stated reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


@dataclass(frozen=True)
class RecentWrites:
    """One action on one target in the last hour."""

    applied: int  # how many times it was applied
    next_allowed_at: datetime | None  # an hour after the oldest of those
    blocked_until: datetime | None  # an hour after Meta last blocked it (the `.blocked` action)


def insert(
    conn: Conn, actor: str, action: str, target: str | None, reason: str, details: dict[str, Any], turn_id: int | None
) -> int:
    entry_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO audit_log (actor, action, target, details, reason, turn_id) VALUES (%s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (actor, action, target, Jsonb(details), reason, turn_id),
        )
        .fetchone()
    )
    assert entry_id is not None
    return int(entry_id)


def recent_writes(conn: Conn, action: str, target: str) -> RecentWrites:
    """`action` applied to `target` in the last hour, and Meta's block of it (`<action>.blocked`), if any."""
    found = (
        conn.cursor(row_factory=class_row(RecentWrites))
        .execute(
            "SELECT count(*) FILTER (WHERE action = %(applied)s) AS applied,"
            " min(created_at) FILTER (WHERE action = %(applied)s) + interval '1 hour' AS next_allowed_at,"
            " max(created_at) FILTER (WHERE action = %(blocked)s) + interval '1 hour' AS blocked_until FROM audit_log"
            " WHERE action IN (%(applied)s, %(blocked)s) AND target = %(target)s"
            " AND created_at > now() - interval '1 hour'",
            {"applied": action, "blocked": f"{action}.blocked", "target": target},
        )
        .fetchone()
    )
    assert found is not None
    return found
