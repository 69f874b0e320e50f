"""The ads settings in the tenant's `config` table (key → JSON value): what onboarding chose (ad account, page,
dataset, pixel, target CPL, report chat) and the ad account's currency as Graph gave it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


def read(conn: Conn, keys: Sequence[str]) -> dict[str, Any]:
    """The stored values of these keys (a key never stored is absent)."""
    rows = conn.cursor(row_factory=dict_row).execute("SELECT key, value FROM config WHERE key = ANY(%s)", (list(keys),))
    return {row["key"]: row["value"] for row in rows}


def write(conn: Conn, key: str, value: object) -> None:
    conn.execute(
        "INSERT INTO config (key, value) VALUES (%s, %s)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        (key, Jsonb(value)),
    )
