"""Business directions (`directions`, `direction_adsets`): a line of business with its target cost per lead and
planned daily budget, and the ad sets that belong to it (an ad set to at most one direction)."""

from __future__ import annotations

from decimal import Decimal

from psycopg.rows import scalar_row

from clawgate.db import Conn


def save(
    conn: Conn, name: str, description: str | None, target_cpl: Decimal | None, daily_budget: Decimal | None
) -> int:
    """Create the direction, or update the one of that name (a value not given is kept); its id."""
    direction_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO directions (name, description, target_cpl, daily_budget) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET description = coalesce(EXCLUDED.description, directions.description),"
            " target_cpl = coalesce(EXCLUDED.target_cpl, directions.target_cpl),"
            " daily_budget = coalesce(EXCLUDED.daily_budget, directions.daily_budget), updated_at = now()"
            " RETURNING id",
            (name, description, target_cpl, daily_budget),
        )
        .fetchone()
    )
    assert direction_id is not None
    return int(direction_id)


def attach_adset(conn: Conn, direction_id: int, adset_id: str, campaign_id: str | None = None) -> None:
    """The ad set belongs to this direction now (to no other)."""
    conn.execute(
        "INSERT INTO direction_adsets (direction_id, adset_id, campaign_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (adset_id) DO UPDATE SET direction_id = EXCLUDED.direction_id",
        (direction_id, adset_id, campaign_id),
    )
