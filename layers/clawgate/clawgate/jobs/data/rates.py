"""`currency_rates`: the US-dollar value of one unit of a currency, one row per currency and day (`meta/marketing/
money.py` reads them to convert)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clawgate.db import Conn

UPSERT = (
    "INSERT INTO currency_rates (currency, date, rate_to_usd, source) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (currency, date) DO UPDATE SET rate_to_usd = EXCLUDED.rate_to_usd, source = EXCLUDED.source,"
    " fetched_at = now()"
)


def save_rates(conn: Conn, day: date, rates: dict[str, Decimal], source: str) -> None:
    """Store (or refresh) the day's rate of each currency."""
    with conn.cursor() as cursor:
        cursor.executemany(UPSERT, [(code, day, rate, source) for code, rate in rates.items()])
