"""Daily budgets as we saw them (`budget_day_start`): the budget a managed object had when the tenant's day began,
kept the first time it is asked for that day, and the lock that lets one budget change of an object through at a
time."""

from __future__ import annotations

from datetime import date

from psycopg.rows import scalar_row

from clawgate.db import Conn


def day_start(conn: Conn, object_id: str, day: date, current_minor: int) -> int:
    """The object's budget when `day` began: the first budget we saw that day (kept, so later changes compare to it)."""
    conn.execute(
        "INSERT INTO budget_day_start (object_id, day, budget) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (object_id, day, current_minor),
    )
    budget = (
        conn.cursor(row_factory=scalar_row)
        .execute("SELECT budget FROM budget_day_start WHERE object_id = %s AND day = %s", (object_id, day))
        .fetchone()
    )
    assert budget is not None
    return int(budget)


def lock_object(conn: Conn, key: str) -> None:
    """Until the transaction ends, no other transaction takes the lock of this key (a tenant's object)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
