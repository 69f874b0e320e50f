"""A tenant's settings (`config`: key → JSON value): what onboarding chose for ads (ad account, page, dataset…),
the ad account's currency as Graph gave it, the heartbeat's last fingerprint. Whoever owns a key validates it;
this module stores and reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.rows import dict_row, scalar_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


def read(conn: Conn, keys: Sequence[str]) -> dict[str, Any]:
    """The stored values of these keys (a key never stored is absent)."""
    rows = conn.cursor(row_factory=dict_row).execute("SELECT key, value FROM config WHERE key = ANY(%s)", (list(keys),))
    return {row["key"]: row["value"] for row in rows}


def get(conn: Conn, key: str) -> Any:
    """The stored value of `key`; None when it was never stored."""
    return conn.cursor(row_factory=scalar_row).execute("SELECT value FROM config WHERE key = %s", (key,)).fetchone()


def write(conn: Conn, key: str, value: object) -> None:
    conn.execute(
        "INSERT INTO config (key, value) VALUES (%s, %s)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        (key, Jsonb(value)),
    )
